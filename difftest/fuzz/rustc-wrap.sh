#!/usr/bin/env bash
# rustc wrapper for the fuzz build (.cargo/config.toml): Cranelift and its
# register allocator are built without coverage instrumentation and without
# debug assertions. Their coverage is noise for our targets (libFuzzer
# should steer by cranebpf's own branches), and instrumented, self-checking
# Cranelift compiles a program about ten times slower, which made
# `interp_vs_jit` run ~15 cases/s. Every other crate keeps cargo-fuzz's
# flags (and the sanitizer, when one is on).
rustc="$1"
shift
case " $* " in
  *" --crate-name cranelift"* | *" --crate-name regalloc2 "* | *" --crate-name wasmtime_internal"*) ;;
  *) exec "$rustc" "$@" ;;
esac
args=()
for a in "$@"; do
  case "$a" in
    -Cpasses=sancov-module | -Cllvm-args=-sanitizer-coverage* | -Cdebug-assertions | -Coverflow_checks | -Cdebug-assertions=* | -Coverflow-checks*) ;;
    *) args+=("$a") ;;
  esac
done
exec "$rustc" "${args[@]}"
