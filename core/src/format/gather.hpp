// gather.hpp - builds the gather list of one write: entry headers, keys, padding and small
// values are copied into one scratch buffer; large values are referenced where they are (the
// caller's memory, or the image itself for rename/compaction). Used by every commit and by
// compaction, so both lay out entries exactly as docs/format.md section 4 says.
#pragma once

#include <cstdint>
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

  void clear() noexcept {
    scratch_.clear();
    parts_.clear();
    run_start_ = 0;
  }

  /// Appends a put at file offset `pos` (a multiple of 8) whose layout was validated by
  /// format::layout_put (value at `voff`, end at `end`). Returns `end`.
  std::uint64_t put(std::uint64_t pos, std::span<const std::byte> key, const std::byte* value,
                    std::uint64_t value_size, std::uint64_t value_checksum, std::uint8_t flags,
                    std::uint64_t voff, std::uint64_t end) {
    const std::size_t at = head(key, voff - pos);
    format::encode_entry_header_before_key(format::kind_put, flags, key.size(), value_size,
                                           value_checksum, pos, scratch_.data() + at);
    if (value_size <= inline_value_limit) {
      scratch_.insert(scratch_.end(), value, value + value_size);
    } else {
      close_run();
      parts_.push_back({false, reinterpret_cast<std::uintptr_t>(value), value_size});
    }
    scratch_.resize(scratch_.size() + static_cast<std::size_t>(end - (voff + value_size)));
    return end;
  }

  /// Appends a tombstone at file offset `pos`. Returns its end.
  std::uint64_t tombstone(std::uint64_t pos, std::span<const std::byte> key, std::uint8_t flags) {
    const std::uint64_t end = format::tombstone_end(pos, key.size());
    const std::size_t at = head(key, end - pos);
    format::encode_entry_header_before_key(format::kind_tombstone, flags, key.size(), 0, 0, pos,
                                           scratch_.data() + at);
    return end;
  }

  /// The gather list, valid until the next call that modifies this object.
  std::span<const std::span<const std::byte>> parts() {
    close_run();
    iov_.clear();
    for (const part& p : parts_)
      iov_.emplace_back(p.in_scratch ? scratch_.data() + p.pos
                                     : reinterpret_cast<const std::byte*>(p.pos),
                        static_cast<std::size_t>(p.size));
    return iov_;
  }
  [[nodiscard]] std::size_t scratch_bytes() const noexcept { return scratch_.size(); }
  [[nodiscard]] std::size_t part_count() const noexcept { return parts_.size(); }

 private:
  struct part {
    bool in_scratch;
    std::uint64_t pos;  // scratch offset, or the address of an external value
    std::uint64_t size;
  };

  // Zeroed room for the 32-byte header, the key and the padding after it; returns its start.
  std::size_t head(std::span<const std::byte> key, std::uint64_t bytes) {
    const std::size_t at = scratch_.size();
    scratch_.resize(at + static_cast<std::size_t>(bytes));
    std::memcpy(scratch_.data() + at + format::entry_header_size, key.data(), key.size());
    return at;
  }
  void close_run() {
    if (scratch_.size() > run_start_)
      parts_.push_back({true, run_start_, scratch_.size() - run_start_});
    run_start_ = scratch_.size();
  }

  std::vector<std::byte> scratch_;
  std::vector<part> parts_;
  std::vector<std::span<const std::byte>> iov_;
  std::uint64_t run_start_ = 0;
};

}  // namespace simdr::detail
