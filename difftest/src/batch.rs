//! Running many generated cases on two engines: statistics, and minimised
//! reports of every divergence.

use crate::case::Case;
use crate::classify::{culprit, Class};
use crate::engine::{compare, is_deterministic, Comparison, Engine};
use crate::gen::{generate, GenConfig};
use crate::profile::{fit, gen_config, with_digest};
use crate::shrink::shrink;
use crate::state::{Ending, State};
use cranebpf_runtime::{CallKind, Insn};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// What to run.
#[derive(Clone, Debug)]
pub struct BatchConfig {
    /// The batch seed; case `i` uses [`case_seed`]`(seed, i)`.
    pub seed: u64,
    /// Number of cases.
    pub count: u64,
    /// The generator's configuration.
    pub gen: GenConfig,
    /// Shrinking tries per divergence (0: report unshrunk).
    pub shrink_tries: usize,
    /// Divergences kept as full reports (all are counted).
    pub max_reports: usize,
    /// Stop after the first divergence.
    pub stop_at_first: bool,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// The part of the batch to run (all of it by default).
    pub shard: Shard,
}

/// One of `count` deterministic parts of a batch: the cases whose index
/// is `index` modulo `count`. The parts of a batch together run every
/// case once, whatever machine runs which part, and their summaries add
/// up ([`Summary::merge`]) to the whole batch's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This part, `0..count`.
    pub index: u64,
    /// Number of parts (at least 1).
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Shard {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// `I/N` (e.g. `2/8`): part `I` of `N`, `I < N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("--shard {s}: expected I/N, e.g. 0/4"))?;
        let index: u64 = i
            .trim()
            .parse()
            .map_err(|e| format!("--shard {s}: index `{i}`: {e}"))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|e| format!("--shard {s}: count `{n}`: {e}"))?;
        if count == 0 || index >= count {
            return Err(format!("--shard {s}: need 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }

    /// The batch indices of this part of a batch of `total` cases, in order.
    pub fn indices(&self, total: u64) -> impl Iterator<Item = u64> {
        let n = self.count.max(1);
        (self.index..total).step_by(n as usize)
    }

    /// How many of a batch of `total` cases this part runs.
    pub fn len(&self, total: u64) -> u64 {
        total.saturating_sub(self.index).div_ceil(self.count.max(1))
    }
}

impl Default for BatchConfig {
    fn default() -> BatchConfig {
        BatchConfig {
            seed: 0,
            count: 1000,
            gen: GenConfig::default(),
            shrink_tries: 2000,
            max_reports: 5,
            stop_at_first: false,
            jobs: 1,
            shard: Shard::default(),
        }
    }
}

/// The seed of case `i` of a batch with seed `seed`.
pub fn case_seed(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    z ^ (z >> 33)
}

/// A divergence, minimised.
#[derive(Clone, Debug)]
pub struct Report {
    /// The batch seed and case index, if it came from a batch.
    pub origin: Option<(u64, u64)>,
    /// The engines, `a` then `b`.
    pub engines: (String, String),
    /// Instructions in the case before shrinking.
    pub original_len: usize,
    /// The minimised case.
    pub case: Case,
    /// The differences the minimised case shows.
    pub diffs: Vec<String>,
    /// The differences the original case showed.
    pub original_diffs: Vec<String>,
    /// The rule involved: the class of the first instruction after which
    /// the states differ ([`crate::classify`]).
    pub class: Class,
    /// The index of that instruction in the minimised case.
    pub culprit: usize,
    /// The reference's and the engine's states on the minimised case
    /// (or why there is none).
    pub states: (Result<State, String>, Result<State, String>),
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = &self.engines;
        writeln!(f, "DIVERGENCE between {a} and {b}")?;
        if let Some((seed, i)) = self.origin {
            writeln!(f, "  batch seed {seed}, case {i}")?;
        }
        writeln!(
            f,
            "  case seed {} (cranebpf-difftest case --seed {}), shrunk from {} to {} instructions",
            self.case.seed,
            self.case.seed,
            self.original_len,
            self.case.insns.len()
        )?;
        writeln!(f, "  class: {}", self.class)?;
        for d in &self.diffs {
            writeln!(f, "  - {d}")?;
        }
        writeln!(f, "  expected ({a}): {}", show_state(&self.states.0))?;
        writeln!(f, "  actual ({b}):   {}", show_state(&self.states.1))?;
        if self.diffs != self.original_diffs {
            writeln!(f, "  the original case showed:")?;
            for d in &self.original_diffs {
                writeln!(f, "  - {d}")?;
            }
            if self.diffs.is_empty() {
                writeln!(f, "  (not reproduced when run again: a flaky difference)")?;
            }
        }
        writeln!(f, "  program (save as repro.s):")?;
        for (i, line) in self.case.asm().lines().enumerate() {
            let mark = if i == self.culprit {
                "  <- first difference"
            } else {
                ""
            };
            writeln!(f, "    {line}{mark}")?;
        }
        let mem = self.case.input_hex();
        let needs_helpers = self.case.insns.iter().any(|i| {
            matches!(
                i,
                Insn::Callx { .. }
                    | Insn::Call {
                        kind: CallKind::Helper,
                        ..
                    }
            )
        });
        writeln!(f, "  reproduce:")?;
        if !needs_helpers {
            writeln!(
                f,
                "    cranebpf run --engine both --budget {} --dump-mem --mem \"{mem}\" repro.s",
                self.case.budget
            )?;
        } else {
            writeln!(
                f,
                "    (the program calls the difftest helpers, which `cranebpf run` lacks)"
            )?;
        }
        writeln!(
            f,
            "    cranebpf difftest repro --engine {b} --budget {} --mem \"{mem}\" repro.s",
            self.case.budget
        )
    }
}

/// A state in one line: the result, the count, and the input's final
/// bytes (the registers and stack top a generated program dumps there).
fn show_state(s: &Result<State, String>) -> String {
    match s {
        Ok(s) => {
            let r = match &s.result {
                Ok(v) => format!("r0 = {v}"),
                Err(f) => f.to_string(),
            };
            let input = if s.input.is_empty() {
                String::new()
            } else {
                format!(", input [{}]", crate::case::hex(&s.input))
            };
            format!("{r}, {} instructions{input}", s.insn_count)
        }
        Err(e) => e.clone(),
    }
}

/// Totals of a batch.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Cases run.
    pub programs: u64,
    /// Instructions the reference engine (`a`) counted, summed.
    pub instructions: u64,
    /// Cases that ran to `exit` (on engine `a`).
    pub exits: u64,
    /// Cases that faulted, budget aside.
    pub faults: u64,
    /// Cases that ran out of budget.
    pub budget: u64,
    /// Cases engine `a` could not load.
    pub load_errors: u64,
    /// Cases `a` loads and `b` may refuse ([`Capabilities::may_reject`](cranebpf_runtime::engine::Capabilities::may_reject)) and did.
    pub rejected: u64,
    /// The first such refusal, for diagnosis.
    pub first_rejection: Option<String>,
    /// Cases where the engines disagree.
    pub divergences: u64,
    /// Cases that differed but whose reference state depends on where
    /// memory is (a generator bug, not counted as divergences).
    pub artefacts: u64,
    /// Cases where either engine stopped with a proof violation (an
    /// audited JIT found a wrong proof). Each is also a divergence, never
    /// an artefact.
    pub proof_violations: u64,
    /// Generated cases left out: they could not be fitted to the
    /// engine's profile ([`crate::profile::fit`]).
    pub outside_profile: u64,
    /// Minimised reports of the first divergences.
    pub reports: Vec<Report>,
    /// Cases per second, for the runs that measured it.
    pub seconds: f64,
}

impl Summary {
    /// Adds another batch's (or shard's) totals and reports to this one.
    pub fn merge(&mut self, o: Summary) {
        self.add(o);
        self.reports.sort_by_key(|r| r.origin);
    }

    /// The distinct bug classes of the reports, each with its number of
    /// reports and the first (smallest origin) report.
    pub fn classes(&self) -> BTreeMap<&str, (u64, &Report)> {
        let mut m: BTreeMap<&str, (u64, &Report)> = BTreeMap::new();
        for r in &self.reports {
            m.entry(r.class.as_str())
                .and_modify(|e| e.0 += 1)
                .or_insert((1, r));
        }
        m
    }

    fn add(&mut self, o: Summary) {
        self.outside_profile += o.outside_profile;
        self.seconds += o.seconds;
        self.programs += o.programs;
        self.instructions += o.instructions;
        self.exits += o.exits;
        self.faults += o.faults;
        self.budget += o.budget;
        self.load_errors += o.load_errors;
        self.rejected += o.rejected;
        if self.first_rejection.is_none() {
            self.first_rejection = o.first_rejection;
        }
        self.divergences += o.divergences;
        self.artefacts += o.artefacts;
        self.proof_violations += o.proof_violations;
        self.reports.extend(o.reports);
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |n: u64| 100.0 * n as f64 / self.programs.max(1) as f64;
        writeln!(f, "programs:      {}", self.programs)?;
        writeln!(f, "instructions:  {}", self.instructions)?;
        writeln!(f, "exit:          {} ({:.1}%)", self.exits, pct(self.exits))?;
        writeln!(
            f,
            "fault:         {} ({:.1}%)",
            self.faults,
            pct(self.faults)
        )?;
        writeln!(
            f,
            "budget:        {} ({:.1}%)",
            self.budget,
            pct(self.budget)
        )?;
        if self.load_errors > 0 {
            writeln!(f, "load errors:   {}", self.load_errors)?;
        }
        if self.outside_profile > 0 {
            writeln!(f, "outside profile: {} (left out)", self.outside_profile)?;
        }
        if self.rejected > 0 {
            writeln!(f, "rejected or not comparable: {}", self.rejected)?;
            if let Some(r) = &self.first_rejection {
                writeln!(f, "  first: {r}")?;
            }
        }
        if self.artefacts > 0 {
            writeln!(
                f,
                "artefacts:     {} (address-dependent cases: generator bug)",
                self.artefacts
            )?;
        }
        if self.proof_violations > 0 {
            writeln!(
                f,
                "PROOF VIOLATIONS: {} (a proven access failed its audit: a verifier bug)",
                self.proof_violations
            )?;
        }
        write!(f, "divergences:   {}", self.divergences)
    }
}

/// Minimises a diverging case and builds its report.
///
/// Against an engine that [`may_reject`](cranebpf_runtime::engine::Capabilities::may_reject) (the kernel) the case is
/// not shrunk: removing instructions can remove the initialisation the
/// kernel's verifier leaves to the program (root may read unwritten stack,
/// whose bytes are then the kernel's garbage), which manufactures
/// divergences that are not there.
pub fn report(a: &dyn Engine, b: &dyn Engine, case: &Case, shrink_tries: usize) -> Report {
    let shrink_tries = if b.capabilities().may_reject {
        0
    } else {
        shrink_tries
    };
    // A candidate counts only if the reference engine's state does not
    // depend on addresses: shrinking must not manufacture a divergence by,
    // say, removing the load that overwrote a pointer before it was stored.
    // A proof violation is a failure whatever the reference does.
    // It must also show the original's first kind of difference (the
    // result, the input, a load refusal, ...): otherwise shrinking drifts
    // to the cheapest divergence by design (a removed initialisation, a
    // jump to itself one engine refuses) and the class names that instead.
    let original = compare(a, b, case).diffs;
    let kind = original.first().map(|d| diff_kind(d));
    let mut fails = |c: &Case| {
        let cmp = compare(a, b, c);
        let same_kind = kind.is_none_or(|k| cmp.diffs.iter().any(|d| diff_kind(d) == k));
        unsound(&cmp) || (same_kind && !cmp.diffs.is_empty() && is_deterministic(a, c))
    };
    let (small, _) = shrink(case, &mut fails, shrink_tries);
    // Classifying runs the case once per instruction: only for a
    // minimised case.
    let (culprit, class) = if shrink_tries > 0 {
        culprit(a, b, &small)
    } else {
        (0, "unclassified (not minimised)".to_string())
    };
    let cmp = compare(a, b, &small);
    Report {
        origin: None,
        engines: (a.name().to_string(), b.name().to_string()),
        original_len: case.insns.len(),
        diffs: cmp.diffs,
        original_diffs: compare(a, b, case).diffs,
        case: small,
        class,
        culprit,
        states: (cmp.a, cmp.b),
    }
}

/// The kind of a difference [`State::diff`] or [`compare`] names: its
/// first word (`result`, `input`, `load`, `helper`, ...).
fn diff_kind(d: &str) -> &str {
    d.split([':', ' ']).next().unwrap_or(d)
}

/// Whether either engine of `cmp` stopped with a proof violation.
fn unsound(cmp: &Comparison) -> bool {
    [&cmp.a, &cmp.b]
        .iter()
        .any(|s| s.as_ref().is_ok_and(|s| s.is_proof_violation()))
}

/// The case of batch index `i` for engine `b`: generated inside `b`'s
/// profile ([`crate::profile`]), wrapped to digest memory into r0 for an
/// engine that reports r0 only; `None` if it could not be fitted.
pub fn batch_case(b: &dyn Engine, cfg: &BatchConfig, i: u64) -> Option<Case> {
    let caps = b.capabilities();
    let gen = gen_config(&caps, &cfg.gen);
    let case = fit(&generate(case_seed(cfg.seed, i), &gen), &caps.profile).ok()?;
    Some(if caps.reports_memory {
        case
    } else {
        with_digest(&case)
    })
}

/// Runs a batch: generates `count` cases, runs each on `a` (the reference)
/// and `b`, counts how they end, and minimises up to `max_reports`
/// divergences. `progress` is called with the number of cases just done.
pub fn run_batch(
    a: &dyn Engine,
    b: &dyn Engine,
    cfg: &BatchConfig,
    progress: &(dyn Fn(u64) + Sync),
) -> Summary {
    let indices: Vec<u64> = cfg.shard.indices(cfg.count).collect();
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let total = Mutex::new(Summary::default());
    let reports_left = AtomicU64::new(cfg.max_reports as u64);
    let start = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..cfg.jobs.max(1) {
            s.spawn(|| {
                let mut local = Summary::default();
                let mut since = 0;
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = indices.get(k as usize) else {
                        break;
                    };
                    let Some(case) = batch_case(b, cfg, i) else {
                        local.outside_profile += 1;
                        since += 1;
                        continue;
                    };
                    let cmp = compare(a, b, &case);
                    local.programs += 1;
                    match &cmp.a {
                        Ok(st) => {
                            local.instructions += st.insn_count;
                            match st.ending() {
                                Ending::Exit => local.exits += 1,
                                Ending::Fault => local.faults += 1,
                                Ending::Budget => local.budget += 1,
                            }
                        }
                        Err(_) => local.load_errors += 1,
                    }
                    if let (Ok(_), Err(e)) = (&cmp.a, &cmp.b) {
                        local.rejected += 1;
                        if local.first_rejection.is_none() {
                            local.first_rejection = Some(format!("seed {}: {e}", case.seed));
                        }
                    }
                    let unsound = unsound(&cmp);
                    if unsound {
                        local.proof_violations += 1;
                    }
                    if !unsound && !cmp.diffs.is_empty() && !is_deterministic(a, &case) {
                        // The reference engine disagrees with itself when
                        // memory moves: the generator leaked an address.
                        local.artefacts += 1;
                    } else if unsound || !cmp.diffs.is_empty() {
                        local.divergences += 1;
                        let keep = reports_left
                            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                                n.checked_sub(1)
                            })
                            .is_ok();
                        if keep {
                            let mut r = report(a, b, &case, cfg.shrink_tries);
                            r.origin = Some((cfg.seed, i));
                            r.original_diffs = cmp.diffs.clone();
                            local.reports.push(r);
                        }
                        if cfg.stop_at_first {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    since += 1;
                    if since >= 64 {
                        progress(since);
                        since = 0;
                    }
                }
                progress(since);
                total.lock().unwrap_or_else(|p| p.into_inner()).add(local);
            });
        }
    });
    let mut t = total.into_inner().unwrap_or_else(|p| p.into_inner());
    t.reports.sort_by_key(|r| r.origin);
    t.seconds = start.elapsed().as_secs_f64();
    t
}
