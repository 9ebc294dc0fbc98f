//! The verifier's state log (`cranebpf verify --log`), in the kernel's
//! spirit: one line per processed instruction with the state after it,
//! and a line for each pruned or forked path. The log is capped so that a
//! program at the complexity limit cannot exhaust memory.

/// Lines kept at most.
pub const LOG_LIMIT: usize = 100_000;

/// A capped list of lines.
#[derive(Clone, Debug, Default)]
pub(super) struct Log {
    on: bool,
    lines: Vec<String>,
    dropped: usize,
}

impl Log {
    /// A log that records only if `on`.
    pub fn new(on: bool) -> Log {
        Log {
            on,
            ..Log::default()
        }
    }

    /// Appends a line.
    pub fn line(&mut self, line: impl FnOnce() -> String) {
        if !self.on {
            return;
        }
        if self.lines.len() < LOG_LIMIT {
            self.lines.push(line());
        } else {
            self.dropped += 1;
        }
    }

    /// The lines, with a last line counting the dropped ones.
    pub fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.lines
                .push(format!("... {} more lines not logged", self.dropped));
        }
        self.lines
    }
}
