#!/usr/bin/env bash
# Proof that C hosts work (CI runs this after `cargo build --workspace`):
# installs libcranebpf under a temporary prefix, then builds with gcc and
# pkg-config and runs
#   - examples/c/firewall.c: the XDP firewall over the capture, whose verdict
#     counts must equal `cranebpf run`'s;
#   - tests/c/test_api.c: both layers and their error paths, under valgrind
#     (no invalid access, no definite leak);
#   - tests/c/ubpf_conformance.c: a uBPF-style host running the
#     bpf_conformance suite through ubpf.h, interpreter and JIT (313/313).
# CRANEBPF_PROFILE=release tests the release build (default: debug).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
profile=${CRANEBPF_PROFILE:-debug}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One build with the workspace's feature set (a no-op after CI's build step).
if [ "$profile" = release ]; then
  cargo build --release --locked -p cranebpf-capi -p cranebpf-cli --examples --lib --bins
else
  cargo build --workspace --all-targets --locked
fi
bin=$target/$profile
CRANEBPF_NO_BUILD=1 CRANEBPF_PROFILE=$profile bash capi/install.sh "$work/prefix" >/dev/null
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
export LD_LIBRARY_PATH="$work/prefix/lib"
flags=$(pkg-config --cflags --libs cranebpf)
cc() { gcc -std=c11 -Wall -Wextra -Werror -g "$@" $flags; }

echo "== C example host: firewall.o over mixed.pcap"
cc -o "$work/firewall" capi/examples/c/firewall.c
"$work/firewall" examples/bpf/firewall.o examples/pcap/mixed.pcap | tee "$work/c.out"
"$bin/cranebpf" run examples/bpf/firewall.o --section xdp \
  --pcap examples/pcap/mixed.pcap >"$work/cli.out"
verdicts() { grep -E '^  (XDP_[A-Z]+|faults) ' "$1" | awk '{print $1, $2}'; }
if ! diff <(verdicts "$work/cli.out") <(verdicts "$work/c.out"); then
  echo "error: the C host's verdicts differ from cranebpf run's" >&2
  exit 1
fi
echo "same verdicts as cranebpf run"

echo "== C test suite (under valgrind)"
cc -o "$work/test_api" capi/tests/c/test_api.c
valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --smc-check=all-non-file "$work/test_api" examples/bpf

echo "== uBPF-style host: the bpf_conformance suite through ubpf.h"
cc -o "$work/ubpf_conformance" capi/tests/c/ubpf_conformance.c
"$bin/examples/conformance_export" >"$work/suite.txt"
"$work/ubpf_conformance" "$work/suite.txt"
test "$(wc -l <"$work/suite.txt")" -eq 313 || { echo "error: expected 313 conformance tests" >&2; exit 1; }

echo "== static linking"
gcc -std=c11 -o "$work/test_api_static" capi/tests/c/test_api.c -I"$work/prefix/include" \
  "$work/prefix/lib/libcranebpf.a" -lpthread -ldl -lm
"$work/test_api_static" examples/bpf | tail -1
