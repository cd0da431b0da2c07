// memory_storage.hpp - a storage (storage.hpp) whose image lives in heap memory.
//
// Used by the wasm backend (the image in linear memory, persisted elsewhere), by tests (no file
// system, fault injection wraps it) and by anyone who wants a store in RAM. When an append
// outgrows the buffer, a buffer twice as large takes over and the old one is RETIRED, not
// freed: views into it stay valid until the storage is destroyed (docs/lifetimes.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "storage.hpp"

namespace simdr {

class memory_storage final : public storage {
 public:
  /// Alignment of image buffers: values aligned in the file are aligned in memory up to this.
  static constexpr std::size_t buffer_alignment = 4096;

  explicit memory_storage(bool writable = true) noexcept : writable_(writable) {}
  ~memory_storage() override;

  /// A storage holding a copy of `bytes` (e.g. a file read into memory). nullptr on no memory.
  static std::unique_ptr<memory_storage> from_bytes(std::span<const std::byte> bytes,
                                                    bool writable) noexcept;
  /// Pre-sizes the buffer so that growth (and retirement) happens later or never.
  status reserve(std::uint64_t capacity) noexcept;
  /// Number of buffers retired by growth and kept alive for views.
  [[nodiscard]] std::size_t retired_buffers() const noexcept { return retired_.size(); }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }

  std::span<const std::byte> image() const noexcept override {
    return {data_, static_cast<std::size_t>(size_)};
  }
  std::uint64_t size() const noexcept override { return size_; }
  bool is_writable() const noexcept override { return writable_; }
  status append(std::span<const std::span<const std::byte>> parts) noexcept override;
  status write_at(std::uint64_t offset, std::span<const std::byte> bytes) noexcept override;
  status sync() noexcept override { return errc::ok; }
  status truncate(std::uint64_t new_size) noexcept override;
  result<std::unique_ptr<storage>> create_replacement() noexcept override;
  status install_replacement(storage& replacement) noexcept override;

 private:
  static std::byte* allocate(std::uint64_t n) noexcept;
  static void release(std::byte* p) noexcept;

  bool writable_;
  std::byte* data_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t capacity_ = 0;
  std::vector<std::byte*> retired_;
};

}  // namespace simdr
