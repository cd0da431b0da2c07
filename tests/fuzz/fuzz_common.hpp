// fuzz_common.hpp - shared by the fuzz targets (tests/fuzz/README in HACKING.md, "Fuzzing").
//
// FUZZ_CHECK(cond, msg): an invariant of the library; on violation prints the message and traps,
// which libFuzzer reports as a crash and the replay binary as a failed test.
//
// tracked_storage: a memory_storage behind the storage seam, plus a way to find the storage the
// store currently writes to. compact() makes the core switch to the storage returned by
// create_replacement() and retire the old one, so a raw pointer to the storage passed to
// open_store() goes stale after a compaction; the tracker follows install_replacement().
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memory_storage.hpp"
#include "simdr/simdr.hpp"
#include "storage.hpp"

#define FUZZ_CHECK(cond, msg)                                                                \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n  %s\n", __FILE__, __LINE__, #cond, \
                   std::string(msg).c_str());                                                \
      std::fflush(stderr);                                                                   \
      __builtin_trap();                                                                      \
    }                                                                                        \
  } while (0)

namespace simdr::fuzz {

inline std::string code_name(errc c) { return std::string(to_string(c)); }

/// The issues of a verify report, for failure messages.
inline std::string describe(const result<verify_report>& vr) {
  if (!vr) return "verify gave " + code_name(vr.code());
  std::string s = std::to_string(vr->issues.size()) + " issue(s):";
  for (const verify_issue& i : vr->issues)
    s += " " + code_name(i.code) + "@" + std::to_string(i.offset);
  return s;
}

inline std::span<const std::byte> as_span(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string as_string(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// Where the store's current storage is (updated when a compaction installs a replacement).
struct image_tracker {
  storage* current = nullptr;
  /// A copy of the current image: the bytes a reopen would find in the file.
  [[nodiscard]] std::vector<std::byte> copy() const {
    const std::span<const std::byte> img = current->image();
    return {img.begin(), img.end()};
  }
};

/// A memory_storage that keeps an image_tracker pointed at whichever storage is current.
class tracked_storage final : public storage {
 public:
  tracked_storage(std::unique_ptr<memory_storage> mem, image_tracker* tracker) noexcept
      : mem_(std::move(mem)), tracker_(tracker) {}

  /// A storage over a copy of `bytes`, registered as the tracker's current storage.
  static std::unique_ptr<tracked_storage> from_bytes(std::span<const std::byte> bytes,
                                                     bool writable, image_tracker& tracker) {
    std::unique_ptr<memory_storage> mem = memory_storage::from_bytes(bytes, writable);
    FUZZ_CHECK(mem != nullptr, "memory_storage::from_bytes failed");
    auto s = std::make_unique<tracked_storage>(std::move(mem), &tracker);
    tracker.current = s.get();
    return s;
  }

  std::span<const std::byte> image() const noexcept override { return mem_->image(); }
  std::uint64_t size() const noexcept override { return mem_->size(); }
  bool is_writable() const noexcept override { return mem_->is_writable(); }
  status append(std::span<const std::span<const std::byte>> parts) noexcept override {
    return mem_->append(parts);
  }
  status write_at(std::uint64_t offset, std::span<const std::byte> bytes) noexcept override {
    return mem_->write_at(offset, bytes);
  }
  status sync() noexcept override { return mem_->sync(); }
  status truncate(std::uint64_t new_size) noexcept override { return mem_->truncate(new_size); }
  status read_at(std::uint64_t offset, std::span<std::byte> out,
                 std::size_t& got) noexcept override {
    return mem_->read_at(offset, out, got);
  }
  result<std::uint64_t> reload_size() noexcept override { return mem_->reload_size(); }
  result<std::unique_ptr<storage>> create_replacement() noexcept override {
    result<std::unique_ptr<storage>> made = mem_->create_replacement();
    if (!made) return made.error();
    // memory_storage::create_replacement makes a memory_storage: take it over.
    auto* raw = static_cast<memory_storage*>(made->release());
    auto* wrapped = new (std::nothrow) tracked_storage(std::unique_ptr<memory_storage>(raw), tracker_);
    if (wrapped == nullptr) return errc::no_memory;
    return std::unique_ptr<storage>(wrapped);
  }
  status install_replacement(storage& replacement) noexcept override {
    auto& other = static_cast<tracked_storage&>(replacement);
    status st = mem_->install_replacement(*other.mem_);
    if (st.is_ok()) tracker_->current = &other;
    return st;
  }
  void discard() noexcept override { mem_->discard(); }

 private:
  std::unique_ptr<memory_storage> mem_;
  image_tracker* tracker_;
};

}  // namespace simdr::fuzz
