#!/usr/bin/env bash
# Builds libcranebpf (shared and static) and installs it with its headers
# (ubpf.h, cranebpf.h) and a pkg-config file under PREFIX:
#   bash capi/install.sh PREFIX
#   PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs cranebpf
# CRANEBPF_PROFILE=debug installs the debug build instead of the release one;
# CRANEBPF_NO_BUILD=1 installs what is already built (tests/run.sh, after the
# workspace build, so no other feature set is compiled).
set -euo pipefail
prefix=${1:?usage: capi/install.sh PREFIX}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
profile=${CRANEBPF_PROFILE:-release}
target=${CARGO_TARGET_DIR:-$root/target}
case "$profile" in
  release) flags=(--release); dir=$target/release ;;
  debug) flags=(); dir=$target/debug ;;
  *) echo "CRANEBPF_PROFILE must be release or debug" >&2; exit 2 ;;
esac
if [ "${CRANEBPF_NO_BUILD:-0}" != 1 ]; then
  (cd "$root" && cargo build "${flags[@]}" --locked -p cranebpf-capi)
fi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
install -d "$prefix/lib/pkgconfig" "$prefix/include"
install -m 755 "$dir/libcranebpf.so" "$prefix/lib/"
install -m 644 "$dir/libcranebpf.a" "$prefix/lib/"
install -m 644 "$root/capi/include/ubpf.h" "$root/capi/include/cranebpf.h" "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "$root/capi/cranebpf.pc.in" \
  > "$prefix/lib/pkgconfig/cranebpf.pc"
echo "installed libcranebpf $version under $prefix"
