// index.hpp - the in-memory hash index: key hash -> file offset of the key's newest entry.
//
// LAYOUT. Open addressing over buckets of 8 slots; a bucket is one 64-byte cache line, so a
// probe that hits its home bucket touches one line of the index (then the entry itself).
// Each slot is one atomic 64-bit word:
//     bits 63..56  tag: 0x80 | (hash & 0x7f)   (0 word = empty slot)
//     bit  55      dead: the key was erased; the offset points at its tombstone
//     bits 54..52  disp: buckets from the key's home to this slot's bucket; 7 = 7 or more
//     bits 51..44  frac: bits 31..24 of the fastrange product (hash >> 32) * bucket_count
//     bits 43..0   entry offset / 8             (entries start on 8-byte boundaries; files are
//                                                at most format::max_file_size = 2^47 bytes)
// The home bucket is fastrange(hash >> 32, bucket_count), the high half of that product, so
// bucket counts need not be powers of two (open sizes the table to its keys: ~13 bytes per
// live key). Disp and frac (the PLACEMENT bits) let growth move a slot without its key: the
// home is the slot's bucket minus disp, and doubling the bucket count doubles the product, so
// the new home is (home << 1) | the top frac bit, and frac shifts left by one. Each doubling
// uses up one frac bit (table::frac_bits counts the bits still exact in every slot); a slot
// whose disp is unknown, or a table with no exact bits left, is rehashed from its key
// (rebuild_table). The writer's growth therefore multiplies the bucket count by a power of two
// (grown_capacity: x4 while small, then x2, between ~9 and ~18 bytes per live key while it
// writes) and costs a sequential pass, not a random read of every key. Probing is
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
inline constexpr unsigned disp_shift = 52;
inline constexpr std::uint64_t disp_unknown = 7;  ///< disp of a slot 7 or more buckets away
inline constexpr unsigned frac_shift = 44;
inline constexpr unsigned frac_width = 8;
inline constexpr std::uint64_t placement_mask = std::uint64_t{0x7ff} << frac_shift;
inline constexpr std::uint64_t offset_mask = (std::uint64_t{1} << frac_shift) - 1;
static_assert((offset_mask << 3) + 8 >= format::max_file_size,
              "every entry offset of a file must fit a slot");

struct alignas(64) bucket {
  std::atomic<std::uint64_t> slot[bucket_slots];
};
static_assert(sizeof(bucket) == 64);

[[nodiscard]] inline std::uint64_t tag_of(std::uint64_t hash) noexcept {
  return tag_occupied | (hash & 0x7f);
}
/// A slot word; `placement` comes from placement_of() (a new slot) or the slot's previous word
/// (an update: a key keeps its slot).
[[nodiscard]] inline std::uint64_t make_word(std::uint64_t hash, std::uint64_t placement,
                                             std::uint64_t entry_offset, bool dead) noexcept {
  SIMDR_ASSERT(entry_offset % 8 == 0 && entry_offset < format::max_file_size);
  SIMDR_ASSERT((placement & ~placement_mask) == 0);
  return (tag_of(hash) << 56) | (dead ? dead_bit : 0) | placement |
         ((entry_offset >> 3) & offset_mask);
}
[[nodiscard]] inline std::uint64_t word_offset(std::uint64_t w) noexcept {
  return (w & offset_mask) << 3;
}
[[nodiscard]] inline bool word_dead(std::uint64_t w) noexcept { return (w & dead_bit) != 0; }

/// Memory for the buckets of a table, from the platform (storage::table_memory()).
struct table_memory {
  /// `bytes` (a multiple of 64) aligned to 64 bytes, or nullptr. Need not be zeroed.
  void* (*allocate)(std::size_t bytes) noexcept;
  /// Frees what allocate(bytes) returned.
  void (*release)(void* p, std::size_t bytes) noexcept;
};

/// One generation of the index. `base` is the image the offsets resolve against.
struct table {
  std::atomic<const std::byte*> base{nullptr};
  /// Committed end of the log this table indexes, | log_dirty when some entry below it is
  /// dead. Published (release) after the slots of each commit.
  std::atomic<std::uint64_t> log_state{0};
  std::uint64_t bucket_count = 0;
  bucket* buckets = nullptr;
  const table_memory* memory = nullptr;  ///< Where `buckets` came from (nullptr: the heap).
  // Writer-only bookkeeping.
  std::uint64_t occupied = 0;  ///< Slots holding a key, live or dead.
  std::uint64_t live = 0;      ///< Slots holding a live key.
  unsigned frac_bits = frac_width;  ///< Leading frac bits exact in every slot (see LAYOUT).

  [[nodiscard]] std::uint64_t capacity() const noexcept { return bucket_count * bucket_slots; }
  [[nodiscard]] std::uint64_t memory_bytes() const noexcept {
    return bucket_count * sizeof(bucket) + sizeof(table);
  }
  /// The fastrange product: its high half is the home bucket, bits 31..24 a slot's frac.
  [[nodiscard]] std::uint64_t product(std::uint64_t hash) const noexcept {
    return (hash >> 32) * bucket_count;
  }
  [[nodiscard]] std::uint64_t home(std::uint64_t hash) const noexcept {
    return product(hash) >> 32;
  }
  [[nodiscard]] std::uint64_t bucket_index(const std::atomic<std::uint64_t>* slot) const noexcept {
    return (reinterpret_cast<std::uintptr_t>(slot) - reinterpret_cast<std::uintptr_t>(buckets)) /
           sizeof(bucket);
  }

  /// A zeroed table with room for at least `slots` slots at 100% load, its buckets from `mem`
  /// (nullptr: the C++ heap), or nullptr when memory is exhausted (never throws).
  static table* create(std::uint64_t slots, const table_memory* mem = nullptr) noexcept;
  static void destroy(table* t) noexcept;
  static void destroy_erased(void* t) noexcept { destroy(static_cast<table*>(t)); }
};

/// Maximum fill before the writer rebuilds: 7/8 of the slots (live + dead).
[[nodiscard]] inline bool needs_growth(const table& t, std::uint64_t incoming) noexcept {
  return (t.occupied + incoming) * 8 > t.capacity() * 7;
}
/// Tables below this many slots (8 MiB of buckets) grow 4x at a time, larger ones 2x.
inline constexpr std::uint64_t quadruple_below = std::uint64_t{1} << 20;
/// The writer's growth from `capacity` slots to at least `want`: x4 steps while the table is
/// small, then x2 (both keep the bucket count a power-of-two multiple, so regrow can move slots
/// by their placement bits). A W1 write of 1M keys skips three of its rebuilds this way (+11%
/// on a write-only loop); the over-allocation this allows is bounded by 8 MiB.
[[nodiscard]] inline std::uint64_t grown_capacity(std::uint64_t capacity, std::uint64_t want) noexcept {
  while (capacity < want) capacity *= capacity < quadruple_below ? 4 : 2;
  return capacity;
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

/// The disp field of a slot in bucket `b` whose key's home is `home` (probing wraps around).
[[nodiscard]] inline std::uint64_t disp_field(const table& t, std::uint64_t home,
                                              std::uint64_t b) noexcept {
  const std::uint64_t disp = b >= home ? b - home : b + t.bucket_count - home;
  return (disp < disp_unknown ? disp : disp_unknown) << disp_shift;
}
/// Placement bits (disp, frac) of a key given `product` = t.product(hash), stored in the slot
/// of bucket `b`.
[[nodiscard]] inline std::uint64_t placement_bits(const table& t, std::uint64_t product,
                                                  std::uint64_t b) noexcept {
  const std::uint64_t frac = (product >> 24) & 0xff;
  return disp_field(t, product >> 32, b) | (frac << frac_shift);
}
/// Placement bits for a key of hash `hash` about to occupy `slot` (an empty slot of `t`).
[[nodiscard]] inline std::uint64_t placement_of(const table& t, std::uint64_t hash,
                                                const std::atomic<std::uint64_t>* slot) noexcept {
  return placement_bits(t, t.product(hash), t.bucket_index(slot));
}

/// Writer: the first empty slot at or after bucket `b` (table rebuilds: the key is known to be
/// absent); `b` is left at its bucket.
[[nodiscard]] inline std::atomic<std::uint64_t>* find_empty_from(table& t,
                                                                 std::uint64_t& b) noexcept {
  for (std::uint64_t probes = 0; probes < t.bucket_count; ++probes) {
    bucket& bk = t.buckets[b];
    for (std::uint32_t i = 0; i < bucket_slots; ++i)
      if (bk.slot[i].load(std::memory_order_relaxed) == 0) return &bk.slot[i];
    if (++b == t.bucket_count) b = 0;
  }
  return nullptr;
}

/// Writer, table not yet published: stores the live key of hash `hash` whose entry is at
/// `offset` in its first free slot.
inline void insert_fresh(table& t, std::uint64_t hash, std::uint64_t offset) noexcept {
  const std::uint64_t product = t.product(hash);
  std::uint64_t b = product >> 32;
  std::atomic<std::uint64_t>* slot = find_empty_from(t, b);
  SIMDR_ASSERT(slot != nullptr);
  slot->store(make_word(hash, placement_bits(t, product, b), offset, false),
              std::memory_order_relaxed);
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
    insert_fresh(t, hashes[i], offsets[i]);
  }
  t.occupied = n;
  t.live = n;
}

/// Writer: fills `nt`, a fresh table of (old.bucket_count << shift) buckets with shift <=
/// old.frac_bits, with the live slots of `old` from their placement bits alone: one sequential
/// pass over both tables, no key read. `fill` is nt.bucket_count zeroed bytes of scratch (the
/// used slots of each new bucket, which are a prefix). Slots whose disp is unknown are handed
/// to `rehash(word)`, which must insert them from their keys (insert_fresh) after this returns
/// (they are collected, not inserted, so that `fill` stays exact). Counts and frac_bits are set
/// on `nt`.
template <class Rehash>
void regrow(const table& old, table& nt, unsigned shift, std::uint8_t* fill,
            Rehash&& rehash) noexcept {
  SIMDR_ASSERT(shift <= old.frac_bits && nt.bucket_count == old.bucket_count << shift);
  std::uint64_t n = 0;
  for (std::uint64_t b = 0; b < old.bucket_count; ++b) {
    // The live slots of the bucket as a mask (no branch per slot: how many are used varies).
    std::uint64_t words[bucket_slots];
    std::uint32_t live = 0;
    for (std::uint32_t i = 0; i < bucket_slots; ++i) {
      words[i] = old.buckets[b].slot[i].load(std::memory_order_relaxed);
      live |= static_cast<std::uint32_t>(words[i] != 0 && !word_dead(words[i])) << i;
    }
    for (; live != 0; live &= live - 1) {
      const std::uint64_t w = words[__builtin_ctz(live)];
      ++n;
      const std::uint64_t disp = (w >> disp_shift) & 7;
      if (disp == disp_unknown) {
        rehash(w);
        continue;
      }
      const std::uint64_t home = b >= disp ? b - disp : b + old.bucket_count - disp;
      const std::uint64_t frac = (w >> frac_shift) & 0xff;
      // The new product is the old one << shift: its high half gains the top `shift` frac bits.
      const std::uint64_t nhome = (home << shift) | (frac >> (frac_width - shift));
      const std::uint64_t nfrac = (frac << shift) & 0xff;
      std::uint64_t nb = nhome;
      for (std::uint64_t probes = 0; fill[nb] == bucket_slots; ++probes) {
        SIMDR_ASSERT(probes < nt.bucket_count);
        if (++nb == nt.bucket_count) nb = 0;
      }
      nt.buckets[nb].slot[fill[nb]++].store(
          (w & ~placement_mask) | disp_field(nt, nhome, nb) | (nfrac << frac_shift),
          std::memory_order_relaxed);
    }
  }
  nt.occupied = n;
  nt.live = n;
  nt.frac_bits = old.frac_bits - shift;
}

}  // namespace simdr::detail
