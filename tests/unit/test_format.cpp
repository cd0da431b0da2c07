// test_format.cpp - golden vectors and adversarial inputs for the format v1 codec
// (core/src/format/format.hpp, docs/format.md sections 3-5).
//
// Every hard-coded value below was computed independently of this codebase: hashes with
// `xxhsum -H3` (xxHash 0.8.1), header and entry bytes by a script packing the fields of
// docs/format.md and hashing them with xxhsum. If one of these tests fails, the bytes this
// library writes have changed: that is a format change (docs/format.md section 2), not a test
// to update.
#include "format/format.hpp"
#include "hash.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>
#include <memory>

using namespace simdr;
namespace fmt = simdr::detail::format;
using simdr::detail::xxh3;
using simdr::test::as_bytes;

namespace {

/// A heap buffer of exactly `n` bytes (no slack capacity), so AddressSanitizer reports any read
/// past its end.
struct exact_buffer {
  explicit exact_buffer(std::size_t n) : size(n), data(new std::byte[n == 0 ? 1 : n]) {}
  exact_buffer(std::span<const std::byte> from) : exact_buffer(from.size()) {
    if (!from.empty()) std::memcpy(data.get(), from.data(), from.size());
  }
  [[nodiscard]] std::span<const std::byte> span() const { return {data.get(), size}; }
  std::size_t size;
  std::unique_ptr<std::byte[]> data;
};

/// Appends a complete put entry at the end of `image` (whose size must be a multiple of 8).
std::uint64_t append_put(std::vector<std::byte>& image, std::string_view key,
                         std::string_view value, std::uint8_t flags, std::uint32_t alignment) {
  const std::uint64_t at = image.size();
  std::uint64_t voff = 0, end = 0;
  REQUIRE(fmt::layout_put(at, key.size(), value.size(), alignment, voff, end));
  image.resize(static_cast<std::size_t>(end), std::byte{0});
  std::memcpy(image.data() + at + fmt::entry_header_size, key.data(), key.size());
  std::memcpy(image.data() + voff, value.data(), value.size());
  fmt::encode_entry_header(fmt::kind_put, flags, as_bytes(key), value.size(),
                           xxh3(value.data(), value.size()), at, image.data() + at);
  return at;
}

std::uint64_t append_tombstone(std::vector<std::byte>& image, std::string_view key,
                               std::uint8_t flags) {
  const std::uint64_t at = image.size();
  image.resize(static_cast<std::size_t>(fmt::tombstone_end(at, key.size())), std::byte{0});
  std::memcpy(image.data() + at + fmt::entry_header_size, key.data(), key.size());
  fmt::encode_entry_header(fmt::kind_tombstone, flags, as_bytes(key), 0, 0, at, image.data() + at);
  return at;
}

std::uint64_t append_pending(std::vector<std::byte>& image, std::string_view key) {
  const std::uint64_t at = image.size();
  image.resize(static_cast<std::size_t>(fmt::tombstone_end(at, key.size())), std::byte{0});
  std::memcpy(image.data() + at + fmt::entry_header_size, key.data(), key.size());
  fmt::encode_entry_header(fmt::kind_pending, 0, as_bytes(key), fmt::pending_value_size, 0, at,
                           image.data() + at);
  return at;
}

/// Rewrites the header checksum of the entry at `p` (file offset `offset`) to match its
/// (possibly edited) fields.
void reseal(std::byte* p, std::uint64_t offset) {
  fmt::store64(p, fmt::entry_header_checksum(p, offset, fmt::load16(p + 10)));
}

std::vector<std::byte> image_with_header() {
  return std::vector<std::byte>(fmt::header_size);
}

/// What must hold for every entry decode_entry accepts.
void check_invariants(std::span<const std::byte> image, const fmt::entry& e, fmt::decode_result r,
                      std::uint64_t offset, std::uint32_t alignment) {
  INFO("offset " << offset << " kind " << int(e.kind) << " key " << e.key_size << " value "
                 << e.value_size << " result " << int(r));
  REQUIRE(e.offset == offset);
  CHECK(e.key_size >= 1);
  CHECK((e.flags & ~fmt::flag_commit_end) == 0);
  CHECK(e.offset + fmt::entry_header_size + e.key_size <= image.size());
  if (r == fmt::decode_result::pending) {
    CHECK(e.kind == fmt::kind_pending);
    CHECK(e.flags == 0);
    CHECK(e.value_size == fmt::pending_value_size);
    return;
  }
  CHECK((e.kind == fmt::kind_put || e.kind == fmt::kind_tombstone));
  CHECK(e.end % 8 == 0);
  CHECK(e.end >= e.offset + fmt::entry_header_size + e.key_size);
  if (r == fmt::decode_result::ok) CHECK(e.end <= image.size());
  if (r == fmt::decode_result::truncated) CHECK(e.end > image.size());
  if (e.kind == fmt::kind_put) {
    CHECK(e.value_offset % alignment == 0);
    CHECK(e.value_offset >= e.offset + fmt::entry_header_size + e.key_size);
    CHECK(e.value_offset - (e.offset + fmt::entry_header_size + e.key_size) < alignment);
    CHECK(e.value_offset + e.value_size <= e.end);
    CHECK(e.end - (e.value_offset + e.value_size) < 8);
  } else {
    CHECK(e.value_size == 0);
    CHECK(e.value_checksum == 0);
  }
  if (r == fmt::decode_result::ok) {
    // The fast path of reads agrees with the checked decode.
    fmt::entry t;
    fmt::decode_trusted(image.data() + offset, offset, alignment, t);
    CHECK(t.kind == e.kind);
    CHECK(t.flags == e.flags);
    CHECK(t.key_size == e.key_size);
    CHECK(t.value_size == e.value_size);
    CHECK(t.value_checksum == e.value_checksum);
    CHECK(t.header_checksum == e.header_checksum);
    CHECK(t.value_offset == e.value_offset);
    CHECK(t.end == e.end);
  }
}

} // namespace

// ---- XXH3-64, seed 0 (docs/format.md section 1) -------------------------------------------

TEST_CASE("format: XXH3_64 golden vectors", "[format]") {
  std::vector<std::byte> b16(16), b1000(1000);
  for (std::size_t i = 0; i < 16; ++i)
    b16[i] = static_cast<std::byte>(i);
  for (std::size_t i = 0; i < 1000; ++i)
    b1000[i] = static_cast<std::byte>(i % 251);
  // xxhsum -H3 (xxHash 0.8.1)
  CHECK(xxh3("", 0) == 0x2d06800538d394c2ull);
  CHECK(xxh3("a", 1) == 0xe6c632b61e964e1full);
  CHECK(xxh3("abc", 3) == 0x78af5f94892f3950ull);
  CHECK(xxh3(b16.data(), b16.size()) == 0x8355e3a6f61770dbull);
  CHECK(xxh3(b1000.data(), b1000.size()) == 0x33ef703fb2b20ed1ull);
  CHECK(xxh3("one", 3) == 0x911faba7321fe1a0ull);

  // The streaming form (put_stream, read_stream) gives the same digest in any pieces.
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{999}}) {
    simdr::detail::xxh3_stream s;
    for (std::size_t at = 0; at < b1000.size(); at += piece)
      s.update(b1000.data() + at, std::min(piece, b1000.size() - at));
    CHECK(s.digest() == 0x33ef703fb2b20ed1ull);
  }
  CHECK(simdr::detail::xxh3_stream{}.digest() == 0x2d06800538d394c2ull);
}

// ---- section 3: file header -----------------------------------------------------------------

namespace {
// The default header (version 1.0, alignment 64, XXH3 ids), checksum by xxhsum -H3.
constexpr std::uint8_t default_header[64] = {
    0x89, 0x53, 0x49, 0x4d, 0x44, 0x52, 0x0d, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
    0x06, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa9, 0xf2, 0xf1, 0xf6, 0x7b, 0x5e, 0xc5, 0x08};

std::vector<std::byte> default_header_bytes() {
  std::vector<std::byte> v(64);
  std::memcpy(v.data(), default_header, 64);
  return v;
}

/// `v` with bytes 0..55 edited by `edit` and a correct checksum.
template <class Edit> std::vector<std::byte> edited_header(Edit edit) {
  std::vector<std::byte> v = default_header_bytes();
  edit(v.data());
  fmt::store64(v.data() + 56, xxh3(v.data(), 56));
  return v;
}
} // namespace

TEST_CASE("format: encode_header of the default header byte for byte", "[format]") {
  std::byte out[fmt::header_size];
  std::memset(out, 0xee, sizeof out);
  fmt::encode_header(fmt::file_header{}, out);
  for (std::size_t i = 0; i < 64; ++i) {
    INFO("byte " << i);
    CHECK(static_cast<unsigned>(out[i]) == default_header[i]);
  }
  fmt::file_header h;
  h.alignment_log2 = 0;
  REQUIRE(fmt::decode_header(std::span<const std::byte>(out, 64), h) == errc::ok);
  CHECK(h.major == 1);
  CHECK(h.minor == 0);
  CHECK(h.alignment_log2 == 6);
  CHECK(h.alignment() == 64);
  CHECK(h.hash_algorithm == 1);
  CHECK(h.checksum_algorithm == 1);

  // Other alignments change byte 16 and the checksum only.
  for (std::uint8_t log2 = 3; log2 <= 16; ++log2) {
    fmt::file_header a;
    a.alignment_log2 = log2;
    fmt::encode_header(a, out);
    CHECK(std::memcmp(out, default_header, 16) == 0);
    CHECK(static_cast<unsigned>(out[16]) == log2);
    CHECK(std::memcmp(out + 17, default_header + 17, 39) == 0);
    CHECK(fmt::load64(out + 56) == xxh3(out, 56));
    fmt::file_header back;
    REQUIRE(fmt::decode_header(std::span<const std::byte>(out, 64), back) == errc::ok);
    CHECK(back.alignment() == (1u << log2));
  }
}

TEST_CASE("format: decode_header checks in the documented order", "[format]") {
  fmt::file_header h;
  auto decode = [&](std::span<const std::byte> b) { return fmt::decode_header(b, h).code; };
  const std::vector<std::byte> good = default_header_bytes();
  CHECK(decode(good) == errc::ok);

  // Not ours: bad_magic, even when short.
  CHECK(decode(as_bytes("abc")) == errc::bad_magic);
  CHECK(decode(as_bytes(
            "plain text that is long enough to be a header, or even longer than 64 bytes")) ==
        errc::bad_magic);
  std::vector<std::byte> png = good;
  png[1] = std::byte{'P'};
  CHECK(decode(png) == errc::bad_magic);
  // Nothing at all is not a store.
  CHECK(decode(std::span<const std::byte>(good.data(), std::size_t{0})) == errc::bad_magic);
  // A prefix of the magic, or the magic alone: ours, but cut.
  for (std::size_t n : {std::size_t{1}, std::size_t{5}, std::size_t{8},
                        std::size_t{40}, std::size_t{63}}) {
    INFO(n << " bytes");
    CHECK(decode(std::span<const std::byte>(good.data(), n)) == errc::corrupt);
  }
  // Major version first: a newer file says so even if the rest is unreadable to us.
  CHECK(decode(edited_header([](std::byte* p) { fmt::store16(p + 8, 2); })) ==
        errc::unsupported_version);
  std::vector<std::byte> major2_bad_sum = good;
  fmt::store16(major2_bad_sum.data() + 8, 2);
  CHECK(decode(major2_bad_sum) == errc::unsupported_version);
  // Then the checksum and structural fields: corrupt.
  for (std::size_t i = 0; i < 64; ++i) {
    if (i < 8) continue; // magic bytes: bad_magic
    std::vector<std::byte> flipped = good;
    flipped[i] ^= std::byte{0x01};
    INFO("byte " << i << " flipped");
    if (i == 8) // major 1 -> 0 ... still fails
      CHECK(decode(flipped) == errc::corrupt);
    else if (i == 9) // major 1 -> 257
      CHECK(decode(flipped) == errc::unsupported_version);
    else
      CHECK(decode(flipped) == errc::corrupt);
  }
  CHECK(decode(edited_header([](std::byte* p) { fmt::store16(p + 8, 0); })) == errc::corrupt);
  CHECK(decode(edited_header([](std::byte* p) { fmt::store32(p + 12, 128); })) == errc::corrupt);
  CHECK(decode(edited_header([](std::byte* p) { p[55] = std::byte{1}; })) == errc::corrupt);
  CHECK(decode(edited_header([](std::byte* p) { p[19] = std::byte{1}; })) == errc::corrupt);
  CHECK(decode(edited_header([](std::byte* p) { p[16] = std::byte{2}; })) == errc::corrupt);
  CHECK(decode(edited_header([](std::byte* p) { p[16] = std::byte{17}; })) == errc::corrupt);
  CHECK(decode(edited_header([](std::byte* p) { p[16] = std::byte{3}; })) == errc::ok);
  CHECK(decode(edited_header([](std::byte* p) { p[16] = std::byte{16}; })) == errc::ok);
  // Unknown algorithm ids: unsupported_version.
  CHECK(decode(edited_header([](std::byte* p) { p[17] = std::byte{2}; })) ==
        errc::unsupported_version);
  CHECK(decode(edited_header([](std::byte* p) { p[18] = std::byte{0}; })) ==
        errc::unsupported_version);
  // A newer minor version decodes (open refuses it read-write, docs/format.md section 2).
  CHECK(decode(edited_header([](std::byte* p) { fmt::store16(p + 10, 1); })) == errc::ok);
  CHECK(h.minor == 1);
  // Bytes past the header are not its business.
  std::vector<std::byte> longer = good;
  longer.resize(200, std::byte{0xab});
  CHECK(decode(longer) == errc::ok);
}

// BUG (core/src/format/format.cpp, decode_header): given an empty span whose data() is null,
// it calls memcmp(nullptr, magic, 0), which is undefined behaviour; UBSan stops with "null
// pointer passed as argument 1, which is declared to never be null" (format.cpp:25). Only a
// sanitized build shows it (it passes otherwise). open() never gets there (it handles a 0-byte
// file first), but any other caller of the codec with an empty image does (an in-memory image
// of 0 bytes has a null data pointer). Fix: test bytes.empty() before the memcmp.
TEST_CASE("format: decode_header of an empty null span is defined", "[format]") {
  fmt::file_header h;
  const errc c = fmt::decode_header(std::span<const std::byte>{}, h).code;
  CHECK((c == errc::bad_magic || c == errc::corrupt));
}

// ---- section 4: entry headers -----------------------------------------------------------------

namespace {
// Entries at file offset 64: the header checksum is XXH3-64 seeded with 64 over bytes 8..31
// and the key (unseeded, xxhsum -H3 gives 0x0e32a56f59dc4a09 for the first one).
// put "alpha" = "one", commit_end.
constexpr std::uint8_t put_alpha_one[32] = {
    0x6c, 0x5c, 0x25, 0x58, 0x2a, 0xa5, 0x46, 0xe7, 0x01, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0xe1, 0x1f, 0x32, 0xa7, 0xab, 0x1f, 0x91};
// tombstone "beta", commit_end.
constexpr std::uint8_t tombstone_beta[32] = {
    0x22, 0x2d, 0x72, 0x6d, 0x2f, 0x2e, 0x20, 0xeb, 0x02, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
// pending "streamed" (put_stream in progress).
constexpr std::uint8_t pending_streamed[32] = {
    0x21, 0xd5, 0x5e, 0xa7, 0x23, 0x8b, 0xcc, 0x58, 0x03, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

void check_bytes(const std::byte* got, const std::uint8_t (&want)[32]) {
  for (std::size_t i = 0; i < 32; ++i) {
    INFO("byte " << i);
    CHECK(static_cast<unsigned>(got[i]) == want[i]);
  }
}
} // namespace

TEST_CASE("format: encode_entry_header of a put a tombstone and a pending entry", "[format]") {
  std::byte out[fmt::entry_header_size];
  std::memset(out, 0xee, sizeof out);
  fmt::encode_entry_header(fmt::kind_put, fmt::flag_commit_end, as_bytes("alpha"), 3,
                           xxh3("one", 3), 64, out);
  check_bytes(out, put_alpha_one);
  std::memset(out, 0xee, sizeof out);
  fmt::encode_entry_header(fmt::kind_tombstone, fmt::flag_commit_end, as_bytes("beta"), 0, 0, 64,
                           out);
  check_bytes(out, tombstone_beta);
  std::memset(out, 0xee, sizeof out);
  fmt::encode_entry_header(fmt::kind_pending, 0, as_bytes("streamed"), fmt::pending_value_size, 0,
                           64, out);
  check_bytes(out, pending_streamed);

  // The split hash (header fields, then the key) equals one seeded hash of the contiguous
  // bytes, and the seed is the entry's offset: the same bytes elsewhere do not verify.
  std::vector<std::byte> image = image_with_header();
  const std::uint64_t at = append_put(image, "alpha", "one", fmt::flag_commit_end, 64);
  CHECK(fmt::load64(image.data() + at) ==
        XXH3_64bits_withSeed(image.data() + at + 8, fmt::entry_header_size - 8 + 5, at));
  CHECK(fmt::load64(image.data() + at) !=
        XXH3_64bits_withSeed(image.data() + at + 8, fmt::entry_header_size - 8 + 5, at + 8));
}

TEST_CASE("format: decode_entry outcomes on crafted inputs", "[format]") {
  fmt::entry e;
  SECTION("ok: put, tombstone, empty value, each alignment") {
    for (std::uint32_t a : {8u, 64u, 4096u, 65536u}) {
      INFO("alignment " << a);
      std::vector<std::byte> image = image_with_header();
      const std::uint64_t p1 = append_put(image, "alpha", "one", 0, a);
      const std::uint64_t p2 = append_tombstone(image, "beta", 0);
      const std::uint64_t p3 = append_put(image, "empty", "", fmt::flag_commit_end, a);
      const exact_buffer buf(image);
      REQUIRE(fmt::decode_entry(buf.span(), p1, a, e) == fmt::decode_result::ok);
      CHECK(e.kind == fmt::kind_put);
      CHECK(e.flags == 0);
      CHECK_FALSE(e.is_commit_end());
      CHECK(e.key_size == 5);
      CHECK(e.key_offset() == p1 + 32);
      CHECK(e.value_size == 3);
      CHECK(e.value_checksum == 0x911faba7321fe1a0ull);
      CHECK(e.value_offset == fmt::align_up(p1 + 37, a));
      CHECK(e.end == e.value_offset + 8);
      CHECK(e.end == p2);
      check_invariants(buf.span(), e, fmt::decode_result::ok, p1, a);
      REQUIRE(fmt::decode_entry(buf.span(), p2, a, e) == fmt::decode_result::ok);
      CHECK(e.kind == fmt::kind_tombstone);
      CHECK(e.key_size == 4);
      CHECK(e.end == p2 + 40);
      CHECK(e.end == p3);
      REQUIRE(fmt::decode_entry(buf.span(), p3, a, e) == fmt::decode_result::ok);
      CHECK(e.is_commit_end());
      CHECK(e.value_size == 0);
      CHECK(e.value_checksum == 0x2d06800538d394c2ull);
      CHECK(e.value_offset % a == 0);
      CHECK(e.end == e.value_offset); // an empty value needs no tail padding
      CHECK(e.end == image.size());
    }
  }
  SECTION("the W1 entry at 64 with alignment 64") {
    std::vector<std::byte> image = image_with_header();
    append_put(image, "alpha", "one", fmt::flag_commit_end, 64);
    REQUIRE(image.size() == 136);
    const exact_buffer buf(image);
    REQUIRE(fmt::decode_entry(buf.span(), 64, 64, e) == fmt::decode_result::ok);
    CHECK(std::memcmp(image.data() + 64, put_alpha_one, 32) == 0);
    CHECK(e.header_checksum == 0xe746a52a58255c6cull);
    CHECK(e.value_offset == 128);
    CHECK(e.end == 136);
  }
  SECTION("cut: the header or the key runs past the end") {
    std::vector<std::byte> image = image_with_header();
    append_put(image, "a-longer-key", "v", fmt::flag_commit_end, 8);
    for (std::size_t n = 64; n < 64 + 32 + 12; ++n) {
      INFO("image of " << n << " bytes");
      const exact_buffer buf(std::span<const std::byte>(image.data(), n));
      CHECK(fmt::decode_entry(buf.span(), 64, 8, e) == fmt::decode_result::cut);
    }
    const exact_buffer whole(image);
    CHECK(fmt::decode_entry(whole.span(), image.size(), 8, e) == fmt::decode_result::cut);
    CHECK(fmt::decode_entry(whole.span(), image.size() + 8, 8, e) == fmt::decode_result::cut);
    CHECK(fmt::decode_entry(whole.span(), ~std::uint64_t{0} - 7, 8, e) == fmt::decode_result::cut);
  }
  SECTION("truncated: a verified header whose value or padding runs past the end") {
    std::vector<std::byte> image = image_with_header();
    append_put(image, "key", "0123456789", fmt::flag_commit_end, 64); // value 128..138, end 144
    REQUIRE(image.size() == 144);
    for (std::size_t n = 64 + 32 + 3; n < image.size(); ++n) {
      INFO("image of " << n << " bytes");
      const exact_buffer buf(std::span<const std::byte>(image.data(), n));
      REQUIRE(fmt::decode_entry(buf.span(), 64, 64, e) == fmt::decode_result::truncated);
      CHECK(e.value_size == 10);
      CHECK(e.end == 144);
      check_invariants(buf.span(), e, fmt::decode_result::truncated, 64, 64);
    }
    std::vector<std::byte> t = image_with_header();
    append_tombstone(t, "abc", fmt::flag_commit_end); // header+key 35 bytes, end 104
    const exact_buffer tb(std::span<const std::byte>(t.data(), 64 + 35));
    CHECK(fmt::decode_entry(tb.span(), 64, 64, e) == fmt::decode_result::truncated);
  }
  SECTION("pending: an unfinished put_stream") {
    std::vector<std::byte> image = image_with_header();
    append_pending(image, "streamed");
    CHECK(std::memcmp(image.data() + 64, pending_streamed, 32) == 0);
    image.resize(image.size() + 1000, std::byte{0x77}); // streamed bytes, any length
    const exact_buffer buf(image);
    REQUIRE(fmt::decode_entry(buf.span(), 64, 64, e) == fmt::decode_result::pending);
    CHECK(e.kind == fmt::kind_pending);
    CHECK(e.key_size == 8);
    CHECK(e.value_size == fmt::pending_value_size);
    // Its header alone (nothing streamed yet) is pending too.
    const exact_buffer head(std::span<const std::byte>(image.data(), 64 + 40));
    CHECK(fmt::decode_entry(head.span(), 64, 64, e) == fmt::decode_result::pending);
  }
  SECTION("invalid: each field check, with a correct header checksum") {
    std::vector<std::byte> base = image_with_header();
    append_put(base, "key", "value", fmt::flag_commit_end, 8);
    base.resize(base.size() + 64, std::byte{0}); // room, so nothing is cut
    auto with = [&](auto edit) {
      std::vector<std::byte> v = base;
      edit(v.data() + 64);
      reseal(v.data() + 64, 64);
      const exact_buffer buf(v);
      return fmt::decode_entry(buf.span(), 64, 8, e);
    };
    using fmt::decode_result;
    CHECK(with([](std::byte*) {}) == decode_result::ok);
    for (unsigned kind : {0u, 4u, 5u, 0x81u, 0xffu}) {
      INFO("kind " << kind);
      CHECK(with([&](std::byte* p) { p[8] = static_cast<std::byte>(kind); }) ==
            decode_result::invalid);
    }
    for (unsigned flags : {0x02u, 0x03u, 0x80u, 0xffu}) {
      INFO("flags " << flags);
      CHECK(with([&](std::byte* p) { p[9] = static_cast<std::byte>(flags); }) ==
            decode_result::invalid);
    }
    CHECK(with([](std::byte* p) { fmt::store16(p + 10, 0); }) == decode_result::invalid);
    CHECK(with([](std::byte* p) { fmt::store32(p + 12, 1); }) == decode_result::invalid);
    CHECK(with([](std::byte* p) { fmt::store32(p + 12, 0x80000000u); }) == decode_result::invalid);
    // A put whose value layout overflows.
    CHECK(with([](std::byte* p) { fmt::store64(p + 16, ~std::uint64_t{0}); }) ==
          decode_result::invalid);
    CHECK(with([](std::byte* p) { fmt::store64(p + 16, std::uint64_t{1} << 62); }) ==
          decode_result::invalid);
    // A long but representable put is truncated, not invalid.
    CHECK(with([](std::byte* p) { fmt::store64(p + 16, std::uint64_t{1} << 40); }) ==
          decode_result::truncated);
    // A tombstone with a value length or a value checksum.
    CHECK(with([](std::byte* p) {
            p[8] = std::byte{fmt::kind_tombstone};
            fmt::store64(p + 16, 0);
            fmt::store64(p + 24, 0);
          }) == decode_result::ok);
    CHECK(with([](std::byte* p) {
            p[8] = std::byte{fmt::kind_tombstone};
            fmt::store64(p + 16, 1);
            fmt::store64(p + 24, 0);
          }) == decode_result::invalid);
    CHECK(with([](std::byte* p) {
            p[8] = std::byte{fmt::kind_tombstone};
            fmt::store64(p + 16, 0);
            fmt::store64(p + 24, 7);
          }) == decode_result::invalid);
    // A pending entry with a commit mark, a real length or a value checksum.
    CHECK(with([](std::byte* p) {
            p[8] = std::byte{fmt::kind_pending};
            p[9] = std::byte{0};
            fmt::store64(p + 16, fmt::pending_value_size);
            fmt::store64(p + 24, 0);
          }) == decode_result::pending);
    CHECK(with([](std::byte* p) {
            p[8] = std::byte{fmt::kind_pending};
            p[9] = std::byte{0};
            fmt::store64(p + 16, fmt::pending_value_size);
            fmt::store64(p + 24, 1);
          }) == decode_result::invalid);
    CHECK(with([](std::byte* p) {
            p[8] = std::byte{fmt::kind_pending};
            p[9] = std::byte{fmt::flag_commit_end};
            fmt::store64(p + 16, fmt::pending_value_size);
          }) == decode_result::invalid);
    CHECK(with([](std::byte* p) {
            p[8] = std::byte{fmt::kind_pending};
            p[9] = std::byte{0};
            fmt::store64(p + 16, 5);
          }) == decode_result::invalid);
    // And without resealing, any edit fails the header checksum.
    std::vector<std::byte> v = base;
    v[64 + 24] ^= std::byte{0x10};
    const exact_buffer buf(v);
    CHECK(fmt::decode_entry(buf.span(), 64, 8, e) == decode_result::invalid);
  }
}

TEST_CASE("format: no single-bit flip of an entry header or key decodes", "[format]") {
  struct sample {
    const char* what;
    std::vector<std::byte> image;
    std::uint64_t at;
    std::size_t key_size;
  };
  std::vector<sample> samples;
  {
    std::vector<std::byte> i = image_with_header();
    const std::uint64_t at = append_put(i, "alpha", "one", fmt::flag_commit_end, 64);
    samples.push_back({"put", i, at, 5});
  }
  {
    std::vector<std::byte> i = image_with_header();
    const std::uint64_t at = append_put(i, "a key of 21 bytes....", "", 0, 8);
    samples.push_back({"put, empty value, alignment 8", i, at, 21});
  }
  {
    std::vector<std::byte> i = image_with_header();
    const std::uint64_t at = append_tombstone(i, "beta", fmt::flag_commit_end);
    samples.push_back({"tombstone", i, at, 4});
  }
  {
    std::vector<std::byte> i = image_with_header();
    const std::uint64_t at = append_pending(i, "streamed");
    samples.push_back({"pending", i, at, 8});
  }
  for (const sample& s : samples) {
    for (std::size_t trailing : {std::size_t{0}, std::size_t{4096}}) {
      std::vector<std::byte> image = s.image;
      image.resize(image.size() + trailing, std::byte{0});
      const std::size_t bits = (fmt::entry_header_size + s.key_size) * 8;
      for (std::size_t bit = 0; bit < bits; ++bit) {
        std::vector<std::byte> flipped = image;
        flipped[static_cast<std::size_t>(s.at) + bit / 8] ^=
            static_cast<std::byte>(1u << (bit % 8));
        const exact_buffer buf(flipped);
        fmt::entry e;
        const auto r = fmt::decode_entry(buf.span(), s.at, 64, e);
        INFO(s.what << ", " << trailing << " trailing bytes, bit " << bit << ": result " << int(r));
        CHECK((r == fmt::decode_result::invalid || r == fmt::decode_result::cut));
      }
    }
  }
}

TEST_CASE("format: decode_entry never reads out of bounds on garbage", "[format]") {
  SIMDR_SEEDED(seed, "format garbage");
  std::mt19937_64 rng(seed);
  const std::uint32_t alignments[] = {8, 64, 4096, 65536};
  std::uint64_t accepted = 0;

  // Pure noise, decoded at every offset (aligned or not, and past the end).
  for (int round = 0; round < 200; ++round) {
    const std::size_t n = rng() % 300;
    const std::vector<std::byte> noise = test::random_bytes(rng, n);
    const exact_buffer buf(noise);
    const std::uint32_t a = alignments[rng() % 4];
    for (std::uint64_t off = 0; off <= n + 9; ++off) {
      fmt::entry e;
      const auto r = fmt::decode_entry(buf.span(), off, a, e);
      if (r == fmt::decode_result::ok || r == fmt::decode_result::truncated ||
          r == fmt::decode_result::pending)
        check_invariants(buf.span(), e, r, off, a);
    }
  }

  // Structured noise: entries with a CORRECT header checksum and random fields, so that the
  // checks after the checksum (lengths, layout, padding) are what is exercised.
  for (int round = 0; round < 20000; ++round) {
    const std::uint32_t a = alignments[rng() % 4];
    const std::uint64_t at = 8 * (rng() % 16);
    const std::uint16_t key_size = static_cast<std::uint16_t>(rng() % 4 == 0 ? 0 : 1 + rng() % 100);
    std::vector<std::byte> image =
        test::random_bytes(rng, static_cast<std::size_t>(at) + 32 + key_size);
    std::byte* p = image.data() + at;
    const std::uint64_t pick = rng() % 6;
    p[8] = static_cast<std::byte>(pick < 5 ? 1 + pick % 3 : rng() % 256);
    p[9] = static_cast<std::byte>(rng() % 4 == 0 ? rng() % 256 : rng() % 2);
    fmt::store16(p + 10, key_size);
    fmt::store32(p + 12, rng() % 8 == 0 ? static_cast<std::uint32_t>(rng()) : 0);
    const std::uint64_t lengths[] = {0,
                                     1 + rng() % 5000,
                                     rng(),
                                     ~std::uint64_t{0},
                                     (std::uint64_t{1} << 62) - rng() % 100000,
                                     (std::uint64_t{1} << 62) + rng() % 100};
    fmt::store64(p + 16, lengths[rng() % 6]);
    fmt::store64(p + 24, rng() % 2 == 0 ? 0 : rng());
    reseal(p, at);
    // Sometimes followed by value bytes, sometimes cut anywhere.
    image.resize(image.size() + rng() % 6000, std::byte{0});
    if (rng() % 3 == 0)
      image.resize(static_cast<std::size_t>(at) + rng() % (image.size() - at + 1));
    const exact_buffer buf(image);
    fmt::entry e;
    const auto r = fmt::decode_entry(buf.span(), at, a, e);
    if (r == fmt::decode_result::ok || r == fmt::decode_result::truncated ||
        r == fmt::decode_result::pending) {
      ++accepted;
      check_invariants(buf.span(), e, r, at, a);
    }
  }
  CHECK(accepted > 1000); // the structured rounds do reach the checks after the checksum
}

// ---- layout ----------------------------------------------------------------------------------

TEST_CASE("format: layout_put arithmetic and overflow", "[format]") {
  std::uint64_t voff = 0, end = 0;
  REQUIRE(fmt::layout_put(64, 5, 3, 64, voff, end));
  CHECK(voff == 128);
  CHECK(end == 136);
  REQUIRE(fmt::layout_put(64, 5, 3, 8, voff, end));
  CHECK(voff == 104);
  CHECK(end == 112);
  REQUIRE(fmt::layout_put(64, 32, 0, 64, voff, end));
  CHECK(voff == 128); // key ends exactly on the alignment: no padding
  CHECK(end == 128);
  REQUIRE(fmt::layout_put(136, 1, 4097, 4096, voff, end));
  CHECK(voff == 4096);
  CHECK(end == 4096 + 4104);
  REQUIRE(fmt::layout_put(64, 65535, 1, 65536, voff, end));
  CHECK(voff == 131072);
  CHECK(end == 131080);
  CHECK(fmt::tombstone_end(64, 4) == 104);
  CHECK(fmt::tombstone_end(64, 8) == 104);
  CHECK(fmt::tombstone_end(64, 9) == 112);
  CHECK(fmt::align_up(0, 8) == 0);
  CHECK(fmt::align_up(1, 8) == 8);
  CHECK(fmt::align_up(4097, 4096) == 8192);

  // Entries end within max_file_size (2^47, docs/format.md section 8); anything larger is a
  // corrupt length.
  const std::uint64_t limit = fmt::max_file_size;
  STATIC_REQUIRE(fmt::max_file_size == std::uint64_t{1} << 47);
  REQUIRE(fmt::layout_put(64, 5, 0, 64, voff, end));
  REQUIRE(fmt::layout_put(64, 5, limit - 128, 64, voff, end));
  CHECK(end == limit);
  CHECK_FALSE(fmt::layout_put(64, 5, limit - 127, 64, voff, end));
  CHECK_FALSE(fmt::layout_put(64, 5, limit, 64, voff, end));
  CHECK_FALSE(fmt::layout_put(64, 5, std::uint64_t{1} << 63, 64, voff, end));
  CHECK_FALSE(fmt::layout_put(64, 5, ~std::uint64_t{0}, 64, voff, end));
  CHECK_FALSE(fmt::layout_put(64, 5, ~std::uint64_t{0} - 127, 64, voff, end));
  CHECK_FALSE(fmt::layout_put(64, 65535, ~std::uint64_t{0} - 65535, 65536, voff, end));
  CHECK_FALSE(fmt::layout_put(limit, 5, 0, 8, voff, end));
  CHECK_FALSE(fmt::layout_put(limit - 8, 5, 100, 8, voff, end));
}

TEST_CASE("format: W1 entries take exactly 64 bytes after the first", "[format]") {
  // docs/format.md section 4.2: alignment 64, keys of 14 to 16 bytes, 8-byte values: header at
  // 64k+8, key up to 64k+56, value at 64(k+1).
  for (std::uint64_t key_size : {14u, 15u, 16u}) {
    INFO("key of " << key_size << " bytes");
    std::uint64_t pos = fmt::header_size;
    std::uint64_t voff = 0, end = 0;
    REQUIRE(fmt::layout_put(pos, key_size, 8, 64, voff, end));
    CHECK(voff == 128);
    CHECK(end == 136);
    pos = end;
    for (int k = 2; k < 1000; ++k) {
      REQUIRE(fmt::layout_put(pos, key_size, 8, 64, voff, end));
      CHECK(pos % 64 == 8);
      CHECK(voff == pos + 56);
      CHECK(end - pos == 64);
      pos = end;
    }
  }
  // The bound of that property: 24-byte keys still fit, 25-byte keys need a second line.
  std::uint64_t voff = 0, end = 0;
  REQUIRE(fmt::layout_put(136, 24, 8, 64, voff, end));
  CHECK(end - 136 == 64);
  REQUIRE(fmt::layout_put(136, 25, 8, 64, voff, end));
  CHECK(end - 136 == 128);

  // And the writer produces exactly that layout.
  test::temp_dir dir;
  store db = test::open_ok(dir.file("w1.simdr"));
  REQUIRE(db.put("bench-key-00000", "\x01\x02\x03\x04\x05\x06\x07\x08") == errc::ok);
  CHECK(db.file_size() == 136);
  for (int i = 1; i < 300; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "%s%05d",
                  i % 3 == 0   ? "bench-key"
                  : i % 3 == 1 ? "bench-keyy"
                               : "bench-keyyy",
                  i);
    const std::uint64_t before = db.file_size();
    REQUIRE(db.put(key, std::string_view("01234567", 8)) == errc::ok);
    CHECK(db.file_size() - before == 64);
    auto v = db.get(key);
    REQUIRE(v);
    CHECK(v->offset() == before + 56);
  }
}
