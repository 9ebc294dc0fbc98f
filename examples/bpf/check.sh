#!/bin/sh
# Rebuilds every example object into a temporary directory and checks the
# committed objects are byte-identical to what the sources produce (CI).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r . "$tmp/src"
"$tmp/src/build.sh"
status=0
for o in *.o negative/*.o hostile/*.o; do
	if ! cmp -s "$o" "$tmp/src/$o"; then
		echo "examples/bpf/$o differs from what its source builds to (run examples/bpf/build.sh)" >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "examples/bpf: all objects match their sources"
exit $status
