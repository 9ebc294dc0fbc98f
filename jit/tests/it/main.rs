//! Integration tests of the JIT: both engines on the same programs.

mod alu;
mod call;
mod clif;
mod conformance;
mod harness;
mod mem;
mod random;
