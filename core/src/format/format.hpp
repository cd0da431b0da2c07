// format.hpp - the file format v1 codec. The only code that knows byte offsets.
//
// Normative description: docs/format.md. Section numbers below refer to it.
// All integers are little-endian. A file is a 64-byte header (section 3) followed by entries
// (section 4), each starting on an 8-byte boundary; a value starts on the payload alignment.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "simdr/error.hpp"

namespace simdr::detail::format {

// ---- section 3: file header -----------------------------------------------------------------
inline constexpr std::size_t header_size = 64;
inline constexpr std::uint8_t magic[8] = {0x89, 'S', 'I', 'M', 'D', 'R', '\r', '\n'};
inline constexpr std::uint16_t major = 1;
inline constexpr std::uint16_t minor = 0;
inline constexpr std::uint8_t hash_xxh3_64 = 1;
inline constexpr std::uint8_t checksum_xxh3_64 = 1;
inline constexpr std::uint32_t min_alignment = 8;
inline constexpr std::uint32_t max_alignment = 65536;
/// Largest file a writer produces (section 8): the index keeps entry offsets / 8 in 44 bits.
inline constexpr std::uint64_t max_file_size = std::uint64_t{1} << 47;

struct file_header {
  std::uint16_t major = format::major;
  std::uint16_t minor = format::minor;
  std::uint8_t alignment_log2 = 6;
  std::uint8_t hash_algorithm = hash_xxh3_64;
  std::uint8_t checksum_algorithm = checksum_xxh3_64;

  [[nodiscard]] std::uint32_t alignment() const noexcept { return 1u << alignment_log2; }
};

/// Writes the 64 header bytes (checksum included) for `h`.
void encode_header(const file_header& h, std::byte out[header_size]) noexcept;

/// Validates and decodes the first bytes of a file. Errors, in the order they are checked:
/// bad_magic (empty, or the bytes present differ from the magic), corrupt (a magic prefix
/// shorter than 64 bytes), unsupported_version (major > 1), corrupt (header checksum, header
/// size, reserved bytes, alignment out of range), unsupported_version (unknown algorithm).
status decode_header(std::span<const std::byte> bytes, file_header& out) noexcept;

// ---- section 4: entries ---------------------------------------------------------------------
inline constexpr std::size_t entry_header_size = 32;
inline constexpr std::uint8_t kind_put = 1;
inline constexpr std::uint8_t kind_tombstone = 2;
/// A put whose value is still being streamed (put_stream). Always uncommitted: recovery treats
/// it and everything after it as the torn tail (section 5).
inline constexpr std::uint8_t kind_pending = 3;
inline constexpr std::uint8_t flag_commit_end = 0x01;
inline constexpr std::uint64_t pending_value_size = ~std::uint64_t{0};

/// A decoded entry header; offsets are absolute file offsets.
struct entry {
  std::uint64_t offset = 0;        ///< First byte of the entry header (multiple of 8).
  std::uint8_t kind = 0;
  std::uint8_t flags = 0;
  std::uint16_t key_size = 0;
  std::uint64_t value_size = 0;
  std::uint64_t value_checksum = 0;
  std::uint64_t header_checksum = 0;
  std::uint64_t value_offset = 0;  ///< Puts: first value byte (multiple of the alignment).
  std::uint64_t end = 0;           ///< First byte after the entry, padding included (multiple of 8).

  [[nodiscard]] bool is_commit_end() const noexcept { return (flags & flag_commit_end) != 0; }
  [[nodiscard]] std::uint64_t key_offset() const noexcept { return offset + entry_header_size; }
};

[[nodiscard]] constexpr std::uint64_t align_up(std::uint64_t x, std::uint64_t a) noexcept {
  return (x + a - 1) & ~(a - 1);
}

/// Where a put's value starts and where the entry ends, for an entry header at `offset`.
/// Returns false on arithmetic overflow (a corrupt length).
[[nodiscard]] inline bool layout_put(std::uint64_t offset, std::uint64_t key_size,
                                     std::uint64_t value_size, std::uint32_t alignment,
                                     std::uint64_t& value_offset, std::uint64_t& end) noexcept {
  // offset and key_size are small enough (offset <= max_file_size, key < 2^16); only
  // value_size can be anything. The entry must end within max_file_size.
  const std::uint64_t key_end = offset + entry_header_size + key_size;
  value_offset = align_up(key_end, alignment);
  if (value_offset > max_file_size || value_size > max_file_size - value_offset) return false;
  end = align_up(value_offset + value_size, 8);
  return true;
}

/// Bytes an entry occupies (header, key, padding, value, tail padding) at `offset`.
[[nodiscard]] std::uint64_t tombstone_end(std::uint64_t offset, std::uint64_t key_size) noexcept;

/// The header checksum of an entry whose header and key are contiguous at `header` and which
/// sits at file offset `offset`: XXH3-64 seeded with the offset, over bytes 8..31 and the key
/// (section 4.1). Binding it to the offset means bytes that are a valid entry elsewhere (inside
/// a value that holds another store, say) never pass as an entry here.
[[nodiscard]] std::uint64_t entry_header_checksum(const std::byte* header, std::uint64_t offset,
                                                  std::size_t key_size) noexcept;

/// Fills the 32 header bytes of an entry at file offset `offset` and computes its header
/// checksum over the header fields and `key`. `out` must have room for entry_header_size
/// bytes; the key is not copied.
void encode_entry_header(std::uint8_t kind, std::uint8_t flags, std::span<const std::byte> key,
                         std::uint64_t value_size, std::uint64_t value_checksum,
                         std::uint64_t offset, std::byte* out) noexcept;

/// The same, for a header whose key already follows it in memory (out + 32 holds the key's
/// `key_size` bytes): one-shot hashing, several times cheaper than streaming for small keys.
void encode_entry_header_before_key(std::uint8_t kind, std::uint8_t flags, std::size_t key_size,
                                    std::uint64_t value_size, std::uint64_t value_checksum,
                                    std::uint64_t offset, std::byte* out) noexcept;

/// Outcome of decoding one entry header.
enum class decode_result : std::uint8_t {
  ok,          ///< A valid entry that ends within the image.
  cut,         ///< The header or key is cut by the end of the image (nothing could be checked).
  truncated,   ///< A valid header (checksum verified) whose value or padding runs past the end.
  invalid,     ///< Bytes that are not a valid entry header (checksum or field check failed).
  pending,     ///< A valid kind_pending header: an unfinished put_stream.
};

/// Decodes and checks (header checksum included, value checksum not) the entry at `offset` of
/// `image`. Never reads outside `image`.
[[nodiscard]] decode_result decode_entry(std::span<const std::byte> image, std::uint64_t offset,
                                         std::uint32_t alignment, entry& out) noexcept;

/// The same, for an entry whose bytes are not in one image: `p` holds the bytes at file offset
/// `offset`, `avail` of them are readable, and the file is `file_size` bytes long. Requires
/// avail >= min(file_size - offset, entry_header_size + 65535), so that a header or key that
/// does not fit in `avail` is really cut by the end of the file. Reads only [p, p + avail).
[[nodiscard]] decode_result decode_entry_at(const std::byte* p, std::uint64_t avail,
                                            std::uint64_t offset, std::uint64_t file_size,
                                            std::uint32_t alignment, entry& out) noexcept;

/// Lightweight decode used on the read path of a trusted, already validated entry: no checks.
inline void decode_trusted(const std::byte* p, std::uint64_t offset, std::uint32_t alignment,
                           entry& out) noexcept;

// ---- little-endian helpers ------------------------------------------------------------------
inline std::uint64_t load64(const std::byte* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}
inline std::uint32_t load32(const std::byte* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}
inline std::uint16_t load16(const std::byte* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap16(v);
  return v;
}
inline void store64(std::byte* p, std::uint64_t v) noexcept {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
inline void store32(std::byte* p, std::uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void store16(std::byte* p, std::uint16_t v) noexcept {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}

inline void decode_trusted(const std::byte* p, std::uint64_t offset, std::uint32_t alignment,
                           entry& out) noexcept {
  out.offset = offset;
  out.header_checksum = load64(p);
  out.kind = static_cast<std::uint8_t>(p[8]);
  out.flags = static_cast<std::uint8_t>(p[9]);
  out.key_size = load16(p + 10);
  out.value_size = load64(p + 16);
  out.value_checksum = load64(p + 24);
  const std::uint64_t key_end = offset + entry_header_size + out.key_size;
  if (out.kind == kind_put) {
    out.value_offset = align_up(key_end, alignment);
    out.end = align_up(out.value_offset + out.value_size, 8);
  } else {
    out.value_offset = key_end;
    out.end = align_up(key_end, 8);
  }
}

}  // namespace simdr::detail::format
