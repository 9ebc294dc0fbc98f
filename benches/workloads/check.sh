#!/bin/sh
# Rebuilds every benchmark workload into a temporary directory and checks the
# committed bytecode is byte-identical to what the sources produce (CI).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
cp ./*.c ./*.h build.sh "$tmp/src/"
"$tmp/src/build.sh"
status=0
for o in bin/*; do
	if ! cmp -s "$o" "$tmp/src/$o"; then
		echo "benches/workloads/$o differs from what its source builds to (run benches/workloads/build.sh)" >&2
		status=1
	fi
done
for o in "$tmp"/src/bin/*; do
	if [ ! -e "bin/$(basename "$o")" ]; then
		echo "benches/workloads/bin/$(basename "$o") is missing (run benches/workloads/build.sh)" >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "benches/workloads: all objects match their sources"
exit $status
