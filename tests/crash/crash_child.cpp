// crash_child.cpp - a writer process for the kill -9 test (tests/crash/test_kill.cpp).
//
// usage: simdr_crash_child <file> <seed> <durability:none|commit>
// Writes batches forever. Batch b holds keys "b<b>-<i>" for i < n(b) with values derived from
// (b, i); after each commit returns it prints "ack <b>" on stdout (flushed), so the parent
// knows which commits were acknowledged before it killed us.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "simdr/simdr.hpp"

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const bool sync = std::string(argv[3]) == "commit";
  auto opened = simdr::store::open(
      argv[1], {.create = true, .durability = sync ? simdr::durability::commit : simdr::durability::none});
  if (!opened) {
    std::fprintf(stderr, "open: %s\n", std::string(simdr::to_string(opened.code())).c_str());
    return 3;
  }
  simdr::store db = std::move(*opened);
  // Resume after what is already in the file (the parent restarts us on the same file).
  std::uint64_t b = db.size() == 0 ? 0 : 1000000 + (seed % 1000) * 1000;
  std::mt19937_64 rng(seed);
  for (;; ++b) {
    const std::size_t n = 1 + rng() % 64;
    std::vector<std::string> keys(n), vals(n);
    std::vector<simdr::key_value> kv(n);
    for (std::size_t i = 0; i < n; ++i) {
      keys[i] = "b" + std::to_string(b) + "-" + std::to_string(i);
      const std::size_t len = (b * 7 + i * 13) % 3000;
      vals[i].assign(len, static_cast<char>('a' + (b + i) % 26));
      kv[i] = {keys[i], vals[i]};
    }
    if (db.put_batch(kv) != simdr::errc::ok) return 4;
    std::printf("ack %llu %zu\n", static_cast<unsigned long long>(b), n);
    std::fflush(stdout);
  }
}
