// test_support.cpp - see test_support.hpp.
#include "support/test_support.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>

namespace simdr::test {

std::uint64_t suite_seed() {
  static const std::uint64_t seed = [] {
    if (const char* s = std::getenv("SIMDR_TEST_SEED")) return std::strtoull(s, nullptr, 10);
    return std::random_device{}() * 0x9E3779B97F4A7C15ull ^ std::random_device{}();
  }();
  return seed;
}

std::uint64_t seed_for(std::string_view name) {
  return suite_seed() ^ (std::hash<std::string_view>{}(name) * 0x9E3779B97F4A7C15ull);
}

temp_dir::temp_dir() {
  static std::mt19937_64 rng(std::random_device{}());
  const char* base = std::getenv("SIMDR_TMPDIR");
  std::filesystem::path root = base ? base : std::filesystem::temp_directory_path();
  for (;;) {
    path_ = root / ("simdr-test-" + std::to_string(rng()));
    if (std::filesystem::create_directory(path_)) break;
  }
}

temp_dir::~temp_dir() {
  if (std::getenv("SIMDR_KEEP_TMP") == nullptr) {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
}

std::vector<std::byte> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(c.size());
  if (!c.empty()) std::memcpy(out.data(), c.data(), c.size());
  return out;
}

void write_file(const std::string& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::byte> random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::vector<std::byte> v(n);
  for (auto& b : v) b = static_cast<std::byte>(rng());
  return v;
}

simdr::store open_ok(const std::string& path, const simdr::open_options& o) {
  auto r = simdr::store::open(path, o);
  INFO("open " << path << ": " << simdr::to_string(r.code()) << " errno " << r.error().sys_errno);
  REQUIRE(r.has_value());
  return std::move(*r);
}

}  // namespace simdr::test
