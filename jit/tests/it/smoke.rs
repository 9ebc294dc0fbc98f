use cranebpf::insn::*;
use cranebpf::{Helpers, Program, Vm};

fn mov(dst: Reg, k: i32) -> Insn {
    Insn::Alu {
        w: Width::W64,
        op: AluOp::Mov,
        dst,
        src: Src::Imm(k),
    }
}

#[test]
fn smoke_mov_exit() {
    let p = Program::from_insns(&[mov(Reg::R0, 42), Insn::Exit]).unwrap();
    let vm = Vm::jit(&p, Helpers::new()).unwrap();
    assert_eq!(vm.run(&mut []).unwrap(), 42);
    println!("{}", cranebpf::clif_text(&p, None).unwrap());
}
