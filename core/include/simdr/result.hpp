// simdr/result.hpp - `result<T>`: a value or a `simdr::error`, without exceptions.
//
// A small subset of C++23 `std::expected<T, error>` (which libc++ 14, used by the wasm build,
// lacks). The core is compiled with -fno-exceptions: value() on a result that holds an error is
// a bug and terminates the program in every build type; it never throws. operator* and -> are
// unchecked, as in std::expected.
#pragma once

#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "simdr/error.hpp"

namespace simdr {

namespace detail {
/// Reading the value of a failed result: a bug in the caller. Terminates in every build type
/// (never undefined behaviour), the no-exceptions analogue of std::bad_expected_access.
[[noreturn]] inline void bad_result_access() noexcept { std::terminate(); }
}  // namespace detail

/// Holds either a `T` or an `error`. `errc::ok` is never stored as an error.
template <class T>
class [[nodiscard]] result {
 public:
  using value_type = T;

  /// A successful result holding `v`.
  result(T v) noexcept(std::is_nothrow_move_constructible_v<T>)  // NOLINT: implicit by design
      : has_(true) {
    ::new (static_cast<void*>(&storage_.value)) T(std::move(v));
  }
  /// A failed result. `e.code` must not be `errc::ok`.
  result(simdr::status e) noexcept : has_(false) { storage_.err = e; }  // NOLINT: implicit by design
  result(errc c) noexcept : result(simdr::status{c}) {}                 // NOLINT: implicit by design

  result(result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : has_(o.has_) {
    if (has_) ::new (static_cast<void*>(&storage_.value)) T(std::move(o.storage_.value));
    else storage_.err = o.storage_.err;
  }
  result(const result& o) : has_(o.has_) {
    if (has_) ::new (static_cast<void*>(&storage_.value)) T(o.storage_.value);
    else storage_.err = o.storage_.err;
  }
  result& operator=(result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &o) {
      this->~result();
      ::new (static_cast<void*>(this)) result(std::move(o));
    }
    return *this;
  }
  result& operator=(const result& o) {
    if (this != &o) {
      this->~result();
      ::new (static_cast<void*>(this)) result(o);
    }
    return *this;
  }
  ~result() {
    if (has_) storage_.value.~T();
  }

  /// True when a value is present.
  [[nodiscard]] bool has_value() const noexcept { return has_; }
  explicit operator bool() const noexcept { return has_; }

  /// The value. Calling it on a failed result terminates the program (std::terminate), in
  /// every build type: check has_value() (or use the result in a condition) first.
  T& value() & noexcept { return checked(), storage_.value; }
  const T& value() const& noexcept { return checked(), storage_.value; }
  T&& value() && noexcept { return checked(), std::move(storage_.value); }
  /// Unchecked access, as for std::optional and std::expected. Precondition: has_value().
  T& operator*() & noexcept { return storage_.value; }
  const T& operator*() const& noexcept { return storage_.value; }
  T&& operator*() && noexcept { return std::move(storage_.value); }
  T* operator->() noexcept { return &storage_.value; }
  const T* operator->() const noexcept { return &storage_.value; }

  /// The error; `errc::ok` with no errno when a value is present.
  [[nodiscard]] simdr::status error() const noexcept { return has_ ? simdr::status{} : storage_.err; }
  /// Shorthand for error().code.
  [[nodiscard]] errc code() const noexcept { return has_ ? errc::ok : storage_.err.code; }

 private:
  void checked() const noexcept {
    if (!has_) [[unlikely]] detail::bad_result_access();
  }

  union storage_t {
    storage_t() noexcept {}
    ~storage_t() {}
    T value;
    simdr::status err;
  } storage_;
  bool has_;
};

}  // namespace simdr
