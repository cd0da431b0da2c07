// reclaim.hpp - deferred reclamation of index tables, so readers never wait for the writer.
//
// Readers announce themselves in one of `slot_count` cache-line-sized slots (picked per thread)
// by incrementing a counter for the current phase; the writer retires a table only after it is
// unpublished, and frees it once every counter of the phase it was retired under has drained.
// This is a two-phase quiescence scheme in the spirit of SRCU: readers pay two uncontended
// atomic RMWs and never block; the writer never blocks either (it frees lazily, at a later
// commit or at close).
//
// MEMORY ORDERING (why a freed table is never in use):
//  reader:  p = phase (seq_cst); cnt[s][p] += 1 (seq_cst); re-check phase == p (seq_cst),
//           else undo and retry; then load the table pointer (seq_cst) and use it.
//  writer:  unpublish T (table store, seq_cst); later flip phase p -> 1-p (seq_cst); then read
//           cnt[*][p] (seq_cst) and free T when all are 0.
//  All these operations are seq_cst, so they sit in one total order S. A reader counted in
//  phase p that passed its re-check did so before the flip away from p in S, hence its
//  increment precedes the writer's reads of cnt[*][p], which therefore see it: T is not freed
//  while it is counted. A reader that observed phase p after the flip into p loads the table
//  after that flip, which follows T's unpublication in S, so it cannot load T at all.
//  Tables retired while a drain is in progress wait for the next flip (they may be held by
//  readers of either phase).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace simdr::detail {

struct reader_guard {
  std::uint32_t slot = 0;
  std::uint32_t phase = 0;
};

class reclaimer {
 public:
  static constexpr std::uint32_t slot_count = 64;

  /// Registers the calling thread as a reader. Lock-free; never waits for the writer.
  reader_guard enter() noexcept {
    const std::uint32_t s = thread_slot();
    for (;;) {
      const std::uint32_t p = phase_.load(std::memory_order_seq_cst);
      slots_[s].count[p].fetch_add(1, std::memory_order_seq_cst);
      if (phase_.load(std::memory_order_seq_cst) == p) return {s, p};
      slots_[s].count[p].fetch_sub(1, std::memory_order_release);
    }
  }
  void exit(reader_guard g) noexcept {
    slots_[g.slot].count[g.phase].fetch_sub(1, std::memory_order_release);
  }

  /// Writer only: `p` is unpublished; free it with `deleter(p)` when no reader can hold it.
  void retire(void* p, void (*deleter)(void*)) noexcept {
    waiting_.push_back({p, deleter});
    poll();
  }

  /// Writer only: frees what can be freed now. Cheap when there is nothing to do.
  void poll() noexcept {
    if (!draining_.empty()) {
      if (!drained(draining_phase_)) return;
      for (auto& r : draining_) r.deleter(r.ptr);
      draining_.clear();
    }
    if (waiting_.empty()) return;
    draining_.swap(waiting_);
    draining_phase_ = phase_.load(std::memory_order_relaxed);
    phase_.store(1 - draining_phase_, std::memory_order_seq_cst);
    if (drained(draining_phase_)) {
      for (auto& r : draining_) r.deleter(r.ptr);
      draining_.clear();
    }
  }

  /// Close: the caller guarantees no reader is active. Frees everything retired.
  void free_all() noexcept {
    for (auto& r : draining_) r.deleter(r.ptr);
    for (auto& r : waiting_) r.deleter(r.ptr);
    draining_.clear();
    waiting_.clear();
  }

  [[nodiscard]] std::size_t pending() const noexcept { return draining_.size() + waiting_.size(); }

 private:
  struct retired {
    void* ptr;
    void (*deleter)(void*);
  };
  struct alignas(64) slot {
    std::atomic<std::int64_t> count[2] = {0, 0};
  };

  bool drained(std::uint32_t p) const noexcept {
    for (const auto& s : slots_)
      if (s.count[p].load(std::memory_order_seq_cst) != 0) return false;
    return true;
  }

  static std::uint32_t thread_slot() noexcept {
    // Spread threads over slots so concurrent readers rarely share a cache line.
    static std::atomic<std::uint32_t> next{0};
    thread_local const std::uint32_t mine = next.fetch_add(1, std::memory_order_relaxed);
    return mine % slot_count;
  }

  std::atomic<std::uint32_t> phase_{0};
  slot slots_[slot_count];
  std::vector<retired> waiting_;
  std::vector<retired> draining_;
  std::uint32_t draining_phase_ = 0;
};

}  // namespace simdr::detail
