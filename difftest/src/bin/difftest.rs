//! `cranebpf-difftest`: differential testing of cranebpf engines on
//! generated programs. See `cranebpf-difftest --help`.

use clap::Parser;
use cranebpf_difftest::cli::{main_with, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    main_with(Cli::parse())
}
