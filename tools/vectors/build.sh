#!/bin/sh
# Build the host vector generator and write vectors into $1 (default: a temp dir).
# The host CPU is the reference: vectors are regenerated, never edited.
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d)}
mkdir -p "$out"
gcc -O1 -mno-red-zone -msse4.2 -mpopcnt -w -o "$out/gen" "$here"/main.c "$here"/x87.c "$here"/sse.c
"$out/gen" "$out"
echo "$out"
