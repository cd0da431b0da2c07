// fuzz_kernels.cpp - differential fuzz target: every kernel set this CPU can run gets the same
// input and must answer exactly as the scalar reference does (simdjson
// fuzz/fuzz_implementations.cpp is the model). A difference traps.
//
// The input drives four kernels:
//   match_tags  each 64-byte chunk is a bucket (any words, also ones that break the layout),
//               probed for the tag in the chunk's first byte;
//   keys_equal  the input split at a chosen point into two keys, each copied to the END of its
//               own allocation (ASan sees any over-read), compared as is and against a copy;
//   xxh3        the whole input, with seeds 0 and the first 8 bytes;
//   probes      the input cut at '\n' into keys (duplicates kept once) inserted into a small,
//               nearly full index table through each set's writer probe (tables must come out
//               identical), then each key and some absent ones looked up one by one and
//               batched.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "index/index.hpp"
#include "simd/kernels.hpp"

namespace {

namespace simd = simdr::detail::simd;
using simdr::detail::bucket;
using simdr::detail::table;

// `s` at the end of a fresh allocation.
struct tail_copy {
  std::unique_ptr<std::byte[]> mem;
  std::byte* p;
  explicit tail_copy(std::string_view s) : mem(new std::byte[s.size() + 1]), p(mem.get() + 1) {
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
  }
};

std::uint64_t xxh3_seed0(std::string_view s) {
  return simd::compiled("scalar")->xxh3(s.data(), s.size(), 0);
}

void check_match_tags(std::string_view in) {
  const simd::kernel_set& ref = *simd::compiled("scalar");
  auto b = std::make_unique<bucket>();
  for (std::size_t at = 0; at + 64 <= in.size(); at += 64) {
    for (std::uint32_t i = 0; i < simdr::detail::bucket_slots; ++i) {
      std::uint64_t w;
      std::memcpy(&w, in.data() + at + 8 * i, 8);
      b->slot[i].store(w, std::memory_order_relaxed);
    }
    const auto tag = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(in[at]));
    const std::uint32_t want = ref.match_tags(*b, tag);
    for (const simd::kernel_set* k : simd::available())
      FUZZ_CHECK(k->match_tags(*b, tag) == want, std::string("match_tags differs: ") + k->name);
  }
}

void check_keys_equal(std::string_view in) {
  const std::size_t cut = in.empty() ? 0 : static_cast<std::uint8_t>(in[0]) % (in.size() + 1);
  const std::string_view a = in.substr(0, cut), b = in.substr(cut);
  const std::size_t n = std::min(a.size(), b.size());
  const tail_copy ca(a.substr(0, n)), cb(b.substr(0, n)), cc(a.substr(0, n));
  const simd::kernel_set& ref = *simd::compiled("scalar");
  const bool want = ref.keys_equal(ca.p, cb.p, n);
  FUZZ_CHECK(want == (n == 0 || std::memcmp(ca.p, cb.p, n) == 0), "scalar keys_equal wrong");
  FUZZ_CHECK(ref.keys_equal(ca.p, cc.p, n), "scalar keys_equal(x, x) false");
  for (const simd::kernel_set* k : simd::available()) {
    FUZZ_CHECK(k->keys_equal(ca.p, cb.p, n) == want, std::string("keys_equal differs: ") + k->name);
    FUZZ_CHECK(k->keys_equal(ca.p, cc.p, n), std::string("keys_equal(x, x) false: ") + k->name);
  }
}

void check_xxh3(std::string_view in) {
  std::uint64_t seed = 0;
  if (!in.empty()) std::memcpy(&seed, in.data(), std::min<std::size_t>(8, in.size()));
  const tail_copy c(in);
  const simd::kernel_set& ref = *simd::compiled("scalar");
  for (std::uint64_t s : {std::uint64_t{0}, seed}) {
    const std::uint64_t want = ref.xxh3(c.p, in.size(), s);
    for (const simd::kernel_set* k : simd::available())
      FUZZ_CHECK(k->xxh3(c.p, in.size(), s) == want, std::string("xxh3 differs: ") + k->name);
  }
}

// The probes read only the key size (byte 10) and key (after the 32-byte header) of an entry.
table* build(const simd::kernel_set& k, const std::vector<std::string>& keys,
             const std::vector<std::uint64_t>& offsets, const std::vector<std::byte>& image) {
  table* t = table::create(keys.size() + keys.size() / 7 + 1);
  FUZZ_CHECK(t != nullptr, "table::create");
  t->base.store(image.data(), std::memory_order_relaxed);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::uint64_t h = xxh3_seed0(keys[i]);
    bool found = true;
    auto* slot = k.find_slot_for_write(*t, h, reinterpret_cast<const std::byte*>(keys[i].data()),
                                       keys[i].size(), image.data(), found);
    FUZZ_CHECK(slot != nullptr && !found, std::string("writer probe: ") + k.name);
    slot->store(simdr::detail::make_word(h, simdr::detail::placement_of(*t, h, slot), offsets[i],
                                         i % 4 == 3),
                std::memory_order_relaxed);
  }
  return t;
}

void check_probes(std::string_view in) {
  std::vector<std::string> keys;
  std::set<std::string> seen;
  for (std::size_t at = 0; at <= in.size() && keys.size() < 2000;) {
    std::size_t end = in.find('\n', at);
    if (end == std::string_view::npos) end = in.size();
    std::string k(in.substr(at, std::min<std::size_t>(end - at, 65535)));
    if (seen.insert(k).second) keys.push_back(std::move(k));
    at = end + 1;
  }
  std::vector<std::byte> image(64);
  std::vector<std::uint64_t> offsets;
  for (const std::string& k : keys) {
    const std::size_t at = image.size();
    offsets.push_back(at);
    image.resize(at + ((simdr::detail::format::entry_header_size + k.size() + 7) / 8) * 8);
    image[at + 10] = static_cast<std::byte>(k.size() & 0xff);
    image[at + 11] = static_cast<std::byte>(k.size() >> 8);
    if (!k.empty())
      std::memcpy(image.data() + at + simdr::detail::format::entry_header_size, k.data(),
                  k.size());
  }
  table* ref = build(*simd::compiled("scalar"), keys, offsets, image);
  std::vector<std::string> queries = keys;
  for (const std::string& k : keys) queries.push_back(k + "\n");  // absent (keys have no '\n')
  for (const simd::kernel_set* k : simd::available()) {
    table* mine = build(*k, keys, offsets, image);
    for (std::uint64_t b = 0; b < ref->bucket_count; ++b)
      for (std::uint32_t i = 0; i < simdr::detail::bucket_slots; ++i)
        FUZZ_CHECK(mine->buckets[b].slot[i].load() == ref->buckets[b].slot[i].load(),
                   std::string("tables differ: ") + k->name);
    table::destroy(mine);
    for (std::size_t start = 0; start < queries.size(); start += simd::batch_window) {
      const std::size_t w = std::min(simd::batch_window, queries.size() - start);
      std::vector<simdr::bytes> batch;
      for (std::size_t j = 0; j < w; ++j) batch.emplace_back(queries[start + j]);
      std::uint64_t words[simd::batch_window];
      const std::byte* bases[simd::batch_window];
      k->find_batch(*ref, batch.data(), w, words, bases);
      for (std::size_t j = 0; j < w; ++j) {
        const std::string& q = queries[start + j];
        const auto* qp = reinterpret_cast<const std::byte*>(q.data());
        const std::byte* base = nullptr;
        const std::uint64_t want =
            simd::compiled("scalar")->find_word(*ref, xxh3_seed0(q), qp, q.size(), base);
        FUZZ_CHECK((want != 0) == (start + j < keys.size()), "scalar probe wrong");
        FUZZ_CHECK(k->find_word(*ref, xxh3_seed0(q), qp, q.size(), base) == want,
                   std::string("find_word differs: ") + k->name);
        FUZZ_CHECK(words[j] == want, std::string("find_batch differs: ") + k->name);
      }
    }
  }
  table::destroy(ref);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_match_tags(in);
  check_keys_equal(in);
  check_xxh3(in);
  check_probes(in);
  return 0;
}
