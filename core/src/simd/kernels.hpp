// kernels.hpp - THE SIMD SEAM: the kernel_set table and the active one.
//
// Each instruction set gets one kernel_set, compiled from kernels_impl.inl by a small
// translation unit of its own (kernels_<isa>.cpp, each in namespace simd::<isa>); only that
// unit gets ISA flags (-mavx2 for kernels_avx2.cpp). dispatch.cpp picks one set once, at first
// use (cpuid on x86-64, fixed on aarch64 and wasm, SIMDR_KERNELS overrides), and publishes it in
// `active_set`. The scalar set is plain C++ and is the reference the others are tested and
// fuzzed against (tests/unit/test_kernels.cpp, tests/fuzz/fuzz_kernels.cpp).
//
// Granularity: a kernel is a whole probe (find_word, find_slot_for_write, find_batch), not a
// 16-instruction tag compare, so a lookup pays one indirect call and the tag compare and key
// compare are inlined inside it. match_tags and keys_equal are exposed too, for tests and
// fuzzing of the primitives themselves.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "simdr/bytes.hpp"
#include "simdr/error.hpp"

namespace simdr::detail {
struct bucket;
struct table;
}  // namespace simdr::detail

namespace simdr::detail::simd {

/// Inputs longer than this take XXH3's long-input path, which is where its vector code runs
/// (xxhash.h: XXH3_MIDSIZE_MAX). Shorter inputs hash identically and as fast everywhere.
inline constexpr std::size_t xxh3_long_input = 240;

/// Keys per call of find_batch (get_batch processes larger batches in windows of this size).
inline constexpr std::size_t batch_window = 32;

struct kernel_set {
  const char* name;

  /// Slots of a bucket: bits 0..7 set where the slot's tag byte equals `tag` (0x80..0xff),
  /// bits 8..15 set where the slot is empty (tag byte 0: every occupied word has bit 63 set,
  /// so only the empty word 0 has it). A snapshot of racing words, as relaxed loads would be.
  std::uint32_t (*match_tags)(const bucket& b, std::uint8_t tag) noexcept;

  /// memcmp(a, b, n) == 0. Reads only the n bytes of each side.
  bool (*keys_equal)(const std::byte* a, const std::byte* b, std::size_t n) noexcept;

  /// XXH3_64bits_withSeed(p, n, seed), with this ISA's XXH3 vector path for long inputs.
  std::uint64_t (*xxh3)(const void* p, std::size_t n, std::uint64_t seed) noexcept;

  /// index.hpp find_word: the reader probe. The slot word of `key` (live or dead) or 0; on
  /// success `base_out` is an image base that covers the entry.
  std::uint64_t (*find_word)(const table& t, std::uint64_t hash, const std::byte* key,
                             std::size_t key_size, const std::byte*& base_out) noexcept;

  /// index.hpp find_slot_for_write: the writer probe (slot of `key`, else first empty slot).
  std::atomic<std::uint64_t>* (*find_slot_for_write)(table& t, std::uint64_t hash,
                                                     const std::byte* key, std::size_t key_size,
                                                     const std::byte* base, bool& found) noexcept;

  /// Batched reader lookup of n <= batch_window keys, pipelined: hash every key and prefetch
  /// its home bucket; probe every home bucket and prefetch the matching entry; then compare
  /// keys (falling back to find_word past the home bucket or on a tag collision).
  /// words[j] = slot word of keys[j] or 0, bases[j] = an image base covering it.
  void (*find_batch)(const table& t, const bytes* keys, std::size_t n, std::uint64_t* words,
                     const std::byte** bases) noexcept;
};

/// The compiled-in sets this CPU can run, best first; scalar is always the last.
std::span<const kernel_set* const> available() noexcept;
/// The compiled-in set of that name (runnable here or not), or nullptr.
const kernel_set* compiled(std::string_view name) noexcept;

/// What a SIMDR_KERNELS value selects: the set to run and why the request failed, if it did.
struct selection {
  const kernel_set* set;
  errc request;
};
/// Pure: the decision for the value `env` (nullptr when the variable is unset).
selection select(const char* env) noexcept;

extern std::atomic<const kernel_set*> active_set;
const kernel_set& init_active() noexcept;

/// The active kernel set. The sets are constant-initialized and immutable, so a relaxed load
/// of the pointer is enough.
inline const kernel_set& active() noexcept {
  const kernel_set* k = active_set.load(std::memory_order_relaxed);
  return k != nullptr ? *k : init_active();
}

}  // namespace simdr::detail::simd
