#!/usr/bin/env bash
# Runs the interpreter's and the loader's tests under Miri (nightly), which
# checks the unsafe code they reach (raw host-memory access through
# MemoryMap, the stack, atomics on guest memory) for undefined behaviour.
# Scope: the runtime's unit tests of the interpreter (interp::), the
# loader and validator (isa::), host memory and maps (host::) and the
# engine plumbing (engine::), and the interpreter's integration tests
# (runtime/tests/interp.rs). Everything here is the interpreter side: the
# JIT's generated code is invisible to Miri.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup +nightly component list --installed 2>/dev/null | grep -q '^miri'; then
  rustup +nightly component add miri rust-src
fi
export CARGO_TARGET_DIR="${CRANEBPF_MIRI_TARGET_DIR:-${CARGO_TARGET_DIR:-/var/tmp/cranebpf-ci-target}}"
# Guest addresses are host addresses (u64 -> pointer): permissive provenance
# is the model; -Zmiri-permissive-provenance silences the per-cast warning.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-permissive-provenance}"
cargo +nightly miri test -p cranebpf-runtime --lib -- interp:: isa:: host:: engine::
cargo +nightly miri test -p cranebpf-runtime --test interp
