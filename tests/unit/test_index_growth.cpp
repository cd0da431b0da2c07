// test_index_growth.cpp - the writer's index growth (index.hpp, LAYOUT): slots carry placement
// bits (disp, frac) so that a table whose bucket count doubles is rebuilt from its slots
// alone (regrow), keys being rehashed only for slots too far from home or once the exact frac
// bits are used up. Checked against tables built from the full hashes, at the index level
// (every key reachable from its home, exact placement bits) and through stores.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "index/index.hpp"
#include "memory_storage.hpp"
#include "store_impl.hpp"
#include "support/test_support.hpp"

using namespace simdr;
using namespace simdr::detail;

namespace {

// The whole text of a file that may report size 0 (/proc, /sys); "" when it cannot be read.
[[maybe_unused]] std::string read_text(const char* path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct key_rec {
  std::uint64_t hash;
  std::uint64_t offset;
};

table* make_table(std::uint64_t slots) {
  table* t = table::create(slots);
  REQUIRE(t != nullptr);
  return t;
}

// The word of the key (hash, offset) reached the way readers probe: from its home, over
// buckets, until a bucket with an empty slot. 0 when absent.
std::uint64_t probe(const table& t, const key_rec& k) {
  std::uint64_t b = t.home(k.hash);
  for (std::uint64_t n = 0; n < t.bucket_count; ++n) {
    bool empty = false;
    for (const auto& s : t.buckets[b].slot) {
      const std::uint64_t w = s.load(std::memory_order_relaxed);
      if (w == 0) {
        empty = true;
        break;
      }
      if (word_offset(w) == k.offset && (w >> 56) == tag_of(k.hash)) return w;
    }
    if (empty) return 0;
    if (++b == t.bucket_count) b = 0;
  }
  return 0;
}

// Every slot's placement bits agree with its key's full hash: disp exactly (or "unknown" at 7
// and beyond), the leading t.frac_bits bits of frac.
void check_placement(const table& t, const std::vector<key_rec>& keys) {
  std::map<std::uint64_t, std::uint64_t> hash_of;  // offset -> hash
  for (const key_rec& k : keys) hash_of[k.offset] = k.hash;
  const std::uint64_t frac_keep = (0xffu << (frac_width - t.frac_bits)) & 0xffu;
  std::uint64_t checked = 0;
  for (std::uint64_t b = 0; b < t.bucket_count; ++b)
    for (const auto& s : t.buckets[b].slot) {
      const std::uint64_t w = s.load(std::memory_order_relaxed);
      if (w == 0) break;
      const auto it = hash_of.find(word_offset(w));
      if (it == hash_of.end()) continue;  // a dead key's slot, left by fill of the test
      const std::uint64_t expect = placement_bits(t, t.product(it->second), b);
      INFO("bucket " << b << " offset " << word_offset(w));
      CHECK(((w >> disp_shift) & 7) == ((expect >> disp_shift) & 7));
      CHECK((((w >> frac_shift) & 0xff) & frac_keep) == (((expect >> frac_shift) & 0xff) & frac_keep));
      ++checked;
    }
  CHECK(checked == keys.size());
}

}  // namespace

TEST_CASE("index: regrow by 2^k equals a rebuild from the keys' hashes", "[index]") {
  SIMDR_SEEDED(seed, "index regrow");
  std::mt19937_64 rng(seed);
  const unsigned shift = GENERATE(0u, 1u, 2u, 3u);
  INFO("growth x" << (1u << shift));
  // Non-power-of-two bucket counts (open sizes tables to their keys).
  const std::uint64_t slots = 8 * (1000 + rng() % 3000);
  table* t = make_table(slots);
  std::vector<key_rec> live, dead;
  const std::uint64_t n = t->capacity() * 7 / 8 - 1;
  for (std::uint64_t i = 0; i < n; ++i) {
    const key_rec k{rng(), 64 + 8 * i};
    std::uint64_t b = t->home(k.hash);
    auto* slot = find_empty_from(*t, b);
    REQUIRE(slot != nullptr);
    const bool is_dead = i % 5 == 4;
    slot->store(make_word(k.hash, placement_of(*t, k.hash, slot), k.offset, is_dead));
    (is_dead ? dead : live).push_back(k);
  }
  t->occupied = n;
  t->live = live.size();

  table* nt = make_table(t->capacity() << shift);
  REQUIRE(nt->bucket_count == t->bucket_count << shift);
  std::vector<std::uint64_t> rehashed;
  std::vector<std::uint8_t> fill(nt->bucket_count);
  regrow(*t, *nt, shift, fill.data(), [&](std::uint64_t w) { rehashed.push_back(w); });
  for (std::uint64_t w : rehashed) {
    const auto it = std::find_if(live.begin(), live.end(),
                                 [&](const key_rec& k) { return k.offset == word_offset(w); });
    REQUIRE(it != live.end());
    insert_fresh(*nt, it->hash, it->offset);
  }
  CHECK(nt->live == live.size());
  CHECK(nt->occupied == live.size());
  CHECK(nt->frac_bits == frac_width - shift);
  for (const key_rec& k : live) CHECK(probe(*nt, k) != 0);
  for (const key_rec& k : dead) CHECK(probe(*nt, k) == 0);
  check_placement(*nt, live);
  // Only slots 7 or more buckets from home needed their key.
  for (std::uint64_t w : rehashed) CHECK(((w >> disp_shift) & 7) == disp_unknown);
  table::destroy(nt);
  table::destroy(t);
}

TEST_CASE("index: slots far from home are rehashed from their keys", "[index]") {
  SIMDR_SEEDED(seed, "index far slots");
  std::mt19937_64 rng(seed);
  table* t = make_table(8 * 64);
  // 100 keys with one home: they spill 12 buckets past it, so most have disp "unknown".
  std::vector<key_rec> keys;
  const std::uint64_t hi = rng() & 0xffffffff00000000u;
  for (std::uint64_t i = 0; i < 100; ++i) keys.push_back({hi | (rng() & 0x00ffffffu), 64 + 8 * i});
  for (const key_rec& k : keys) insert_fresh(*t, k.hash, k.offset);
  t->occupied = t->live = keys.size();
  check_placement(*t, keys);
  table* nt = make_table(t->capacity() * 2);
  std::vector<std::uint64_t> far;
  std::vector<std::uint8_t> fill(nt->bucket_count);
  regrow(*t, *nt, 1, fill.data(), [&](std::uint64_t w) { far.push_back(w); });
  for (std::uint64_t w : far)
    for (const key_rec& k : keys)
      if (k.offset == word_offset(w)) insert_fresh(*nt, k.hash, k.offset);
  CHECK(far.size() >= 100 - 7 * bucket_slots);
  for (const key_rec& k : keys) CHECK(probe(*nt, k) != 0);
  check_placement(*nt, keys);
  table::destroy(nt);
  table::destroy(t);
}

TEST_CASE("index: a store grows through many doublings and frac exhaustion", "[index][store]") {
  SIMDR_SEEDED(seed, "index store growth");
  std::mt19937_64 rng(seed);
  // From the empty table (8 buckets) to ~120k live keys: 7 growths by 4x (14 bits), so the frac
  // bits run out (8 bits) and the table is rehashed from its keys once, then regrown again. Erases and
  // re-puts leave dead slots that every rebuild drops.
  auto r = detail::open_store(std::make_unique<memory_storage>(), {.create = true});
  REQUIRE(r.has_value());
  store db = std::move(*r);
  std::map<std::string, std::string> model;
  std::vector<key_value> batch;
  std::vector<std::string> ks, vs;
  unsigned min_frac = frac_width;
  const std::uint64_t first_buckets = store_impl::of(db).current_table()->bucket_count;
  for (int round = 0; round < 150; ++round) {
    ks.clear();
    vs.clear();
    const int n = 1 + static_cast<int>(rng() % 1600);
    for (int i = 0; i < n; ++i) {
      ks.push_back("k" + std::to_string(rng() % 200000));
      vs.push_back(std::to_string(rng()));
    }
    batch.clear();
    for (int i = 0; i < n; ++i) batch.push_back({ks[i], vs[i]});
    REQUIRE(db.put_batch(batch) == errc::ok);
    for (int i = 0; i < n; ++i) model[ks[i]] = vs[i];
    for (int i = 0; i < 50; ++i) {
      const std::string k = "k" + std::to_string(rng() % 200000);
      auto e = db.erase(k);
      REQUIRE(e.has_value());
      CHECK(*e == (model.erase(k) == 1));
    }
    min_frac = std::min(min_frac, store_impl::of(db).current_table()->frac_bits);
  }
  const std::uint64_t last_buckets = store_impl::of(db).current_table()->bucket_count;
  INFO("buckets " << first_buckets << " -> " << last_buckets << ", fewest exact frac bits "
                  << min_frac);
  CHECK(last_buckets >= first_buckets << 10);
  CHECK(min_frac == 0);  // the slow rebuild ran at least once
  CHECK(db.size() == model.size());
  for (const auto& [k, v] : model) {
    auto got = db.get(k);
    REQUIRE(got.has_value());
    CHECK(got->str() == v);
  }
}

TEST_CASE("index: the writer's table grows 4x while small, then 2x", "[index][store]") {
  CHECK(grown_capacity(64, 65) == 256);
  CHECK(grown_capacity(64, 1000) == 1024);
  CHECK(grown_capacity(quadruple_below / 4, quadruple_below / 4 + 1) == quadruple_below);
  CHECK(grown_capacity(quadruple_below, quadruple_below + 1) == 2 * quadruple_below);
  CHECK(grown_capacity(quadruple_below / 2, quadruple_below + 1) == 2 * quadruple_below);
  CHECK(grown_capacity(4096, 4096) == 4096);

  // A store's growth steps while it fills: x4 each (no table here reaches quadruple_below).
  auto r = detail::open_store(std::make_unique<memory_storage>(), {.create = true});
  REQUIRE(r.has_value());
  store db = std::move(*r);
  std::vector<std::uint64_t> steps{store_impl::of(db).current_table()->bucket_count};
  for (int i = 0; i < 20000; ++i) {
    REQUIRE(db.put(test::as_bytes("key-" + std::to_string(i)), test::as_bytes("v")) == errc::ok);
    const std::uint64_t b = store_impl::of(db).current_table()->bucket_count;
    if (b != steps.back()) steps.push_back(b);
  }
  REQUIRE(steps.size() >= 4);
  for (std::size_t i = 1; i < steps.size(); ++i) {
    INFO("step " << i << ": " << steps[i - 1] << " -> " << steps[i] << " buckets");
    CHECK(steps[i] == 4 * steps[i - 1]);
  }
}

#if !defined(__EMSCRIPTEN__)  // wasm tables live on the wasm heap (no table_memory)
TEST_CASE("index: large tables of a native store are 2 MiB aligned, on huge pages when THP allows",
          "[index][store]") {
  // posix_storage's table memory: tables of 4 MiB and more get their own 2 MiB aligned mapping
  // advised MADV_HUGEPAGE. 400k keys grow the table to 8 MiB.
  test::temp_dir dir;
  store db = test::open_ok(dir.file("big.simdr"));
  std::vector<std::string> keys;
  for (int i = 0; i < 400000; ++i) keys.push_back("key-" + std::to_string(i));
  std::vector<key_value> batch;
  for (const std::string& k : keys) {
    batch.push_back({k, k});
    if (batch.size() == 4096) {
      REQUIRE(db.put_batch(batch) == errc::ok);
      batch.clear();
    }
  }
  REQUIRE(db.put_batch(batch) == errc::ok);
  const table& t = *store_impl::of(db).current_table();
  const std::size_t bytes = static_cast<std::size_t>(t.bucket_count) * sizeof(bucket);
  INFO("table of " << bytes << " bytes at " << static_cast<const void*>(t.buckets));
  REQUIRE(bytes >= (std::size_t{4} << 20));
  CHECK(t.memory != nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(t.buckets) % (std::size_t{2} << 20) == 0);
#if defined(__x86_64__)  // (qemu-user, which runs the aarch64 suite, ignores madvise)
  // Whether the kernel backed it with huge pages depends on its THP setting.
  const std::string thp = read_text("/sys/kernel/mm/transparent_hugepage/enabled");
  if (thp.find("[never]") != std::string::npos || thp.empty()) {
    WARN("transparent huge pages are off here: " << thp);
    return;
  }
  // /proc/self/smaps: the mapping holding the table reports AnonHugePages.
  const std::string smaps = read_text("/proc/self/smaps");
  const auto at = reinterpret_cast<std::uintptr_t>(t.buckets);
  std::size_t huge_kb = 0;
  bool in_table = false;
  std::size_t pos = 0;
  while (pos < smaps.size()) {
    const std::size_t eol = std::min(smaps.find('\n', pos), smaps.size());
    const std::string line = smaps.substr(pos, eol - pos);
    pos = eol + 1;
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(' ') < 30) {
      in_table = lo <= at && at < hi;
      continue;
    }
    if (in_table && line.rfind("AnonHugePages:", 0) == 0)
      huge_kb = std::strtoul(line.c_str() + 14, nullptr, 10);
  }
  INFO("THP setting " << thp);
  CHECK(huge_kb > 0);
#endif
}
#endif
