// simdr/options.hpp - options and reports: plain aggregates, meant for designated initializers.
//
//   auto db = simdr::store::open("cache.simdr", {.create = true,
//                                                .durability = simdr::durability::commit});
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "simdr/error.hpp"

namespace simdr {

/// How far a commit has travelled when put/put_batch/erase/... return. See docs/format.md
/// section 6 ("Durability") for the exact promises.
enum class durability : std::uint8_t {
  /// The commit is handed to the operating system (write(2) returned) before the call returns.
  /// It survives a crash of the process, not a crash of the machine or a power loss; call
  /// sync() for a durability barrier.
  none = 0,
  /// The commit is on stable storage (fdatasync(2) returned) before the call returns, and other
  /// threads see it only after that. It survives power loss.
  commit = 1,
};

/// Options of store::open. All fields have safe defaults.
struct open_options {
  /// Create the file (with a fresh header) when it does not exist or is empty (0 bytes).
  bool create = false;
  /// Open without writing: no lock is taken, nothing is ever modified (a torn tail is ignored,
  /// not truncated), and any number of read-only handles may coexist with one writer.
  bool read_only = false;
  /// Durability of each commit; see `durability`.
  simdr::durability durability = simdr::durability::none;
  /// Payload alignment of a new file: a power of two from 8 to 65536. Ignored for existing
  /// files, whose alignment is read from the header.
  std::uint32_t alignment = 64;
  /// Verify each value's checksum (and its entry header) on every get(); a mismatch returns
  /// errc::checksum_mismatch. Costs one XXH3 pass over the value per read.
  bool verify_checksums = false;
};

/// What open() found and did. Recovery is never silent: when a torn tail was dropped,
/// `tail_dropped` is true and the byte count is reported.
struct open_report {
  std::uint64_t file_size_before = 0;   ///< Bytes in the file when it was opened.
  std::uint64_t committed_size = 0;     ///< Bytes of complete commits (header included).
  std::uint64_t entries = 0;            ///< Entries (puts and tombstones) in complete commits.
  std::uint64_t commits = 0;            ///< Complete commits found.
  bool created = false;                 ///< The file was created (or was empty) and got a header.
  bool tail_dropped = false;            ///< Bytes after the last complete commit were found.
  std::uint64_t tail_bytes = 0;         ///< How many (truncated in read-write mode, ignored read-only).
  bool tail_truncated = false;          ///< The tail was removed from the file (read-write only).
};

/// One problem found by verify().
struct verify_issue {
  std::uint64_t offset = 0;  ///< File offset of the entry (or region) at fault.
  errc code = errc::ok;      ///< corrupt or checksum_mismatch.
};

/// The result of verify(): counts of what was checked and every problem found.
struct verify_report {
  std::uint64_t entries = 0;        ///< Entries whose headers parsed.
  std::uint64_t puts = 0;
  std::uint64_t tombstones = 0;
  std::uint64_t value_bytes = 0;    ///< Bytes of values whose checksums were computed.
  std::uint64_t committed_size = 0; ///< Bytes covered by the check.
  std::vector<verify_issue> issues; ///< Empty when the store is intact.
  [[nodiscard]] bool is_ok() const noexcept { return issues.empty(); }
};

/// The result of compact().
struct compact_report {
  std::uint64_t size_before = 0;
  std::uint64_t size_after = 0;
  std::uint64_t entries_kept = 0;
};

/// The result of refresh().
struct refresh_report {
  std::uint64_t new_entries = 0;  ///< Entries that became visible.
  bool replaced = false;          ///< The file was replaced (compacted by another process).
};

/// A snapshot of store statistics (info()).
struct store_info {
  std::uint16_t format_major = 0;
  std::uint16_t format_minor = 0;
  std::uint32_t alignment = 0;
  std::uint64_t live_keys = 0;        ///< Keys currently readable (same as size()).
  std::uint64_t entries = 0;          ///< All entries in the file: puts and tombstones.
  std::uint64_t tombstones = 0;
  std::uint64_t file_size = 0;          ///< Committed bytes (a read-only handle ignores a tail).
  std::uint64_t reclaimable_bytes = 0;  ///< Bytes compact() would free (approximate).
  std::uint64_t index_bytes = 0;        ///< Memory held by the in-memory index.
  bool read_only = false;
  /// The active SIMD kernel set, as kernels_name() reports it (simdr/kernels.hpp).
  std::string_view kernels;
};

}  // namespace simdr
