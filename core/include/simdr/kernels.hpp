// simdr/kernels.hpp - which SIMD kernel set the library runs, and how to choose one.
//
// The hot loops of the store (the hash-index probe, batched lookups, key comparison and XXH3
// checksums of large values) exist once per instruction set, compiled from one source:
//
//   name       where                          chosen
//   "scalar"   every build                    only when forced (it is the reference)
//   "sse2"     x86-64 (the baseline ISA)      by default when the CPU lacks AVX2
//   "avx2"     x86-64                         by default when the CPU (and OS) support AVX2
//   "neon"     aarch64                        by default
//   "simd128"  wasm32 built with -msimd128    by default
//
// Every kernel set computes exactly the same results (tests/unit/test_kernels.cpp and the
// differential fuzz target tests/fuzz/fuzz_kernels.cpp hold them to the scalar reference), so
// the choice changes speed only, never behaviour or the file format.
//
// The choice is made once, at the first use of the library (first store operation or first
// call below), from the environment variable SIMDR_KERNELS:
//   unset, empty or "auto"   the best kernel set this CPU can run;
//   a name from the table    that kernel set, when this build has it and this CPU can run it;
//   anything else            the best kernel set, and kernels_request() reports why the request
//                            was not honoured (invalid_argument: unknown name; unsupported_cpu:
//                            a known kernel set this build or CPU cannot run). The library never
//                            prints, so a caller that cares (the benchmarks, the CLI) checks it.
#pragma once

#include <span>
#include <string_view>

#include "simdr/error.hpp"

namespace simdr {

/// The name of the active kernel set ("scalar", "sse2", "avx2", "neon" or "simd128"). Selects it
/// on first call (see above). Thread-safe; cheap after the first call.
[[nodiscard]] std::string_view kernels_name() noexcept;

/// The kernel sets this build contains and this CPU can run, best first; "scalar" is always
/// last. The returned span and its strings live for the whole program. Thread-safe.
[[nodiscard]] std::span<const std::string_view> available_kernels() noexcept;

/// Whether the SIMDR_KERNELS request of the environment was honoured: errc::ok when it was (or
/// there was none), errc::invalid_argument for an unknown name, errc::unsupported_cpu for a
/// kernel set this build does not contain or this CPU cannot run (the best one runs instead).
[[nodiscard]] status kernels_request() noexcept;

/// Makes `name` the active kernel set for the whole process, for tests and benchmarks that
/// compare kernels in one run ("auto" selects the best). Safe at any time, even while other
/// threads use stores: every kernel set gives identical results, so a concurrent operation
/// runs entirely on the old or the new one. Errors: invalid_argument (unknown name),
/// unsupported_cpu (not in this build or not runnable here); the active set is then unchanged.
/// Does not change what kernels_request() reports.
status select_kernels(std::string_view name) noexcept;

}  // namespace simdr
