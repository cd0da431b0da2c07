// hash.hpp - the one place xxHash is included (XXH_INLINE_ALL keeps its symbols private, so a
// host application's own copy of xxHash cannot clash with ours; see xxHash tests/multiInclude.c).
//
// The format pins XXH3-64 with seed 0 for both the key hash (hash algorithm id 1) and every
// checksum (checksum algorithm id 1); golden vectors in tests/unit/test_format.cpp hold them.
#pragma once

#include <cstddef>
#include <cstdint>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "simd/kernels.hpp"

namespace simdr::detail {

/// XXH3-64, seed 0, of `n` bytes at `p`. Long inputs (value checksums) go through the active
/// kernel set, whose copy of XXH3 runs the best vector path of the CPU (AVX2 on x86-64 when
/// present; this inline copy is built for the baseline). The result is the same on every path.
inline std::uint64_t xxh3(const void* p, std::size_t n) noexcept {
  if (n > simd::xxh3_long_input) return simd::active().xxh3(p, n, 0);
  return XXH3_64bits(p, n);
}

/// Streaming XXH3-64 (seed 0) for values that are written or read in pieces.
class xxh3_stream {
 public:
  xxh3_stream() noexcept {
    XXH3_INITSTATE(&state_);  // required before any reset of a state not from createState()
    XXH3_64bits_reset(&state_);
  }
  void update(const void* p, std::size_t n) noexcept { XXH3_64bits_update(&state_, p, n); }
  [[nodiscard]] std::uint64_t digest() const noexcept { return XXH3_64bits_digest(&state_); }

 private:
  XXH3_state_t state_;
};

}  // namespace simdr::detail
