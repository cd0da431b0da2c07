// scan.hpp - walking the log and deciding where its committed part ends (docs/format.md
// section 5, "Recovery"). Used by open, refresh and verify.
//
// A commit is a run of entries whose last one carries flag_commit_end. Walking forward from
// the header, entries are collected until a commit end makes them visible; the walk stops at
// the end of the file, at a pending (streaming) entry, or at bytes that do not decode. What
// follows the last complete commit is the TAIL. The tail is torn-write debris (dropped and
// reported) unless valid commits follow the damage: then the damage is inside committed data
// and the file is reported corrupt, never truncated.
//
// Threat model: a crashed process leaves a prefix of its writes (page cache), so the first
// undecodable bytes are the torn tail. A power loss under durability::commit can tear only the
// last, unacknowledged commit, in any order of pages. In both cases everything valid after the
// first bad position belongs to at most ONE commit. Two or more valid commit ends after it, or
// a pending (streaming) entry, which is only ever written at the committed end, can only come
// from damage inside committed data (bit rot, overwrites): that file is corrupt and recovery
// must not drop the commits that follow. Header checksums are seeded with the entry's offset,
// so entry-like bytes inside values (another store stored as a value) never count here.
//
// The walk reads bytes through a LOG ACCESSOR, so the same code runs over a memory image
// (image_log) and over bytes fetched with pread into a private window (window_log): a read-only
// handle must never touch the uncommitted tail through the shared mapping, because the writer
// may truncate it at any moment and a mapped read past the end of a file raises SIGBUS.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "format/format.hpp"
#include "pod_vector.hpp"
#include "simdr/error.hpp"
#include "storage.hpp"

namespace simdr::detail {

/// Bytes of an in-memory image, addressed by file offset.
class image_log {
 public:
  explicit image_log(std::span<const std::byte> image) noexcept : image_(image) {}
  [[nodiscard]] std::uint64_t size() const noexcept { return image_.size(); }
  /// Pointer to the byte at `offset` (<= size()) and how many bytes are readable from it.
  [[nodiscard]] const std::byte* at(std::uint64_t offset, std::uint64_t& avail) noexcept {
    avail = image_.size() - offset;
    return image_.data() + offset;
  }

 private:
  std::span<const std::byte> image_;
};

/// Bytes fetched through storage::read_at into a private window. If the file shrinks while it
/// is read (a writer truncating its torn tail), the short read just ends the log there.
class window_log {
 public:
  static constexpr std::uint64_t window = std::uint64_t{1} << 20;  // > header + longest key
  window_log(storage& s, std::uint64_t file_size) noexcept : s_(s), size_(file_size) {}
  [[nodiscard]] bool ok() noexcept { return buf_.reserve(static_cast<std::size_t>(window)); }
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] const std::byte* at(std::uint64_t offset, std::uint64_t& avail) noexcept {
    const std::uint64_t need = std::min<std::uint64_t>(size_ - offset, format::entry_header_size + 65535);
    if (offset < start_ || offset + need > start_ + len_) {
      const std::uint64_t want = std::min<std::uint64_t>(size_ - offset, window);
      std::size_t got = 0;
      const status st =
          s_.read_at(offset, std::span<std::byte>(buf_.data(), static_cast<std::size_t>(want)), got);
      if (!st.is_ok() || got < want) size_ = offset + got;  // the file shrank: it ends here
      start_ = offset;
      len_ = got;
    }
    avail = start_ + len_ - offset;
    return buf_.data() + (offset - start_);
  }

 private:
  storage& s_;
  std::uint64_t size_;
  pod_vector<std::byte> buf_;
  std::uint64_t start_ = 0;
  std::uint64_t len_ = 0;
};

struct scan_outcome {
  std::uint64_t committed_end = 0;  ///< End of the last complete commit.
  std::uint64_t entries = 0;        ///< Entries in complete commits.
  std::uint64_t commits = 0;
  std::uint64_t tail_bytes = 0;     ///< Bytes after committed_end (when no error).
  errc error = errc::ok;            ///< corrupt when damage precedes valid commits.
  std::uint64_t error_offset = 0;
};

template <class Log>
format::decode_result decode_at(Log& log, std::uint64_t pos, std::uint32_t alignment,
                                format::entry& e) noexcept {
  if (pos > log.size()) return format::decode_result::cut;
  std::uint64_t avail = 0;
  const std::byte* p = log.at(pos, avail);
  return format::decode_entry_at(p, avail, pos, log.size(), alignment, e);
}

/// After the walk stopped at `stop` (an undecodable position), decides whether the bytes after
/// `stop` hold more than the remains of one torn commit. Returns true when they hold two or more
/// valid commit ends or a valid pending entry, i.e. the damage is in the middle of committed
/// data.
template <class Log>
[[nodiscard]] bool damage_precedes_commits(Log& log, std::uint64_t stop,
                                           std::uint32_t alignment) noexcept {
  std::uint64_t commit_ends = 0;
  std::uint64_t pos = stop + 8;
  format::entry e;
  while (pos < log.size()) {
    const auto r = decode_at(log, pos, alignment, e);
    if (r == format::decode_result::ok) {
      if (e.is_commit_end() && ++commit_ends >= 2) return true;
      pos = e.end;
      continue;
    }
    // A stream starts at the committed end, so a pending entry that verifies at its own
    // offset proves the bytes before it were committed: the damage is inside committed data.
    if (r == format::decode_result::pending) return true;
    pos += 8;  // entries start on 8-byte boundaries: try the next candidate
  }
  return false;
}

/// Walks entries from `from` (an entry boundary at or after the header). For each complete
/// commit, calls `on_commit(std::span<const std::uint64_t> entry_offsets)` in file order;
/// `on_commit` returns false to abort the walk (then outcome.error is no_memory).
template <class Log, class OnCommit>
scan_outcome scan_log(Log& log, std::uint64_t from, std::uint32_t alignment,
                      std::vector<std::uint64_t>& pending, OnCommit&& on_commit) noexcept {
  scan_outcome out;
  out.committed_end = from;
  pending.clear();
  std::uint64_t pos = from;
  format::entry e;
  for (;;) {
    if (pos == log.size()) break;
    const auto r = decode_at(log, pos, alignment, e);
    if (r == format::decode_result::ok) {
      pending.push_back(pos);
      pos = e.end;
      if (e.is_commit_end()) {
        if (!on_commit(std::span<const std::uint64_t>(pending))) {
          out.error = errc::no_memory;
          return out;
        }
        out.entries += pending.size();
        out.commits += 1;
        out.committed_end = pos;
        pending.clear();
      }
      continue;
    }
    // A verified header whose value is cut (truncated) or an unfinished stream (pending) can
    // only be the tail. Bytes that do not verify may be a torn tail or damage: look past them.
    const bool unverified =
        r == format::decode_result::invalid || r == format::decode_result::cut;
    if (unverified && damage_precedes_commits(log, pos, alignment)) {
      out.error = errc::corrupt;
      out.error_offset = pos;
      return out;
    }
    break;  // the rest is the tail
  }
  pending.clear();
  out.tail_bytes = log.size() - out.committed_end;
  return out;
}

/// Convenience for an in-memory image.
template <class OnCommit>
scan_outcome scan_log(std::span<const std::byte> image, std::uint64_t from,
                      std::uint32_t alignment, std::vector<std::uint64_t>& pending,
                      OnCommit&& on_commit) noexcept {
  image_log log(image);
  return scan_log(log, from, alignment, pending, on_commit);
}

inline bool damage_precedes_commits(std::span<const std::byte> image, std::uint64_t stop,
                                    std::uint32_t alignment) noexcept {
  image_log log(image);
  return damage_precedes_commits(log, stop, alignment);
}

}  // namespace simdr::detail
