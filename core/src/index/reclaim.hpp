// reclaim.hpp - deferred reclamation of index tables, so readers never wait for the writer.
//
// Readers announce themselves in a cache-line-sized slot by counting up the current phase; the
// writer retires a table only after it is unpublished, flips the phase, and frees the table
// once every counter of the phase it was retired under has drained. A two-phase quiescence
// scheme in the spirit of SRCU: readers never block, and neither does the writer (it frees
// lazily, at a later commit or at close).
//
// SLOTS. Every thread that reads gets a small process-wide id (reader_ids, recycled when the
// thread exits) and owns slot `id` of every reclaimer: only that thread writes the slot, so it
// counts with a plain load and store, no locked read-modify-write. Threads beyond
// reader_ids::capacity, and guards that may end on another thread (entry ranges, which users
// hold across calls), share the last slot and count it with atomic RMWs.
//
// BARRIERS. Between a reader's count store and its phase re-check there must be a full barrier
// (store->load order), paired with one in the writer between its phase flip and its count
// reads. Two modes, fixed per reclaimer when the store opens:
//  * asymmetric (native Linux, membarrier(2)): the reader's barrier is a compiler barrier
//    only; the writer, after each flip, calls the platform's heavy barrier
//    (storage::heavy_barrier(), MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a full barrier
//    on every CPU running a thread of this process. This is the pairing of liburcu's "memb"
//    flavour and folly's asymmetricLightBarrier/asymmetricHeavyBarrier. A get then costs no
//    locked instruction, and a locked instruction is what made consecutive gets wait for each
//    other's cache misses (bench/node/README.md, the perf profile).
//  * symmetric (no heavy barrier: wasm, other systems, ThreadSanitizer, which models neither
//    membarrier nor standalone fences): the count store and the phase re-check are seq_cst.
//
// ONE THREAD (storage::one_thread(): a wasm instance owned by one JS thread). Short guards
// (enter/exit within one lookup) are not counted at all: the writer runs on the same thread,
// so it can never free a table in the middle of a lookup. This matters in the -pthread wasm
// build (the shared-memory module), where every atomic store, even a relaxed one, is a wasm
// seq_cst store that V8 compiles to a locked xchg. Guards held across calls (entry ranges,
// enter_shared) are still counted.
//
// WHY A FREED TABLE IS NEVER IN USE.
//  reader:  p = phase (acquire); slot.count[p] = c + 1; BARRIER; re-check phase == p, else
//           restore c and retry; load the table pointer (seq_cst) and use it; at exit, store
//           the count back down (release).
//  writer:  unpublish T (table store, seq_cst); later flip the phase p -> 1-p (seq_cst);
//           BARRIER; read every count[p] (acquire) and free T when all are 0.
//  The two BARRIERs form the store-buffering pattern: either the reader's count store is
//  visible to the writer's count reads (then T is not freed until the reader's release store
//  of the lower count, which the writer's acquire read synchronizes with), or the writer's flip
//  is visible to the reader's re-check (then the reader retries; it now reads phase 1-p, with
//  acquire, after the flip, so its table load follows T's unpublication and cannot return T).
//  In asymmetric mode, membarrier gives exactly this either/or: the IPI'd full barrier lands in
//  the reader's program either before its compiler barrier (the reader then sees everything the
//  writer stored before the heavy barrier) or after it (the writer then sees the count). A
//  thread not running at the time has passed a context switch, itself a full barrier.
//  Tables retired while a drain is in progress wait for the next flip (they may be held by
//  readers of either phase); the phase flips back only after the drain completes.
//  If the heavy barrier ever fails, nothing retired is freed before close (safe, not lost).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "assert.hpp"  // SIMDR_TSAN

namespace simdr::detail {

/// ThreadSanitizer models neither membarrier(2) nor standalone fences: its builds keep the
/// symmetric mode (all seq_cst atomics), which it checks.
inline constexpr bool asymmetric_allowed = !SIMDR_TSAN;

/// A platform's heavy barrier (storage::heavy_barrier()): returns false when it could not run.
using heavy_barrier_fn = bool (*)() noexcept;

/// Small process-wide ids for threads that read stores, recycled when a thread exits.
namespace reader_ids {
inline constexpr std::uint32_t capacity = 127;
inline constexpr std::uint32_t unassigned = 0xffffffffu;
/// The calling thread's id in [0, capacity), or `capacity` when every id is taken.
std::uint32_t assign() noexcept;
inline thread_local std::uint32_t mine = unassigned;
inline std::uint32_t current() noexcept {
  const std::uint32_t id = mine;
  return id != unassigned ? id : assign();
}
/// Ids currently held by live threads (tests; counted from the id bitmap).
std::uint32_t in_use() noexcept;
}  // namespace reader_ids

/// What exit() needs: the slot and phase a reader counted itself in. One scalar, not two
/// fields: wasm32's C ABI returns and passes a two-field struct through memory, where reading
/// the two 32-bit halves back as one 64-bit word defeats store-to-load forwarding, so every
/// lookup waited for the one before it to finish (store.hpp, get_, has the same story).
class reader_guard {
 public:
  constexpr reader_guard() noexcept = default;
  constexpr reader_guard(std::uint32_t slot, std::uint32_t phase) noexcept
      : bits_(slot << 1 | phase) {}
  [[nodiscard]] constexpr std::uint32_t slot() const noexcept { return bits_ >> 1; }
  [[nodiscard]] constexpr std::uint32_t phase() const noexcept { return bits_ & 1; }

 private:
  std::uint32_t bits_ = 0;
};
static_assert(sizeof(reader_guard) == sizeof(std::uint32_t), "one scalar: see reader_guard");

class reclaimer {
 public:
  /// The slot of guards that may end on another thread, and of threads without an id.
  static constexpr std::uint32_t shared_slot = reader_ids::capacity;
  /// The slot of uncounted guards (one-thread mode).
  static constexpr std::uint32_t uncounted_slot = shared_slot + 1;

  /// Chooses the barrier mode; called once, before any reader can reach this reclaimer.
  /// nullptr (or a ThreadSanitizer build) keeps the symmetric mode.
  void use_heavy_barrier(heavy_barrier_fn heavy) noexcept {
    heavy_ = asymmetric_allowed ? heavy : nullptr;
  }
  [[nodiscard]] bool asymmetric() const noexcept { return heavy_ != nullptr; }

  /// One-thread mode (see ONE THREAD); called once, before any reader can reach this reclaimer.
  void use_one_thread(bool on) noexcept { one_thread_ = on; }
  [[nodiscard]] bool one_thread() const noexcept { return one_thread_; }

  /// Registers the calling thread as a reader; exit() must run on the same thread. Lock-free;
  /// never waits for the writer.
  reader_guard enter() noexcept {
    if (one_thread_) return {uncounted_slot, 0};
    const std::uint32_t s = reader_ids::current();
    if (s >= shared_slot) return enter_shared();
    std::atomic<std::int64_t>* count = slots_[s].count;
    const bool light = heavy_ != nullptr;
    for (;;) {
      const std::uint32_t p = phase_.load(std::memory_order_acquire);
      const std::int64_t c = count[p].load(std::memory_order_relaxed);  // only we write it
      if (light) {
        count[p].store(c + 1, std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);  // see BARRIERS
        if (phase_.load(std::memory_order_acquire) == p) return {s, p};
      } else {
        count[p].store(c + 1, std::memory_order_seq_cst);
        if (phase_.load(std::memory_order_seq_cst) == p) return {s, p};
      }
      count[p].store(c, std::memory_order_release);
    }
  }

  /// Registers a reader whose guard may be released on any thread (atomic RMWs).
  reader_guard enter_shared() noexcept {
    std::atomic<std::int64_t>* count = slots_[shared_slot].count;
    for (;;) {
      const std::uint32_t p = phase_.load(std::memory_order_seq_cst);
      count[p].fetch_add(1, std::memory_order_seq_cst);
      if (phase_.load(std::memory_order_seq_cst) == p) return {shared_slot, p};
      count[p].fetch_sub(1, std::memory_order_release);
    }
  }

  void exit(reader_guard g) noexcept {
    if (g.slot() == uncounted_slot) return;
    std::atomic<std::int64_t>& count = slots_[g.slot()].count[g.phase()];
    if (g.slot() == shared_slot) {
      count.fetch_sub(1, std::memory_order_release);
    } else {
      count.store(count.load(std::memory_order_relaxed) - 1, std::memory_order_release);
    }
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
      free_list(draining_);
    }
    if (waiting_.empty()) return;
    draining_.swap(waiting_);
    draining_phase_ = phase_.load(std::memory_order_relaxed);
    phase_.store(1 - draining_phase_, std::memory_order_seq_cst);
    if (heavy_ != nullptr && !heavy_()) {
      stuck_ = true;  // no barrier, no proof: keep everything until close
      return;
    }
    if (drained(draining_phase_)) free_list(draining_);
  }

  /// Close: the caller guarantees no reader is active. Frees everything retired.
  void free_all() noexcept {
    free_list(draining_);
    free_list(waiting_);
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
    if (stuck_) return false;
    for (const auto& s : slots_)
      if (s.count[p].load(std::memory_order_seq_cst) != 0) return false;
    return true;
  }

  static void free_list(std::vector<retired>& list) noexcept {
    for (auto& r : list) r.deleter(r.ptr);
    list.clear();
  }

  std::atomic<std::uint32_t> phase_{0};
  heavy_barrier_fn heavy_ = nullptr;
  bool one_thread_ = false;
  bool stuck_ = false;
  slot slots_[reader_ids::capacity + 1];
  std::vector<retired> waiting_;
  std::vector<retired> draining_;
  std::uint32_t draining_phase_ = 0;
};

}  // namespace simdr::detail
