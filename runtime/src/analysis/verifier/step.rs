//! [`Step`]: what one instruction's transfer function reports besides the
//! new state: the problems it found and, for a memory access, whether it
//! was proven.

use super::config::VerifyConfig;
use super::error::ErrorKind;
use super::state::{State, Value};
use crate::analysis::proof::RegionKind;

/// The report of one abstract step (see the module docs).
pub(super) struct Step<'a> {
    /// The configuration.
    pub conf: &'a VerifyConfig,
    /// Problems found; strict mode refuses on the first.
    pub issues: Vec<ErrorKind>,
    /// For a memory access: the region it was proven in, or why not.
    pub access: Option<Result<RegionKind, String>>,
}

impl<'a> Step<'a> {
    /// A step under `conf`.
    pub fn new(conf: &'a VerifyConfig) -> Step<'a> {
        Step {
            conf,
            issues: Vec::new(),
            access: None,
        }
    }

    /// Records a problem.
    pub fn issue(&mut self, kind: ErrorKind) {
        self.issues.push(kind);
    }

    /// Register `r`'s value for reading: an unknown scalar (and an issue)
    /// if it was never written.
    pub fn read(&mut self, st: &State, r: usize) -> Value {
        match st.reg(r) {
            Value::NotInit => {
                self.issue(ErrorKind::Uninit {
                    what: format!("r{r}"),
                });
                Value::UNKNOWN
            }
            v => v,
        }
    }
}
