// test_store.cpp - the public store API on the native backend: CRUD, batches, iteration,
// streaming, rename/copy/move, compaction, reopen, options and misuse.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>

#include "support/test_support.hpp"

using namespace simdr;
using simdr::test::as_bytes;
using simdr::test::open_ok;
using simdr::test::str;

TEST_CASE("put, get, contains, erase, size", "[store]") {
  test::temp_dir dir;
  store db = open_ok(dir.file("a.simdr"));
  REQUIRE(db.size() == 0);
  REQUIRE(db.put("alpha", "one") == errc::ok);
  REQUIRE(db.put("beta", "") == errc::ok);  // empty value is a legal value
  const std::byte zero[1] = {std::byte{0}};
  REQUIRE(db.put("gamma", bytes(zero, 1)) == errc::ok);  // a single 0x00 byte too
  REQUIRE(db.size() == 3);

  auto a = db.get("alpha");
  REQUIRE(a);
  CHECK(a->str() == "one");
  CHECK(a->key_str() == "alpha");
  CHECK(a->offset() % 64 == 0);
  CHECK(reinterpret_cast<std::uintptr_t>(a->data()) % 64 == 0);
  auto b = db.get("beta");
  REQUIRE(b);
  CHECK(b->size() == 0);
  auto g = db.get("gamma");
  REQUIRE(g);
  REQUIRE(g->size() == 1);
  CHECK(g->data()[0] == std::byte{0});

  CHECK(db.get("missing").code() == errc::not_found);
  CHECK(*db.contains("alpha"));
  CHECK_FALSE(*db.contains("missing"));

  REQUIRE(db.put("alpha", "two") == errc::ok);
  CHECK(db.get("alpha")->str() == "two");
  CHECK(a->str() == "one");  // the old view still shows the old value
  CHECK(db.size() == 3);

  auto erased = db.erase("alpha");
  REQUIRE(erased);
  CHECK(*erased);
  CHECK_FALSE(*db.erase("alpha"));
  CHECK(db.get("alpha").code() == errc::not_found);
  CHECK(db.size() == 2);
  REQUIRE(db.put("alpha", "three") == errc::ok);  // re-put after erase
  CHECK(db.get("alpha")->str() == "three");
  CHECK(db.size() == 3);
}

TEST_CASE("keys are validated", "[store]") {
  test::temp_dir dir;
  store db = open_ok(dir.file("a.simdr"));
  CHECK(db.put("", "x") == errc::invalid_argument);
  std::string longest(max_key_size, 'k');
  CHECK(db.put(longest, "x") == errc::ok);
  CHECK(db.get(longest)->str() == "x");
  std::string too_long(max_key_size + 1, 'k');
  CHECK(db.put(too_long, "x") == errc::too_large);
  CHECK(db.get("").code() == errc::invalid_argument);
  const write_op ops[2] = {write_op::put("ok", "1"), write_op::put("", "2")};
  CHECK(db.apply(ops) == errc::invalid_argument);
  CHECK(db.get("ok").code() == errc::not_found);  // nothing of a rejected batch is written
}

TEST_CASE("binary keys and values with every byte value", "[store]") {
  test::temp_dir dir;
  store db = open_ok(dir.file("a.simdr"));
  std::vector<std::byte> key(256), val(1000);
  for (int i = 0; i < 256; ++i) key[i] = static_cast<std::byte>(i);
  for (int i = 0; i < 1000; ++i) val[i] = static_cast<std::byte>(255 - i % 256);
  REQUIRE(db.put(std::span<const std::byte>(key), std::span<const std::byte>(val)) == errc::ok);
  auto v = db.get(std::span<const std::byte>(key));
  REQUIRE(v);
  REQUIRE(v->size() == val.size());
  CHECK(std::memcmp(v->data(), val.data(), val.size()) == 0);
}

TEST_CASE("put_batch and apply are single commits", "[store]") {
  test::temp_dir dir;
  const std::string path = dir.file("a.simdr");
  {
    store db = open_ok(path);
    std::vector<std::string> keys, vals;
    for (int i = 0; i < 100; ++i) {
      keys.push_back("k" + std::to_string(i));
      vals.push_back(std::string(static_cast<std::size_t>(i * 37), 'v'));
    }
    std::vector<key_value> kv;
    for (int i = 0; i < 100; ++i) kv.push_back({keys[i], vals[i]});
    kv.push_back({"k5", "last wins"});
    REQUIRE(db.put_batch(kv) == errc::ok);
    CHECK(db.size() == 100);
    CHECK(db.get("k5")->str() == "last wins");
    const write_op ops[] = {write_op::erase("k1"), write_op::put("new", "n"),
                            write_op::erase("k2")};
    REQUIRE(db.apply(ops) == errc::ok);
    CHECK(db.size() == 99);
    auto rep = db.report();
    CHECK(rep.created);
  }
  store db = open_ok(path, {});
  auto rep = db.report();
  CHECK(rep.commits == 2);
  CHECK_FALSE(rep.tail_dropped);
  CHECK(db.size() == 99);
  CHECK(db.get("k5")->str() == "last wins");
  CHECK(db.get("k1").code() == errc::not_found);
  CHECK(db.get("new")->str() == "n");
  CHECK(db.get("k99")->size() == 99 * 37);
}

TEST_CASE("iteration yields each live key once with its newest value", "[store]") {
  test::temp_dir dir;
  store db = open_ok(dir.file("a.simdr"));
  std::map<std::string, std::string> model;
  for (int i = 0; i < 3000; ++i) {
    const std::string k = "key" + std::to_string(i % 1000);
    const std::string v = std::to_string(i);
    REQUIRE(db.put(k, v) == errc::ok);
    model[k] = v;
  }
  // clean store (no overwrite yet at i < 1000) and dirty store are walked differently
  for (int i = 0; i < 1000; i += 3) {
    REQUIRE(*db.erase("key" + std::to_string(i)));
    model.erase("key" + std::to_string(i));
  }
  std::map<std::string, std::string> seen;
  for (const entry_view& e : db.entries()) {
    const auto [it, fresh] = seen.emplace(std::string(e.key_str()), std::string(e.str()));
    CHECK(fresh);
  }
  CHECK(seen == model);
  CHECK(db.size() == model.size());
}

TEST_CASE("iteration of a clean store walks the log in insertion order", "[store]") {
  test::temp_dir dir;
  store db = open_ok(dir.file("a.simdr"));
  for (int i = 0; i < 500; ++i) REQUIRE(db.put("k" + std::to_string(i), std::to_string(i)) == errc::ok);
  int i = 0;
  auto range = db.entries();
  for (const entry_view& e : range) {
    CHECK(e.key_str() == "k" + std::to_string(i));
    ++i;
    if (i == 250) REQUIRE(db.put("late", "x") == errc::ok);  // committed after the snapshot
  }
  CHECK(i == 500);
}

TEST_CASE("put_stream and read_stream handle values in pieces", "[store]") {
  test::temp_dir dir;
  const std::string path = dir.file("a.simdr");
  SIMDR_SEEDED(seed, "put_stream");
  std::mt19937_64 rng(seed);
  const std::vector<std::byte> big = test::random_bytes(rng, (3 << 20) + 12345);
  {
    store db = open_ok(path);
    std::size_t pos = 0;
    auto source = [&](std::span<std::byte> buf) -> result<std::size_t> {
      const std::size_t n = std::min<std::size_t>({buf.size(), big.size() - pos, static_cast<std::size_t>(1 + rng() % 70000)});
      std::memcpy(buf.data(), big.data() + pos, n);
      pos += n;
      return n;
    };
    REQUIRE(db.put_stream("big", source) == errc::ok);
    REQUIRE(db.put_stream("empty", [](std::span<std::byte>) -> result<std::size_t> { return 0; }) ==
            errc::ok);
    // a failing source commits nothing
    auto failing = [](std::span<std::byte>) -> result<std::size_t> { return errc::io; };
    CHECK(db.put_stream("bad", failing) == errc::io);
    CHECK(db.get("bad").code() == errc::not_found);
    REQUIRE(db.put("after", "ok") == errc::ok);
  }
  store db = open_ok(path, {.verify_checksums = true});
  CHECK_FALSE(db.report().tail_dropped);
  auto v = db.get("big");
  REQUIRE(v);
  REQUIRE(v->size() == big.size());
  CHECK(std::memcmp(v->data(), big.data(), big.size()) == 0);
  CHECK(db.get("empty")->size() == 0);
  CHECK(db.get("after")->str() == "ok");
  std::vector<std::byte> back;
  REQUIRE(db.read_stream("big", [&](std::span<const std::byte> c) -> status {
    back.insert(back.end(), c.begin(), c.end());
    return errc::ok;
  }, 4096) == errc::ok);
  CHECK(back == big);
  CHECK(db.verify()->is_ok());
}

TEST_CASE("rename, copy and move", "[store]") {
  test::temp_dir dir;
  store a = open_ok(dir.file("a.simdr"));
  store b = open_ok(dir.file("b.simdr"));
  REQUIRE(a.put("x", "value-x") == errc::ok);
  REQUIRE(a.put("y", std::string(5000, 'y')) == errc::ok);
  REQUIRE(a.rename("x", "x2") == errc::ok);
  CHECK(a.get("x").code() == errc::not_found);
  CHECK(a.get("x2")->str() == "value-x");
  CHECK(a.rename("nope", "z") == errc::not_found);
  REQUIRE(a.copy("y", b) == errc::ok);
  CHECK(b.get("y")->str() == std::string(5000, 'y'));
  CHECK(a.get("y"));
  REQUIRE(a.move("x2", b, "moved") == errc::ok);
  CHECK(a.get("x2").code() == errc::not_found);
  CHECK(b.get("moved")->str() == "value-x");
  CHECK(a.copy("y", a) == errc::invalid_argument);
  CHECK(a.copy("missing", b) == errc::not_found);
}

TEST_CASE("compaction keeps live data, frees space, keeps old views valid", "[store]") {
  test::temp_dir dir;
  const std::string path = dir.file("a.simdr");
  store db = open_ok(path);
  for (int round = 0; round < 5; ++round)
    for (int i = 0; i < 200; ++i)
      REQUIRE(db.put("k" + std::to_string(i), std::string(100, static_cast<char>('a' + round))) == errc::ok);
  for (int i = 0; i < 50; ++i) REQUIRE(*db.erase("k" + std::to_string(i)));
  auto before = db.get("k100");
  REQUIRE(before);
  const auto size_before = db.file_size();
  auto rep = db.compact();
  REQUIRE(rep);
  CHECK(rep->entries_kept == 150);
  CHECK(rep->size_after < size_before / 4);
  CHECK(db.file_size() == rep->size_after);
  CHECK(before->str() == std::string(100, 'e'));  // old view still readable
  CHECK(db.size() == 150);
  CHECK(db.get("k10").code() == errc::not_found);
  CHECK(db.get("k199")->str() == std::string(100, 'e'));
  REQUIRE(db.put("after", "compaction") == errc::ok);
  CHECK(db.info().reclaimable_bytes == 0);
  db = store();
  store again = open_ok(path, {});
  CHECK(again.size() == 151);
  CHECK(again.get("after")->str() == "compaction");
  CHECK(test::read_file(path).size() == again.file_size());
  CHECK(again.verify()->is_ok());
}

TEST_CASE("closed and moved-from handles report closed", "[store]") {
  test::temp_dir dir;
  store db = open_ok(dir.file("a.simdr"));
  store other = std::move(db);
  CHECK(db.put("k", "v") == errc::closed);  // NOLINT: testing use after move
  CHECK(db.get("k").code() == errc::closed);
  CHECK(db.size() == 0);
  REQUIRE(other.close() == errc::ok);
  CHECK(other.put("k", "v") == errc::closed);
  CHECK(other.close() == errc::ok);  // idempotent
}

TEST_CASE("typed views of aligned values", "[store]") {
  test::temp_dir dir;
  store db = open_ok(dir.file("a.simdr"));
  std::vector<float> f(1000);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>(i) * 0.5f;
  REQUIRE(db.put("floats", bytes(f.data(), f.size() * sizeof(float))) == errc::ok);
  auto v = db.get("floats");
  REQUIRE(v);
  auto span = v->as<float>();
  REQUIRE(span.size() == 1000);
  CHECK(span[999] == 499.5f);
  CHECK(v->as<double>().size() == 500);
  REQUIRE(db.put("odd", "abc") == errc::ok);  // 3 bytes: not a whole number of u32
  CHECK(db.get("odd")->as<std::uint32_t>().empty());
}

TEST_CASE("alignment option of new files", "[store]") {
  test::temp_dir dir;
  for (std::uint32_t a : {8u, 16u, 128u, 4096u}) {
    const std::string p = dir.file("a" + std::to_string(a));
    {
      store db = open_ok(p, {.create = true, .alignment = a});
      REQUIRE(db.put("k", "v") == errc::ok);
      REQUIRE(db.put("k2", std::string(100, 'x')) == errc::ok);
      CHECK(db.get("k2")->offset() % a == 0);
      CHECK(db.info().alignment == a);
    }
    store db = open_ok(p, {.alignment = 64});  // ignored for existing files
    CHECK(db.info().alignment == a);
    CHECK(db.get("k2")->offset() % a == 0);
  }
  CHECK(store::open(dir.file("bad"), {.create = true, .alignment = 48}).code() == errc::invalid_argument);
  CHECK(store::open(dir.file("bad"), {.create = true, .alignment = 4}).code() == errc::invalid_argument);
  CHECK(store::open(dir.file("bad"), {.create = true, .alignment = 1u << 17}).code() ==
        errc::invalid_argument);
}

TEST_CASE("get_batch finds present keys, leaves missing ones empty, agrees with get", "[store]") {
  test::temp_dir dir;
  store db = open_ok(dir.file("a.simdr"));
  SIMDR_SEEDED(seed, "get_batch");
  std::mt19937_64 rng(seed);
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) keys.push_back("k" + std::to_string(i));
  for (int i = 0; i < 5000; i += 2) REQUIRE(db.put(keys[i], std::string(i % 97, 'x')) == errc::ok);
  for (int i = 0; i < 5000; i += 10) REQUIRE(*db.erase(keys[i]));
  std::vector<bytes> query;
  for (int i = 0; i < 3000; ++i) query.emplace_back(keys[rng() % keys.size()]);
  std::vector<blob_view> out(query.size());
  auto found = db.get_batch(query, out);
  REQUIRE(found);
  std::size_t expect = 0;
  for (std::size_t i = 0; i < query.size(); ++i) {
    auto single = db.get(query[i]);
    INFO(query[i].str());
    REQUIRE(static_cast<bool>(out[i]) == single.has_value());
    if (single) {
      ++expect;
      CHECK(out[i].data() == single->data());
      CHECK(out[i].size() == single->size());
      CHECK(out[i].key_str() == query[i].str());
    }
  }
  CHECK(*found == expect);
  std::vector<blob_view> small(1);
  CHECK(db.get_batch(query, small).code() == errc::invalid_argument);
  const bytes bad[1] = {bytes("")};
  CHECK(db.get_batch(bad, small).code() == errc::invalid_argument);
  CHECK(*db.get_batch({}, {}) == 0);
}

namespace {
std::uint64_t vm_size_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7));
  return 0;
}
}  // namespace

TEST_CASE("repeated compaction does not pile up address-space reservations", "[store]") {
  // Each compaction retires the old file's mapping (views may point into it) but must give
  // back the reservation beyond its last page: a handle that compacts thousands of times would
  // otherwise run out of address space (64 GiB per retired mapping).
  test::temp_dir dir;
  store db = open_ok(dir.file("a.simdr"));
  REQUIRE(db.put("k", "v0") == errc::ok);
  auto first = db.get("k");
  REQUIRE(first);
  const std::uint64_t before = vm_size_kib();
  for (int i = 1; i <= 100; ++i) {
    REQUIRE(db.put("k", "v" + std::to_string(i)) == errc::ok);
    REQUIRE(db.compact());
  }
  const std::uint64_t grown_gib = (vm_size_kib() - before) >> 20;
  INFO("address space grew by " << grown_gib << " GiB over 100 compactions");
  CHECK(grown_gib < 8);
  CHECK(first->str() == "v0");  // the oldest retired mapping still holds its bytes
  CHECK(db.get("k")->str() == "v100");
}

TEST_CASE("image(): the committed image every view points into; moves on compaction", "[store]") {
  test::temp_dir dir;
  store db = open_ok(dir.file("a.simdr"));
  REQUIRE(db.put("k", "v1") == errc::ok);
  auto img = db.image();
  CHECK(img.size() == db.file_size());
  auto v = db.get("k");
  REQUIRE(v);
  CHECK(v->data() - v->offset() == img.data());
  REQUIRE(db.put("k2", std::string(10000, 'x')) == errc::ok);
  auto grown = db.image();
  CHECK(grown.data() == img.data());  // grows in place
  CHECK(grown.size() == db.file_size());
  auto w = db.get("k2");
  CHECK(w->data() + w->size() <= grown.data() + grown.size());
  REQUIRE(db.compact());
  auto moved = db.image();
  CHECK(moved.data() != img.data());
  CHECK(moved.size() == db.file_size());
  CHECK(db.get("k")->data() - db.get("k")->offset() == moved.data());
  CHECK(v->str() == "v1");  // the old span is still readable
  REQUIRE(db.close() == errc::ok);
  CHECK(db.image().empty());
}
