// crash_child.cpp - a writer process for the kill -9 test (tests/crash/test_kill.cpp).
//
// usage: simdr_crash_child <file> <seed> <durability:none|commit>
// Writes batches forever, one put_batch (one commit) each. Batch b holds n(b) keys "b<b>-<i>"
// (i < n(b)); value i has length (b*7 + i*13) % 3000 and is filled with 'a' + (b+i) % 26.
// n(b) = 1 + splitmix64(seed ^ b) % 64 depends only on the seed and b, so the parent knows the
// size of every batch, acknowledged or not, when it always passes the same seed for a file.
//
// Restarts on the same file resume after what is there: the batches in the file must form a
// prefix 0..B-1, and the child starts at the first b whose key "b<b>-0" is missing. So batch
// numbers keep growing across restarts, and a batch lost with a killed child (never
// acknowledged) is written again, identically, by the next one.
//
// stdout (each line flushed): "ready <b>" once the store is open (b: the first batch it will
// write), then "ack <b> <n>" after each commit returned.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "crash/kill_protocol.hpp"
#include "simdr/simdr.hpp"

namespace kp = simdr::test::kill_protocol;

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const bool sync = std::string(argv[3]) == "commit";
  auto opened = simdr::store::open(
      argv[1], {.create = true, .durability = sync ? simdr::durability::commit : simdr::durability::none});
  if (!opened) {
    std::fprintf(stderr, "open: %s (errno %d, offset %llu)\n",
                 std::string(simdr::to_string(opened.code())).c_str(), opened.error().sys_errno,
                 static_cast<unsigned long long>(opened.error().offset));
    return 3;
  }
  simdr::store db = std::move(*opened);
  std::uint64_t b = 0;
  for (;; ++b) {
    auto has = db.contains(kp::key(b, 0));
    if (!has) return 5;
    if (!*has) break;
  }
  std::printf("ready %llu\n", static_cast<unsigned long long>(b));
  std::fflush(stdout);
  for (;; ++b) {
    const std::size_t n = kp::batch_size(seed, b);
    std::vector<std::string> keys(n), vals(n);
    std::vector<simdr::key_value> kv(n);
    for (std::size_t i = 0; i < n; ++i) {
      keys[i] = kp::key(b, i);
      vals[i].assign(kp::value_size(b, i), kp::value_char(b, i));
      kv[i] = {keys[i], vals[i]};
    }
    if (const simdr::status st = db.put_batch(kv); st != simdr::errc::ok) {
      std::fprintf(stderr, "put_batch %llu: %s (errno %d)\n", static_cast<unsigned long long>(b),
                   std::string(simdr::to_string(st.code)).c_str(), st.sys_errno);
      return 4;
    }
    std::printf("ack %llu %zu\n", static_cast<unsigned long long>(b), n);
    std::fflush(stdout);
  }
}
