#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script: builds every cargo-fuzz target of
# difftest/fuzz and copies each into $OUT with its seed corpus (the
# committed, minimised difftest/fuzz/seeds/<target>) and its libFuzzer
# options. Runs in the base-builder-rust image, whose `cargo` wrapper adds
# the sanitizer ($SANITIZER) and coverage flags. To run the same steps
# outside docker: SRC=<a folder holding this checkout as `cranebpf`>
# OUT=<output folder> bash .clusterfuzzlite/build.sh
# (CRANEBPF_FUZZ_BUILD_FLAGS adds cargo-fuzz flags, e.g. "-s none").
cd "$SRC/cranebpf/difftest/fuzz"
# --debug-assertions: overflow checks and debug assertions stay on, as in
# `cargo fuzz run`'s default; -O: optimised, or Cranelift is ~20x slower.
# shellcheck disable=SC2086
cargo fuzz build -O --debug-assertions ${CRANEBPF_FUZZ_BUILD_FLAGS:-}
target_dir="${CARGO_TARGET_DIR:-target}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="$target_dir/$triple/release"
for t in $(cargo fuzz list); do
  cp "$bin_dir/$t" "$OUT/"
  if [ -d "seeds/$t" ]; then
    rm -f "$OUT/${t}_seed_corpus.zip"
    (cd "seeds/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
  fi
  if [ -f "options/$t.options" ]; then
    cp "options/$t.options" "$OUT/$t.options"
  fi
done
