// inspect_dump.hpp - a deterministic, line-oriented dump of a store file, read straight from
// its bytes with the format codec (core/src/format/format.hpp), never through the store API:
// it shows a torn tail, a damaged entry and everything after it, exactly as they are on disk.
//
// Used by `simdr-inspect dump` and by the golden-file tests (tests/golden/good/*.txt hold its
// output), so the output is part of the golden contract: byte-stable across runs, machines and
// compilers (no pointers, no locale, no floating point, no file names). Change it only
// together with every tests/golden/good/*.txt (see tests/golden/README.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace simdr::tools {

/// Outcome of the log walk a dump performs (the same walk open() performs, docs/format.md
/// section 5), so that callers can compare it with what the library reports.
enum class dump_verdict : std::uint8_t {
  clean,      ///< The log ends exactly at the end of the file.
  tail,       ///< Bytes follow the last complete commit: a torn tail that open drops.
  corrupt,    ///< Damage followed by two or more commit ends: open fails with corrupt.
  bad_header, ///< The file header does not decode (bad_magic, corrupt, unsupported_version).
};

struct dump_stats {
  dump_verdict verdict = dump_verdict::clean;
  std::uint64_t file_size = 0;
  std::uint64_t committed_end = 0; ///< End of the last complete commit (0: not walked).
  std::uint64_t tail_bytes = 0;    ///< file_size - committed_end (0: not walked).
  std::uint64_t entries = 0;       ///< Entries in complete commits.
  std::uint64_t puts = 0;
  std::uint64_t tombstones = 0;
  std::uint64_t commits = 0;
  std::uint64_t live_keys = 0;     ///< Keys with a value after replaying the complete commits.
  std::uint64_t bad_values = 0;    ///< Committed puts whose value checksum does not verify.
  std::uint64_t bad_padding = 0;   ///< Committed entries whose padding is not zero.
  std::uint64_t damage_offset = 0; ///< verdict corrupt: where the walk stopped.
};

/// Appends the dump of `image` (all bytes of a file) to `out` and returns what the walk found.
/// Never reads outside `image`, whatever its bytes.
dump_stats dump(std::span<const std::byte> image, std::string& out);

/// A key as a C-style string literal: printable ASCII as is except `\` and `"` (escaped),
/// every other byte as \xHH (lower-case hex). Keys longer than `limit` bytes are cut after
/// `limit` bytes and followed by `...(N bytes)`, N being the full length.
std::string escape_key(std::span<const std::byte> key, std::size_t limit = 64);

/// Lower-case hex of `bytes`.
std::string hex(std::span<const std::byte> bytes);

/// `v` as 16 lower-case hex digits.
std::string hex64(std::uint64_t v);

} // namespace simdr::tools
