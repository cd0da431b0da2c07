// fuzz_open.cpp - fuzz target `open_arbitrary_bytes`: arbitrary bytes as a store image.
//
// The input is opened read-only and read-write over memory_storage with detail::open_store. It
// must give an errc or a store, never crash, hang or read out of bounds. When it opens:
// entries() is walked and every key it yields must be found by get() with the same bytes, the
// two handles must agree, verify() runs, and the read-write handle takes a put, a compaction
// (after which verify() must be clean) and a reopen of the compacted image. Every 8-aligned
// offset is also decoded with format::decode_entry, and the first bytes with decode_header.
//
// Random bytes almost never carry valid XXH3 checksums, so each input is also tried a second
// time with its checksums repaired (fix_checksums below): the header checksum and, along the
// chain of entries, every entry header and value checksum. That lets mutations of header
// fields, lengths, kinds and flags reach the code behind the checksum checks.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hash.hpp"

#include "format/format.hpp"
#include "fuzz_common.hpp"
#include "store_impl.hpp"

namespace {

using namespace simdr;
using namespace simdr::fuzz;
namespace format = simdr::detail::format;

using live_map = std::map<std::string, std::string>;

// Decoding every offset hashes up to a 64 KiB key per offset: bound the work per input.
constexpr std::size_t max_decoded_offsets = 4096;

void check_decoders(std::span<const std::byte> img) {
  // decode_header on every prefix of the first 72 bytes, and on the whole input.
  std::uint32_t alignment = 64;
  for (std::size_t n = 0; n <= std::min<std::size_t>(img.size(), 72); ++n) {
    format::file_header h;
    const status st = format::decode_header(img.first(n), h);
    if (st.is_ok()) {
      FUZZ_CHECK(n >= format::header_size, "decode_header accepted " + std::to_string(n) + " bytes");
      FUZZ_CHECK(h.alignment() >= format::min_alignment && h.alignment() <= format::max_alignment,
                 "decoded alignment " + std::to_string(h.alignment()));
      alignment = h.alignment();
    } else {
      const errc c = st.code;
      FUZZ_CHECK(c == errc::bad_magic || c == errc::corrupt || c == errc::unsupported_version,
                 "decode_header gave " + code_name(c));
    }
  }
  const std::size_t offsets = std::min(img.size() / 8 + 1, max_decoded_offsets);
  for (std::size_t i = 0; i < offsets; ++i) {
    const std::uint64_t off = i * 8;
    for (std::uint32_t a : {alignment, std::uint32_t{8}}) {
      format::entry e;
      const auto r = format::decode_entry(img, off, a, e);
      if (r == format::decode_result::ok) {
        FUZZ_CHECK(e.offset == off && e.end > off && e.end <= img.size() && e.end % 8 == 0,
                   "decode_entry ok at " + std::to_string(off) + " but end " + std::to_string(e.end));
        FUZZ_CHECK(e.kind == format::kind_put || e.kind == format::kind_tombstone,
                   "decode_entry ok with kind " + std::to_string(e.kind));
        if (e.kind == format::kind_put) {
          FUZZ_CHECK(e.value_offset % a == 0 && e.value_offset >= e.key_offset() + e.key_size &&
                         e.value_offset + e.value_size <= e.end,
                     "decode_entry: value outside its entry at " + std::to_string(off));
        }
      }
    }
  }
}

/// Repairs the header checksum and, along the chain of entries, every entry's checksums.
std::vector<std::byte> fix_checksums(std::span<const std::byte> in) {
  std::vector<std::byte> out(in.begin(), in.end());
  if (out.size() < format::header_size) return out;
  std::byte* p = out.data();
  format::store64(p + 56, simdr::detail::xxh3(p, 56));
  const unsigned log2 = static_cast<unsigned>(p[16]);
  if (log2 < 3 || log2 > 16) return out;
  const std::uint32_t alignment = 1u << log2;
  std::uint64_t pos = format::header_size;
  const std::uint64_t size = out.size();
  while (pos + format::entry_header_size <= size) {
    const auto kind = static_cast<std::uint8_t>(p[pos + 8]);
    const std::uint16_t key_size = format::load16(p + pos + 10);
    if (pos + format::entry_header_size + key_size > size) break;
    std::uint64_t next = 0;
    if (kind == format::kind_put) {
      const std::uint64_t value_size = format::load64(p + pos + 16);
      std::uint64_t voff = 0;
      if (!format::layout_put(pos, key_size, value_size, alignment, voff, next) || next > size)
        break;
      format::store64(p + pos + 24, simdr::detail::xxh3(p + voff, static_cast<std::size_t>(value_size)));
    } else if (kind == format::kind_tombstone || kind == format::kind_pending) {
      next = format::tombstone_end(pos, key_size);
    } else {
      break;
    }
    format::store64(p + pos, format::entry_header_checksum(p + pos, pos, key_size));
    if (kind == format::kind_pending || next <= pos) break;
    pos = next;
  }
  return out;
}

/// Walks entries() and checks each key against get(), contains(), get_batch() and read_stream().
live_map check_store(const store& db, std::uint32_t alignment, const std::string& who) {
  live_map live;
  std::vector<std::string> keys;
  std::uint64_t yielded = 0;
  for (const entry_view& v : db.entries()) {
    ++yielded;
    const std::string k(v.key_str());
    FUZZ_CHECK(!k.empty(), who + ": entries() yielded an empty key");
    FUZZ_CHECK(v.offset() % alignment == 0, who + ": value offset not aligned");
    FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(v.data()) %
                       std::min<std::uint32_t>(alignment, memory_storage::buffer_alignment) ==
                   0,
               who + ": value pointer not aligned");
    const bool fresh = live.emplace(k, std::string(v.str())).second;
    FUZZ_CHECK(fresh, who + ": entries() yielded a key twice");
    keys.push_back(k);
  }
  FUZZ_CHECK(yielded == db.size(), who + ": entries() yielded " + std::to_string(yielded) +
                                       " keys, size() is " + std::to_string(db.size()));
  FUZZ_CHECK(db.info().live_keys == db.size(), who + ": info().live_keys != size()");
  for (const auto& [k, v] : live) {
    auto got = db.get(k);
    FUZZ_CHECK(got.has_value() || got.code() == errc::checksum_mismatch,
               who + ": get of a key from entries() gave " + code_name(got.code()));
    if (got) FUZZ_CHECK(got->str() == v, who + ": get returned other bytes than entries()");
    auto has = db.contains(k);
    FUZZ_CHECK(has.has_value() && *has, who + ": contains() is false for a key from entries()");
  }
  // get_batch over (a bounded number of) the keys, plus a key that is not there.
  if (keys.size() > 64) keys.resize(64);
  std::string absent = "\xff absent";
  while (live.count(absent) != 0) absent += '!';
  keys.push_back(absent);
  std::vector<bytes> kb(keys.begin(), keys.end());
  std::vector<blob_view> out(kb.size());
  auto found = db.get_batch(kb, out);
  if (found) {
    FUZZ_CHECK(*found == keys.size() - 1, who + ": get_batch found " + std::to_string(*found));
    for (std::size_t i = 0; i + 1 < keys.size(); ++i)
      FUZZ_CHECK(out[i] && out[i].str() == live[keys[i]], who + ": get_batch gave other bytes");
    FUZZ_CHECK(!out.back(), who + ": get_batch found an absent key");
  } else {
    FUZZ_CHECK(found.code() == errc::checksum_mismatch, who + ": get_batch gave " + code_name(found.code()));
  }
  FUZZ_CHECK(db.get(absent).code() == errc::not_found, who + ": get of an absent key");
  // read_stream of the first key, in small chunks.
  if (!live.empty()) {
    std::string streamed;
    const status st = db.read_stream(
        live.begin()->first,
        [&](std::span<const std::byte> chunk) -> status {
          streamed += as_string(chunk);
          return errc::ok;
        },
        7);
    FUZZ_CHECK(st.is_ok() || st.code == errc::checksum_mismatch,
               who + ": read_stream gave " + code_name(st.code));
    if (st.is_ok()) FUZZ_CHECK(streamed == live.begin()->second, who + ": read_stream bytes differ");
  }
  return live;
}

/// Reopens `image` read-write and read-only and expects exactly `expected`, a clean verify()
/// and no tail.
void check_reopen(const std::vector<std::byte>& image, const live_map& expected) {
  for (bool ro : {false, true}) {
    image_tracker t;
    auto r = detail::open_store(tracked_storage::from_bytes(image, !ro, t),
                                {.read_only = ro, .verify_checksums = ro});
    FUZZ_CHECK(r.has_value(), "reopen of a compacted image gave " + code_name(r.code()));
    const std::string who = ro ? "reopen ro" : "reopen rw";
    FUZZ_CHECK(!r->report().tail_dropped, who + ": tail dropped");
    FUZZ_CHECK(check_store(*r, r->info().alignment, who) == expected, who + ": other contents");
    auto vr = r->verify();
    FUZZ_CHECK(vr.has_value() && vr->is_ok(), who + ": verify not clean: " + describe(vr));
  }
}

void exercise_writer(store& db, image_tracker& tracker, live_map live, bool verified_clean) {
  const std::uint32_t alignment = db.info().alignment;
  std::string probe = "\x01 fuzz probe";
  const std::string value(77, 'v');
  const std::uint64_t before = db.size();
  const status put = db.put(probe, value);
  FUZZ_CHECK(put.is_ok(), "put on an opened store gave " + code_name(put.code));
  const bool fresh = live.count(probe) == 0;
  live[probe] = value;
  FUZZ_CHECK(db.size() == before + (fresh ? 1 : 0), "size after put");
  auto got = db.get(probe);
  FUZZ_CHECK(got.has_value() && got->str() == value, "get after put");

  auto rep = db.compact();
  if (!rep) {
    FUZZ_CHECK(rep.code() == errc::checksum_mismatch,
               "compact gave " + code_name(rep.code()));
    FUZZ_CHECK(!verified_clean, "compact found damage that verify() did not report");
    return;
  }
  FUZZ_CHECK(rep->entries_kept == live.size(), "compact kept " + std::to_string(rep->entries_kept));
  FUZZ_CHECK(rep->size_after == db.file_size(), "compact size_after != file_size()");
  auto vr = db.verify();
  FUZZ_CHECK(vr.has_value() && vr->is_ok(), "verify after compact not clean: " + describe(vr));
  FUZZ_CHECK(check_store(db, alignment, "after compact") == live, "compact changed the contents");
  const std::vector<std::byte> image = tracker.copy();
  FUZZ_CHECK(image.size() == db.file_size(), "compacted image size != file_size()");
  check_reopen(image, live);
}

void run_open(std::span<const std::byte> input) {
  image_tracker tracker;
  auto rw = detail::open_store(tracked_storage::from_bytes(input, true, tracker), {});
  auto ro = detail::open_store(memory_storage::from_bytes(input, false),
                               {.read_only = true, .verify_checksums = true});
  for (const auto* r : {&rw, &ro}) {
    if (r->has_value()) continue;
    const errc c = r->code();
    FUZZ_CHECK(c == errc::bad_magic || c == errc::corrupt || c == errc::unsupported_version ||
                   c == errc::no_memory,
               "open gave " + code_name(c));
  }
  // A newer minor version is refused read-write right after the header, before the log is
  // scanned; read-only goes on and may still find the log corrupt.
  format::file_header h;
  const bool newer_minor = format::decode_header(input, h).is_ok() && h.minor > format::minor;
  if (!rw && newer_minor)
    FUZZ_CHECK(rw.code() == errc::unsupported_version,
               "read-write open of a newer minor version gave " + code_name(rw.code()));
  if (!ro) {
    FUZZ_CHECK(!rw, "read-write open succeeded where read-only open gave " + code_name(ro.code()));
    FUZZ_CHECK(rw.code() == ro.code() || newer_minor, "read-write open gave " +
                                                          code_name(rw.code()) + ", read-only " +
                                                          code_name(ro.code()));
    return;
  }
  if (!rw) {
    // Only a newer minor version may open read-only but not read-write.
    FUZZ_CHECK(newer_minor, "read-only open succeeded, read-write gave " + code_name(rw.code()));
  }
  const std::uint32_t alignment = ro->info().alignment;
  const open_report orep = ro->report();
  FUZZ_CHECK(orep.committed_size >= format::header_size && orep.committed_size % 8 == 0 &&
                 orep.committed_size + orep.tail_bytes == input.size(),
             "read-only report: committed " + std::to_string(orep.committed_size) + " tail " +
                 std::to_string(orep.tail_bytes) + " of " + std::to_string(input.size()));
  FUZZ_CHECK(ro->file_size() == orep.committed_size, "read-only file_size() != committed_size");
  const live_map live = check_store(*ro, alignment, "read-only");
  auto rvr = ro->verify();
  FUZZ_CHECK(rvr.has_value(), "verify gave " + code_name(rvr.code()));
  FUZZ_CHECK(ro->put("k", "v") == errc::read_only, "put on a read-only store");
  if (!rw) return;

  const open_report wrep = rw->report();
  FUZZ_CHECK(wrep.committed_size == orep.committed_size && wrep.entries == orep.entries &&
                 wrep.commits == orep.commits && wrep.tail_bytes == orep.tail_bytes,
             "read-write and read-only open reports differ");
  FUZZ_CHECK(rw->file_size() == wrep.committed_size, "read-write file_size() != committed_size");
  FUZZ_CHECK(tracker.current->size() == wrep.committed_size, "the torn tail was not truncated");
  FUZZ_CHECK(check_store(*rw, alignment, "read-write") == live,
             "read-write and read-only handles see different contents");
  auto wvr = rw->verify();
  FUZZ_CHECK(wvr.has_value(), "verify gave " + code_name(wvr.code()));
  FUZZ_CHECK(wvr->is_ok() == rvr->is_ok(), "verify differs between the two handles");
  exercise_writer(*rw, tracker, live, wvr->is_ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  check_decoders(input);
  run_open(input);
  const std::vector<std::byte> fixed = fix_checksums(input);
  if (!std::equal(fixed.begin(), fixed.end(), input.begin(), input.end())) {
    check_decoders(fixed);
    run_open(fixed);
  }
  return 0;
}
