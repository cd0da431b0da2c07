// gather.hpp - builds the gather list of one write: entry headers, keys, padding and small
// values are copied into one scratch buffer; large values are referenced where they are (the
// caller's memory, or the image itself for rename/compaction). Used by every commit and by
// compaction, so both lay out entries exactly as docs/format.md section 4 says.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "format/format.hpp"

namespace simdr::detail {

class gather {
 public:
  /// Values up to this size are copied next to their header so that a batch of small entries
  /// becomes one contiguous write.
  static constexpr std::uint64_t inline_value_limit = 1024;

  gather() = default;
  gather(const gather&) = delete;
  gather& operator=(const gather&) = delete;
  ~gather() { std::free(scratch_); }

  void clear() noexcept {
    size_ = 0;
    parts_.clear();
    run_start_ = 0;
  }

  /// Appends a put at file offset `pos` (a multiple of 8) whose layout was validated by
  /// format::layout_put (value at `voff`, end at `end`). Returns `end`, or 0 when the scratch
  /// buffer cannot grow (no memory; nothing was appended).
  std::uint64_t put(std::uint64_t pos, std::span<const std::byte> key, const std::byte* value,
                    std::uint64_t value_size, std::uint64_t value_checksum, std::uint8_t flags,
                    std::uint64_t voff, std::uint64_t end) {
    const bool inline_value = value_size <= inline_value_limit;
    // One zeroed run for header, key, padding and (inline) the value with its tail padding.
    const auto bytes = static_cast<std::size_t>(inline_value ? end - pos : voff - pos);
    std::byte* p = room(bytes);
    if (p == nullptr) return 0;
    std::memset(p, 0, bytes);
    std::memcpy(p + format::entry_header_size, key.data(), key.size());
    format::encode_entry_header_before_key(format::kind_put, flags, key.size(), value_size,
                                           value_checksum, pos, p);
    if (inline_value) {
      if (value_size != 0) std::memcpy(p + (voff - pos), value, static_cast<std::size_t>(value_size));
    } else {
      const auto tail = static_cast<std::size_t>(end - (voff + value_size));
      if (cap_ - size_ < tail && !grow(tail)) {
        size_ -= bytes;
        return 0;
      }
      close_run();
      parts_.push_back({false, reinterpret_cast<std::uintptr_t>(value), value_size});
      std::memset(room(tail), 0, tail);
    }
    return end;
  }

  /// Appends a tombstone at file offset `pos`. Returns its end, or 0 (no memory) as put().
  std::uint64_t tombstone(std::uint64_t pos, std::span<const std::byte> key, std::uint8_t flags) {
    const std::uint64_t end = format::tombstone_end(pos, key.size());
    const auto bytes = static_cast<std::size_t>(end - pos);
    std::byte* p = room(bytes);
    if (p == nullptr) return 0;
    std::memset(p, 0, bytes);
    std::memcpy(p + format::entry_header_size, key.data(), key.size());
    format::encode_entry_header_before_key(format::kind_tombstone, flags, key.size(), 0, 0, pos, p);
    return end;
  }

  /// The gather list, valid until the next call that modifies this object.
  std::span<const std::span<const std::byte>> parts() {
    close_run();
    iov_.clear();
    for (const part& p : parts_)
      iov_.emplace_back(p.in_scratch ? scratch_ + p.pos : reinterpret_cast<const std::byte*>(p.pos),
                        static_cast<std::size_t>(p.size));
    return iov_;
  }
  [[nodiscard]] std::size_t scratch_bytes() const noexcept { return size_; }
  [[nodiscard]] std::size_t part_count() const noexcept { return parts_.size(); }

 private:
  struct part {
    bool in_scratch;
    std::uint64_t pos;  // scratch offset, or the address of an external value
    std::uint64_t size;
  };

  // `bytes` of uninitialised room at the end of the scratch buffer, or nullptr when it cannot
  // grow. Parts refer to the buffer by offset, so it may move as it grows.
  std::byte* room(std::size_t bytes) noexcept {
    if (bytes > cap_ - size_ && !grow(bytes)) return nullptr;
    std::byte* p = scratch_ + size_;
    size_ += bytes;
    return p;
  }
  bool grow(std::size_t bytes) noexcept {
    std::size_t cap = cap_ < 4096 ? 4096 : cap_;
    while (cap - size_ < bytes) {
      if (cap > SIZE_MAX / 2) return false;
      cap *= 2;
    }
    void* p = std::realloc(scratch_, cap);
    if (p == nullptr) return false;
    scratch_ = static_cast<std::byte*>(p);
    cap_ = cap;
    return true;
  }
  void close_run() {
    if (size_ > run_start_) parts_.push_back({true, run_start_, size_ - run_start_});
    run_start_ = size_;
  }

  std::byte* scratch_ = nullptr;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
  std::vector<part> parts_;
  std::vector<std::span<const std::byte>> iov_;
  std::uint64_t run_start_ = 0;
};

}  // namespace simdr::detail
