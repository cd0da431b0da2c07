// kill_protocol.hpp - what the crash child writes, shared by the child (crash_child.cpp) and
// the parent that checks the files it leaves behind (test_kill.cpp).
//
// Batch b holds batch_size(seed, b) keys "b<b>-<i>"; value i has value_size(b, i) bytes, all
// value_char(b, i). The size of every batch depends only on the seed and b, so the parent
// knows it even for a batch that was never acknowledged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace simdr::test::kill_protocol {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
inline std::uint64_t batch_size(std::uint64_t seed, std::uint64_t b) {
  return 1 + splitmix64(seed ^ b) % 64;
}
inline std::size_t value_size(std::uint64_t b, std::uint64_t i) {
  return static_cast<std::size_t>((b * 7 + i * 13) % 3000);
}
inline char value_char(std::uint64_t b, std::uint64_t i) {
  return static_cast<char>('a' + (b + i) % 26);
}
inline std::string key(std::uint64_t b, std::uint64_t i) {
  return "b" + std::to_string(b) + "-" + std::to_string(i);
}

}  // namespace simdr::test::kill_protocol
