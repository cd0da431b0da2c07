// bench_kernels.cpp - the kernel benchmark (issue 3): per kernel set, ops/s of
//   probe        find_word on an index table and entries that fit in cache (hash precomputed),
//                so the cost is the bucket probe and key compare, not memory latency;
//   match_tags   the bucket tag compare alone (one indirect call per bucket, 1024 buckets);
//   xxh3         XXH3-64 of a 64 KiB value (the checksum of large values), GB/s;
//   get          store::get of random keys, one at a time, on a W1 store (1M `bench-key-{i}`,
//                8-byte values), every value read;
//   get_batch    store::get_batch of 1024 random keys at a time on the same store.
// and the ratio get_batch / get (the issue asks >= 2x: memory-level parallelism).
//
// All kernel sets run in one process on the same store (simdr::select_kernels), repetitions
// interleaved so that noise from other processes spreads over all of them; medians printed.
// With SIMDR_KERNELS set, only the set it selects runs.
//
//   simdr-bench-kernels [--n 1000000] [--reps 5] [--lookups 1000000] [--dir /tmp]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "index/index.hpp"
#include "simd/kernels.hpp"
#include "simdr/simdr.hpp"

namespace fs = std::filesystem;
using clk = std::chrono::steady_clock;
namespace simd = simdr::detail::simd;

namespace {

double since(clk::time_point t) { return std::chrono::duration<double>(clk::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "bench: %s failed\n", what);
    std::exit(1);
  }
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

std::string key_of(std::uint64_t i) { return "bench-key-" + std::to_string(i); }

// An in-cache index: `n` W1 keys in a synthetic image (only what the probe reads: the key size
// at byte 10 and the key after the 32-byte header), inserted by the scalar writer probe.
struct cached_index {
  std::vector<std::string> keys;
  std::vector<std::uint64_t> hashes;
  std::vector<std::byte> image;
  simdr::detail::table* t = nullptr;
  explicit cached_index(std::size_t n) {
    image.resize(64);
    std::vector<std::uint64_t> offsets;
    const simd::kernel_set& ref = *simd::compiled("scalar");
    for (std::size_t i = 0; i < n; ++i) {
      keys.push_back(key_of(i));
      const std::string& k = keys.back();
      hashes.push_back(ref.xxh3(k.data(), k.size(), 0));
      offsets.push_back(image.size());
      const std::size_t at = image.size();
      image.resize(at + ((32 + k.size() + 7) / 8) * 8);
      image[at + 10] = static_cast<std::byte>(k.size());
      std::memcpy(image.data() + at + 32, k.data(), k.size());
    }
    // ~60% full, as after growth.
    t = simdr::detail::table::create(simdr::detail::slots_for(n));
    t->base.store(image.data());
    for (std::size_t i = 0; i < n; ++i) {
      bool found = false;
      auto* slot = ref.find_slot_for_write(*t, hashes[i],
                                           reinterpret_cast<const std::byte*>(keys[i].data()),
                                           keys[i].size(), image.data(), found);
      slot->store(simdr::detail::make_word(
          hashes[i], simdr::detail::placement_of(*t, hashes[i], slot), offsets[i], false));
    }
  }
  ~cached_index() { simdr::detail::table::destroy(t); }
};

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t n = 1000000;
  std::uint64_t lookups = 1000000;
  int reps = 5;
  fs::path dir = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--n" && i + 1 < argc) n = std::stoull(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
    else if (a == "--lookups" && i + 1 < argc) lookups = std::stoull(argv[++i]);
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else {
      std::puts("usage: simdr-bench-kernels [--n N] [--reps R] [--lookups L] [--dir DIR]");
      return 2;
    }
  }
  const simdr::status request = simdr::kernels_request();
  const char* env = std::getenv("SIMDR_KERNELS");
  std::vector<std::string> kernels;
  if (env != nullptr && *env != '\0') kernels.emplace_back(simdr::kernels_name());
  else
    for (std::string_view k : simdr::available_kernels()) kernels.emplace_back(k);
  std::string avail;
  for (std::string_view k : simdr::available_kernels()) avail += std::string(k) + " ";

  // The W1 store.
  const std::string path = (dir / "simdr-bench-kernels.simdr").string();
  std::error_code ec;
  fs::remove(path, ec);
  std::vector<std::string> keys(n);
  for (std::uint64_t i = 0; i < n; ++i) keys[i] = key_of(i);
  {
    auto o = simdr::store::open(path, {.create = true});
    check(o.has_value(), "create");
    std::vector<simdr::key_value> batch;
    std::vector<std::uint64_t> vals(1024);
    for (std::uint64_t i = 0; i < n;) {
      batch.clear();
      for (std::size_t j = 0; j < 1024 && i < n; ++j, ++i) {
        vals[j] = i;  // little-endian hosts: the 8 bytes of i
        batch.push_back({keys[i], simdr::bytes(&vals[j], 8)});
      }
      check(o->put_batch(batch).is_ok(), "put_batch");
    }
  }
  auto opened = simdr::store::open(path, {.read_only = true});
  check(opened.has_value(), "reopen");
  simdr::store db = std::move(*opened);
  std::mt19937_64 rng(42);
  std::vector<std::uint64_t> order(lookups);
  for (auto& o : order) o = rng() % n;
  std::vector<simdr::bytes> order_keys(lookups);
  for (std::uint64_t i = 0; i < lookups; ++i) order_keys[i] = keys[order[i]];

  const std::size_t cached_n = 4096;
  const cached_index ci(cached_n);
  std::vector<std::uint32_t> probe_order(1 << 16);
  for (auto& p : probe_order) p = static_cast<std::uint32_t>(rng() % cached_n);
  std::vector<std::byte> big(1 << 16);
  for (auto& x : big) x = static_cast<std::byte>(rng());
  std::vector<std::uint8_t> tags(1 << 16);
  for (auto& t : tags) t = static_cast<std::uint8_t>(0x80 | (rng() & 0x7f));

  struct row {
    std::vector<double> probe, match, xxh, get, batch;
  };
  std::vector<row> rows(kernels.size());
  std::uint64_t sink = 0;
  for (int rep = 0; rep < reps; ++rep) {
    for (std::size_t ki = 0; ki < kernels.size(); ++ki) {
      check(simdr::select_kernels(kernels[ki]).is_ok(), "select_kernels");
      const simd::kernel_set& k = simd::active();
      row& r = rows[ki];
      // probe: find_word, in cache.
      constexpr int probe_rounds = 40;
      auto t = clk::now();
      for (int round = 0; round < probe_rounds; ++round)
        for (std::uint32_t i : probe_order) {
          const std::byte* base = nullptr;
          sink += k.find_word(*ci.t, ci.hashes[i],
                              reinterpret_cast<const std::byte*>(ci.keys[i].data()),
                              ci.keys[i].size(), base);
        }
      r.probe.push_back(probe_rounds * static_cast<double>(probe_order.size()) / since(t));
      // match_tags alone over the in-cache table's buckets.
      const std::uint64_t nb = std::min<std::uint64_t>(ci.t->bucket_count, 1024);
      t = clk::now();
      for (int round = 0; round < probe_rounds; ++round)
        for (std::size_t i = 0; i < tags.size(); ++i)
          sink += k.match_tags(ci.t->buckets[i % nb], tags[i]);
      r.match.push_back(probe_rounds * static_cast<double>(tags.size()) / since(t));
      // XXH3 of a large value.
      constexpr int xxh_rounds = 20000;
      t = clk::now();
      for (int i = 0; i < xxh_rounds; ++i)
        sink += k.xxh3(big.data(), big.size(), static_cast<std::uint64_t>(i));
      r.xxh.push_back(xxh_rounds * static_cast<double>(big.size()) / since(t));
      // single-key get.
      t = clk::now();
      std::uint64_t bad = 0;
      for (std::uint64_t i = 0; i < lookups; ++i) {
        auto v = db.get(order_keys[i]);
        std::uint64_t x;
        std::memcpy(&x, v->data(), 8);
        bad += x != order[i];
      }
      r.get.push_back(static_cast<double>(lookups) / since(t));
      check(bad == 0, "get");
      // get_batch of 1024.
      std::vector<simdr::blob_view> views(1024);
      t = clk::now();
      for (std::uint64_t i = 0; i < lookups; i += 1024) {
        const std::size_t m = std::min<std::uint64_t>(1024, lookups - i);
        auto got = db.get_batch(std::span(order_keys).subspan(i, m), views);
        check(got.has_value() && *got == m, "get_batch");
        for (std::size_t j = 0; j < m; ++j) {
          std::uint64_t x;
          std::memcpy(&x, views[j].data(), 8);
          bad += x != order[i + j];
        }
      }
      r.batch.push_back(static_cast<double>(lookups) / since(t));
      check(bad == 0, "get_batch values");
    }
  }
  fs::remove(path, ec);

  std::printf("# simdr kernel benchmark: %s; kernels available: %s; SIMDR_KERNELS=%s (%s)\n",
              cpu_model().c_str(), avail.c_str(), env != nullptr ? env : "(unset)",
              std::string(simdr::to_string(request.code)).c_str());
  std::printf("# W1 store of %llu entries, %llu random lookups per run; probe: %zu keys in cache; "
              "medians of %d (sink %llu)\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(lookups),
              cached_n, reps, static_cast<unsigned long long>(sink & 1));
  std::printf("| kernel | probe (in cache), M/s | match_tags, M/s | xxh3 64 KiB, GB/s | "
              "get, M/s | get_batch(1024), M keys/s | batch / get |\n"
              "|---|---|---|---|---|---|---|\n");
  for (std::size_t ki = 0; ki < kernels.size(); ++ki) {
    const row& r = rows[ki];
    std::printf("| %s | %.1f | %.1f | %.1f | %.2f | %.2f | %.2fx |\n", kernels[ki].c_str(),
                median(r.probe) / 1e6, median(r.match) / 1e6, median(r.xxh) / 1e9,
                median(r.get) / 1e6, median(r.batch) / 1e6, median(r.batch) / median(r.get));
  }
  return 0;
}
