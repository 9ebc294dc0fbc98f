#!/usr/bin/env bash
# Per-architecture checks: on the host and on aarch64 and riscv64 (built with
# Debian's cross gcc as linker, run under qemu-user; runners in
# .cargo/config.toml), the conformance suite through the interpreter and the
# JIT, and a fixed-seed differential batch. Prints one summary line per
# check, e.g. `aarch64: conformance interpreter 313/313, jit 313/313`.
#
# Called by .ci/run after the x86-64 tests; runs alone too (from anywhere).
# Environment:
#   CRANEBPF_CROSS_TARGETS  space-separated targets (default: host aarch64 riscv64)
#   CRANEBPF_DIFF_COUNT       programs in the differential batch under qemu
#                             (default 2000; a quarter more run the kernel subset)
#   CRANEBPF_DIFF_COUNT_HOST  the same natively (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0
targets=${CRANEBPF_CROSS_TARGETS:-"host aarch64-unknown-linux-gnu riscv64gc-unknown-linux-gnu"}

# --- tools (only what is missing) ---------------------------------------------
need=()
have() { command -v "$1" >/dev/null 2>&1; }
for t in $targets; do
  case $t in
    aarch64-*)
      have qemu-aarch64 || need+=(qemu-user)
      have aarch64-linux-gnu-gcc || need+=(gcc-aarch64-linux-gnu)
      [ -e /usr/aarch64-linux-gnu/lib/libc.so ] || need+=(libc6-dev-arm64-cross) ;;
    riscv64*)
      have qemu-riscv64 || need+=(qemu-user)
      have riscv64-linux-gnu-gcc || need+=(gcc-riscv64-linux-gnu)
      [ -e /usr/riscv64-linux-gnu/lib/libc.so ] || need+=(libc6-dev-riscv64-cross) ;;
  esac
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== cross: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${need[@]}" | sort -u)
fi
installed=$(rustup target list --installed)
for t in $targets; do
  [ "$t" = host ] && continue
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done

# --- checks ---------------------------------------------------------------------
summary=()
status=0

for t in $targets; do
  if [ "$t" = host ]; then
    arch=$(uname -m)
    tflag=()
    count=${CRANEBPF_DIFF_COUNT_HOST:-10000}
  else
    arch=${t%%-*}
    arch=${arch%gc}
    tflag=(--target "$t")
    count=${CRANEBPF_DIFF_COUNT:-2000}
  fi
  echo "== $arch: build (test profile)"
  start=$SECONDS
  cargo test --locked "${tflag[@]}" -p cranebpf-difftest --test conformance --no-run
  if [ -f difftest/tests/ci_batch.rs ]; then
    cargo test --locked "${tflag[@]}" -p cranebpf-difftest --test ci_batch --no-run
  else
    cargo test --locked "${tflag[@]}" -p cranebpf --test it --no-run
  fi
  echo "$arch: build $((SECONDS - start))s"

  echo "== $arch: conformance (interpreter, its fast tier and JIT)"
  log=$(mktemp)
  if cargo test --locked -q "${tflag[@]}" -p cranebpf-difftest --test conformance \
      -- --nocapture --test-threads=1 >"$log" 2>&1; then ok=1; else ok=0; status=1; fi
  grep -E '^(FAIL|SKIP) ' "$log" || true
  line="$arch: conformance"
  for e in Interpreter FastInterpreter Jit; do
    # "<Engine>: P passed, F failed, S skipped"
    read -r p f s < <(sed -nE "s/^[^A-Za-z]*$e: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/p" "$log" | tail -1) || true
    if [ -n "${p:-}" ]; then
      line+=" ${e,,} $p/$((p + f + s)),"
    else
      line+=" ${e,,} (no result),"
      ok=0; status=1
    fi
    p=; f=; s=
  done
  line=${line%,}
  [ $ok = 1 ] || { line+="  FAILED"; tail -40 "$log"; }
  echo "$line"; summary+=("$line")
  rm -f "$log"

  log=$(mktemp)
  if [ -f difftest/tests/ci_batch.rs ]; then
    echo "== $arch: differential batch (interpreter vs JIT, fixed seeds, $count programs + kernel subset)"
    if CRANEBPF_DIFFTEST_COUNT=$count cargo test --locked -q "${tflag[@]}" -p cranebpf-difftest \
        --test ci_batch -- --nocapture --test-threads=1 >"$log" 2>&1; then ok=1; else ok=0; status=1; fi
    progs=$(awk '/^[^A-Za-z]*programs:/ { n += $2 } END { print n + 0 }' "$log")
    divs=$(awk '/^[^A-Za-z]*divergences:/ { n += $2; seen = 1 } END { print seen ? n : "?" }' "$log")
    line="$arch: differential $progs programs (fixed seeds), $divs divergences"
  else
    # Until the differential batch lands: the JIT's integration tests (both
    # engines on hand-written programs, the conformance files, random sweeps).
    echo "== $arch: JIT integration tests (both engines, random sweeps)"
    if cargo test --locked -q "${tflag[@]}" -p cranebpf --test it >"$log" 2>&1; then ok=1; else ok=0; status=1; fi
    res=$(grep -E '^test result:' "$log" | tail -1 | sed -E 's/^test result: [A-Za-z]+\. //; s/;.*finished/, finished/')
    line="$arch: jit integration tests (both engines): ${res:-no result}"
  fi
  [ $ok = 1 ] || { line+="  FAILED"; tail -40 "$log"; }
  echo "$line"; summary+=("$line")
  rm -f "$log"
  echo "$arch: build and tests $((SECONDS - start))s"
done

echo "== per-architecture summary"
printf '%s\n' "${summary[@]}"
exit $status
