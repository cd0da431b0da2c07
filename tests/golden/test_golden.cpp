// test_golden.cpp - the golden files of tests/golden/ pin format v1 (docs/format.md section 9).
//
//  * every case of golden_cases.hpp, replayed today, writes exactly good/<case>.simdr;
//  * every good/<case>.simdr dumps exactly to good/<case>.txt, opens, verifies clean and reads
//    back the live set the case's operations define;
//  * every bad/<name>.simdr fails to open with the error its name starts with, read-write and
//    read-only, is left byte-for-byte unchanged, and dumps exactly to bad/<name>.txt;
//  * the dump (tools/inspect_dump.hpp) agrees with open() and verify() on damaged copies.
#include "format/format.hpp"
#include "golden/golden_cases.hpp"
#include "hash.hpp"
#include "inspect_dump.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

using namespace simdr;
namespace fs = std::filesystem;
namespace fmt = simdr::detail::format;
using simdr::test::read_file;
using simdr::test::write_file;

namespace {

const fs::path golden_dir = fs::path(SIMDR_SOURCE_DIR) / "tests" / "golden";

std::string describe_difference(std::span<const std::byte> got, std::span<const std::byte> want) {
  std::ostringstream s;
  s << "sizes " << got.size() << " (written) vs " << want.size() << " (golden)";
  const std::size_t n = std::min(got.size(), want.size());
  for (std::size_t i = 0; i < n; ++i)
    if (got[i] != want[i]) {
      s << ", first difference at offset " << i;
      return s.str();
    }
  if (got.size() != want.size()) s << ", one is a prefix of the other";
  return s.str();
}

std::string text_difference(const std::string& got, const std::string& want) {
  std::istringstream a(got), b(want);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ha = static_cast<bool>(std::getline(a, la));
    const bool hb = static_cast<bool>(std::getline(b, lb));
    if (!ha && !hb) return "identical";
    if (ha != hb || la != lb)
      return "line " + std::to_string(line) + ":\n  dump:   " + (ha ? la : "<end>") +
             "\n  golden: " + (hb ? lb : "<end>");
  }
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

std::string dump_text(std::span<const std::byte> bytes, tools::dump_stats* stats = nullptr) {
  std::string text;
  const tools::dump_stats st = tools::dump(bytes, text);
  if (stats != nullptr) *stats = st;
  return text;
}

std::string read_text(const fs::path& p) {
  const std::vector<std::byte> b = read_file(p.string());
  return test::str(b);
}

/// The error a bad file's name announces.
errc expected_error(const std::string& name) {
  if (name.rfind("bad_magic_", 0) == 0) return errc::bad_magic;
  if (name.rfind("corrupt_", 0) == 0) return errc::corrupt;
  if (name.rfind("unsupported_version_", 0) == 0) return errc::unsupported_version;
  return errc::ok;
}

std::map<std::string, std::string> read_all(const store& db) {
  std::map<std::string, std::string> seen;
  for (const entry_view& e : db.entries())
    seen[std::string(e.key_str())] = std::string(e.str());
  return seen;
}

/// Opens `path` read-only and checks that what open() reports agrees with the dump's walk.
void check_open_agrees_with_dump(const std::string& path, std::span<const std::byte> bytes) {
  tools::dump_stats ds;
  const std::string text = dump_text(bytes, &ds);
  INFO(text);
  auto opened = store::open(path, {.read_only = true});
  INFO("open: " << to_string(opened.code()) << " offset " << opened.error().offset);
  switch (ds.verdict) {
  case tools::dump_verdict::bad_header: {
    fmt::file_header h;
    const errc want = bytes.empty() ? errc::bad_magic : fmt::decode_header(bytes, h).code;
    CHECK(opened.code() == want);
    return;
  }
  case tools::dump_verdict::corrupt:
    REQUIRE(opened.code() == errc::corrupt);
    CHECK(opened.error().offset == ds.damage_offset);
    return;
  case tools::dump_verdict::clean:
  case tools::dump_verdict::tail:
    break;
  }
  REQUIRE(opened.has_value());
  const store& db = *opened;
  const open_report r = db.report();
  CHECK(r.committed_size == ds.committed_end);
  CHECK(r.tail_bytes == ds.tail_bytes);
  CHECK(r.tail_dropped == (ds.tail_bytes != 0));
  CHECK_FALSE(r.tail_truncated);
  CHECK(r.entries == ds.entries);
  CHECK(r.commits == ds.commits);
  CHECK(db.size() == ds.live_keys);
  CHECK(db.info().tombstones == ds.tombstones);
  auto v = db.verify();
  REQUIRE(v);
  CHECK(v->entries == ds.entries);
  CHECK(v->puts == ds.puts);
  CHECK(v->tombstones == ds.tombstones);
  std::uint64_t mismatches = 0, corrupt = 0;
  for (const verify_issue& i : v->issues) {
    mismatches += i.code == errc::checksum_mismatch;
    corrupt += i.code == errc::corrupt;
  }
  CHECK(mismatches == ds.bad_values);
  CHECK(corrupt == ds.bad_padding);
}

} // namespace

TEST_CASE("golden: every case writes exactly its checked-in file", "[golden]") {
  for (std::string_view name : golden::case_names) {
    DYNAMIC_SECTION("case " << name) {
      test::temp_dir dir;
      const std::string path = dir.file(std::string(name) + ".simdr");
      golden::model written;
      const status st = golden::write_case(name, path, written);
      INFO("write_case: " << to_string(st.code));
      REQUIRE(st.is_ok());
      const fs::path golden_file = golden_dir / "good" / (std::string(name) + ".simdr");
      REQUIRE(fs::exists(golden_file));
      const std::vector<std::byte> got = read_file(path);
      const std::vector<std::byte> want = read_file(golden_file.string());
      INFO(describe_difference(got, want));
      CHECK(same_bytes(got, want));
      // The model maintained next to the store agrees with the model computed alone.
      golden::model alone;
      REQUIRE(golden::run_case(name, nullptr, alone).is_ok());
      CHECK(alone == written);
    }
  }
}

TEST_CASE("golden: good files dump open verify and read back", "[golden]") {
  for (std::string_view name : golden::case_names) {
    DYNAMIC_SECTION("case " << name) {
      const std::string stem = std::string(name);
      const std::vector<std::byte> bytes =
          read_file((golden_dir / "good" / (stem + ".simdr")).string());
      REQUIRE(bytes.size() >= fmt::header_size);
      golden::model expected;
      REQUIRE(golden::run_case(name, nullptr, expected).is_ok());

      // The dump, byte for byte.
      tools::dump_stats ds;
      const std::string text = dump_text(bytes, &ds);
      const std::string want = read_text(golden_dir / "good" / (stem + ".txt"));
      INFO(text_difference(text, want));
      CHECK(text == want);
      CHECK(ds.verdict == tools::dump_verdict::clean);
      CHECK(ds.live_keys == expected.size());

      test::temp_dir dir;
      const std::string path = dir.file(stem + ".simdr");
      write_file(path, bytes);
      {
        store db = test::open_ok(path, {.read_only = true, .verify_checksums = true});
        const open_report r = db.report();
        CHECK(r.committed_size == bytes.size());
        CHECK_FALSE(r.tail_dropped);
        CHECK_FALSE(r.created);
        CHECK(r.entries == ds.entries);
        CHECK(r.commits == ds.commits);
        const store_info info = db.info();
        CHECK(info.format_major == 1);
        CHECK(info.format_minor == 0);
        CHECK(info.alignment == golden::case_alignment(name));
        CHECK(info.live_keys == expected.size());
        CHECK(info.tombstones == ds.tombstones);
        auto v = db.verify();
        REQUIRE(v);
        CHECK(v->is_ok());
        CHECK(v->committed_size == bytes.size());
        CHECK(v->entries == ds.entries);
        CHECK(read_all(db) == expected);
        for (const auto& [k, val] : expected) {
          auto got = db.get(k);
          REQUIRE(got);
          CHECK(got->str() == val);
          CHECK(got->offset() % golden::case_alignment(name) == 0);
        }
      }
      CHECK(same_bytes(read_file(path), bytes)); // read-only never writes

      // A read-write open of a clean file changes nothing either.
      {
        store db = test::open_ok(path, {});
        CHECK_FALSE(db.report().tail_dropped);
        CHECK(read_all(db) == expected);
      }
      CHECK(same_bytes(read_file(path), bytes));
    }
  }
}

TEST_CASE("golden: bad files fail to open with the error their name states", "[golden]") {
  const std::set<std::string> required = {"bad_magic_text",
                                          "bad_magic_png",
                                          "corrupt_truncated_header",
                                          "corrupt_header_checksum",
                                          "unsupported_version_major2",
                                          "corrupt_damaged_entry",
                                          "unsupported_version_hash_algorithm"};
  std::set<std::string> found;
  for (const auto& de : fs::directory_iterator(golden_dir / "bad"))
    if (de.path().extension() == ".simdr") found.insert(de.path().stem().string());
  for (const std::string& r : required) {
    INFO("missing bad/" << r << ".simdr");
    CHECK(found.count(r) == 1);
  }
  for (const std::string& name : found) {
    DYNAMIC_SECTION("bad file " << name) {
      const errc want = expected_error(name);
      INFO("the name must start with bad_magic_, corrupt_ or unsupported_version_");
      REQUIRE(want != errc::ok);
      const std::vector<std::byte> bytes =
          read_file((golden_dir / "bad" / (name + ".simdr")).string());
      test::temp_dir dir;
      const std::string path = dir.file(name + ".simdr");
      write_file(path, bytes);

      auto rw = store::open(path, {});
      INFO("read-write open: " << to_string(rw.code()));
      CHECK(rw.code() == want);
      CHECK(same_bytes(read_file(path), bytes));
      auto ro = store::open(path, {.read_only = true});
      INFO("read-only open: " << to_string(ro.code()));
      CHECK(ro.code() == want);
      CHECK(same_bytes(read_file(path), bytes));

      tools::dump_stats ds;
      const std::string text = dump_text(bytes, &ds);
      const std::string golden_text = read_text(golden_dir / "bad" / (name + ".txt"));
      INFO(text_difference(text, golden_text));
      CHECK(text == golden_text);
      CHECK(ds.verdict != tools::dump_verdict::clean);
      CHECK(ds.verdict != tools::dump_verdict::tail);
      check_open_agrees_with_dump(path, bytes);
    }
  }
}

TEST_CASE("golden: dump agrees with open on every truncation of a good file", "[golden]") {
  const std::vector<std::byte> bytes = read_file((golden_dir / "good" / "basic.simdr").string());
  REQUIRE(bytes.size() > fmt::header_size);
  test::temp_dir dir;
  const std::string path = dir.file("cut.simdr");
  // Every length up to the first entries, then every third (all residues modulo 8 recur).
  for (std::size_t len = 0; len <= bytes.size(); len += len < 1100 ? 1 : 3) {
    const std::span<const std::byte> cut(bytes.data(), len);
    write_file(path, cut);
    INFO("length " << len);
    check_open_agrees_with_dump(path, cut);
  }
}

TEST_CASE("golden: dump agrees with open and verify on damaged files", "[golden]") {
  SIMDR_SEEDED(seed, "golden damage");
  std::mt19937_64 rng(seed);
  test::temp_dir dir;
  const std::string path = dir.file("damaged.simdr");
  for (const char* name : {"basic", "align8", "align4096", "w1"}) {
    const std::vector<std::byte> good =
        read_file((golden_dir / "good" / (std::string(name) + ".simdr")).string());
    REQUIRE(good.size() > fmt::header_size);
    for (int round = 0; round < 150; ++round) {
      std::vector<std::byte> bytes = good;
      const int flips = 1 + static_cast<int>(rng() % 3);
      std::ostringstream what;
      for (int f = 0; f < flips; ++f) {
        // Mostly past the header, where damage is subtle; sometimes anywhere.
        const std::size_t at =
            rng() % 8 == 0 ? rng() % bytes.size() : fmt::header_size + rng() % (bytes.size() - 64);
        const auto mask = static_cast<std::byte>(1u << (rng() % 8));
        bytes[at] ^= mask;
        what << " byte " << at << "^" << static_cast<unsigned>(mask);
      }
      if (rng() % 4 == 0) bytes.resize(fmt::header_size + rng() % (bytes.size() - 63));
      INFO(name << " round " << round << ":" << what.str() << " size " << bytes.size());
      write_file(path, bytes);
      check_open_agrees_with_dump(path, bytes);
    }
  }
}

TEST_CASE("golden: dump shows torn tails pending streams and garbage", "[golden]") {
  const std::vector<std::byte> good = read_file((golden_dir / "good" / "align8.simdr").string());
  REQUIRE(good.size() > fmt::header_size);
  test::temp_dir dir;
  const std::string path = dir.file("tail.simdr");

  SECTION("an unfinished put_stream") {
    std::vector<std::byte> bytes = good;
    const std::string key = "streaming";
    std::vector<std::byte> head(fmt::align_up(fmt::entry_header_size + key.size(), 8));
    std::memcpy(head.data() + fmt::entry_header_size, key.data(), key.size());
    fmt::encode_entry_header(fmt::kind_pending, 0, test::as_bytes(key), fmt::pending_value_size, 0,
                             bytes.size(), head.data());
    bytes.insert(bytes.end(), head.begin(), head.end());
    bytes.resize(bytes.size() + 100, std::byte{0x5a});
    tools::dump_stats ds;
    const std::string text = dump_text(bytes, &ds);
    INFO(text);
    CHECK(text.find("kind=pending flags=- key=\"streaming\" key_len=9 value_len=pending") !=
          std::string::npos);
    CHECK(ds.verdict == tools::dump_verdict::tail);
    CHECK(ds.committed_end == good.size());
    CHECK(ds.tail_bytes == head.size() + 100);
    CHECK(text.find("tail: " + std::to_string(head.size() + 100) + " bytes at " +
                    std::to_string(good.size()) + " first=") != std::string::npos);
    write_file(path, bytes);
    check_open_agrees_with_dump(path, bytes);
  }

  SECTION("a batch cut in the middle") {
    // align8's sixth commit is a batch of three puts (b1, b2, b3): keep b1 and 20 bytes of b2.
    tools::dump_stats full;
    const std::string full_text = dump_text(good, &full);
    const std::size_t b2 = full_text.find("key=\"b2\"");
    REQUIRE(b2 != std::string::npos);
    const std::size_t at = full_text.rfind('@', b2);
    const std::uint64_t b2_offset = std::stoull(full_text.substr(at + 1));
    const std::span<const std::byte> cut(good.data(), static_cast<std::size_t>(b2_offset + 20));
    tools::dump_stats ds;
    const std::string text = dump_text(cut, &ds);
    INFO(text);
    CHECK(text.find("uncommitted: 1 entries after the last commit end") != std::string::npos);
    CHECK(text.find("CUT: entry header cut by the end of the file (20 bytes left)") !=
          std::string::npos);
    CHECK(ds.verdict == tools::dump_verdict::tail);
    CHECK(ds.commits == 5);
    write_file(path, cut);
    check_open_agrees_with_dump(path, cut);
  }

  SECTION("random garbage after a valid header") {
    SIMDR_SEEDED(seed, "golden garbage");
    std::mt19937_64 rng(seed);
    for (int round = 0; round < 200; ++round) {
      std::vector<std::byte> bytes(good.begin(), good.begin() + fmt::header_size);
      const std::vector<std::byte> junk = test::random_bytes(rng, rng() % 2000);
      bytes.insert(bytes.end(), junk.begin(), junk.end());
      write_file(path, bytes);
      check_open_agrees_with_dump(path, bytes);
    }
  }
}

TEST_CASE("golden: dump escapes keys as C strings", "[golden]") {
  auto esc = [](std::string_view s, std::size_t limit = 64) {
    return tools::escape_key(test::as_bytes(s), limit);
  };
  CHECK(esc("plain key 1") == "\"plain key 1\"");
  CHECK(esc("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(esc(std::string_view("\x00\x1f\x7f\x80\xff", 5)) == "\"\\x00\\x1f\\x7f\\x80\\xff\"");
  CHECK(esc(std::string(64, 'k')) == "\"" + std::string(64, 'k') + "\"");
  CHECK(esc(std::string(65, 'k')) == "\"" + std::string(64, 'k') + "\"...(65 bytes)");
  CHECK(esc("abcdef", 3) == "\"abc\"...(6 bytes)");
  CHECK(tools::hex64(0x0123456789abcdefull) == "0123456789abcdef");
  CHECK(tools::hex64(0) == "0000000000000000");
}
