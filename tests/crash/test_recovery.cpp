// test_recovery.cpp - open-time recovery on damaged files (docs/format.md section 5): every
// possible torn tail, appended garbage, bit rot in values, headers and keys, damage confined to
// the last commit and unfinished put_stream entries. Each file is damaged on a copy and the
// result is compared with a std::map model snapshot taken after every commit.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <sstream>

#include "format/format.hpp"
#include "support/test_support.hpp"

using namespace simdr;
using simdr::test::open_ok;
namespace format = simdr::detail::format;

namespace {

using model = std::map<std::string, std::string>;

// Compares everything a store exposes with `m`: size(), get() of every key, and entries()
// (which must yield exactly the model's keys, once each). Returns "" when equal, else a
// description of the first differences (cheap enough for tens of thousands of opens).
std::string diff_content(const store& db, const model& m) {
  std::ostringstream out;
  if (db.size() != m.size()) out << "size() " << db.size() << " != model " << m.size() << "; ";
  for (const auto& [k, v] : m) {
    auto got = db.get(k);
    if (!got) {
      out << "get(" << k << "): " << to_string(got.code()) << "; ";
    } else if (got->str() != v) {
      out << "get(" << k << ") has " << got->size() << " bytes, model " << v.size() << "; ";
    }
  }
  model seen;
  for (const auto& e : db.entries()) {
    const std::string k(e.key_str());
    if (!seen.emplace(k, std::string(e.str())).second) out << "entries() repeats " << k << "; ";
    if (m.find(k) == m.end()) out << "entries() yields unknown key " << k << "; ";
  }
  if (seen.size() != m.size()) out << "entries() yields " << seen.size() << " keys; ";
  return out.str();
}

// Writes bytes [0, len) of `src` to `path` (replacing it).
void write_prefix(const std::string& path, const std::vector<std::byte>& src, std::size_t len) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  std::size_t done = 0;
  while (done < len) {
    const ssize_t n = ::write(fd, src.data() + done, len - done);
    REQUIRE(n > 0);
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

// The whole file (test::read_file is slow in Debug builds: it reads char by char).
std::vector<std::byte> slurp(const std::string& path) {
  std::vector<std::byte> out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::byte buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    REQUIRE(n >= 0);
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

// A scratch directory for the tens of thousands of damaged copies: on tmpfs (/dev/shm) when
// there is one, so that the fdatasync() each read-write recovery does costs nothing (on a disk
// the exhaustive truncation test takes minutes instead of seconds). Recovery logic does not
// depend on the file system; the other tests use the ordinary temp_dir.
class scratch_dir {
 public:
  scratch_dir() {
    std::error_code ec;
    if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) {
      std::string tmpl = "/dev/shm/simdr-test-XXXXXX";
      if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
    }
    if (path_.empty()) {
      fallback_ = std::make_unique<test::temp_dir>();
      path_ = fallback_->path().string();
    }
  }
  ~scratch_dir() {
    if (!fallback_ && std::getenv("SIMDR_KEEP_TMP") == nullptr) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  [[nodiscard]] std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
  std::unique_ptr<test::temp_dir> fallback_;
};

bool same_prefix(const std::vector<std::byte>& file, const std::vector<std::byte>& src,
                 std::size_t len) {
  return file.size() == len && std::memcmp(file.data(), src.data(), len) == 0;
}

std::string rand_string(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// A store with commits of every kind. bounds[i] is the file size after commit i (bounds[0] is
// the bare header); snaps[i] the model after commit i.
struct history {
  std::vector<std::byte> file;
  std::vector<std::uint64_t> bounds;
  std::vector<model> snaps;
};

history build_history(const std::string& path, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  history h;
  model m;
  store db = open_ok(path);
  auto committed = [&] {
    h.bounds.push_back(db.file_size());
    h.snaps.push_back(m);
  };
  auto put = [&](const std::string& k, const std::string& v) {
    REQUIRE(db.put(k, v) == errc::ok);
    m[k] = v;
    committed();
  };
  auto erase = [&](const std::string& k) {
    auto e = db.erase(k);
    REQUIRE(e);
    REQUIRE(*e);
    m.erase(k);
    committed();
  };
  auto stream = [&](const std::string& k, const std::string& v, std::size_t piece) {
    std::size_t pos = 0;
    auto source = [&](std::span<std::byte> buf) -> result<std::size_t> {
      const std::size_t n = std::min({buf.size(), v.size() - pos, piece});
      std::memcpy(buf.data(), v.data() + pos, n);
      pos += n;
      return n;
    };
    REQUIRE(db.put_stream(k, source) == errc::ok);
    m[k] = v;
    committed();
  };
  committed();  // the bare header
  put("alpha", "one");
  {
    std::vector<std::string> keys, vals;
    for (int i = 0; i < 10; ++i) {
      keys.push_back("k" + std::to_string(i));
      vals.push_back(rand_string(rng, static_cast<std::size_t>(i) * 97));  // k0 is empty
    }
    keys.push_back("bin");
    vals.push_back(rand_string(rng, 333));
    std::vector<key_value> kv;
    for (std::size_t i = 0; i < keys.size(); ++i) kv.push_back({keys[i], vals[i]});
    REQUIRE(db.put_batch(kv) == errc::ok);
    for (std::size_t i = 0; i < keys.size(); ++i) m[keys[i]] = vals[i];
    committed();
  }
  put("big1", rand_string(rng, 5000));
  erase("k3");
  stream("stream1", rand_string(rng, 3000), 700);
  {
    const write_op ops[] = {write_op::put("x", "xx"), write_op::erase("alpha"),
                            write_op::put("y", "")};
    REQUIRE(db.apply(ops) == errc::ok);
    m["x"] = "xx";
    m.erase("alpha");
    m["y"] = "";
    committed();
  }
  {
    REQUIRE(db.rename("k4", "k4r") == errc::ok);
    m["k4r"] = m["k4"];
    m.erase("k4");
    committed();
  }
  put("alpha", "");  // re-put of an erased key, empty value
  // ---- the last four commits: every truncation point inside them is tried ----
  {
    const std::string huge = rand_string(rng, 4500), k1 = rand_string(rng, 17);
    const std::string first7 = "first", last7 = rand_string(rng, 1200);
    const key_value kv[] = {{"k1", k1}, {"huge", huge}, {"e", ""}, {"k7", first7}, {"k7", last7}};
    REQUIRE(db.put_batch(kv) == errc::ok);
    m["k1"] = k1;
    m["huge"] = huge;
    m["e"] = "";
    m["k7"] = last7;
    committed();
  }
  erase("k5");
  stream("stream2", rand_string(rng, 6000), 1000);
  {
    const std::string huge2 = rand_string(rng, 4100);
    const write_op ops[] = {write_op::put("k2", "v2new"), write_op::erase("big1"),
                            write_op::put("z", ""), write_op::put("huge2", huge2)};
    REQUIRE(db.apply(ops) == errc::ok);
    m["k2"] = "v2new";
    m.erase("big1");
    m["z"] = "";
    m["huge2"] = huge2;
    committed();
  }
  REQUIRE(diff_content(db, m).empty());
  db = store();
  h.file = slurp(path);
  REQUIRE(h.file.size() == h.bounds.back());
  return h;
}

// Entry offsets of a valid file, with the index of the commit each belongs to (1-based, as in
// history::bounds).
struct entry_pos {
  format::entry e;
  std::size_t commit;
};
std::vector<entry_pos> walk_entries(const std::vector<std::byte>& file) {
  std::vector<entry_pos> out;
  format::file_header fh;
  REQUIRE(format::decode_header(file, fh) == errc::ok);
  std::uint64_t pos = format::header_size;
  std::size_t commit = 1;
  while (pos < file.size()) {
    format::entry e;
    REQUIRE(format::decode_entry(file, pos, fh.alignment(), e) == format::decode_result::ok);
    out.push_back({e, commit});
    if (e.is_commit_end()) ++commit;
    pos = e.end;
  }
  return out;
}

}  // namespace

TEST_CASE("every truncation of the last commits recovers the last complete commit",
          "[recovery]") {
  SIMDR_SEEDED(seed, "recovery-truncation");
  test::temp_dir dir;
  const history h = build_history(dir.file("orig.simdr"), seed);
  const std::size_t commits = h.bounds.size() - 1;
  REQUIRE(commits >= 8);
  scratch_dir scratch;
  const std::string rw = scratch.file("rw.simdr"), ro = scratch.file("ro.simdr");
  const std::uint64_t from = h.bounds[commits - 4];  // start of the 4th-to-last commit
  std::size_t checked = 0, dropped = 0;
  for (std::uint64_t len = from; len <= h.file.size(); ++len) {
    const auto at = std::upper_bound(h.bounds.begin(), h.bounds.end(), len) - 1;
    const std::size_t idx = static_cast<std::size_t>(at - h.bounds.begin());
    const std::uint64_t boundary = *at;
    const bool torn = len != boundary;
    INFO("truncated to " << len << " of " << h.file.size() << "; last boundary " << boundary
                         << " (commit " << idx << ")");
    write_prefix(rw, h.file, len);
    write_prefix(ro, h.file, len);
    {
      auto opened = store::open(rw, {});
      INFO("open: " << to_string(opened.code()) << " at " << opened.error().offset);
      REQUIRE(opened);
      const open_report rep = opened->report();
      REQUIRE(rep.tail_dropped == torn);
      REQUIRE(rep.tail_truncated == torn);
      REQUIRE(rep.tail_bytes == len - boundary);
      REQUIRE(rep.file_size_before == len);
      REQUIRE(rep.committed_size == boundary);
      REQUIRE(rep.commits == idx);
      REQUIRE_FALSE(rep.created);
      REQUIRE(opened->file_size() == boundary);
      const std::string diff = diff_content(*opened, h.snaps[idx]);
      INFO("content: " << diff);
      REQUIRE(diff.empty());
      auto ver = opened->verify();
      REQUIRE(ver);
      REQUIRE(ver->is_ok());
      REQUIRE(ver->committed_size == boundary);
      REQUIRE(same_prefix(slurp(rw), h.file, static_cast<std::size_t>(boundary)));
    }
    {
      auto opened = store::open(ro, {.read_only = true});
      REQUIRE(opened);
      const open_report rep = opened->report();
      REQUIRE(rep.tail_dropped == torn);
      REQUIRE_FALSE(rep.tail_truncated);
      REQUIRE(rep.tail_bytes == len - boundary);
      REQUIRE(rep.committed_size == boundary);
      const std::string diff = diff_content(*opened, h.snaps[idx]);
      INFO("read-only content: " << diff);
      REQUIRE(diff.empty());
      REQUIRE(opened->verify()->is_ok());
      REQUIRE(same_prefix(slurp(ro), h.file, static_cast<std::size_t>(len)));
    }
    ++checked;
    dropped += torn;
  }
  CHECK(checked == h.file.size() - from + 1);
  CHECK(dropped == checked - 5);  // exactly the five commit boundaries keep everything
}

TEST_CASE("garbage appended after the last commit is dropped and reported", "[recovery]") {
  SIMDR_SEEDED(seed, "recovery-garbage");
  std::mt19937_64 rng(seed);
  test::temp_dir dir;
  const history h = build_history(dir.file("orig.simdr"), seed);
  std::vector<std::size_t> lengths = {1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 4095, 4096, 99999, 100000};
  for (int i = 0; i < 30; ++i) lengths.push_back(1 + rng() % 100000);
  const std::string path = dir.file("g.simdr");
  for (std::size_t glen : lengths) {
    for (int kind = 0; kind < 3; ++kind) {
      // random bytes, zeros (a preallocated or zero-extended tail), 0xFF
      std::vector<std::byte> g = kind == 0 ? test::random_bytes(rng, glen)
                                           : std::vector<std::byte>(glen, std::byte(kind == 1 ? 0 : 0xFF));
      std::vector<std::byte> img = h.file;
      img.insert(img.end(), g.begin(), g.end());
      INFO("garbage of " << glen << " bytes, kind " << kind);
      test::write_file(path, img);
      {
        auto opened = store::open(path, {.read_only = true});
        REQUIRE(opened);
        CHECK(opened->report().tail_dropped);
        CHECK(opened->report().tail_bytes == glen);
        CHECK(diff_content(*opened, h.snaps.back()).empty());
      }
      CHECK((slurp(path) == img));  // read-only: untouched
      auto opened = store::open(path, {});
      INFO("open: " << to_string(opened.code()));
      REQUIRE(opened);
      const open_report rep = opened->report();
      CHECK(rep.tail_dropped);
      CHECK(rep.tail_truncated);
      CHECK(rep.tail_bytes == glen);
      CHECK(rep.commits == h.bounds.size() - 1);
      CHECK(rep.committed_size == h.file.size());
      const std::string diff = diff_content(*opened, h.snaps.back());
      INFO(diff);
      CHECK(diff.empty());
      CHECK(opened->verify()->is_ok());
      CHECK((slurp(path) == h.file));
      // and the store keeps working after the truncation
      REQUIRE(opened->put("after", "garbage") == errc::ok);
      REQUIRE(opened->close() == errc::ok);
      store again = open_ok(path, {});
      CHECK_FALSE(again.report().tail_dropped);
      CHECK(again.get("after")->str() == "garbage");
    }
  }
}

TEST_CASE("bit rot in an older value is found by verify and checked reads only",
          "[recovery]") {
  SIMDR_SEEDED(seed, "recovery-value-rot");
  std::mt19937_64 rng(seed);
  test::temp_dir dir;
  const history h = build_history(dir.file("orig.simdr"), seed);
  const model& final_model = h.snaps.back();
  // Values written in early commits and still live at the end.
  std::map<std::string, std::uint64_t> offsets;
  {
    store db = open_ok(dir.file("orig.simdr"), {.read_only = true});
    for (const char* k : {"k6", "bin", "stream1", "k9", "k4r"}) {
      auto v = db.get(k);
      REQUIRE(v);
      REQUIRE(v->size() > 0);
      offsets[k] = v->offset();
    }
  }
  const std::string path = dir.file("rot.simdr");
  for (const auto& [key, voff] : offsets) {
    const std::string& orig = final_model.at(key);
    std::vector<std::size_t> positions = {0, orig.size() - 1};
    for (int i = 0; i < 4; ++i) positions.push_back(rng() % orig.size());
    for (std::size_t p : positions) {
      const int bit = static_cast<int>(rng() % 8);
      INFO("key " << key << " value byte " << p << " bit " << bit);
      std::vector<std::byte> img = h.file;
      img[voff + p] ^= std::byte(1u << bit);
      test::write_file(path, img);
      {
        auto opened = store::open(path, {});
        REQUIRE(opened);  // open does not hash values (docs/format.md 5.4)
        CHECK_FALSE(opened->report().tail_dropped);
        auto ver = opened->verify();
        REQUIRE(ver);
        REQUIRE(ver->issues.size() == 1);
        CHECK(ver->issues[0].offset == voff);
        CHECK(ver->issues[0].code == errc::checksum_mismatch);
        auto wrong = opened->get(key);
        REQUIRE(wrong);
        std::string expect = orig;
        expect[p] = static_cast<char>(expect[p] ^ (1 << bit));
        CHECK(wrong->str() == expect);
        std::string streamed;
        CHECK(opened->read_stream(key, [&](std::span<const std::byte> c) -> status {
          streamed.append(reinterpret_cast<const char*>(c.data()), c.size());
          return errc::ok;
        }) == errc::checksum_mismatch);
        CHECK(streamed == expect);
        model others = final_model;
        others.erase(key);
        for (const auto& [k, v] : others) {
          auto good = opened->get(k);
          REQUIRE(good);
          CHECK(good->str() == v);
        }
      }
      {
        auto opened = store::open(path, {.verify_checksums = true});
        REQUIRE(opened);
        auto bad = opened->get(key);
        CHECK(bad.code() == errc::checksum_mismatch);
        CHECK(bad.error().offset == voff);
        for (const auto& [k, v] : final_model)
          if (k != key) {
            auto good = opened->get(k);
            REQUIRE(good);
            CHECK(good->str() == v);
          }
        // compaction refuses to carry the damage and leaves the file in place
        const auto before = slurp(path);
        auto rep = opened->compact();
        CHECK(rep.code() == errc::checksum_mismatch);
        CHECK((slurp(path) == before));
      }
      CHECK((slurp(path) == img));  // nothing was repaired or truncated
    }
  }
}

TEST_CASE("non-zero padding is reported by verify as corrupt", "[recovery]") {
  SIMDR_SEEDED(seed, "recovery-padding");
  test::temp_dir dir;
  const history h = build_history(dir.file("orig.simdr"), seed);
  const std::vector<entry_pos> entries = walk_entries(h.file);
  const std::string path = dir.file("pad.simdr");
  int tried = 0;
  for (const entry_pos& ep : entries) {
    const format::entry& e = ep.e;
    const std::uint64_t key_end = e.key_offset() + e.key_size;
    if (e.kind != format::kind_put || key_end == e.value_offset) continue;
    std::vector<std::byte> img = h.file;
    img[key_end] = std::byte{0x5A};
    test::write_file(path, img);
    INFO("entry at " << e.offset);
    auto opened = store::open(path, {});
    REQUIRE(opened);
    auto ver = opened->verify();
    REQUIRE(ver);
    REQUIRE(ver->issues.size() == 1);
    CHECK(ver->issues[0].offset == e.offset);
    CHECK(ver->issues[0].code == errc::corrupt);
    ++tried;
  }
  CHECK(tried > 10);
}

TEST_CASE("bit flips in an older entry header or key make open fail with corrupt",
          "[recovery]") {
  SIMDR_SEEDED(seed, "recovery-header-rot");
  std::mt19937_64 rng(seed);
  test::temp_dir dir;
  const history h = build_history(dir.file("orig.simdr"), seed);
  const std::size_t commits = h.bounds.size() - 1;
  const std::vector<entry_pos> entries = walk_entries(h.file);
  scratch_dir scratch;
  const std::string path = scratch.file("rot.simdr");
  std::size_t tried = 0;
  for (const entry_pos& ep : entries) {
    // Two or more complete commits must follow the damaged one (docs/format.md 5.3).
    if (ep.commit + 2 > commits) continue;
    const std::uint64_t end = ep.e.key_offset() + ep.e.key_size;
    for (std::uint64_t at = ep.e.offset; at < end; ++at) {
      const int bit = static_cast<int>(rng() % 8);
      INFO("entry at " << ep.e.offset << " (commit " << ep.commit << " of " << commits
                       << "), byte " << at - ep.e.offset << " bit " << bit);
      std::vector<std::byte> img = h.file;
      img[at] ^= std::byte(1u << bit);
      write_prefix(path, img, img.size());
      auto opened = store::open(path, {});
      REQUIRE(opened.code() == errc::corrupt);
      CHECK(opened.error().offset == ep.e.offset);
      REQUIRE(same_prefix(slurp(path), img, img.size()));
      auto ro = store::open(path, {.read_only = true});
      REQUIRE(ro.code() == errc::corrupt);
      REQUIRE(same_prefix(slurp(path), img, img.size()));
      ++tried;
    }
  }
  CHECK(tried > 200);
}

TEST_CASE("damage confined to the last commit drops that commit", "[recovery]") {
  SIMDR_SEEDED(seed, "recovery-last-commit");
  std::mt19937_64 rng(seed);
  test::temp_dir dir;
  const std::string orig = dir.file("orig.simdr");
  model before;
  std::uint64_t last_start = 0, last_entry = 0;
  {
    store db = open_ok(orig);
    for (int i = 0; i < 20; ++i) {
      const std::string k = "pre" + std::to_string(i), v = rand_string(rng, rng() % 300);
      REQUIRE(db.put(k, v) == errc::ok);
      before[k] = v;
    }
    last_start = db.file_size();
    std::vector<std::string> keys, vals;
    for (int i = 0; i < 60; ++i) {
      keys.push_back("last" + std::to_string(i));
      vals.push_back(rand_string(rng, 50 + rng() % 150));
    }
    keys.push_back("pre3");  // the last commit also overwrites an older key
    vals.push_back("new");
    std::vector<key_value> kv;
    for (std::size_t i = 0; i < keys.size(); ++i) kv.push_back({keys[i], vals[i]});
    REQUIRE(db.put_batch(kv) == errc::ok);
  }
  const std::vector<std::byte> file = slurp(orig);
  const std::vector<entry_pos> entries = walk_entries(file);
  REQUIRE(entries.back().e.is_commit_end());
  last_entry = entries.back().e.offset;  // the commit-end entry stays intact
  REQUIRE(last_entry - 512 > last_start + 4096);
  const std::string path = dir.file("torn.simdr");
  std::vector<std::uint64_t> starts = {last_start, last_entry - 512};
  for (int i = 0; i < 20; ++i) starts.push_back(last_start + rng() % (last_entry - 512 - last_start));
  for (std::uint64_t s : starts) {
    for (int fill = 0; fill < 2; ++fill) {
      INFO("region [" << s << ", " << s + 512 << ") " << (fill == 0 ? "zeroed" : "random")
                      << "; last commit [" << last_start << ", " << file.size() << ")");
      std::vector<std::byte> img = file;
      const auto noise = test::random_bytes(rng, 512);
      for (std::size_t i = 0; i < 512; ++i) img[s + i] = fill == 0 ? std::byte{0} : noise[i];
      test::write_file(path, img);
      {
        auto ro = store::open(path, {.read_only = true});
        REQUIRE(ro);
        CHECK(ro->report().tail_dropped);
        CHECK(diff_content(*ro, before).empty());
      }
      CHECK((slurp(path) == img));
      auto opened = store::open(path, {});
      INFO("open: " << to_string(opened.code()));
      REQUIRE(opened);
      const open_report rep = opened->report();
      CHECK(rep.tail_dropped);
      CHECK(rep.tail_truncated);
      CHECK(rep.committed_size == last_start);
      CHECK(rep.tail_bytes == file.size() - last_start);
      CHECK(rep.commits == 20);
      const std::string diff = diff_content(*opened, before);
      INFO(diff);
      CHECK(diff.empty());
      CHECK(opened->verify()->is_ok());
      CHECK(same_prefix(slurp(path), file, static_cast<std::size_t>(last_start)));
    }
  }
}

TEST_CASE("an unfinished put_stream (pending entry) is dropped on reopen", "[recovery]") {
  SIMDR_SEEDED(seed, "recovery-pending");
  std::mt19937_64 rng(seed);
  test::temp_dir dir;
  const std::string path = dir.file("s.simdr");
  model m;
  std::vector<std::vector<std::byte>> snapshots;  // the file as a crash would leave it
  std::uint64_t committed = 0;
  {
    store db = open_ok(path);
    REQUIRE(db.put("before", "x") == errc::ok);
    m["before"] = "x";
    const std::string big = rand_string(rng, (5 << 19) + 77);  // 2.5 MiB + 77
    REQUIRE(db.put("stream", "old value") == errc::ok);
    m["stream"] = "old value";
    committed = db.file_size();
    std::size_t pos = 0;
    auto source = [&](std::span<std::byte> buf) -> result<std::size_t> {
      snapshots.push_back(slurp(path));  // a process killed right here
      const std::size_t n = std::min<std::size_t>({buf.size(), big.size() - pos, 256 << 10});
      std::memcpy(buf.data(), big.data() + pos, n);
      pos += n;
      return n;
    };
    REQUIRE(db.put_stream("stream", source) == errc::ok);
  }
  REQUIRE(snapshots.size() > 4);
  // the first snapshot holds only the pending header; later ones hold whole 1 MiB chunks
  std::vector<std::vector<std::byte>> cases;
  for (const auto& s : snapshots) {
    REQUIRE(s.size() > committed);
    format::entry e;
    REQUIRE(format::decode_entry(s, committed, 64, e) == format::decode_result::pending);
    cases.push_back(s);
    // and cut inside the streamed value
    std::vector<std::byte> cut = s;
    cut.resize(static_cast<std::size_t>(committed + 1 + rng() % (s.size() - committed)));
    cases.push_back(cut);
  }
  std::set<std::size_t> sizes;
  for (const auto& s : snapshots) sizes.insert(s.size());
  CHECK(sizes.size() >= 3);  // header only, +1 MiB, +2 MiB
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& img = cases[i];
    INFO("case " << i << ": " << img.size() << " bytes, committed " << committed);
    const std::string p = dir.file("p" + std::to_string(i));
    test::write_file(p, img);
    {
      auto ro = store::open(p, {.read_only = true});
      REQUIRE(ro);
      CHECK(ro->report().tail_dropped);
      CHECK(ro->report().tail_bytes == img.size() - committed);
      CHECK(diff_content(*ro, m).empty());
    }
    CHECK((slurp(p) == img));
    auto opened = store::open(p, {});
    REQUIRE(opened);
    CHECK(opened->report().tail_dropped);
    CHECK(opened->report().tail_bytes == img.size() - committed);
    CHECK(opened->report().committed_size == committed);
    const std::string diff = diff_content(*opened, m);
    INFO(diff);
    CHECK(diff.empty());
    CHECK(opened->verify()->is_ok());
    CHECK(slurp(p).size() == committed);
    REQUIRE(opened->put("later", "ok") == errc::ok);
  }
}

// BUG (tagged [.bug] only, since a "[recovery]" filter would select a hidden test too): a
// read-only handle opened while the file had a torn tail keeps the stale, larger size after a
// writer truncates that tail (posix_storage::reload_size() only ever grows); refresh() then
// scans the mapping past the end of the file and dies of SIGBUS once the old tail reached past
// the page holding the new end of file. Run in a child so the crash is reported, not suffered.
TEST_CASE("refresh() after a writer truncated the torn tail a reader saw", "[recovery]") {
  SIMDR_SEEDED(seed, "recovery-refresh-shrink");
  std::mt19937_64 rng(seed);
  test::temp_dir dir;
  const std::string path = dir.file("r.simdr");
  {
    store db = open_ok(path);
    REQUIRE(db.put("a", "1") == errc::ok);
  }
  std::vector<std::byte> img = slurp(path);
  const auto garbage = test::random_bytes(rng, 3 * 4096);  // a torn commit of three pages
  img.insert(img.end(), garbage.begin(), garbage.end());
  test::write_file(path, img);
  auto child = [&]() -> int {
    auto reader = store::open(path, {.read_only = true});
    if (!reader || !reader->report().tail_dropped) return 10;
    {
      auto writer = store::open(path, {});  // recovery truncates the tail
      if (!writer || !writer->report().tail_truncated) return 11;
      if (writer->put("b", "2") != errc::ok) return 12;
    }
    auto r = reader->refresh();  // SIGBUS here
    if (!r) return 13;
    if (!reader->get("b") || reader->get("b")->str() != "2") return 14;
    return 0;
  };
#if SIMDR_TEST_HAS_PROCESSES
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(child());
  int ws = 0;
  REQUIRE(::waitpid(pid, &ws, 0) == pid);
  INFO("child: " << (WIFSIGNALED(ws) ? "killed by signal " : "exit code ")
                 << (WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws)));
  CHECK(WIFEXITED(ws));
  CHECK(WEXITSTATUS(ws) == 0);
#else
  CHECK(child() == 0);  // no fork() under wasm: in-process (the wasm image cannot SIGBUS)
#endif
}

// BUG (tagged [.bug] only): docs/format.md 5.4 promises that damage confined to the last
// commit is dropped like a torn write. The resynchronisation scan of recovery/scan.cpp
// (damage_precedes_commits) walks the bytes after the damage 8 bytes at a time and counts every
// entry that decodes, including entries that are merely DATA inside a value whose own header
// was damaged. A torn last commit holding a value that contains store-formatted bytes (a backup
// of another store, a log of entries...) then makes open fail with corrupt: the store cannot
// be opened at all after a power loss that tore only an unacknowledged commit.
TEST_CASE("damage in the last commit over a value that holds store entries", "[recovery]") {
  SIMDR_SEEDED(seed, "recovery-embedded-entries");
  std::mt19937_64 rng(seed);
  test::temp_dir dir;
  // a small store file, to be stored as a value (e.g. a backup)
  const std::string inner = dir.file("inner.simdr");
  {
    store db = open_ok(inner);
    for (int i = 0; i < 20; ++i) REQUIRE(db.put("i" + std::to_string(i), "v") == errc::ok);
  }
  const std::vector<std::byte> backup = slurp(inner);
  const std::string path = dir.file("outer.simdr");
  model before;
  std::uint64_t last_start = 0;
  {
    store db = open_ok(path);
    for (int i = 0; i < 5; ++i) {
      REQUIRE(db.put("pre" + std::to_string(i), "p") == errc::ok);
      before["pre" + std::to_string(i)] = "p";
    }
    last_start = db.file_size();
    const key_value kv[] = {{"x1", "small"}, {"backup", std::span<const std::byte>(backup)},
                            {"x2", "small"}};
    REQUIRE(db.put_batch(kv) == errc::ok);
  }
  std::vector<std::byte> img = slurp(path);
  const std::vector<entry_pos> entries = walk_entries(img);
  REQUIRE(entries.size() == 8);
  const format::entry& victim = entries[6].e;  // the entry holding the backup
  REQUIRE(victim.key_size == 6);
  // a torn page of the unacknowledged last commit: its bytes never reached the disk
  for (std::uint64_t i = victim.offset; i < victim.offset + 512; ++i) img[i] = std::byte{0};
  test::write_file(path, img);
  auto opened = store::open(path, {});
  INFO("open: " << to_string(opened.code()) << " at offset " << opened.error().offset
                << "; last commit starts at " << last_start);
  REQUIRE(opened);
  CHECK(opened->report().tail_dropped);
  CHECK(opened->report().committed_size == last_start);
  CHECK(diff_content(*opened, before).empty());
}

// BUG (tagged [.bug] only), the dangerous side of the one above: bit rot in the header of an
// older entry must make open fail with corrupt (its later commits are acknowledged data), but
// damage_precedes_commits() stops at the first PENDING entry it decodes, even one that is only
// data inside the damaged entry's value (here: a snapshot of a store taken during a
// put_stream). It then reports "no commits follow", so open treats the damage as a torn tail
// and TRUNCATES every later, acknowledged commit.
TEST_CASE("bit rot over a value that holds a pending entry is corrupt, not a tail", "[recovery]") {
  test::temp_dir dir;
  // a store file caught in the middle of a put_stream: a put, then a pending entry
  const std::string inner = dir.file("inner.simdr");
  std::vector<std::byte> snapshot;
  {
    store db = open_ok(inner);
    REQUIRE(db.put("i", "v") == errc::ok);
    bool taken = false;
    auto source = [&](std::span<std::byte>) -> result<std::size_t> {
      if (!taken) snapshot = slurp(inner);
      taken = true;
      return 0;
    };
    REQUIRE(db.put_stream("s", source) == errc::ok);
  }
  const std::string path = dir.file("outer.simdr");
  model m;
  {
    store db = open_ok(path);
    REQUIRE(db.put("first", "1") == errc::ok);
    REQUIRE(db.put("snapshot", std::span<const std::byte>(snapshot)) == errc::ok);
    for (int i = 0; i < 10; ++i) REQUIRE(db.put("later" + std::to_string(i), "acked") == errc::ok);
  }
  std::vector<std::byte> img = slurp(path);
  const std::vector<entry_pos> entries = walk_entries(img);
  REQUIRE(entries.size() == 12);
  const format::entry& victim = entries[1].e;
  REQUIRE(victim.key_size == 8);
  img[victim.offset + 20] ^= std::byte{0x04};  // one bit of its value_len
  test::write_file(path, img);
  auto opened = store::open(path, {});
  const open_report rep = opened ? opened->report() : open_report{};
  INFO("open: " << to_string(opened.code()) << "; committed_size " << rep.committed_size
                << ", tail_bytes " << rep.tail_bytes);
  CHECK(opened.code() == errc::corrupt);
  CHECK((slurp(path) == img));  // ten acknowledged commits must not be truncated away
}

TEST_CASE("damage followed only by an unfinished stream is corrupt, not a torn tail", "[recovery]") {
  // A put_stream starts at the committed end, so a pending entry past the damage proves the
  // damaged bytes were committed: open must refuse (corrupt) rather than truncate them away.
  test::temp_dir dir;
  const std::string path = dir.file("s.simdr");
  const std::string snap = dir.file("snap.simdr");
  std::uint64_t victim = 0;
  {
    store db = open_ok(path);
    REQUIRE(db.put("first", "1") == errc::ok);
    victim = db.file_size();  // the next entry's header starts here
    REQUIRE(db.put("second", std::string(300, 's')) == errc::ok);
    int calls = 0;
    auto source = [&](std::span<std::byte> buf) -> result<std::size_t> {
      if (calls++ == 1) test::write_file(snap, test::read_file(path));  // mid-stream copy
      if (calls > 3) return std::size_t{0};
      std::memset(buf.data(), 'x', 1000);
      return std::size_t{1000};
    };
    REQUIRE(db.put_stream("streamed", source) == errc::ok);
  }
  std::vector<std::byte> bytes = test::read_file(snap);
  bytes[victim + 9] ^= std::byte{0x40};  // a flag bit of "second": header checksum fails
  test::write_file(snap, bytes);
  auto opened = store::open(snap, {});
  CHECK(opened.code() == errc::corrupt);
  CHECK(opened.error().offset == victim);
  CHECK(test::read_file(snap) == bytes);  // nothing truncated
  // Without the pending entry behind it, the same damage is a torn tail of the last commit.
  bytes.resize(victim + 64);
  test::write_file(snap, bytes);
  auto torn = store::open(snap, {});
  REQUIRE(torn);
  CHECK(torn->report().tail_dropped);
  CHECK(torn->get("first")->str() == "1");
}
