// simdr/bytes.hpp - `bytes`: a non-owning reference to a run of bytes used for keys and values.
//
// Accepts std::string_view (so string literals work), spans of std::byte, unsigned char or char,
// and (pointer, length) pairs. It never owns memory and never copies: it lives as long as the
// caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace simdr {

/// A borrowed run of bytes. Cheap to copy (pointer + length).
class bytes {
 public:
  constexpr bytes() noexcept = default;
  bytes(const void* data, std::size_t size) noexcept
      : data_(static_cast<const std::byte*>(data)), size_(size) {}
  bytes(std::string_view s) noexcept  // NOLINT: implicit by design
      : data_(reinterpret_cast<const std::byte*>(s.data())), size_(s.size()) {}
  bytes(const std::string& s) noexcept  // NOLINT: implicit by design
      : data_(reinterpret_cast<const std::byte*>(s.data())), size_(s.size()) {}
  bytes(const char* s) noexcept : bytes(std::string_view(s)) {}  // NOLINT
  constexpr bytes(std::span<const std::byte> s) noexcept  // NOLINT
      : data_(s.data()), size_(s.size()) {}
  bytes(std::span<const unsigned char> s) noexcept  // NOLINT
      : data_(reinterpret_cast<const std::byte*>(s.data())), size_(s.size()) {}
  bytes(std::span<const char> s) noexcept  // NOLINT
      : data_(reinterpret_cast<const std::byte*>(s.data())), size_(s.size()) {}

  [[nodiscard]] constexpr const std::byte* data() const noexcept { return data_; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] constexpr std::span<const std::byte> span() const noexcept { return {data_, size_}; }
  /// The bytes as characters (no copy; not NUL-terminated).
  [[nodiscard]] std::string_view str() const noexcept {
    return {reinterpret_cast<const char*>(data_), size_};
  }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace simdr
