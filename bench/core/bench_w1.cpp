// bench_w1.cpp - workload W1 of shared/notes/benchmarks.md on SIMD R Drive alone:
// 1,000,000 entries (key "bench-key-{i}", value the 8-byte little-endian i) written in batches
// of 1024, then reopen, full scan, random point reads, and the W4-style concurrency run.
// Prints medians of --reps repetitions. Peers are measured in the same run by bench/peers
// (issue "Native benchmark against LMDB, RocksDB, ..."); this file is our side.
//
//   simdr-bench-w1 [--n 1000000] [--reps 3] [--dir /tmp] [--sync]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "simdr/simdr.hpp"

namespace fs = std::filesystem;
using clk = std::chrono::steady_clock;

namespace {

double since(clk::time_point t) { return std::chrono::duration<double>(clk::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Anonymous resident memory of this process (the index and heap; not the file mapping).
double anon_rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("RssAnon:", 0) == 0) return std::stod(line.substr(8)) / 1024.0;
  return 0;
}

std::string key_of(std::uint64_t i) { return "bench-key-" + std::to_string(i); }

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "bench: %s failed\n", what);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t n = 1000000;
  int reps = 3;
  bool sync = false;
  bool w4 = true;
  fs::path dir = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--n" && i + 1 < argc) n = std::stoull(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--sync") sync = true;
    else if (a == "--no-w4") w4 = false;
    else {
      std::puts("usage: simdr-bench-w1 [--n N] [--reps R] [--dir DIR] [--sync] [--no-w4]");
      return 2;
    }
  }
  const std::string path = (dir / "simdr-bench-w1.simdr").string();
  std::vector<std::string> keys(n);
  for (std::uint64_t i = 0; i < n; ++i) keys[i] = key_of(i);
  std::vector<std::uint64_t> order(n);
  std::mt19937_64 rng(42);
  for (auto& o : order) o = rng() % n;

  std::vector<double> w_write, w_open, w_scan, w_get, w_bytes, w_anon, w_index, w4_read, w4_write;
  for (int rep = 0; rep < reps; ++rep) {
    std::error_code ec;
    fs::remove(path, ec);
    {
      auto o = simdr::store::open(path, {.create = true,
                                          .durability = sync ? simdr::durability::commit
                                                             : simdr::durability::none});
      check(o.has_value(), "open");
      simdr::store db = std::move(*o);
      std::vector<simdr::key_value> batch;
      std::vector<std::uint64_t> vals(1024);
      auto t = clk::now();
      for (std::uint64_t i = 0; i < n;) {
        batch.clear();
        for (std::size_t j = 0; j < 1024 && i < n; ++j, ++i) {
          vals[j] = i;  // little-endian hosts: the 8 bytes of i
          batch.push_back({keys[i], simdr::bytes(&vals[j], 8)});
        }
        check(db.put_batch(batch).is_ok(), "put_batch");
      }
      w_write.push_back(static_cast<double>(n) / since(t));
      w_bytes.push_back(static_cast<double>(db.file_size()) / static_cast<double>(n));
    }
    auto t = clk::now();
    auto o = simdr::store::open(path, {});
    w_open.push_back(since(t) * 1000.0);
    check(o.has_value(), "reopen");
    simdr::store db = std::move(*o);
    w_anon.push_back(anon_rss_mib());
    w_index.push_back(static_cast<double>(db.info().index_bytes) / static_cast<double>(n));

    t = clk::now();
    std::uint64_t seen = 0, sum = 0;
    for (const simdr::entry_view& e : db.entries()) {
      std::uint64_t v;
      std::memcpy(&v, e.data(), 8);
      sum += v;
      ++seen;
    }
    w_scan.push_back(static_cast<double>(seen) / since(t));
    check(seen == n && sum == n * (n - 1) / 2, "scan");

    t = clk::now();
    std::uint64_t bad = 0;
    for (std::uint64_t i : order) {
      auto v = db.get(keys[i]);
      std::uint64_t x;
      std::memcpy(&x, v->data(), 8);
      bad += x != i;
    }
    w_get.push_back(static_cast<double>(n) / since(t));
    check(bad == 0, "random get");

    db = simdr::store();
    if (!w4) continue;
    // W4: 2 reader threads of random gets for 3 s while one writer appends single entries.
    auto o4 = simdr::store::open(path, {});
    check(o4.has_value(), "reopen for W4");
    simdr::store db4 = std::move(*o4);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> reads{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r)
      readers.emplace_back([&, r] {
        std::mt19937_64 local(static_cast<std::uint64_t>(r) + 7);
        std::uint64_t count = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          for (int k = 0; k < 256; ++k) {
            auto v = db4.get(keys[local() % n]);
            count += v.has_value();
          }
        }
        reads += count;
      });
    std::uint64_t writes = 0;
    t = clk::now();
    while (since(t) < 3.0) {
      const std::uint64_t v = n + writes;
      check(db4.put("w4-" + std::to_string(writes), simdr::bytes(&v, 8)).is_ok(), "w4 put");
      ++writes;
    }
    const double el = since(t);
    stop = true;
    for (auto& th : readers) th.join();
    w4_read.push_back(static_cast<double>(reads.load()) / el);
    w4_write.push_back(static_cast<double>(writes) / el);
    fs::remove(path, ec);
  }
  std::printf("# SIMD R Drive W1 (n=%llu, batches of 1024, %s), medians of %d, cpus=%u\n",
              static_cast<unsigned long long>(n), sync ? "fdatasync per batch" : "no sync", reps,
              std::thread::hardware_concurrency());
  std::printf("| metric | SIMD R Drive |\n|---|---|\n");
  std::printf("| batched write, entries/s | %.2f M |\n", median(w_write) / 1e6);
  std::printf("| reopen (index rebuild), ms | %.1f |\n", median(w_open));
  std::printf("| full scan, entries/s | %.1f M |\n", median(w_scan) / 1e6);
  std::printf("| random get, ops/s | %.2f M |\n", median(w_get) / 1e6);
  std::printf("| bytes on disk per entry | %.1f |\n", median(w_bytes));
  std::printf("| index memory, bytes per live key | %.1f |\n", median(w_index));
  std::printf("| anonymous RSS after reopen (whole bench process), MiB | %.1f |\n", median(w_anon));
  if (w4) {
    std::printf("| W4 readers total (2 threads), ops/s | %.2f M |\n", median(w4_read) / 1e6);
    std::printf("| W4 writer (1 commit per entry), ops/s | %.0f k |\n", median(w4_write) / 1e3);
  }
  return 0;
}
