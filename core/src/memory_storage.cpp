// memory_storage.cpp - heap-backed storage: growth retires buffers instead of freeing them,
// so the image a view points into outlives every later write (see memory_storage.hpp).
#include "memory_storage.hpp"

#include <cstring>
#include <new>

namespace simdr {

memory_storage::~memory_storage() {
  release(data_);
  for (std::byte* p : retired_) release(p);
}

std::byte* memory_storage::allocate(std::uint64_t n) noexcept {
  if (n > SIZE_MAX) return nullptr;
  return static_cast<std::byte*>(::operator new(static_cast<std::size_t>(n),
                                                std::align_val_t{buffer_alignment}, std::nothrow));
}

void memory_storage::release(std::byte* p) noexcept {
  if (p != nullptr) ::operator delete(p, std::align_val_t{buffer_alignment});
}

std::unique_ptr<memory_storage> memory_storage::from_bytes(std::span<const std::byte> bytes,
                                                           bool writable) noexcept {
  auto s = std::unique_ptr<memory_storage>(new (std::nothrow) memory_storage(true));
  if (!s) return nullptr;
  const std::span<const std::byte> part = bytes;
  if (!bytes.empty() && !s->append(std::span(&part, 1)).is_ok()) return nullptr;
  s->writable_ = writable;
  return s;
}

status memory_storage::reserve(std::uint64_t capacity) noexcept {
  if (capacity <= capacity_) return errc::ok;
  std::byte* fresh = allocate(capacity);
  if (fresh == nullptr) return errc::no_memory;
  if (size_ != 0) std::memcpy(fresh, data_, static_cast<std::size_t>(size_));
  // Views may point into the old buffer: keep it until destruction.
  if (data_ != nullptr) retired_.push_back(data_);
  data_ = fresh;
  capacity_ = capacity;
  return errc::ok;
}

status memory_storage::append(std::span<const std::span<const std::byte>> parts) noexcept {
  if (!writable_) return errc::read_only;
  std::uint64_t total = 0;
  for (const auto& p : parts) total += p.size();
  if (total == 0) return errc::ok;
  if (size_ + total > capacity_) {
    std::uint64_t want = capacity_ < 4096 ? 4096 : capacity_ * 2;
    while (want < size_ + total) want *= 2;
    if (status st = reserve(want); !st.is_ok()) return st;
  }
  for (const auto& p : parts) {
    if (p.empty()) continue;
    std::memcpy(data_ + size_, p.data(), p.size());
    size_ += p.size();
  }
  return errc::ok;
}

status memory_storage::write_at(std::uint64_t offset, std::span<const std::byte> bytes) noexcept {
  if (!writable_) return errc::read_only;
  if (offset > size_ || bytes.size() > size_ - offset) return errc::invalid_argument;
  std::memcpy(data_ + offset, bytes.data(), bytes.size());
  return errc::ok;
}

status memory_storage::truncate(std::uint64_t new_size) noexcept {
  if (!writable_) return errc::read_only;
  if (new_size > size_) return errc::invalid_argument;
  size_ = new_size;
  return errc::ok;
}

result<std::unique_ptr<storage>> memory_storage::create_replacement() noexcept {
  auto s = std::unique_ptr<memory_storage>(new (std::nothrow) memory_storage(true));
  if (!s) return errc::no_memory;
  return std::unique_ptr<storage>(std::move(s));
}

status memory_storage::install_replacement(storage& replacement) noexcept {
  (void)replacement;  // no name to rebind: the core simply switches to the replacement
  writable_ = false;
  return errc::ok;
}

}  // namespace simdr
