//! The static verifier (`analysis::verifier`): hand-written programs it
//! must accept or refuse (`programs`), program-type contexts and the
//! helpers that write buffers (`contexts`), every clang-built object of the
//! repository (`corpus`), the Linux kernel as the oracle for strict
//! mode's acceptance (`kernel`), and interpreter runs that must never fault
//! at a proven access (`soundness`).

mod contexts;
mod corpus;
mod kernel;
mod programs;
mod soundness;
