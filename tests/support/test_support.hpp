// test_support.hpp - helpers shared by the tests: seeds, temporary directories, byte helpers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "simdr/simdr.hpp"

// The wasm suite (preset wasm, Node) has no fork(): tests that need a second process are
// compiled out there; tests/CMakeLists.txt lists them.
#if defined(__EMSCRIPTEN__)
#define SIMDR_TEST_HAS_PROCESSES 0
#else
#define SIMDR_TEST_HAS_PROCESSES 1
#endif

namespace simdr::test {

/// The suite seed: SIMDR_TEST_SEED if set, else random (printed at start by test_main).
std::uint64_t suite_seed();
/// A per-test seed derived from the suite seed and a name; printed through Catch INFO by SEEDED.
std::uint64_t seed_for(std::string_view name);

/// A fresh directory removed at scope exit (unless SIMDR_KEEP_TMP is set).
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::vector<std::byte> read_file(const std::string& path);
void write_file(const std::string& path, std::span<const std::byte> bytes);
std::vector<std::byte> random_bytes(std::mt19937_64& rng, std::size_t n);
inline std::string str(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

/// Opens or fails the test with the error's name.
simdr::store open_ok(const std::string& path, const simdr::open_options& o = {.create = true});

}  // namespace simdr::test

#define SIMDR_SEEDED(var, name)                  \
  const std::uint64_t var = ::simdr::test::seed_for(name); \
  INFO("seed " << var << " (SIMDR_TEST_SEED=" << ::simdr::test::suite_seed() << ")")
