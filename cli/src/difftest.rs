//! `cranebpf difftest`: the differential tester of `cranebpf-difftest`
//! (`run`, `case`, `repro`), called in-process.

use clap::Args;
use cranebpf_difftest::cli::{main_with, Cli, Cmd};
use std::process::ExitCode;

/// Options of `cranebpf difftest`: a `cranebpf-difftest` subcommand.
#[derive(Args)]
pub struct DifftestArgs {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Runs `cranebpf difftest`. It prints its own errors (once) and returns
/// the exit code of `cranebpf-difftest`: 0 if the engines agree, 1 on a
/// divergence, 2 on a usage error.
pub fn run(args: DifftestArgs) -> ExitCode {
    main_with(Cli { cmd: args.cmd })
}
