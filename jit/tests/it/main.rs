//! Integration tests of the JIT: both engines on the same programs.

mod alu;
mod harness;
mod conformance;
mod mem;
