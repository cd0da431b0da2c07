// cli_support.hpp - the pieces of the `simdr` command-line tool that are not commands: key
// encodings (text, escaped, hex), binary-safe output to file descriptors, human-readable sizes
// and the terminal progress bar. Nothing here knows about CLI11 or JSON.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace simdr::cli {

// ---- exit codes (documented in docs/cli.md and `simdr --help`; stable) ----------------------
inline constexpr int exit_ok = 0;         ///< success
inline constexpr int exit_not_found = 1;  ///< a named key is not in the store
inline constexpr int exit_usage = 2;      ///< bad command line (unknown command, bad key, ...)
inline constexpr int exit_failure = 3;    ///< store or file error: corrupt, locked, bad file, I/O

// ---- key encodings ----------------------------------------------------------------------------

/// How key arguments (and --prefix) are written on the command line.
enum class key_format { text, escaped, hex };

/// Decodes a key argument. Returns nullopt and sets `why` when the argument is malformed.
std::optional<std::string> decode_key(std::string_view arg, key_format f, std::string& why);

/// The escaped form printed by `simdr keys`: printable ASCII as is (backslash doubled), \n \r
/// \t, other bytes as \xHH, except well-formed UTF-8 of printable code points (U+00A0 and up),
/// which pass through. Unambiguous: decode_key(escape(k), escaped) == k for every k.
std::string escape(std::string_view key);
/// Lower-case hex, two digits per byte.
std::string to_hex(std::string_view bytes);
/// Whether `s` is well-formed UTF-8 (shortest forms, no surrogates, at most U+10FFFF).
bool is_utf8(std::string_view s);

// ---- sizes and rates --------------------------------------------------------------------------

/// "1.5 GiB", "512 B".
std::string human_bytes(double n);
/// "3.02 M", "950 k", "12".
std::string human_count(double n);

// ---- output -----------------------------------------------------------------------------------

/// Writes all of `data` to `fd`, retrying on EINTR, short writes and EAGAIN (non-blocking
/// descriptors are waited on with poll). Returns 0 or the errno of the failure (EPIPE when the
/// reader went away: SIGPIPE is ignored by the tool).
int write_all(int fd, const void* data, std::size_t size) noexcept;

/// A buffered writer on a file descriptor; remembers the first error.
class fd_writer {
 public:
  explicit fd_writer(int fd) : fd_(fd) {}
  fd_writer(const fd_writer&) = delete;
  fd_writer& operator=(const fd_writer&) = delete;
  ~fd_writer() { (void)flush(); }

  bool write(std::string_view s);
  bool put(char c) { return write(std::string_view(&c, 1)); }
  /// Flushes the buffer. False when any write failed.
  bool flush();
  /// errno of the first failed write, 0 if none.
  [[nodiscard]] int error() const noexcept { return error_; }

 private:
  int fd_;
  int error_ = 0;
  std::string buf_;
};

/// Tells the kernel that the pages of [begin, end) of a read-only file mapping are no longer
/// needed by this process (MADV_DONTNEED on the whole pages inside the range). The bytes stay
/// in the page cache and re-fault unchanged if touched again; only this process's resident set
/// shrinks. Used while streaming huge values out of the store's map. Returns where the released
/// range ends (page-aligned), or `begin` when no whole page was inside: pass it back as the next
/// `begin` to release a value progressively without leaving pages behind at chunk boundaries.
/// Only for pointers into a read-only MAP_SHARED file mapping (never heap memory).
const std::byte* release_mapped(const std::byte* begin, const std::byte* end) noexcept;

// ---- progress ---------------------------------------------------------------------------------

/// A one-line progress display on stderr, redrawn by a background thread 8 times a second.
/// Disabled (does nothing at all) unless `enabled`; the tool enables it only when stderr is a
/// terminal and --no-progress was not given. With total_bytes == 0 it shows a spinner, the
/// elapsed time and the bytes or items counted so far.
class progress {
 public:
  progress(bool enabled, std::string label, std::uint64_t total_bytes, std::uint64_t total_items);
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;
  ~progress() { finish(); }

  void add_bytes(std::uint64_t n) noexcept { bytes_.fetch_add(n, std::memory_order_relaxed); }
  void add_item() noexcept { items_.fetch_add(1, std::memory_order_relaxed); }
  /// Stops the display and erases its line. Idempotent.
  void finish();

 private:
  void run();
  void draw(bool final_frame);

  bool enabled_;
  std::string label_;
  std::uint64_t total_bytes_;
  std::uint64_t total_items_;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> items_{0};
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  unsigned frame_ = 0;
  std::thread thread_;
};

/// Writes one complete line (message plus '\n') to stderr. When a progress bar is on screen
/// its line is erased first (the bar is redrawn below on its next frame), so warnings printed
/// during import or export never end up glued to the bar.
void stderr_line(std::string_view line);

/// Whether stderr is a terminal (progress bars are drawn only then).
bool stderr_is_terminal() noexcept;

}  // namespace simdr::cli
