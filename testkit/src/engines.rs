//! Every engine on one program: [`run_in`] runs it on the interpreter, its
//! fast tier (`interp-fast`), the
//! JIT, the JIT with proof-driven elision (`elide`), the same with every
//! elided check audited (`elide+audit`: a wrong proof shows as a
//! `ProofViolation` fault, which no other engine produces, so the engines
//! disagree), and the JIT without bounds checks (only when the checked engines
//! ran without a memory fault, so the unchecked run does exactly the same,
//! in-bounds, accesses), all on the caller's input buffer (restored before
//! each run) and one shared [`Stack`], so input and stack addresses are the
//! same in every run. It asserts that they agree exactly on r0 or the fault
//! (kind, with its addresses, and pc), the instruction count and the final
//! input memory.
//!
//! [`Case`] states one hand-worked expectation (program, input, budget,
//! result, count) and checks it on every engine; the [`every_engine!`]
//! macro makes a `#[test]` of one.
//!
//! [`every_engine!`]: crate::every_engine

use crate::build::helpers;
use cranebpf::{JitEngine, JitOptions, VerifyMode};
use cranebpf_runtime::asm::assemble;
use cranebpf_runtime::{
    Engine, FastInterpreterEngine, Fault, FaultKind, Helpers, Insn, InterpreterEngine, MemoryMap,
    Program, RunOptions, RunOutcome, Stack,
};

/// One engine of the list, and whether it may only run programs whose run
/// was seen not to fault on memory.
pub struct EngineUnderTest {
    /// The engine.
    pub engine: Box<dyn Engine>,
    /// It does not check bounds: run it only after the checked engines ran
    /// the same program on the same input without a memory fault.
    pub unchecked: bool,
}

/// The engines every test runs on, the reference (the interpreter) first.
pub fn every_engine() -> Vec<EngineUnderTest> {
    // SAFETY: `run_in` runs this engine only on a program, input, helpers
    // and budget whose checked runs (interpreter and JIT, which agreed)
    // ended without an out-of-bounds fault, so every access of the
    // identical unchecked run lies in the run's memory map.
    let unchecked = unsafe { JitOptions::default().without_bounds_checks() };
    vec![
        EngineUnderTest {
            engine: Box::new(InterpreterEngine),
            unchecked: false,
        },
        EngineUnderTest {
            engine: Box::new(FastInterpreterEngine),
            unchecked: false,
        },
        EngineUnderTest {
            engine: Box::new(JitEngine::default()),
            unchecked: false,
        },
        EngineUnderTest {
            engine: Box::new(JitEngine {
                options: elide_options(false),
                name: Some("jit-elide"),
            }),
            unchecked: false,
        },
        EngineUnderTest {
            engine: Box::new(JitEngine {
                options: elide_options(true),
                name: Some("jit-elide-audit"),
            }),
            unchecked: false,
        },
        EngineUnderTest {
            engine: Box::new(JitEngine {
                options: fast_tier_options(),
                name: Some("jit-fast-tier"),
            }),
            unchecked: false,
        },
        EngineUnderTest {
            engine: Box::new(JitEngine {
                options: registers_in_memory_options(),
                name: Some("jit-registers-in-memory"),
            }),
            unchecked: false,
        },
        EngineUnderTest {
            engine: Box::new(JitEngine {
                options: unchecked,
                name: Some("jit-unchecked"),
            }),
            unchecked: true,
        },
    ]
}

/// The JIT options of the `elide` configurations: verify and drop what the
/// proof covers, with every dropped check audited if `audit`.
pub fn elide_options(audit: bool) -> JitOptions {
    let mut o = JitOptions::default();
    o.verify = VerifyMode::Elide;
    o.audit = audit;
    o
}

/// The JIT options that compile every function in the fast tier
/// (`opt_level` none, single-pass allocator), which the size rule
/// otherwise gives only large functions.
pub fn fast_tier_options() -> JitOptions {
    let mut o = JitOptions::default();
    o.fast_tier_above = 0;
    o
}

/// The JIT options that lower every function with its registers in a
/// stack slot (`JitOptions::registers_in_memory_above` 0, in the fast
/// tier), which the block rule otherwise gives only functions of more than
/// `FAST_TIER_MAX_BLOCKS` blocks.
pub fn registers_in_memory_options() -> JitOptions {
    let mut o = fast_tier_options();
    o.registers_in_memory_above = 0;
    o
}

/// What the engines agreed on.
#[derive(Clone, Debug)]
pub struct Agreed {
    /// The outcome (the reference's, equal to every other engine's).
    pub outcome: RunOutcome,
    /// How many engines ran the program.
    pub engines: usize,
}

/// Runs `program` on every engine in `buf` (r1 = its address, or 0 when it
/// is empty; r2 = its length) with `budget`, asserting that all agree.
/// `buf` holds the final input memory afterwards.
pub fn run_in(program: &Program, helpers: &Helpers, buf: &mut [u8], budget: Option<u64>) -> Agreed {
    let initial = buf.to_vec();
    let mut stack = Stack::boxed();
    let mut reference: Option<(String, RunOutcome, Vec<u8>)> = None;
    let mut engines = 0;
    for e in every_engine() {
        if e.unchecked && reference.as_ref().is_some_and(|r| faults_on_memory(&r.1)) {
            continue;
        }
        buf.copy_from_slice(&initial);
        let out = run_once(&*e.engine, program, helpers, &mut stack, buf, budget);
        let name = e.engine.name().to_string();
        match &reference {
            None => reference = Some((name, out, buf.to_vec())),
            Some((ref_name, ref_out, ref_mem)) => {
                assert_eq!(
                    (&out.result, out.insn_count),
                    (&ref_out.result, ref_out.insn_count),
                    "{name} (left) and {ref_name} (right) disagree, budget {budget:?}"
                );
                assert_eq!(
                    buf,
                    &ref_mem[..],
                    "{name} (left) and {ref_name} (right) leave different input memory"
                );
            }
        }
        engines += 1;
    }
    let (_, outcome, _) = reference.expect("the engine list is not empty");
    Agreed { outcome, engines }
}

/// One run of `program` on `engine` (which must accept it).
fn run_once(
    engine: &dyn Engine,
    program: &Program,
    helpers: &Helpers,
    stack: &mut Stack,
    buf: &mut [u8],
    budget: Option<u64>,
) -> RunOutcome {
    let prepared = engine
        .prepare(program, helpers.clone())
        .unwrap_or_else(|e| panic!("{} refuses the test program: {e}", engine.name()));
    let mut mem = MemoryMap::new();
    let args = if buf.is_empty() {
        [0; 5]
    } else {
        let region = mem.add_mut(buf);
        [region.start, region.len, 0, 0, 0]
    };
    prepared.run(stack, &mut mem, args, &RunOptions { budget }, None)
}

/// Whether the run ended with an out-of-bounds access (an unchecked engine
/// must not repeat it).
fn faults_on_memory(out: &RunOutcome) -> bool {
    matches!(
        out.result,
        Err(Fault {
            kind: FaultKind::OutOfBounds { .. },
            ..
        })
    )
}

/// [`run_in`] with the test [`helpers`] and no budget; `input` holds the
/// final memory afterwards. Returns r0 or the fault.
pub fn run(insns: &[Insn], input: &mut [u8]) -> Result<u64, Fault> {
    run_in(&crate::build::prog(insns), &helpers(), input, None)
        .outcome
        .result
}

/// r0 of a program run on every engine without input (it must exit).
pub fn r0(insns: &[Insn]) -> u64 {
    run(insns, &mut []).expect("program exits normally")
}

/// [`run_in`] with the test [`helpers`]: the agreed outcome.
pub fn outcome(insns: &[Insn], input: &mut [u8], budget: Option<u64>) -> RunOutcome {
    run_in(&crate::build::prog(insns), &helpers(), input, budget).outcome
}

/// `Err(Fault { kind, pc })`.
pub fn fault(kind: FaultKind, pc: usize) -> Result<u64, Fault> {
    Err(Fault { kind, pc })
}

/// A test program: instructions, or assembly text for the runtime's
/// assembler.
pub enum Code {
    /// Instructions.
    Insns(Vec<Insn>),
    /// Assembly text.
    Asm(String),
}

impl From<Vec<Insn>> for Code {
    fn from(v: Vec<Insn>) -> Code {
        Code::Insns(v)
    }
}

impl From<&[Insn]> for Code {
    fn from(v: &[Insn]) -> Code {
        Code::Insns(v.to_vec())
    }
}

impl<const N: usize> From<[Insn; N]> for Code {
    fn from(v: [Insn; N]) -> Code {
        Code::Insns(v.to_vec())
    }
}

impl From<&str> for Code {
    fn from(text: &str) -> Code {
        Code::Asm(text.to_string())
    }
}

impl Code {
    /// The instructions (assembly must assemble: it is the test's own).
    fn insns(&self) -> Vec<Insn> {
        match self {
            Code::Insns(v) => v.clone(),
            Code::Asm(text) => assemble(text).unwrap_or_else(|e| panic!("test assembly: {e}")),
        }
    }
}

/// One hand-worked expectation, checked on every engine by [`Case::check`].
pub struct Case {
    code: Code,
    input: Vec<u8>,
    budget: Option<u64>,
    helpers: Helpers,
}

impl Case {
    /// A case of `code` with no input, no budget and the test [`helpers`].
    pub fn new(code: impl Into<Code>) -> Case {
        Case {
            code: code.into(),
            input: Vec::new(),
            budget: None,
            helpers: helpers(),
        }
    }

    /// The input memory (r1 points at it, r2 is its length).
    pub fn input(mut self, bytes: &[u8]) -> Case {
        self.input = bytes.to_vec();
        self
    }

    /// An instruction budget.
    pub fn budget(mut self, budget: u64) -> Case {
        self.budget = Some(budget);
        self
    }

    /// Other helpers than the test [`helpers`].
    pub fn helpers(mut self, helpers: Helpers) -> Case {
        self.helpers = helpers;
        self
    }

    /// Runs every engine and asserts the agreed outcome is `result` after
    /// `count` instructions. Returns the final input memory.
    pub fn check(self, result: Result<u64, Fault>, count: u64) -> Vec<u8> {
        let program = crate::build::prog(&self.code.insns());
        let mut buf = self.input;
        let agreed = run_in(&program, &self.helpers, &mut buf, self.budget);
        assert_eq!(
            (agreed.outcome.result, agreed.outcome.insn_count),
            (result, count),
            "every engine agreed (left), against the expectation (right)"
        );
        buf
    }
}

/// A `#[test]` that runs one program on every engine and checks the
/// hand-worked outcome:
///
/// ```ignore
/// every_engine! {
///     mov32_zero_extends {
///         program: [lddw(0, u64::MAX), alu32(Mov, 0, -1), EXIT], // or "asm text"
///         input: [1, 2, 3],      // optional: r1 points at a copy, r2 = 3
///         budget: 10,            // optional
///         result: Ok(0xffff_ffff), // or fault(FaultKind::.., pc)
///         count: 3,
///     }
/// }
/// ```
///
/// Several tests may follow each other in one invocation.
#[macro_export]
macro_rules! every_engine {
    ($(
        $(#[$meta:meta])*
        $name:ident {
            program: $program:expr,
            $(input: $input:expr,)?
            $(budget: $budget:expr,)?
            result: $result:expr,
            count: $count:expr $(,)?
        }
    )*) => {$(
        $(#[$meta])*
        #[test]
        fn $name() {
            let case = $crate::engines::Case::new($program);
            $(let case = case.input(&$input);)?
            $(let case = case.budget($budget);)?
            case.check($result, $count);
        }
    )*};
}
