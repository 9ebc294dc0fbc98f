//! Proof that the audit finds an unsound *verifier* rule: with the planted
//! signed/unsigned rule on (`analysis::verifier::planted`, through the
//! dev-dependency's `planted-bugs` feature), the JIT in elide mode with
//! audit "proves" an access that is out of bounds, and the run stops with a
//! proof violation where the interpreter faults out of bounds. (Its own
//! test binary: the switch is process-wide.)

use cranebpf::{FaultKind, Helpers, Program, Vm};
use cranebpf_runtime::analysis::verifier::planted::plant_signed_as_unsigned;
use cranebpf_runtime::asm::assemble;

/// `if len >= 8 { x = *(s64 *)p; if x s<= 7 { r0 = p[x] } }`: a negative
/// `x` passes the signed test; only a rule that trusts an unsigned bound
/// for it calls `p[x]` proven.
const SIGNED_BOUND: &str = "mov %r0, 0
     jlt %r2, 8, +5
     ldxdw %r3, [%r1]
     jsgt %r3, 7, +3
     mov %r4, %r1
     add %r4, %r3
     ldxb %r0, [%r4]
     exit";

fn fault_of(vm: &Vm) -> FaultKind {
    let mut input = [0xffu8; 8];
    vm.run(&mut input).expect_err("p[-1] faults").kind
}

#[test]
fn audit_finds_a_planted_signed_unsigned_rule() {
    let prog = Program::from_insns(&assemble(SIGNED_BOUND).expect("assembles")).expect("loads");
    let audited = cranebpf_difftest::cli::elide_engine(true).options;
    let interp = Vm::interpreter(&prog, Helpers::new()).expect("loads");
    assert!(matches!(fault_of(&interp), FaultKind::OutOfBounds { .. }));
    let sound = Vm::jit_with(&prog, Helpers::new(), &audited).expect("jits");
    assert!(matches!(fault_of(&sound), FaultKind::OutOfBounds { .. }));
    plant_signed_as_unsigned(true);
    let planted = Vm::jit_with(&prog, Helpers::new(), &audited);
    plant_signed_as_unsigned(false);
    let planted = planted.expect("jits");
    assert!(
        matches!(fault_of(&planted), FaultKind::ProofViolation { .. }),
        "{:?}",
        fault_of(&planted)
    );
}
