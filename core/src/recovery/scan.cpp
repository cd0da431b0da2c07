// scan.cpp - the resynchronisation rule of recovery (docs/format.md section 5.3).
//
// Threat model: a crashed process leaves a prefix of its writes (page cache), so the first
// undecodable bytes are the torn tail. A power loss under durability::commit can tear only the
// last, unacknowledged commit, in any order of pages. In both cases everything valid after the
// first bad position belongs to at most ONE commit. Two or more valid commit ends after it, or
// a pending (streaming) entry, which is only ever written at the committed end, can only come
// from damage inside committed data (bit rot, overwrites): that file is corrupt and recovery
// must not drop the commits that follow. Header checksums are seeded with the entry's offset,
// so entry-like bytes inside values (another store stored as a value) never count here.
#include "recovery/scan.hpp"

namespace simdr::detail {

bool damage_precedes_commits(std::span<const std::byte> image, std::uint64_t stop,
                             std::uint32_t alignment) noexcept {
  std::uint64_t commit_ends = 0;
  std::uint64_t pos = stop + 8;
  format::entry e;
  while (pos < image.size()) {
    const auto r = format::decode_entry(image, pos, alignment, e);
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

}  // namespace simdr::detail
