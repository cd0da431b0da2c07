// reclaim.cpp - process-wide reader ids for the reclaimer's owned slots (reclaim.hpp).
#include "index/reclaim.hpp"

#include <algorithm>
#include <bit>

namespace simdr::detail::reader_ids {
namespace {

constexpr std::uint32_t words = (capacity + 63) / 64;
std::atomic<std::uint64_t> taken[words];

// Gives the id back when its thread exits. The release pairs with the acquire of the next
// owner's claim, so that owner sees this thread's last count stores in every reclaimer. A read
// from a later thread_local destructor of this thread uses the shared slot.
struct releaser {
  std::uint32_t id = unassigned;
  releaser() = default;
  releaser(const releaser&) = delete;
  releaser& operator=(const releaser&) = delete;
  ~releaser() {
    if (id >= capacity) return;
    mine = capacity;
    taken[id / 64].fetch_and(~(std::uint64_t{1} << (id % 64)), std::memory_order_release);
  }
};
thread_local releaser tls_releaser;

}  // namespace

std::uint32_t assign() noexcept {
  for (std::uint32_t w = 0; w < words; ++w) {
    const std::uint32_t bits = std::min<std::uint32_t>(64, capacity - w * 64);
    const std::uint64_t usable = bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
    std::uint64_t cur = taken[w].load(std::memory_order_relaxed);
    while ((~cur & usable) != 0) {
      const auto b = static_cast<std::uint32_t>(std::countr_zero(~cur & usable));
      if (taken[w].compare_exchange_weak(cur, cur | (std::uint64_t{1} << b),
                                         std::memory_order_acquire, std::memory_order_relaxed)) {
        const std::uint32_t id = w * 64 + b;
        tls_releaser.id = id;
        mine = id;
        return id;
      }
    }
  }
  return capacity;  // all taken: this call uses the shared slot; a later one tries again
}

std::uint32_t in_use() noexcept {
  std::uint32_t n = 0;
  for (const auto& w : taken)
    n += static_cast<std::uint32_t>(std::popcount(w.load(std::memory_order_relaxed)));
  return n;
}

}  // namespace simdr::detail::reader_ids
