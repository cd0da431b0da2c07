// simdr/error.hpp - the stable error vocabulary of SIMD R Drive.
//
// Every fallible operation reports one `errc`. Values are pinned forever, grouped by tens and
// append-only (compare zstd's ZSTD_ErrorCode and LMDB's return codes): bindings store them as
// integers and JS maps them to upper-case names (`SimdrError.code`, e.g. 'CORRUPT').
//
// Operating-system errors are never folded into `errc`: they ride along as `sys_errno` in
// `simdr::status` and `simdr::error` so callers can print the precise cause.
#pragma once

#include <cstdint>
#include <string_view>

namespace simdr {

/// Error and outcome codes. Grouped by tens:
///  0      success
///  1-9    outcomes that are not failures (`not_found`)
///  10-19  usage errors: the caller asked for something invalid
///  20-29  I/O and operating-system failures
///  30-39  integrity: the bytes on disk are not a valid store
///  40-49  resources
///  50-59  platform capabilities
enum class errc : std::uint16_t {
  ok = 0,

  not_found = 1,  ///< The key is not in the store (or the file does not exist, see file_not_found).
  exists = 2,     ///< The target key or file already exists and the call refuses to overwrite.

  invalid_argument = 10,  ///< A bad argument: empty key, bad alignment, conflicting options.
  closed = 11,            ///< The store handle was closed (or moved from).
  read_only = 12,         ///< A write on a store opened read-only.
  busy = 13,              ///< The operation cannot run now (e.g. compact on a read-only handle).

  io = 20,             ///< An I/O system call failed; see `sys_errno`.
  no_space = 21,       ///< The device or quota is full (ENOSPC, EDQUOT). Nothing was committed.
  locked = 22,         ///< Another writer holds the file (another process or another handle).
  access_denied = 23,  ///< Permission denied (EACCES, EPERM, EROFS).
  file_not_found = 24, ///< The file does not exist and `create` was not requested.
  not_a_file = 25,     ///< The path names a directory or another non-regular file.

  corrupt = 30,              ///< Structural damage: the file cannot be a valid store as-is.
  checksum_mismatch = 31,    ///< Stored bytes do not match their checksum.
  bad_magic = 32,            ///< The file does not start with the SIMD R Drive magic.
  unsupported_version = 33,  ///< A newer format (major version) or unknown algorithm id.

  no_memory = 40,  ///< An allocation failed (index growth, buffers).
  too_large = 41,  ///< A key longer than 65,535 bytes, or a value past the address space.

  unsupported_cpu = 50,    ///< A forced SIMD kernel is not available on this CPU.
  opfs_unavailable = 51,   ///< (browser) OPFS sync access handles are not available here.
  unsupported = 52,        ///< This backend does not support the operation.
};

/// The stable, lower-case name of a code, e.g. "checksum_mismatch". Never empty: unknown values
/// (from a newer library) give "unknown".
[[nodiscard]] std::string_view to_string(errc code) noexcept;

/// A one-line English description of a code, suitable for users ("not a SIMD R Drive file").
[[nodiscard]] std::string_view describe(errc code) noexcept;

/// The outcome of an operation that returns no value: a code, the OS error number that caused
/// it (0 when none) and, for integrity errors (corrupt, checksum_mismatch), the file offset of
/// the damage. Compares equal to an `errc`, so `if (db.put(k, v) != errc::ok)` works.
struct [[nodiscard]] status {
  errc code = errc::ok;
  int sys_errno = 0;
  std::uint64_t offset = 0;

  constexpr status() noexcept = default;
  constexpr status(errc c, int e = 0, std::uint64_t off = 0) noexcept  // NOLINT: implicit
      : code(c), sys_errno(e), offset(off) {}

  /// True when the operation succeeded.
  [[nodiscard]] constexpr bool is_ok() const noexcept { return code == errc::ok; }
  friend constexpr bool operator==(status s, errc c) noexcept { return s.code == c; }
  friend constexpr bool operator==(status a, status b) noexcept { return a.code == b.code; }
};

/// The error carried by `result<T>`: same as `status`, kept as its own name for readability.
using error = status;

}  // namespace simdr
