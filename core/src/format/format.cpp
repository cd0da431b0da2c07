// format.cpp - encode and decode the v1 file header and entry headers (docs/format.md
// sections 3 and 4). Every check here guards against arbitrary bytes: nothing reads outside
// the span it is given and no length arithmetic can overflow.
#include "format/format.hpp"

#include "hash.hpp"

namespace simdr::detail::format {

void encode_header(const file_header& h, std::byte out[header_size]) noexcept {
  std::memset(out, 0, header_size);
  std::memcpy(out, magic, sizeof magic);
  store16(out + 8, h.major);
  store16(out + 10, h.minor);
  store32(out + 12, static_cast<std::uint32_t>(header_size));
  out[16] = std::byte{h.alignment_log2};
  out[17] = std::byte{h.hash_algorithm};
  out[18] = std::byte{h.checksum_algorithm};
  store64(out + 56, xxh3(out, 56));
}

status decode_header(std::span<const std::byte> bytes, file_header& out) noexcept {
  // Magic first: a file that is not ours must say so, even when it is short. An empty input
  // is not a store either.
  if (bytes.empty()) return errc::bad_magic;
  const std::size_t n = bytes.size() < sizeof magic ? bytes.size() : sizeof magic;
  if (std::memcmp(bytes.data(), magic, n) != 0) return errc::bad_magic;
  if (bytes.size() < header_size) return errc::corrupt;
  const std::byte* p = bytes.data();
  out.major = load16(p + 8);
  out.minor = load16(p + 10);
  if (out.major > format::major) return errc::unsupported_version;
  if (load64(p + 56) != xxh3(p, 56)) return errc::corrupt;
  if (out.major == 0 || load32(p + 12) != header_size) return errc::corrupt;
  for (std::size_t i = 19; i < 56; ++i)
    if (p[i] != std::byte{0}) return errc::corrupt;
  out.alignment_log2 = static_cast<std::uint8_t>(p[16]);
  out.hash_algorithm = static_cast<std::uint8_t>(p[17]);
  out.checksum_algorithm = static_cast<std::uint8_t>(p[18]);
  if (out.alignment_log2 < 3 || out.alignment_log2 > 16) return errc::corrupt;
  if (out.hash_algorithm != hash_xxh3_64 || out.checksum_algorithm != checksum_xxh3_64)
    return errc::unsupported_version;
  return errc::ok;
}

std::uint64_t tombstone_end(std::uint64_t offset, std::uint64_t key_size) noexcept {
  return align_up(offset + entry_header_size + key_size, 8);
}

std::uint64_t entry_header_checksum(const std::byte* header, std::uint64_t offset,
                                    std::size_t key_size) noexcept {
  return XXH3_64bits_withSeed(header + 8, entry_header_size - 8 + key_size, offset);
}

namespace {
void put_header_fields(std::uint8_t kind, std::uint8_t flags, std::size_t key_size,
                       std::uint64_t value_size, std::uint64_t value_checksum,
                       std::byte* out) noexcept {
  // Bytes 8..15 (kind, flags, key_len, reserved) as one store: the checksum reads them back
  // at once, and a load spanning several smaller stores stalls store forwarding.
  store64(out + 8, std::uint64_t{kind} | std::uint64_t{flags} << 8 |
                       std::uint64_t{static_cast<std::uint16_t>(key_size)} << 16);
  store64(out + 16, value_size);
  store64(out + 24, value_checksum);
}
}  // namespace

void encode_entry_header(std::uint8_t kind, std::uint8_t flags, std::span<const std::byte> key,
                         std::uint64_t value_size, std::uint64_t value_checksum,
                         std::uint64_t offset, std::byte* out) noexcept {
  put_header_fields(kind, flags, key.size(), value_size, value_checksum, out);
  // The checksum covers bytes 8..31 and the key, which directly follows in the file; hash the
  // two pieces as one stream so the key need not be copied next to the header first.
  // XXH3_64bits_reset_withSeed() compares the seed with the one already in the state to decide
  // whether to rebuild its secret, so a state on the stack must be initialised first
  // (xxhash.h: XXH3_INITSTATE). Found by tests/fuzz (a put_stream got a wrong checksum).
  XXH3_state_t st;
  XXH3_INITSTATE(&st);
  XXH3_64bits_reset_withSeed(&st, offset);
  XXH3_64bits_update(&st, out + 8, entry_header_size - 8);
  XXH3_64bits_update(&st, key.data(), key.size());
  store64(out, XXH3_64bits_digest(&st));
}

void encode_entry_header_before_key(std::uint8_t kind, std::uint8_t flags, std::size_t key_size,
                                    std::uint64_t value_size, std::uint64_t value_checksum,
                                    std::uint64_t offset, std::byte* out) noexcept {
  put_header_fields(kind, flags, key_size, value_size, value_checksum, out);
  store64(out, entry_header_checksum(out, offset, key_size));
}

decode_result decode_entry(std::span<const std::byte> image, std::uint64_t offset,
                           std::uint32_t alignment, entry& out) noexcept {
  const std::uint64_t size = image.size();
  if (offset > size) return decode_result::cut;
  return decode_entry_at(image.data() + offset, size - offset, offset, size, alignment, out);
}

decode_result decode_entry_at(const std::byte* p, std::uint64_t avail, std::uint64_t offset,
                              std::uint64_t file_size, std::uint32_t alignment,
                              entry& out) noexcept {
  const std::uint64_t size = file_size;
  if (avail < entry_header_size) return decode_result::cut;
  const auto kind = static_cast<std::uint8_t>(p[8]);
  const auto flags = static_cast<std::uint8_t>(p[9]);
  const std::uint16_t key_size = load16(p + 10);
  // Cheap field checks first: they reject almost all garbage before hashing.
  if (kind < kind_put || kind > kind_pending || (flags & ~flag_commit_end) != 0 ||
      key_size == 0 || load32(p + 12) != 0)
    return decode_result::invalid;
  if (avail - entry_header_size < key_size) return decode_result::cut;
  if (load64(p) != entry_header_checksum(p, offset, key_size)) {
    // A header whose checksum fails may also be one cut short by a torn write; either way it
    // is not an entry. Recovery (section 5) decides between torn tail and damage.
    return decode_result::invalid;
  }
  out.offset = offset;
  out.header_checksum = load64(p);
  out.kind = kind;
  out.flags = flags;
  out.key_size = key_size;
  out.value_size = load64(p + 16);
  out.value_checksum = load64(p + 24);
  if (kind == kind_pending) {
    if (flags != 0 || out.value_size != pending_value_size || out.value_checksum != 0)
      return decode_result::invalid;
    return decode_result::pending;
  }
  if (kind == kind_tombstone) {
    if (out.value_size != 0 || out.value_checksum != 0) return decode_result::invalid;
    out.value_offset = offset + entry_header_size + key_size;
    out.end = tombstone_end(offset, key_size);
    if (out.end > size) return decode_result::truncated;
    return decode_result::ok;
  }
  if (!layout_put(offset, key_size, out.value_size, alignment, out.value_offset, out.end))
    return decode_result::invalid;
  // Tail padding belongs to the entry: a committed file always ends on an 8-byte boundary.
  if (out.end > size) return decode_result::truncated;
  return decode_result::ok;
}

}  // namespace simdr::detail::format
