// kernels_impl.inl - the kernels, written once. Included by one small translation unit per
// instruction set (kernels_<isa>.cpp), which first defines:
//   SIMDR_KERNEL_ISA     the namespace of this copy (scalar, sse2, avx2, neon, simd128)
//   SIMDR_KERNEL_NAME    its name as the user sees it ("avx2")
//   SIMDR_KERNEL_SYMBOL  the kernel_set object dispatch.cpp links to (avx2_kernels)
//   SIMDR_KERNEL_WIDTH   0: plain C++ (the scalar reference); 128: SIMDe's SSE2 API, which SIMDe
//                        maps to SSE2 (VEX-encoded under -mavx2), NEON or wasm SIMD128 (256-bit
//                        versions were slower, see kernels_avx2.cpp)
//   XXH_VECTOR           (optional) xxHash's vector path for this copy (XXH_SCALAR, XXH_AVX2...)
//
// Vocabulary: loads, 64-bit shifts, packs, byte compares, movemask: cheap on every target.
//
// THE PROBE. A bucket is 8 atomic 64-bit slot words whose top byte is the tag (0x80 | 7 hash
// bits; 0 = empty slot). match_tags loads the whole 64-byte line with vector loads, keeps the
// top byte of each word and compares all 8 at once against the tag and against 0, giving a
// match mask and an empty mask; the probe then visits only the matching slots. The vector load
// reads words the writer may be storing to concurrently. That is outside the C++ memory model
// (which only knows per-object atomics) but inside every target's hardware guarantee: an
// aligned vector load reads each naturally aligned 8-byte element single-copy atomically on
// x86-64, AArch64 and wasm. The snapshot is only a hint: a matching slot is loaded again with
// an acquire load (which synchronises with the writer's release store and re-checks the tag)
// before its entry is touched, exactly as the scalar probe does. Under ThreadSanitizer, which
// would flag the plain vector load, the 8 words are copied with relaxed atomic loads first.
//
// RULES FOR THIS FILE (it is compiled with -mavx2 for kernels_avx2.cpp): everything here is
// static or in an ISA-specific namespace, and it calls no inline function of another header
// that could be emitted out of line (format::load16, table::home, std::countr_zero...): the
// linker keeps one copy of such a function for the whole program, and the copy compiled with
// -mavx2 could win and run on a CPU without AVX2. std::atomic loads are always_inline in
// libstdc++. tests/CMakeLists.txt checks that no weak (link-once) function of the AVX2 object
// contains a VEX-encoded instruction.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

#if SIMDR_KERNEL_WIDTH >= 128
#include <simde/x86/sse2.h>
#endif

#include "index/index.hpp"
#include "simd/kernels.hpp"

#if SIMDR_TSAN  // assert.hpp, through index.hpp
#define SIMDR_KERNEL_ATOMIC_SNAPSHOT 1
#endif

namespace simdr::detail::simd::SIMDR_KERNEL_ISA {
namespace {

// ---- small helpers (see the rules above: no out-of-line inline functions of other headers) --

inline std::uint64_t home_of(const table& t, std::uint64_t hash) noexcept {
  return ((hash >> 32) * t.bucket_count) >> 32;  // same as table::home
}
inline std::uint8_t tag8(std::uint64_t hash) noexcept {
  return static_cast<std::uint8_t>(0x80 | (hash & 0x7f));  // same as tag_of
}
inline std::uint64_t offset_of(std::uint64_t w) noexcept { return (w & offset_mask) << 3; }
inline std::uint32_t low_bit(std::uint32_t m) noexcept {
  return static_cast<std::uint32_t>(__builtin_ctz(m));
}
inline std::uint64_t load_u64(const std::byte* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline std::uint32_t load_u32(const std::byte* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

/// Where the slot words are read from: the bucket itself, or (ThreadSanitizer) a copy made
/// with relaxed atomic loads.
struct snapshot {
#if defined(SIMDR_KERNEL_ATOMIC_SNAPSHOT)
  alignas(64) std::uint64_t w[bucket_slots];
  explicit snapshot(const bucket& b) noexcept {
    for (std::uint32_t i = 0; i < bucket_slots; ++i)
      w[i] = b.slot[i].load(std::memory_order_relaxed);
  }
  const void* data() const noexcept { return w; }
#else
  const bucket& b;
  explicit snapshot(const bucket& bk) noexcept : b(bk) {}
  const void* data() const noexcept { return &b; }
#endif
};

// ---- primitives -------------------------------------------------------------------------------

#if SIMDR_KERNEL_WIDTH == 0

// The scalar reference: one relaxed load and two compares per slot.
inline std::uint32_t match_tags_inl(const bucket& b, std::uint8_t tag) noexcept {
  std::uint32_t m = 0;
  for (std::uint32_t i = 0; i < bucket_slots; ++i) {
    const std::uint64_t w = b.slot[i].load(std::memory_order_relaxed);
    if ((w >> 56) == tag) m |= 1u << i;
    if ((w >> 56) == 0) m |= 0x100u << i;  // only the empty word (0) has a zero tag byte
  }
  return m;
}

inline bool keys_equal_inl(const std::byte* a, const std::byte* b, std::size_t n) noexcept {
  return n == 0 || std::memcmp(a, b, n) == 0;
}

#else

// The sign bits of 16 bytes. SIMDe 0.7.4 (Debian 12) has no wasm path for _mm_movemask_epi8: it
// stores the vector and gathers the 16 bits with a byte loop, some 60 wasm instructions where
// SIMD128 has one (i8x16.bitmask). Measured in Node, a random get of 100k keys: see
// docs/architecture.md ("Point reads under wasm").
inline std::uint32_t movemask8(simde__m128i v) noexcept {
#if defined(SIMDE_WASM_SIMD128_NATIVE)
  return wasm_i8x16_bitmask(simde__m128i_to_private(v).wasm_v128);
#else
  return static_cast<std::uint32_t>(simde_mm_movemask_epi8(v));
#endif
}

// Four 16-byte loads; the 8 tag bytes are gathered into one vector with three saturating packs
// (values are <= 255, so nothing saturates), then compared at once.
inline std::uint32_t match_tags_inl(const bucket& b, std::uint8_t tag) noexcept {
  const snapshot s(b);
  const auto* p = static_cast<const std::byte*>(s.data());
  const simde__m128i w01 = simde_mm_srli_epi64(simde_mm_loadu_si128(p), 56);
  const simde__m128i w23 = simde_mm_srli_epi64(simde_mm_loadu_si128(p + 16), 56);
  const simde__m128i w45 = simde_mm_srli_epi64(simde_mm_loadu_si128(p + 32), 56);
  const simde__m128i w67 = simde_mm_srli_epi64(simde_mm_loadu_si128(p + 48), 56);
  // 16-bit lanes t0 0 t1 0 t2 0 t3 0, then t4 0 ... t7 0; then t0..t7; then bytes t0..t7 twice.
  const simde__m128i t16 = simde_mm_packs_epi32(simde_mm_packs_epi32(w01, w23),
                                                simde_mm_packs_epi32(w45, w67));
  const simde__m128i t8 = simde_mm_packus_epi16(t16, t16);
  const simde__m128i want = simde_mm_set1_epi8(static_cast<std::int8_t>(tag));
  const std::uint32_t match =
      movemask8(simde_mm_cmpeq_epi8(t8, want)) & 0xff;
  const std::uint32_t empty = movemask8(simde_mm_cmpeq_epi8(t8, simde_mm_setzero_si128())) & 0xff;
  return match | empty << 8;
}

inline bool equal16(const std::byte* a, const std::byte* b) noexcept {
  const simde__m128i x = simde_mm_loadu_si128(a);
  const simde__m128i y = simde_mm_loadu_si128(b);
  return movemask8(simde_mm_cmpeq_epi8(x, y)) == 0xffff;
}

// Short keys (the common case) use two overlapping loads of the largest width that fits, so
// there is no loop and no byte-wise tail; longer keys are compared a vector at a time with an
// overlapping last vector. Nothing outside [a, a + n) and [b, b + n) is read.
inline bool keys_equal_inl(const std::byte* a, const std::byte* b, std::size_t n) noexcept {
  if (n < 16) {
    if (n >= 8)
      return ((load_u64(a) ^ load_u64(b)) | (load_u64(a + n - 8) ^ load_u64(b + n - 8))) == 0;
    if (n >= 4)
      return ((load_u32(a) ^ load_u32(b)) | (load_u32(a + n - 4) ^ load_u32(b + n - 4))) == 0;
    if (n == 0) return true;
    return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];
  }
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    if (!equal16(a + i, b + i)) return false;
  return i == n || equal16(a + n - 16, b + n - 16);
}

#endif  // SIMDR_KERNEL_WIDTH

inline bool entry_key_matches(const std::byte* entry, const std::byte* key,
                              std::size_t key_size) noexcept {
  // format.md section 4: key size is the little-endian u16 at byte 10; the key follows the header.
  const auto size = static_cast<std::size_t>(static_cast<unsigned>(entry[10]) |
                                             static_cast<unsigned>(entry[11]) << 8);
  return size == key_size && keys_equal_inl(entry + format::entry_header_size, key, key_size);
}

// ---- probes (index.hpp documents the protocol; these are its vector form) -------------------
//
// A tag match is checked against the slot's placement bits before its entry is read: the key's
// own slot has exactly the disp of the bucket it is in and the exact frac bits of its hash
// (index.hpp, LAYOUT), so a slot of another key with the same tag is told apart, 255 times in
// 256, without a cache miss (and perhaps a page fault) on its entry. With ~4 used slots per
// bucket and 7 tag bits, ~3% of probes meet such a slot; for the writer inserting new keys,
// and readers of absent keys, that was a read of somebody else's entry every time.
struct placement_filter {
  std::uint64_t home;
  std::uint64_t frac;   // the key's frac bits, in place
  std::uint64_t check;  // disp and the frac bits every slot of the table holds exactly
  placement_filter(const table& t, std::uint64_t hash) noexcept {
    const std::uint64_t product = (hash >> 32) * t.bucket_count;
    home = product >> 32;
    frac = ((product >> 24) & 0xff) << frac_shift;
    const std::uint64_t keep = (0xffu << (frac_width - t.frac_bits)) & 0xffu;
    check = (std::uint64_t{7} << disp_shift) | (keep << frac_shift);
  }
  /// Whether word `w`, found `probes` buckets from home, may belong to the key.
  bool may_match(std::uint64_t w, std::uint64_t probes) const noexcept {
    const std::uint64_t disp = probes < disp_unknown ? probes : disp_unknown;
    return ((((disp << disp_shift) | frac) ^ w) & check) == 0;
  }
};


std::uint64_t find_word_k(const table& t, std::uint64_t hash, const std::byte* key,
                          std::size_t key_size, const std::byte*& base_out) noexcept {
  const std::uint8_t tag = tag8(hash);
  const placement_filter pf(t, hash);
  std::uint64_t b = pf.home;
  for (std::uint64_t probes = 0; probes < t.bucket_count; ++probes) {
    const bucket& bk = t.buckets[b];
    const std::uint32_t m = match_tags_inl(bk, tag);
    for (std::uint32_t hits = m & 0xff; hits != 0; hits &= hits - 1) {
      const std::uint32_t i = low_bit(hits);
      // Synchronise with the release store that published this word (see index.hpp).
      const std::uint64_t wa = bk.slot[i].load(std::memory_order_acquire);
      if ((wa >> 56) != tag || !pf.may_match(wa, probes)) continue;
      const std::byte* base = t.base.load(std::memory_order_acquire);
      if (entry_key_matches(base + offset_of(wa), key, key_size)) {
        base_out = base;
        return wa;
      }
    }
    if ((m >> 8) != 0) return 0;  // an empty slot ends the probe sequence
    if (++b == t.bucket_count) b = 0;
  }
  return 0;
}

// The writer sees its own stores, so the snapshot is exact. Occupied slots of a bucket are a
// prefix (slots fill in order and never empty), so a key's slot precedes the first empty one.
std::atomic<std::uint64_t>* find_slot_for_write_k(table& t, std::uint64_t hash,
                                                  const std::byte* key, std::size_t key_size,
                                                  const std::byte* base, bool& found) noexcept {
  const std::uint8_t tag = tag8(hash);
  const placement_filter pf(t, hash);
  std::uint64_t b = pf.home;
  for (std::uint64_t probes = 0; probes < t.bucket_count; ++probes) {
    bucket& bk = t.buckets[b];
    const std::uint32_t m = match_tags_inl(bk, tag);
    for (std::uint32_t hits = m & 0xff; hits != 0; hits &= hits - 1) {
      const std::uint32_t i = low_bit(hits);
      const std::uint64_t w = bk.slot[i].load(std::memory_order_relaxed);
      if (!pf.may_match(w, probes)) continue;
      if (entry_key_matches(base + offset_of(w), key, key_size)) {
        found = true;
        return &bk.slot[i];
      }
    }
    if (const std::uint32_t empty = m >> 8; empty != 0) {
      found = false;
      return &bk.slot[low_bit(empty)];
    }
    if (++b == t.bucket_count) b = 0;
  }
  found = false;
  return nullptr;
}

void find_batch_k(const table& t, const bytes* keys, std::size_t n, std::uint64_t* words,
                  const std::byte** bases) noexcept {
  SIMDR_ASSERT(n <= batch_window);
  enum : std::uint8_t { absent, candidate, full_probe };
  std::uint64_t hashes[batch_window];
  std::uint8_t state[batch_window];
  // Stage 1: hash, prefetch the home buckets.
  for (std::size_t j = 0; j < n; ++j) {
    hashes[j] = XXH3_64bits(keys[j].data(), keys[j].size());
    SIMDR_PREFETCH(&t.buckets[home_of(t, hashes[j])]);
  }
  // Stage 2: probe each home bucket; take its first tag match that passes the placement
  // filter (acquire).
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint8_t tag = tag8(hashes[j]);
    const placement_filter pf(t, hashes[j]);
    const bucket& bk = t.buckets[pf.home];
    const std::uint32_t m = match_tags_inl(bk, tag);
    words[j] = 0;
    state[j] = (m >> 8) != 0 ? absent : full_probe;
    for (std::uint32_t hits = m & 0xff; hits != 0; hits &= hits - 1) {
      const std::uint64_t w = bk.slot[low_bit(hits)].load(std::memory_order_acquire);
      if ((w >> 56) != tag) {  // changed under us: let the plain probe decide
        state[j] = full_probe;
        break;
      }
      if (pf.may_match(w, 0)) {
        words[j] = w;
        state[j] = candidate;
        break;
      }
    }
  }
  // Loaded after the acquire loads of the words, so it covers every entry they name.
  const std::byte* base = t.base.load(std::memory_order_acquire);
  // Stage 3: prefetch the entries; stage 4: compare keys.
  for (std::size_t j = 0; j < n; ++j)
    if (state[j] == candidate) SIMDR_PREFETCH(base + offset_of(words[j]));
  for (std::size_t j = 0; j < n; ++j) {
    bases[j] = base;
    if (state[j] == absent) continue;
    if (state[j] == candidate &&
        entry_key_matches(base + offset_of(words[j]), keys[j].data(), keys[j].size()))
      continue;
    // Past the home bucket, or a tag collision: the plain probe.
    words[j] = find_word_k(t, hashes[j], keys[j].data(), keys[j].size(), bases[j]);
  }
}

// ---- kernel_set entries -------------------------------------------------------------------

std::uint32_t match_tags_k(const bucket& b, std::uint8_t tag) noexcept {
  return match_tags_inl(b, tag);
}
bool keys_equal_k(const std::byte* a, const std::byte* b, std::size_t n) noexcept {
  return keys_equal_inl(a, b, n);
}
std::uint64_t xxh3_k(const void* p, std::size_t n, std::uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(p, n, seed);
}

}  // namespace
}  // namespace simdr::detail::simd::SIMDR_KERNEL_ISA

namespace simdr::detail::simd {
extern const kernel_set SIMDR_KERNEL_SYMBOL;
constinit const kernel_set SIMDR_KERNEL_SYMBOL = {
    SIMDR_KERNEL_NAME,
    &SIMDR_KERNEL_ISA::match_tags_k,
    &SIMDR_KERNEL_ISA::keys_equal_k,
    &SIMDR_KERNEL_ISA::xxh3_k,
    &SIMDR_KERNEL_ISA::find_word_k,
    &SIMDR_KERNEL_ISA::find_slot_for_write_k,
    &SIMDR_KERNEL_ISA::find_batch_k,
};
}  // namespace simdr::detail::simd
