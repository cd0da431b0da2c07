#!/usr/bin/env bash
# One entry point for newcomers and CI.
#   tools/run.sh demo [DIR]   build (release), import a real directory tree with the CLI, read it back
#   tools/run.sh test         every test tier: gcc suite, ASan+UBSan, TSan, package consumers
#   tools/run.sh quick        the gcc Debug suite only (the inner loop)
# Each command installs missing Debian packages first (tools/setup-debian.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${SIMDR_JOBS:-$(nproc)}

step() { printf '\n==== %s ====\n' "$*"; }

setup() { bash tools/setup-debian.sh; }

build_preset() {  # preset [targets...]
  local preset=$1; shift
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs" "$@"
}

tier_gcc() {
  step "tier 1: gcc Debug, -Werror, full suite"
  build_preset dev
  ctest --preset dev
}

tier_asan() {
  step "tier 2: AddressSanitizer + UndefinedBehaviorSanitizer, full suite"
  build_preset asan-ubsan
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --preset asan-ubsan
}

tier_tsan() {
  step "tier 3: ThreadSanitizer, concurrency tests (20 s stress)"
  build_preset tsan
  # The stress test mixes readers, writers, compaction and reopen for tens of seconds here.
  SIMDR_STRESS_SECONDS=${SIMDR_STRESS_SECONDS:-20} \
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --preset tsan
}

tier_hygiene() {
  step "tier 4: core hygiene (no OS headers, no printing, no exceptions in core/)"
  local bad
  bad=$(grep -rnE '#include <(unistd|fcntl|sys/|windows|emscripten|napi|node_api|pthread)' core/ || true)
  bad+=$(grep -rnE '\b(printf|fprintf|puts|abort)[[:space:]]*\(|std::(cout|cerr)|\bthrow\b|\btry[[:space:]]*\{|\bcatch[[:space:]]*\(' core/ || true)
  if [[ -n "$bad" ]]; then echo "core hygiene violations:"; echo "$bad"; return 1; fi
  echo "core/ is clean"
}

tier_package() {
  step "tier 5: CMake package: find_package(simdr) and add_subdirectory consumers"
  local prefix=$root/build/install
  rm -rf "$prefix" build/consumer-installed build/consumer-subdir
  cmake -S . -B build/package -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIMDR_DEVELOPER_MODE=OFF \
    -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
  cmake --build build/package -j "$jobs"
  cmake --install build/package >/dev/null
  cmake -S examples/cpp -B build/consumer-installed -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build build/consumer-installed -j "$jobs"
  (cd build/consumer-installed && ctest --output-on-failure)
  cmake -S examples/cpp -B build/consumer-subdir -G Ninja -DSIMDR_SOURCE_DIR="$root" >/dev/null
  cmake --build build/consumer-subdir -j "$jobs"
  (cd build/consumer-subdir && ctest --output-on-failure)
}

cmd=${1:-help}
case "$cmd" in
  demo)
    setup
    build_preset release --target simdr-demo --target simdr_cli
    shift
    bash tools/demo/demo.sh "$@"
    ;;
  test)
    setup
    tier_hygiene
    tier_gcc
    tier_asan
    tier_tsan
    tier_package
    step "all tiers passed"
    ;;
  quick)
    setup
    tier_gcc
    ;;
  *)
    sed -n '2,7p' "$0"
    exit 2
    ;;
esac
