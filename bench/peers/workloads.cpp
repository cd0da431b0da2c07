// workloads.cpp - the workload phases of simdr-bench (see workloads.hpp). Every engine runs the
// same loops; only the peer interface differs. Values read are always consumed: W1 values are
// compared with their index, W2/W3 values are hashed whole with XXH3 and their first 8 bytes
// compared with their index. A mismatch or a missing key fails the phase (bench_error).
#include "workloads.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace simdr_bench {
namespace {

using clk = std::chrono::steady_clock;
double since(clk::time_point t) { return std::chrono::duration<double>(clk::now() - t).count(); }

std::uint64_t load_u64(byte_span v) {
  std::uint64_t x = 0;
  std::memcpy(&x, v.data(), 8);
  return x;  // little-endian host (x86-64, aarch64)
}

void expect(bool ok, const std::string& what) {
  if (!ok) throw bench_error("verification failed: " + what);
}

// Keeps the compiler from discarding hashes of values nobody else looks at.
std::atomic<std::uint64_t> g_sink{0};

std::uint64_t status_field(const char* name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::size_t len = std::strlen(name);
  while (std::getline(in, line))
    if (line.compare(0, len, name) == 0) return std::stoull(line.substr(len)) * 1024;
  return 0;
}

struct xorshift {
  std::uint64_t s;
  std::uint64_t operator()() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1DULL;
  }
};

void write_all(engine& e, std::span<const kv> entries, std::size_t batch) {
  for (std::size_t i = 0; i < entries.size(); i += batch)
    e.write_batch(entries.subspan(i, std::min(batch, entries.size() - i)));
}

std::unique_ptr<engine> open_engine(const peer_info& p, const std::string& dir, bool create,
                                    bool sync) {
  std::unique_ptr<engine> e = p.make();
  e->open({dir, create, sync});
  return e;
}

}  // namespace

std::uint64_t rss_anon_bytes() { return status_field("RssAnon:"); }
std::uint64_t rss_bytes() { return status_field("VmRSS:"); }
std::uint64_t rss_peak_bytes() { return status_field("VmHWM:"); }

void build_base(const config& cfg, dataset& d) {
  const std::uint64_t keys = std::max({cfg.w1_n, cfg.w2_n, cfg.w3_n});
  d.key_bytes.clear();
  d.key_off.assign(1, 0);
  d.key_bytes.reserve(keys * 17);
  char buf[32];
  for (std::uint64_t i = 0; i < keys; ++i) {
    std::memcpy(buf, "bench-key-", 10);
    const auto r = std::to_chars(buf + 10, buf + sizeof buf, i);
    d.key_bytes.insert(d.key_bytes.end(), buf, r.ptr);
    d.key_off.push_back(static_cast<std::uint32_t>(d.key_bytes.size()));
  }
  d.w1_values.resize(cfg.w1_n);
  d.w1_kv.resize(cfg.w1_n);
  for (std::uint64_t i = 0; i < cfg.w1_n; ++i) {
    d.w1_values[i] = i;
    d.w1_kv[i] = {d.key(i), byte_span(reinterpret_cast<const std::byte*>(&d.w1_values[i]), 8)};
  }
  std::mt19937_64 a(42), b(4242);
  d.get_order.resize(cfg.w1_n);
  d.mget_order.resize(cfg.w1_n);
  for (auto& x : d.get_order) x = a() % cfg.w1_n;
  for (auto& x : d.mget_order) x = b() % cfg.w1_n;
}

void build_big(dataset& d, std::uint64_t n, std::size_t size) {
  d.big = std::vector<std::byte>();
  d.big_kv = std::vector<kv>();
  if (n == 0) return;
  d.big.resize(n * size);
  xorshift rng{0x9E3779B97F4A7C15ULL};
  auto* words = reinterpret_cast<std::uint64_t*>(d.big.data());
  const std::size_t count = d.big.size() / 8;
  for (std::size_t w = 0; w < count; ++w) words[w] = rng();
  d.big_kv.resize(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::byte* v = d.big.data() + i * size;
    std::memcpy(v, &i, 8);
    d.big_kv[i] = {d.key(i), byte_span(v, size)};
  }
}

metrics phase_w1_write(const peer_info& p, const config& cfg, const dataset& d,
                       const std::string& dir, bool sync) {
  std::unique_ptr<engine> e = open_engine(p, dir, true, sync);
  const auto t = clk::now();
  write_all(*e, d.w1_kv, cfg.w1_batch);
  const double el = since(t);
  e->close();
  return {{sync ? "w1sync.write" : "w1.write", static_cast<double>(d.w1_kv.size()) / el}};
}

metrics phase_w1_read(const peer_info& p, const config& cfg, const dataset& d,
                      const std::string& dir) {
  metrics m;
  const std::uint64_t n = cfg.w1_n;
  const auto per_key = [&](std::uint64_t bytes0, std::uint64_t bytes1) {
    return bytes1 > bytes0 ? static_cast<double>(bytes1 - bytes0) / static_cast<double>(n) : 0.0;
  };
  const std::uint64_t rss_start = rss_bytes();
  const std::uint64_t anon0 = rss_anon_bytes();
  std::unique_ptr<engine> e;
  std::unique_ptr<reader> r;
  if (p.caps.persistent) {
    // Reopen: until the store can answer reads (open plus the first read context).
    const auto t = clk::now();
    e = open_engine(p, dir, false, false);
    r = e->make_reader();
    m.push_back({"w1.reopen_ms", since(t) * 1000.0});
  } else {
    e = open_engine(p, dir, true, false);
    write_all(*e, d.w1_kv, cfg.w1_batch);
    r = e->make_reader();
  }
  m.push_back({"w1.index_bpk", per_key(anon0, rss_anon_bytes())});

  // Full scan, verifying count and values.
  auto t = clk::now();
  std::uint64_t sum = 0;
  const std::uint64_t seen = e->scan([&](std::string_view, byte_span v) { sum += load_u64(v); });
  m.push_back({"w1.scan", static_cast<double>(seen) / since(t)});
  expect(seen == n && sum == n * (n - 1) / 2, "W1 scan");

  // Random point reads.
  std::uint64_t bad = 0;
  t = clk::now();
  for (const std::uint64_t i : d.get_order) {
    const bool found = r->get(d.key(i), [&](byte_span v) { bad += v.size() != 8 || load_u64(v) != i; });
    bad += !found;
  }
  m.push_back({"w1.get", static_cast<double>(n) / since(t)});
  expect(bad == 0, "W1 random get");

  // Batched random reads.
  std::vector<std::string_view> keys(cfg.mget_batch);
  t = clk::now();
  for (std::size_t at = 0; at < n; at += cfg.mget_batch) {
    const std::size_t k = std::min<std::size_t>(cfg.mget_batch, n - at);
    for (std::size_t j = 0; j < k; ++j) keys[j] = d.key(d.mget_order[at + j]);
    const std::uint64_t* want = d.mget_order.data() + at;
    const std::size_t found = r->multi_get(std::span(keys.data(), k), [&](std::size_t j, byte_span v) {
      bad += v.size() != 8 || load_u64(v) != want[j];
    });
    bad += k - found;
  }
  m.push_back({"w1.mget", static_cast<double>(n) / since(t)});
  expect(bad == 0, "W1 batched get");

  m.push_back({"w1.anon_after_reads_bpk", per_key(anon0, rss_anon_bytes())});
  const std::uint64_t peak = rss_peak_bytes();
  m.push_back({"w1.peak_rss_mib",
               peak > rss_start ? static_cast<double>(peak - rss_start) / 1048576.0 : 0.0});
  r.reset();
  e->close();
  return m;
}

metrics phase_w4(const peer_info& p, const config& cfg, const dataset& d, const std::string& dir) {
  std::unique_ptr<engine> e = open_engine(p, dir, false, false);
  const std::uint64_t n = cfg.w1_n;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false}, stop{false};
  std::atomic<std::uint64_t> reads{0}, bad{0};
  std::vector<std::thread> readers;
  std::string error;
  std::atomic<bool> failed{false};
  for (int id = 0; id < cfg.w4_readers; ++id)
    readers.emplace_back([&, id] {
      std::uint64_t count = 0, wrong = 0;
      try {
        std::unique_ptr<reader> r = e->make_reader();
        xorshift rng{0x1234567ULL + static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ULL};
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        while (!stop.load(std::memory_order_relaxed)) {
          for (int k = 0; k < 256; ++k) {
            const std::uint64_t i = rng() % n;
            const bool found =
                r->get(d.key(i), [&](byte_span v) { wrong += v.size() != 8 || load_u64(v) != i; });
            wrong += !found;
            ++count;
          }
        }
      } catch (const std::exception& ex) {
        if (!failed.exchange(true)) error = ex.what();
        ready.fetch_add(1);
      }
      reads += count;
      bad += wrong;
    });
  while (ready.load() < cfg.w4_readers) std::this_thread::yield();
  std::uint64_t writes = 0;
  char key[32];
  std::memcpy(key, "w4-key-", 7);
  go.store(true, std::memory_order_release);
  const auto t = clk::now();
  double el = 0;
  try {
    while ((el = since(t)) < cfg.w4_seconds) {
      const std::uint64_t v = n + writes;
      const auto rc = std::to_chars(key + 7, key + sizeof key, writes);
      const kv one{std::string_view(key, static_cast<std::size_t>(rc.ptr - key)),
                   byte_span(reinterpret_cast<const std::byte*>(&v), 8)};
      e->write_batch(std::span(&one, 1));
      ++writes;
    }
  } catch (...) {
    stop = true;
    for (auto& th : readers) th.join();
    throw;
  }
  stop = true;
  for (auto& th : readers) th.join();
  if (failed) throw bench_error("W4 reader: " + error);
  expect(bad == 0, "W4 reads");
  e->close();
  return {{"w4.readers", static_cast<double>(reads.load()) / el},
          {"w4.writer", static_cast<double>(writes) / el}};
}

metrics phase_big_write(const peer_info& p, const dataset& d, const std::string& dir,
                        std::size_t batch, const std::string& tag) {
  std::unique_ptr<engine> e = open_engine(p, dir, true, false);
  const auto t = clk::now();
  write_all(*e, d.big_kv, batch);
  const double el = since(t);
  e->close();
  const double bytes = static_cast<double>(d.big.size());
  return {{tag + ".write_mbs", bytes / el / 1e6}};
}

metrics phase_big_read(const peer_info& p, const dataset& d, const std::string& dir,
                       std::size_t batch, std::uint64_t reads, const std::string& tag) {
  std::unique_ptr<engine> e;
  if (p.caps.persistent) {
    e = open_engine(p, dir, false, false);
  } else {
    e = open_engine(p, dir, true, false);
    write_all(*e, d.big_kv, batch);
  }
  std::unique_ptr<reader> r = e->make_reader();
  const std::uint64_t n = d.big_kv.size();
  const std::size_t size = n == 0 ? 0 : d.big_kv[0].value.size();
  // W2: `reads` uniform random keys. W3: every key once, in a random order.
  std::vector<std::uint64_t> order;
  std::mt19937_64 rng(7);
  if (reads != 0) {
    order.resize(reads);
    for (auto& x : order) x = rng() % n;
  } else {
    order.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
  }
  std::uint64_t acc = 0, bad = 0;
  // One timed pass over `order`, in seconds.
  auto read_pass = [&] {
    const auto t = clk::now();
    for (const std::uint64_t i : order) {
      const bool found = r->get(d.key(i), [&](byte_span v) {
        acc += XXH3_64bits(v.data(), v.size());
        bad += v.size() != size || load_u64(v) != i;
      });
      bad += !found;
    }
    return since(t);
  };
  const double el = read_pass();
  const double count = static_cast<double>(order.size());
  const double bytes = count * static_cast<double>(size);
  metrics out{{tag + ".read_ops", count / el}, {tag + ".read_mbs", bytes / el / 1e6}};
  if (reads == 0) {
    // W3: the same reads once more. The first pass pays what a process pays to first touch
    // data: for memory-mapped engines, a minor fault per 64 KiB of page cache mapped; the
    // hash-map floor built its data in this process. The second pass shows the engine with
    // that cost paid, so the report can tell the two apart.
    out.push_back({tag + ".read2_mbs", bytes / read_pass() / 1e6});
  }
  g_sink += acc;
  expect(bad == 0, tag + " reads");
  r.reset();
  e->close();
  return out;
}

}  // namespace simdr_bench
