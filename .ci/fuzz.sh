#!/usr/bin/env bash
# Builds the cargo-fuzz targets (nightly) and runs each for a bounded time.
# Coverage instrumentation only (no AddressSanitizer: the code under test is
# safe Rust plus JIT code the sanitizer cannot see) and 16 codegen units keep
# the cold build to minutes instead of half an hour.
set -euo pipefail
cd "$(dirname "$0")/../difftest/fuzz"
secs="${CRANEBPF_FUZZ_SECONDS:-20}"
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked
fi
export CARGO_TARGET_DIR="${CRANEBPF_FUZZ_TARGET_DIR:-/var/tmp/cranebpf-fuzz-target}"
flags=(-s none --codegen-units 16 --target-dir "$CARGO_TARGET_DIR")
cargo +nightly fuzz build "${flags[@]}"
targets=$(cargo +nightly fuzz list)
for t in $targets; do
  # corpus/<t>: the working corpus libFuzzer adds to (not committed);
  # seeds/<t>: the committed, minimised corpus, read only, replayed first
  # (so every crash once found and fixed, kept there, is a regression test).
  corpus="corpus/$t"
  mkdir -p "$corpus" "seeds/$t"
  echo "fuzz $t for ${secs}s"
  log=$(mktemp)
  if ! cargo +nightly fuzz run "${flags[@]}" "$t" "$corpus" "seeds/$t" -- \
      -max_total_time="$secs" -rss_limit_mb=4096 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz $t: failed (a crash is saved under difftest/fuzz/artifacts/$t)" >&2
    exit 1
  fi
  grep -E '^#[0-9]+ +DONE' "$log" | tail -n 1 || true
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
  rm -f "$log"
done
