// scan.hpp - walking the log and deciding where its committed part ends (docs/format.md
// section 5, "Recovery"). Used by open, refresh and verify.
//
// A commit is a run of entries whose last one carries flag_commit_end. Walking forward from
// the header, entries are collected until a commit end makes them visible; the walk stops at
// the end of the image, at a pending (streaming) entry, or at bytes that do not decode. What
// follows the last complete commit is the TAIL. The tail is torn-write debris (dropped and
// reported) unless valid commits follow the damage: then the damage is inside committed data
// and the file is reported corrupt, never truncated.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "format/format.hpp"
#include "simdr/error.hpp"

namespace simdr::detail {

struct scan_outcome {
  std::uint64_t committed_end = 0;  ///< End of the last complete commit.
  std::uint64_t entries = 0;        ///< Entries in complete commits.
  std::uint64_t commits = 0;
  std::uint64_t tail_bytes = 0;     ///< Bytes after committed_end (when no error).
  errc error = errc::ok;            ///< corrupt when damage precedes valid commits.
  std::uint64_t error_offset = 0;
};

/// After the walk stopped at `stop` (an undecodable position), decides whether the bytes after
/// `stop` hold more than the remains of one torn commit. Returns true when they hold two or more
/// valid commit ends or a valid pending entry, i.e. the damage is in the middle of committed
/// data.
[[nodiscard]] bool damage_precedes_commits(std::span<const std::byte> image, std::uint64_t stop,
                                           std::uint32_t alignment) noexcept;

/// Walks entries of `image` from `from` (an entry boundary at or after the header). For each
/// complete commit, calls `on_commit(std::span<const std::uint64_t> entry_offsets)` in file
/// order; `on_commit` returns false to abort the walk (then outcome.error is no_memory).
template <class OnCommit>
scan_outcome scan_log(std::span<const std::byte> image, std::uint64_t from,
                      std::uint32_t alignment, std::vector<std::uint64_t>& pending,
                      OnCommit&& on_commit) noexcept {
  scan_outcome out;
  out.committed_end = from;
  pending.clear();
  std::uint64_t pos = from;
  format::entry e;
  for (;;) {
    if (pos == image.size()) break;
    const auto r = format::decode_entry(image, pos, alignment, e);
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
    if (unverified && damage_precedes_commits(image, pos, alignment)) {
      out.error = errc::corrupt;
      out.error_offset = pos;
      return out;
    }
    break;  // truncated, pending (unfinished stream) or torn: the rest is the tail
  }
  pending.clear();
  out.tail_bytes = image.size() - out.committed_end;
  return out;
}

}  // namespace simdr::detail
