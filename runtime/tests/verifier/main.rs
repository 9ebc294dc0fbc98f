//! The static verifier (`analysis::verifier`): hand-written programs it
//! must accept or refuse (`programs`), every clang-built object of the
//! repository (`corpus`), and the Linux kernel as the oracle for strict
//! mode's acceptance (`kernel`).

mod corpus;
mod kernel;
mod programs;
