/* struct pt_regs for the target architecture and the PT_REGS_* accessors,
 * as libbpf's bpf_tracing.h provides them (selected by __TARGET_ARCH_*,
 * which build.sh passes: one object per architecture, as libbpf builds). */
#ifndef CRANEBPF_TRACING_H
#define CRANEBPF_TRACING_H

#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};
#define PT_REGS_PARM1(x) ((x)->di)
#define PT_REGS_PARM2(x) ((x)->si)
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs {
	unsigned long regs[31];
	unsigned long sp, pc, pstate;
};
#define PT_REGS_PARM1(x) ((x)->regs[0])
#define PT_REGS_PARM2(x) ((x)->regs[1])
#elif defined(__TARGET_ARCH_riscv)
struct pt_regs {
	unsigned long pc, ra, sp, gp, tp, t0, t1, t2, s0, s1;
	unsigned long a0, a1, a2, a3, a4, a5, a6, a7;
	unsigned long s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, t3, t4, t5, t6;
};
#define PT_REGS_PARM1(x) ((x)->a0)
#define PT_REGS_PARM2(x) ((x)->a1)
#else
#error "define __TARGET_ARCH_x86, __TARGET_ARCH_arm64 or __TARGET_ARCH_riscv"
#endif

#endif
