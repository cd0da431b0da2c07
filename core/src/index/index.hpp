// index.hpp - the in-memory hash index: key hash -> file offset of the key's newest entry.
//
// LAYOUT. Open addressing over buckets of 8 slots; a bucket is one 64-byte cache line, so a
// probe that hits its home bucket touches one line of the index (then the entry itself).
// Each slot is one atomic 64-bit word:
//     bits 63..56  tag: 0x80 | (hash & 0x7f)   (0 word = empty slot)
//     bit  55      dead: the key was erased; the offset points at its tombstone
//     bits 54..0   entry offset / 8             (entries start on 8-byte boundaries)
// The home bucket is fastrange(hash >> 32, bucket_count): bucket counts need not be powers of
// two, so growth by 1.5x keeps the index between ~9 and ~14 bytes per live key. Probing is
// linear over buckets; a bucket with an empty slot ends the search. A probe compares the 8 tags
// of a bucket at once (simd/kernels_impl.inl: match_tags gives a match mask and an empty mask)
// and visits only the matching slots. Occupied slots of a bucket always form a prefix (slots
// fill in order and never empty within a table).
//
// A key keeps one slot for the life of a table: updates and erases rewrite the slot in place
// and a re-put of an erased key reuses it. So a walk over the slots (entries()) meets each key
// at most once. Dead slots are dropped when the table is rebuilt (growth, compaction).
//
// CONCURRENCY. Exactly one thread mutates a table (the writer, under the store mutex); any
// number read it. Probes scan slots with relaxed loads; a slot whose tag matches is loaded
// again with acquire before its entry is dereferenced (an acquire load rather than a fence, so
// ThreadSanitizer can see the synchronisation too; on x86 both are plain loads). The writer
// stores slot words with release after the entry bytes are in the image (appended through the
// storage seam) and after `base` covers them. An update
// replaces a whole word atomically, so a reader sees the old or the new offset, both complete
// committed entries. Slots never return to empty within a table, so a probe sequence that a
// reader has passed never gains its key further back. Tables are replaced, never resized in
// place, and freed through the reclaimer (reclaim.hpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "assert.hpp"
#include "format/format.hpp"
#include "simd/kernels.hpp"

namespace simdr::detail {

inline constexpr std::uint32_t bucket_slots = 8;
inline constexpr std::uint64_t tag_occupied = 0x80;
inline constexpr std::uint64_t dead_bit = std::uint64_t{1} << 55;
inline constexpr std::uint64_t offset_mask = (std::uint64_t{1} << 55) - 1;

struct alignas(64) bucket {
  std::atomic<std::uint64_t> slot[bucket_slots];
};
static_assert(sizeof(bucket) == 64);

[[nodiscard]] inline std::uint64_t tag_of(std::uint64_t hash) noexcept {
  return tag_occupied | (hash & 0x7f);
}
[[nodiscard]] inline std::uint64_t make_word(std::uint64_t hash, std::uint64_t entry_offset,
                                             bool dead) noexcept {
  SIMDR_ASSERT(entry_offset % 8 == 0);
  return (tag_of(hash) << 56) | (dead ? dead_bit : 0) | ((entry_offset >> 3) & offset_mask);
}
[[nodiscard]] inline std::uint64_t word_offset(std::uint64_t w) noexcept {
  return (w & offset_mask) << 3;
}
[[nodiscard]] inline bool word_dead(std::uint64_t w) noexcept { return (w & dead_bit) != 0; }

/// One generation of the index. `base` is the image the offsets resolve against.
struct table {
  std::atomic<const std::byte*> base{nullptr};
  /// Committed end of the log this table indexes, | log_dirty when some entry below it is
  /// dead. Published (release) after the slots of each commit.
  std::atomic<std::uint64_t> log_state{0};
  std::uint64_t bucket_count = 0;
  bucket* buckets = nullptr;
  // Writer-only bookkeeping.
  std::uint64_t occupied = 0;  ///< Slots holding a key, live or dead.
  std::uint64_t live = 0;      ///< Slots holding a live key.

  [[nodiscard]] std::uint64_t capacity() const noexcept { return bucket_count * bucket_slots; }
  [[nodiscard]] std::uint64_t memory_bytes() const noexcept {
    return bucket_count * sizeof(bucket) + sizeof(table);
  }
  [[nodiscard]] std::uint64_t home(std::uint64_t hash) const noexcept {
    return ((hash >> 32) * bucket_count) >> 32;
  }

  /// A zeroed table with room for at least `slots` slots at 100% load, or nullptr when memory
  /// is exhausted (never throws).
  static table* create(std::uint64_t slots) noexcept;
  static void destroy(table* t) noexcept;
  static void destroy_erased(void* t) noexcept { destroy(static_cast<table*>(t)); }
};

/// Maximum fill before the writer rebuilds: 7/8 of the slots (live + dead).
[[nodiscard]] inline bool needs_growth(const table& t, std::uint64_t incoming) noexcept {
  return (t.occupied + incoming) * 8 > t.capacity() * 7;
}
/// Slots for a rebuilt table holding `live` keys: ~60% full after growth.
[[nodiscard]] inline std::uint64_t slots_for(std::uint64_t live) noexcept {
  const std::uint64_t want = live + live / 2 + live / 6 + 64;
  return want;
}

// The probes themselves are kernels (simd/kernels_impl.inl): one source compiled per
// instruction set, the scalar one being the reference. These forward to the active set; a
// probe costs one indirect call, the tag and key compares are inlined inside it.

/// Reader lookup: the slot word of `key` (live or dead), or 0. Safe against a concurrent
/// writer. On success `base_out` is an image base that covers the entry.
[[nodiscard]] inline std::uint64_t find_word(const table& t, std::uint64_t hash,
                                             const std::byte* key, std::size_t key_size,
                                             const std::byte*& base_out) noexcept {
  return simd::active().find_word(t, hash, key, key_size, base_out);
}

/// Writer lookup: the slot holding `key`, else the first empty slot on its probe path
/// (`found` tells which). Never nullptr while the table is below 100% load.
[[nodiscard]] inline std::atomic<std::uint64_t>* find_slot_for_write(
    table& t, std::uint64_t hash, const std::byte* key, std::size_t key_size,
    const std::byte* base, bool& found) noexcept {
  return simd::active().find_slot_for_write(t, hash, key, key_size, base, found);
}

/// Writer: an empty slot for a key known to be absent (table rebuilds).
[[nodiscard]] inline std::atomic<std::uint64_t>* find_empty(table& t,
                                                            std::uint64_t hash) noexcept {
  std::uint64_t b = t.home(hash);
  for (std::uint64_t probes = 0; probes < t.bucket_count; ++probes) {
    bucket& bk = t.buckets[b];
    for (std::uint32_t i = 0; i < bucket_slots; ++i)
      if (bk.slot[i].load(std::memory_order_relaxed) == 0) return &bk.slot[i];
    if (++b == t.bucket_count) b = 0;
  }
  return nullptr;
}

inline void prefetch_home(const table& t, std::uint64_t hash) noexcept {
  SIMDR_PREFETCH(&t.buckets[t.home(hash)]);
}

/// Writer: fills a table no reader has seen yet with `n` distinct live keys (their hashes and
/// entry offsets), prefetching home buckets ahead. Used by growth and compaction.
inline void fill_fresh(table& t, const std::uint64_t* hashes, const std::uint64_t* offsets,
                       std::size_t n) noexcept {
  constexpr std::size_t ahead = 16;
  for (std::size_t i = 0; i < n; ++i) {
    if (i + ahead < n) prefetch_home(t, hashes[i + ahead]);
    std::atomic<std::uint64_t>* slot = find_empty(t, hashes[i]);
    SIMDR_ASSERT(slot != nullptr);
    slot->store(make_word(hashes[i], offsets[i], false), std::memory_order_relaxed);
  }
  t.occupied = n;
  t.live = n;
}

}  // namespace simdr::detail
