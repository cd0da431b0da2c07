#!/usr/bin/env bash
# The comparative benchmark (issue 4): SIMD R Drive against LMDB, RocksDB, LevelDB, SQLite and
# two floors, workloads W1, W1sync, W2, W3, W4 of shared/notes/benchmarks.md. Never run by ctest.
#
#   bash tools/bench.sh                      full run (medians of 3; under 10 minutes on 2 cores)
#   bash tools/bench.sh --quick              development mode (100k entries, 1 repetition)
#   bash tools/bench.sh --only W1,W4 --peers simdr,lmdb --out /tmp/res
#
# Installs the peers' Debian packages (as root or through sudo; idempotent), configures and
# builds the `release` preset's simdr-bench target only, then runs it with these arguments.
# Output: results.md (printed too), results.csv and chart.png in --out (default here:
# build/release/bench/results). Set SIMDR_BENCH_NO_INSTALL=1 to skip the package step.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z ${SIMDR_BENCH_NO_INSTALL:-} ]]; then
  bash tools/setup-debian.sh liblmdb-dev librocksdb-dev libleveldb-dev libsqlite3-dev gnuplot-nox
fi

cmake --preset release >/dev/null
cmake --build --preset release --target simdr-bench
out=(--out build/release/bench/results)
for a in "$@"; do [[ $a == --out ]] && out=(); done
exec ./build/release/bench/simdr-bench "${out[@]}" "$@"
