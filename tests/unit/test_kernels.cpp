// test_kernels.cpp - every available SIMD kernel set against the scalar reference ([kernels]).
//
// Seeded random inputs of many lengths and alignments (the suite seed is printed at start;
// SIMDR_TEST_SEED replays): bucket probes on arbitrary slot patterns, key comparisons placed at
// the very end of their allocation (so AddressSanitizer sees any over-read), XXH3 over lengths
// 0..8 KiB with random seeds, and whole index tables built and probed by each kernel set. Also
// the selection rules of SIMDR_KERNELS (simdr/kernels.hpp) and the reported name.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "format/format.hpp"
#include "hash.hpp"
#include "index/index.hpp"
#include "memory_storage.hpp"
#include "simd/kernels.hpp"
#include "store_impl.hpp"
#include "support/test_support.hpp"

using namespace simdr;
namespace simd = simdr::detail::simd;
using detail::bucket;
using detail::table;

namespace {

const simd::kernel_set& scalar_set() { return *simd::compiled("scalar"); }

const std::byte* as_bytes_ptr(const std::string& s) {
  return reinterpret_cast<const std::byte*>(s.data());
}

std::string kernel_names() {
  std::string s;
  for (std::string_view n : available_kernels()) s += std::string(n) + " ";
  return s;
}

/// `n` bytes placed at the END of their own allocation, starting `misalign` bytes past a
/// 64-byte boundary, so a read past either range is a heap-buffer-overflow under ASan.
struct tail_buffer {
  std::unique_ptr<std::byte[]> mem;
  std::byte* p = nullptr;
  tail_buffer(std::size_t n, std::size_t misalign) {
    // Allocation size chosen so that p = base + size - n is misaligned as asked (new[] of
    // std::byte is at least 16-aligned; the check below keeps the promise honest).
    const std::size_t pad = (64 - (n % 64) + misalign) % 64;
    mem.reset(new std::byte[n + pad + 64]);
    p = mem.get() + pad + 64;
  }
};

}  // namespace

TEST_CASE("kernels: the active set is reported and scalar is always available", "[kernels]") {
  INFO("available: " << kernel_names());
  const auto avail = available_kernels();
  REQUIRE(!avail.empty());
  CHECK(avail.back() == "scalar");
  CHECK(simd::available().size() == avail.size());
  bool active_listed = false;
  for (std::string_view n : avail) active_listed |= n == kernels_name();
  CHECK(active_listed);
  // Under a per-kernel ctest run (tests/CMakeLists.txt), the forced set is the active one.
  const char* env = std::getenv("SIMDR_KERNELS");
  if (env != nullptr && *env != '\0' && std::string_view(env) != "auto") {
    if (kernels_request().is_ok())
      CHECK(kernels_name() == env);
    else
      CHECK(kernels_name() == avail.front());
  } else {
    CHECK(kernels_request().is_ok());
    CHECK(kernels_name() == avail.front());
  }
#if defined(__x86_64__)
  CHECK(simd::compiled("sse2") != nullptr);
  CHECK(simd::compiled("avx2") != nullptr);
  if (__builtin_cpu_supports("avx2")) CHECK(avail.front() == "avx2");
#elif defined(__aarch64__)
  CHECK(simd::compiled("neon") != nullptr);
  CHECK(avail.front() == "neon");
#endif
  // store::info() carries the name too.
  auto opened = detail::open_store(std::make_unique<memory_storage>(), {.create = true});
  REQUIRE(opened);
  CHECK(opened->info().kernels == kernels_name());
}

TEST_CASE("kernels: SIMDR_KERNELS selection rules", "[kernels]") {
  const std::string_view best = available_kernels().front();
  auto sel = simd::select(nullptr);
  CHECK(std::string_view(sel.set->name) == best);
  CHECK(sel.request == errc::ok);
  for (const char* v : {"", "auto"}) {
    sel = simd::select(v);
    CHECK(std::string_view(sel.set->name) == best);
    CHECK(sel.request == errc::ok);
  }
  for (std::string_view n : available_kernels()) {
    const std::string s(n);
    sel = simd::select(s.c_str());
    CHECK(std::string_view(sel.set->name) == n);
    CHECK(sel.request == errc::ok);
  }
  // Unknown names and case variants: the best set, and the request reported as failed.
  for (const char* v : {"bogus", "AVX2", "scalar ", "sse4"}) {
    sel = simd::select(v);
    CHECK(std::string_view(sel.set->name) == best);
    CHECK(sel.request == errc::invalid_argument);
  }
  // A known set this build or CPU cannot run.
  for (const char* v : {"scalar", "sse2", "avx2", "neon", "simd128"}) {
    bool runnable = false;
    for (std::string_view n : available_kernels()) runnable |= n == v;
    if (runnable) continue;
    sel = simd::select(v);
    CHECK(std::string_view(sel.set->name) == best);
    CHECK(sel.request == errc::unsupported_cpu);
    CHECK(select_kernels(v) == errc::unsupported_cpu);
  }
  // select_kernels switches the whole process and can be undone.
  const std::string before(kernels_name());
  CHECK(select_kernels("bogus") == errc::invalid_argument);
  CHECK(kernels_name() == before);
  REQUIRE(select_kernels("scalar") == errc::ok);
  CHECK(kernels_name() == "scalar");
  REQUIRE(select_kernels("auto") == errc::ok);
  CHECK(kernels_name() == best);
  REQUIRE(select_kernels(before) == errc::ok);
}

TEST_CASE("kernels: match_tags equals the scalar reference on random buckets", "[kernels]") {
  SIMDR_SEEDED(seed, "kernels match_tags");
  std::mt19937_64 rng(seed);
  auto* b = new bucket;
  for (int round = 0; round < 20000; ++round) {
    const auto tag = static_cast<std::uint8_t>(0x80 | (rng() & 0x7f));
    for (std::uint32_t i = 0; i < detail::bucket_slots; ++i) {
      std::uint64_t w = 0;
      switch (rng() % 4) {
        case 0: break;  // empty
        case 1: w = std::uint64_t{tag} << 56 | (rng() & ((std::uint64_t{1} << 56) - 1)); break;
        case 2: w = (0x80 | (rng() & 0x7f)) << 56 | (rng() & ((std::uint64_t{1} << 56) - 1)); break;
        default: w = rng() | std::uint64_t{1} << 63; break;  // any occupied word
      }
      if (round % 7 == 0) w = rng();  // also words that break the layout (tag byte < 0x80)
      b->slot[i].store(w, std::memory_order_relaxed);
    }
    const std::uint32_t want = scalar_set().match_tags(*b, tag);
    for (const simd::kernel_set* k : simd::available()) {
      INFO("kernel " << k->name << " round " << round);
      REQUIRE(k->match_tags(*b, tag) == want);
    }
  }
  delete b;
}

TEST_CASE("kernels: keys_equal equals memcmp at every length and alignment", "[kernels]") {
  SIMDR_SEEDED(seed, "kernels keys_equal");
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 130; ++n) lengths.push_back(n);
  for (int i = 0; i < 60; ++i) lengths.push_back(131 + rng() % 4000);
  lengths.push_back(4096);
  std::size_t cases = 0;
  for (std::size_t n : lengths) {
    for (int rep = 0; rep < 6; ++rep) {
      const std::size_t ma = rng() % 64, mb = rng() % 64;
      tail_buffer a(n, ma), b(n, mb);
      for (std::size_t i = 0; i < n; ++i) a.p[i] = b.p[i] = static_cast<std::byte>(rng());
      // rep 0, 1: equal; others: one differing byte (first, last, random) or one bit.
      if (rep >= 2 && n > 0) {
        const std::size_t at = rep == 2 ? 0 : rep == 3 ? n - 1 : rng() % n;
        b.p[at] ^= static_cast<std::byte>(rep == 5 ? 0x80 : 1 + rng() % 255);
      }
      const bool want = scalar_set().keys_equal(a.p, b.p, n);
      REQUIRE(want == (n == 0 || std::memcmp(a.p, b.p, n) == 0));
      for (const simd::kernel_set* k : simd::available()) {
        INFO("kernel " << k->name << " length " << n << " misalign " << ma << "/" << mb);
        REQUIRE(k->keys_equal(a.p, b.p, n) == want);
        ++cases;
      }
    }
  }
  CHECK(cases > 0);
}

TEST_CASE("kernels: XXH3 is identical on every path, seeded and not", "[kernels]") {
  SIMDR_SEEDED(seed, "kernels xxh3");
  std::mt19937_64 rng(seed);
  // Pinned golden values (also in test_format): short input and the long-input path.
  std::vector<std::byte> b1000(1000);
  for (std::size_t i = 0; i < b1000.size(); ++i) b1000[i] = static_cast<std::byte>(i * 7);
  for (const simd::kernel_set* k : simd::available()) {
    INFO("kernel " << k->name);
    CHECK(k->xxh3("abc", 3, 0) == 0x78af5f94892f3950ull);
    CHECK(k->xxh3(b1000.data(), b1000.size(), 0) == detail::xxh3(b1000.data(), b1000.size()));
  }
  std::vector<std::size_t> lengths = {0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 255, 256,
                                      1023, 1024, 1025, 8191, 8192};
  for (int i = 0; i < 80; ++i) lengths.push_back(rng() % 8193);
  for (std::size_t n : lengths) {
    tail_buffer buf(n, rng() % 64);
    for (std::size_t i = 0; i < n; ++i) buf.p[i] = static_cast<std::byte>(rng());
    for (std::uint64_t s : {std::uint64_t{0}, rng(), std::uint64_t{64}}) {
      const std::uint64_t want = XXH3_64bits_withSeed(buf.p, n, s);  // this file's copy
      REQUIRE(scalar_set().xxh3(buf.p, n, s) == want);
      for (const simd::kernel_set* k : simd::available()) {
        INFO("kernel " << k->name << " length " << n << " seed " << s);
        REQUIRE(k->xxh3(buf.p, n, s) == want);
      }
    }
    REQUIRE(detail::xxh3(buf.p, n) == XXH3_64bits(buf.p, n));
  }
}

namespace {

// A synthetic image of entries: only what the probes read (key size at byte 10, the key after
// the 32-byte header), 8-byte aligned like the format.
struct fake_image {
  std::vector<std::byte> bytes;
  std::vector<std::uint64_t> offsets;
  std::vector<std::string> keys;
  explicit fake_image(const std::vector<std::string>& ks) : keys(ks) {
    bytes.resize(64);
    for (const std::string& k : ks) {
      const std::size_t at = bytes.size();
      offsets.push_back(at);
      bytes.resize(at + ((detail::format::entry_header_size + k.size() + 7) / 8) * 8);
      bytes[at + 10] = static_cast<std::byte>(k.size() & 0xff);
      bytes[at + 11] = static_cast<std::byte>(k.size() >> 8);
      std::memcpy(bytes.data() + at + detail::format::entry_header_size, k.data(), k.size());
    }
  }
};

// Inserts every key through `k`'s writer probe, as apply_entry does.
table* build(const simd::kernel_set& k, const fake_image& img, std::uint64_t slots) {
  table* t = table::create(slots);
  t->base.store(img.bytes.data(), std::memory_order_relaxed);
  for (std::size_t i = 0; i < img.keys.size(); ++i) {
    const std::string& key = img.keys[i];
    const std::uint64_t h = XXH3_64bits(key.data(), key.size());
    bool found = true;
    auto* slot = k.find_slot_for_write(*t, h, as_bytes_ptr(key), key.size(),
                                       img.bytes.data(), found);
    REQUIRE(slot != nullptr);
    // Every third key is dead (erased): the probes return dead words too.
    slot->store(detail::make_word(h, detail::placement_of(*t, h, slot), img.offsets[i], i % 3 == 2),
                std::memory_order_release);
    if (!found) ++t->occupied;
  }
  return t;
}

}  // namespace

TEST_CASE("kernels: index probes equal the scalar reference on random tables", "[kernels]") {
  SIMDR_SEEDED(seed, "kernels probes");
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 12; ++round) {
    // Small tables at high load force probe sequences past the home bucket, wrap-around and
    // tag collisions (7 tag bits, up to 8 keys a bucket).
    const std::size_t n = 1 + rng() % (round < 6 ? 200 : 3000);
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < n; ++i) {
      std::string k(1 + rng() % (i % 5 == 0 ? 300 : 40), '\0');
      for (char& c : k) c = static_cast<char>('a' + rng() % 26);
      k += "#" + std::to_string(i);  // distinct
      keys.push_back(k);
    }
    const fake_image img(keys);
    const std::set<std::string> present(keys.begin(), keys.end());
    const std::uint64_t slots = n + n / 7 + 1;  // ~7/8 full
    table* ref = build(scalar_set(), img, slots);
    // Probes for present keys, absent keys and present keys' prefixes.
    std::vector<std::string> queries = keys;
    for (std::size_t i = 0; i < n; ++i) queries.push_back("absent-" + std::to_string(rng()));
    for (std::size_t i = 0; i < n; i += 3) queries.push_back(keys[i].substr(0, keys[i].size() - 1));
    for (const simd::kernel_set* k : simd::available()) {
      INFO("kernel " << k->name << " round " << round << " keys " << n);
      // Writer probe: building with k gives the very same table.
      table* mine = build(*k, img, slots);
      REQUIRE(mine->bucket_count == ref->bucket_count);
      for (std::uint64_t b = 0; b < ref->bucket_count; ++b)
        for (std::uint32_t i = 0; i < detail::bucket_slots; ++i)
          REQUIRE(mine->buckets[b].slot[i].load() == ref->buckets[b].slot[i].load());
      table::destroy(mine);
      // Reader probe and batched probe.
      for (std::size_t start = 0; start < queries.size(); start += simd::batch_window) {
        const std::size_t w = std::min(simd::batch_window, queries.size() - start);
        std::vector<bytes> batch;
        for (std::size_t j = 0; j < w; ++j) batch.emplace_back(queries[start + j]);
        std::uint64_t words[simd::batch_window];
        const std::byte* bases[simd::batch_window];
        k->find_batch(*ref, batch.data(), w, words, bases);
        for (std::size_t j = 0; j < w; ++j) {
          const std::string& q = queries[start + j];
          const std::uint64_t h = XXH3_64bits(q.data(), q.size());
          const std::byte* rbase = nullptr;
          const std::byte* kbase = nullptr;
          const std::uint64_t want =
              scalar_set().find_word(*ref, h, as_bytes_ptr(q), q.size(), rbase);
          REQUIRE(k->find_word(*ref, h, as_bytes_ptr(q), q.size(), kbase) == want);
          REQUIRE(words[j] == want);
          if (want != 0) {
            CHECK(kbase == rbase);
            CHECK(bases[j] == rbase);
          }
          // Present keys are found, absent ones not (a truncated key may name another key).
          REQUIRE((want != 0) == (present.count(q) != 0));
        }
      }
    }
    table::destroy(ref);
  }
}

TEST_CASE("kernels: a store gives the same answers under every kernel set", "[kernels]") {
  SIMDR_SEEDED(seed, "kernels store");
  std::mt19937_64 rng(seed);
  const std::string before(kernels_name());
  auto opened = detail::open_store(std::make_unique<memory_storage>(), {.create = true});
  REQUIRE(opened);
  store& db = *opened;
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back("k" + std::to_string(rng() % 5000));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    // Values past 240 bytes take the dispatched XXH3 path at put and at verify.
    const std::string v(i % 10 == 0 ? 1000 + rng() % 3000 : 1 + rng() % 64, char('a' + i % 26));
    REQUIRE(db.put(keys[i], v) == errc::ok);
    if (i % 17 == 0) REQUIRE(db.erase(keys[(i * 7) % keys.size()]));
  }
  std::vector<bytes> queries;
  for (int i = 0; i < 6000; ++i) queries.emplace_back(keys[rng() % keys.size()]);
  std::vector<std::string> absent;
  for (int i = 0; i < 500; ++i) absent.push_back("absent" + std::to_string(i));
  for (const std::string& a : absent) queries.emplace_back(a);
  std::vector<std::string> want;  // under scalar
  for (const simd::kernel_set* k : simd::available()) {
    REQUIRE(select_kernels(k->name) == errc::ok);
    INFO("kernel " << k->name);
    std::vector<blob_view> views(queries.size());
    auto got = db.get_batch(queries, views);
    REQUIRE(got);
    std::vector<std::string> answers;
    for (std::size_t i = 0; i < queries.size(); ++i) {
      auto one = db.get(queries[i]);
      auto has = db.contains(queries[i]);
      REQUIRE(has);
      REQUIRE(*has == static_cast<bool>(one));
      REQUIRE(views[i].empty() == !one);  // values are never empty here
      answers.push_back(one ? test::str(one->bytes()) : std::string("<absent>"));
      if (one) REQUIRE(test::str(views[i].bytes()) == answers.back());
    }
    auto vr = db.verify();
    REQUIRE(vr);
    CHECK(vr->issues.empty());
    if (want.empty()) want = answers;
    else REQUIRE(answers == want);
  }
  REQUIRE(select_kernels(before) == errc::ok);
}
