// pod_vector.hpp - a growable array of trivially copyable values whose allocations report
// failure instead of throwing: large transient buffers (index rebuilds, open-time scans) must
// turn an exhausted heap into errc::no_memory, and the core is built without exceptions.
#pragma once

#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace simdr::detail {

template <class T>
class pod_vector {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  pod_vector() noexcept = default;
  pod_vector(const pod_vector&) = delete;
  pod_vector& operator=(const pod_vector&) = delete;
  ~pod_vector() { std::free(data_); }

  [[nodiscard]] bool reserve(std::size_t n) noexcept {
    if (n <= cap_) return true;
    if (n > SIZE_MAX / sizeof(T)) return false;
    void* p = std::realloc(data_, n * sizeof(T));
    if (p == nullptr) return false;
    data_ = static_cast<T*>(p);
    cap_ = n;
    return true;
  }
  [[nodiscard]] bool push_back(const T& v) noexcept {
    if (size_ == cap_ && !reserve(cap_ < 16 ? 16 : cap_ * 2)) return false;
    data_[size_++] = v;
    return true;
  }
  void clear() noexcept { size_ = 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  T* data() noexcept { return data_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

}  // namespace simdr::detail
