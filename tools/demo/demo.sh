#!/usr/bin/env bash
# The main job (README: tools/run.sh demo [DIR]): a real directory tree of this machine goes into
# one SIMD R Drive file through the `simdr` CLI, is inspected and read back, then the C++ demo
# re-reads every file zero-copy, compares it with the disk and verifies every checksum.
set -euo pipefail
bin=${SIMDR_BIN:-build/release}
dir=${1:-/usr/include}
store=${SIMDR_DEMO_STORE:-${TMPDIR:-/tmp}/simdr-demo-cli.simdr}
simdr="$bin/tools/cli/simdr"
rm -f "$store"

run() { printf '\n$ %s\n' "$*"; "$@"; }

run "$simdr" import "$store" "$dir" --no-progress
run "$simdr" info "$store"
run "$simdr" verify "$store" --no-progress
printf '\n$ %s keys %s --prefix stdio | head -5\n' "$simdr" "$store"
"$simdr" keys "$store" --prefix stdio | head -5 || true
key=$("$simdr" keys "$store" | head -1 || true)
printf '\n$ %s get %s %q | head -c 300\n' "$simdr" "$store" "$key"
"$simdr" get "$store" "$key" | head -c 300 || true
printf '\n\n$ %s meta %s %q\n' "$simdr" "$store" "$key"
"$simdr" meta "$store" "$key"
rm -f "$store"

printf '\n$ simdr-demo %s   # zero-copy read-back, byte-for-byte comparison, throughput\n' "$dir"
"$bin/tools/demo/simdr-demo" "$dir"
