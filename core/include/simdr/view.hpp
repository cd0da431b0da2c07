// simdr/view.hpp - zero-copy views of stored keys and values.
//
// LIFETIME CONTRACT (docs/lifetimes.md):
//   A `blob_view` or `entry_view` obtained from a store points straight into the store's image
//   (the memory map natively, the linear buffer under wasm). It stays valid and its bytes stay
//   unchanged until that store handle is closed or destroyed, whatever happens meanwhile:
//   later puts and erases of the same key, growth of the file, compaction, refresh(). A view
//   never becomes another value: a newer put simply makes get() return a new view.
//   Using a view after close() is undefined behaviour (AddressSanitizer reports it natively).
//
// Values start on the store's payload alignment (64 bytes by default), so `as<T>()` can expose
// them as a typed span without a copy when the length is a multiple of sizeof(T).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#if defined(__clang__)
#define SIMDR_LIFETIMEBOUND [[clang::lifetimebound]]
#define SIMDR_GSL_POINTER [[gsl::Pointer]]
#else
#define SIMDR_LIFETIMEBOUND
#define SIMDR_GSL_POINTER
#endif

namespace simdr {

/// A read-only view of one stored value and its key. Trivially copyable; does not own memory.
class SIMDR_GSL_POINTER blob_view {
 public:
  constexpr blob_view() noexcept = default;
  constexpr blob_view(const std::byte* data, std::uint64_t size, const std::byte* key,
                      std::uint32_t key_size, std::uint64_t offset,
                      std::uint64_t checksum) noexcept
      : data_(data), size_(size), key_(key), key_size_(key_size), offset_(offset),
        checksum_(checksum) {}

  /// False only for a default-constructed view, which get_batch() leaves for missing keys. A
  /// found value, even an empty one, converts to true.
  explicit operator bool() const noexcept { return data_ != nullptr; }
  /// First byte of the value; aligned to the store's payload alignment.
  [[nodiscard]] const std::byte* data() const noexcept { return data_; }
  /// Length of the value in bytes (may be 0).
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  /// The value as bytes.
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
    return {data_, static_cast<std::size_t>(size_)};
  }
  /// The value as characters (no copy, not NUL-terminated).
  [[nodiscard]] std::string_view str() const noexcept {
    return {reinterpret_cast<const char*>(data_), static_cast<std::size_t>(size_)};
  }
  /// The value as a span of T, or an empty span when the size is not a multiple of sizeof(T)
  /// or the data is not aligned for T. T must be trivially copyable (no copy is made).
  template <class T>
  [[nodiscard]] std::span<const T> as() const noexcept {
    static_assert(std::is_trivially_copyable_v<T>, "as<T>() needs a trivially copyable T");
    if (size_ % sizeof(T) != 0 || reinterpret_cast<std::uintptr_t>(data_) % alignof(T) != 0)
      return {};
    return {reinterpret_cast<const T*>(data_), static_cast<std::size_t>(size_ / sizeof(T))};
  }
  /// The key this value is stored under.
  [[nodiscard]] std::span<const std::byte> key() const noexcept { return {key_, key_size_}; }
  [[nodiscard]] std::string_view key_str() const noexcept {
    return {reinterpret_cast<const char*>(key_), key_size_};
  }
  /// File offset of the value's first byte (a multiple of the payload alignment).
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }
  /// The stored XXH3-64 checksum of the value (docs/format.md section 4).
  [[nodiscard]] std::uint64_t checksum() const noexcept { return checksum_; }

 private:
  const std::byte* data_ = nullptr;
  std::uint64_t size_ = 0;
  const std::byte* key_ = nullptr;
  std::uint32_t key_size_ = 0;
  std::uint64_t offset_ = 0;
  std::uint64_t checksum_ = 0;
};

static_assert(std::is_trivially_copyable_v<blob_view>);

}  // namespace simdr
