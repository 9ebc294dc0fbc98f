//! `cranebpf-bench [--quick] [--filter SUBSTR]`: times every C workload
//! (`name-cpu`, e.g. `crc32-v3`) on every engine and prints one Markdown
//! table. Build with `--release`.

use cranebpf_benches::timing::{run_all, table, TimingConfig};

fn main() {
    let mut cfg = TimingConfig::full();
    let mut filter = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => cfg = TimingConfig::quick(),
            "--filter" => filter = args.next(),
            "-h" | "--help" => {
                println!("usage: cranebpf-bench [--quick] [--filter SUBSTR]");
                return;
            }
            other => {
                eprintln!("cranebpf-bench: unknown argument {other:?} (try --help)");
                std::process::exit(2);
            }
        }
    }
    if cfg!(debug_assertions) {
        eprintln!("cranebpf-bench: debug build; timings are meaningless (use --release)");
    }
    let cells = run_all(filter.as_deref(), &cfg);
    print!("{}", table(&cells));
}
