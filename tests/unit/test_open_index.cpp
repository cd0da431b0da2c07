// test_open_index.cpp - the index build at open: the scan and the build overlap (two threads
// natively, one after the other on memory_storage), the table is sized from a sample of the
// first entries, grows when that sample misleads and shrinks when it overshoots.
#include <catch2/catch.hpp>
#include <string>

#include "memory_storage.hpp"
#include "store_impl.hpp"
#include "support/test_support.hpp"

using namespace simdr;
using simdr::test::open_ok;

namespace {

enum class backend { native, memory };

// Reopens the file at `path`: natively (scan and build on two threads), or as a copy in
// memory_storage (storage::run_pair's sequential default).
store reopen(backend b, const std::string& path, bool read_only = false) {
  if (b == backend::native) return open_ok(path, {.read_only = read_only});
  auto s = memory_storage::from_bytes(test::read_file(path), !read_only);
  REQUIRE(s != nullptr);
  auto r = detail::open_store(std::move(s), {.read_only = read_only});
  REQUIRE(r.has_value());
  return std::move(*r);
}

std::string key_of(int i) { return "key-" + std::to_string(i); }

}  // namespace

TEST_CASE("open grows the index when the first entries mislead its estimate", "[store][open][concurrency]") {
  const backend b = GENERATE(backend::native, backend::memory);
  const bool read_only = GENERATE(false, true);
  test::temp_dir dir;
  const std::string path = dir.file("a.simdr");
  // 1100 entries of 16 KiB first: the sample predicts few keys per byte. Then 40,000 small
  // ones, in several commits, which the estimated table cannot hold without growing.
  constexpr int big = 1100, small = 40000;
  {
    store db = open_ok(path);
    for (int i = 0; i < big; ++i)
      REQUIRE(db.put(key_of(i), std::string(16384, static_cast<char>('a' + i % 26))) == errc::ok);
    std::vector<std::string> keys, values;
    for (int i = big; i < big + small; ++i) {
      keys.push_back(key_of(i));
      values.push_back(std::to_string(i * 7));
    }
    std::vector<key_value> kv;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      kv.push_back({keys[i], values[i]});
      if (kv.size() == 5000) {
        REQUIRE(db.put_batch(kv) == errc::ok);
        kv.clear();
      }
    }
    REQUIRE(db.put_batch(kv) == errc::ok);
  }
  store db = reopen(b, path, read_only);
  REQUIRE(db.size() == big + small);
  for (int i = 0; i < big; ++i) {
    auto v = db.get(key_of(i));
    REQUIRE(v);
    REQUIRE(v->size() == 16384);
    REQUIRE(static_cast<char>(v->data()[0]) == static_cast<char>('a' + i % 26));
  }
  for (int i = big; i < big + small; ++i) {
    auto v = db.get(key_of(i));
    REQUIRE(v);
    REQUIRE(v->str() == std::to_string(i * 7));
  }
  CHECK(db.info().index_bytes < 24u * (big + small));
}

TEST_CASE("open gives index memory back when its estimate overshoots", "[store][open]") {
  const backend b = GENERATE(backend::native, backend::memory);
  test::temp_dir dir;
  const std::string path = dir.file("a.simdr");
  constexpr int n = 20000, kept = 50;
  {
    store db = open_ok(path);
    std::vector<std::string> keys;
    for (int i = 0; i < n; ++i) keys.push_back(key_of(i));
    std::vector<key_value> kv;
    for (const auto& k : keys) kv.push_back({k, "v"});
    REQUIRE(db.put_batch(kv) == errc::ok);
    for (int i = kept; i < n; ++i) REQUIRE(*db.erase(key_of(i)));
  }
  // The sample sees only puts, so the estimate is about n + the tombstones' share; only 50
  // keys are live. The table that remains must be sized for them.
  store db = reopen(b, path);
  REQUIRE(db.size() == kept);
  for (int i = 0; i < n; ++i) REQUIRE(*db.contains(key_of(i)) == (i < kept));
  CHECK(db.info().index_bytes < 8192);
}

TEST_CASE("open of a log shorter than the sample sizes the index exactly", "[store][open]") {
  const backend b = GENERATE(backend::native, backend::memory);
  test::temp_dir dir;
  const std::string path = dir.file("a.simdr");
  {
    store db = open_ok(path);
    for (int i = 0; i < 300; ++i) REQUIRE(db.put(key_of(i), "x") == errc::ok);
  }
  store db = reopen(b, path);
  REQUIRE(db.size() == 300);
  for (int i = 0; i < 300; ++i) REQUIRE(*db.contains(key_of(i)));
  // slots_for(300) slots of 8 bytes, plus the table header: well under 8 KiB.
  CHECK(db.info().index_bytes < 8192);
}
