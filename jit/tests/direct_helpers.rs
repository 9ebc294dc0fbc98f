//! Helpers registered with `Helpers::register_direct` (no VM memory, cannot
//! fail) give the same results and instruction counts on both engines,
//! whether a call names them by `call IMM`, by `callx` on a constant or by
//! `callx` on a computed id, and leave r1..r5 as they were.

use cranebpf::asm::assemble;
use cranebpf::{EngineKind, Helpers, Program, RunOptions, Vm};

extern "C" fn mix(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    (a.wrapping_mul(31) ^ b.rotate_left(7)).wrapping_add(c ^ d ^ e)
}

fn helpers() -> Helpers {
    let mut h = Helpers::new();
    h.register_direct(7, "mix", mix);
    // An ordinary helper next to it, for `callx`.
    h.register(8, "plus", |_, a| Ok(a[0] + a[1]));
    h
}

fn outcomes(src: &str) -> Vec<cranebpf::RunOutcome> {
    let p = Program::from_insns(&assemble(src).expect("assembles")).expect("loads");
    [EngineKind::Interpreter, EngineKind::Jit]
        .into_iter()
        .map(|e| {
            let vm = Vm::new(&p, helpers(), e).expect("prepares");
            vm.run_input(&mut [], &RunOptions::default())
        })
        .collect()
}

#[test]
fn a_direct_helper_computes_what_its_body_does() {
    let want = mix(3, 5, 0, 0, 11);
    let o = outcomes("mov %r1, 3\nmov %r2, 5\nmov %r5, 11\ncall 7\nexit");
    assert_eq!(o[0].result, Ok(want));
    assert_eq!(o[0], o[1]);
}

#[test]
fn arguments_survive_a_direct_call() {
    // r0 = mix(r1..r5) then r0 += r1 + r2 + r5, which must be the old values.
    let src = "mov %r1, 3\nmov %r2, 5\nmov %r5, 11\ncall 7\nadd %r0, %r1\nadd %r0, %r2\nadd %r0, %r5\nexit";
    let o = outcomes(src);
    assert_eq!(o[0].result, Ok(mix(3, 5, 0, 0, 11) + 19));
    assert_eq!(o[0], o[1]);
}

#[test]
fn callx_reaches_direct_and_ordinary_helpers() {
    // A constant id in a register, then a computed one (7 + 1 = 8).
    let src = "mov %r1, 2\nmov %r2, 3\nmov %r6, 7\ncallx %r6\nmov %r7, %r0\nadd %r6, 1\ncallx %r6\nadd %r0, %r7\nexit";
    let o = outcomes(src);
    assert_eq!(o[0].result, Ok(mix(2, 3, 0, 0, 0) + 5));
    assert_eq!(o[0], o[1]);
}
