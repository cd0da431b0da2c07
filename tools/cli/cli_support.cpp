// cli_support.cpp - key encodings, fd output, sizes and the progress bar (cli_support.hpp).
#include "cli_support.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace simdr::cli {

namespace {

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char hex_chars[] = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence at s[i] and its code point, or 0 when the bytes at i
// do not start one (RFC 3629: shortest form, no surrogates, at most U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = 0;
  std::uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1Fu;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0Fu;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07u;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

std::optional<std::string> decode_key(std::string_view arg, key_format f, std::string& why) {
  std::string out;
  switch (f) {
    case key_format::text:
      return std::string(arg);
    case key_format::hex:
      if (arg.size() % 2 != 0) {
        why = "odd number of hex digits";
        return std::nullopt;
      }
      out.reserve(arg.size() / 2);
      for (std::size_t i = 0; i < arg.size(); i += 2) {
        const int hi = hex_digit(arg[i]);
        const int lo = hex_digit(arg[i + 1]);
        if (hi < 0 || lo < 0) {
          why = "not a hex digit at position " + std::to_string(hi < 0 ? i : i + 1);
          return std::nullopt;
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
      }
      return out;
    case key_format::escaped:
      out.reserve(arg.size());
      for (std::size_t i = 0; i < arg.size(); ++i) {
        if (arg[i] != '\\') {
          out.push_back(arg[i]);
          continue;
        }
        if (i + 1 >= arg.size()) {
          why = "a lone backslash at the end";
          return std::nullopt;
        }
        const char c = arg[++i];
        switch (c) {
          case '\\': out.push_back('\\'); break;
          case 'n': out.push_back('\n'); break;
          case 'r': out.push_back('\r'); break;
          case 't': out.push_back('\t'); break;
          case 'x': {
            const int hi = i + 1 < arg.size() ? hex_digit(arg[i + 1]) : -1;
            const int lo = i + 2 < arg.size() ? hex_digit(arg[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
              why = "\\x needs two hex digits (position " + std::to_string(i - 1) + ")";
              return std::nullopt;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
            break;
          }
          default:
            why = std::string("unknown escape \\") + c + " (known: \\\\ \\n \\r \\t \\xHH)";
            return std::nullopt;
        }
      }
      return out;
  }
  why = "unknown key format";
  return std::nullopt;
}

std::string escape(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (std::size_t i = 0; i < key.size();) {
    const auto b = static_cast<unsigned char>(key[i]);
    if (b >= 0x80) {
      std::uint32_t cp = 0;
      const std::size_t len = utf8_sequence(key, i, cp);
      if (len > 0 && cp >= 0xA0) {
        out.append(key.substr(i, len));
        i += len;
        continue;
      }
    }
    switch (b) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (b >= 0x20 && b < 0x7F) {
          out.push_back(static_cast<char>(b));
        } else {
          out += "\\x";
          out.push_back(hex_chars[b >> 4]);
          out.push_back(hex_chars[b & 15]);
        }
    }
    ++i;
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(hex_chars[b >> 4]);
    out.push_back(hex_chars[b & 15]);
  }
  return out;
}

bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_sequence(s, i, cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string human_bytes(double n) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (n >= 1024.0 && u < 5) {
    n /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%.0f B", n);
  else std::snprintf(buf, sizeof buf, n < 10 ? "%.2f %s" : n < 100 ? "%.1f %s" : "%.0f %s", n, units[u]);
  return buf;
}

std::string human_count(double n) {
  char buf[32];
  if (n >= 1e9) std::snprintf(buf, sizeof buf, "%.2f G", n / 1e9);
  else if (n >= 1e6) std::snprintf(buf, sizeof buf, "%.2f M", n / 1e6);
  else if (n >= 1e3) std::snprintf(buf, sizeof buf, "%.1f k", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

int write_all(int fd, const void* data, std::size_t size) noexcept {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {  // a non-blocking descriptor handed to us: wait until writable
        pollfd pfd{fd, POLLOUT, 0};
        (void)::poll(&pfd, 1, -1);
        continue;
      }
      return errno;
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

bool fd_writer::write(std::string_view s) {
  if (error_ != 0) return false;
  if (buf_.size() + s.size() > (std::size_t{64} << 10)) {
    if (!flush()) return false;
    if (s.size() >= (std::size_t{64} << 10)) {
      error_ = write_all(fd_, s.data(), s.size());
      return error_ == 0;
    }
  }
  buf_.append(s);
  return true;
}

bool fd_writer::flush() {
  if (error_ != 0) return false;
  if (buf_.empty()) return true;
  error_ = write_all(fd_, buf_.data(), buf_.size());
  buf_.clear();
  return error_ == 0;
}

const std::byte* release_mapped(const std::byte* begin, const std::byte* end) noexcept {
  static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto b = (reinterpret_cast<std::uintptr_t>(begin) + page - 1) & ~(page - 1);
  const auto e = reinterpret_cast<std::uintptr_t>(end) & ~(page - 1);
  if (e <= b) return begin;
  (void)::madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
  return reinterpret_cast<const std::byte*>(e);
}

bool stderr_is_terminal() noexcept { return ::isatty(STDERR_FILENO) == 1; }

namespace {
std::mutex stderr_mu;      // serialises stderr between messages and the progress thread
bool bar_visible = false;  // a progress line is on screen (guarded by stderr_mu)
constexpr std::string_view erase_line = "\r\x1b[K";
}  // namespace

void stderr_line(std::string_view line) {
  std::string text;
  std::lock_guard lock(stderr_mu);
  if (bar_visible) text = erase_line;
  bar_visible = false;
  text.append(line);
  text += '\n';
  (void)write_all(STDERR_FILENO, text.data(), text.size());
}

// ---- progress -----------------------------------------------------------------------------

progress::progress(bool enabled, std::string label, std::uint64_t total_bytes,
                   std::uint64_t total_items)
    : enabled_(enabled), label_(std::move(label)), total_bytes_(total_bytes),
      total_items_(total_items), start_(std::chrono::steady_clock::now()) {
  if (enabled_) thread_ = std::thread([this] { run(); });
}

void progress::finish() {
  if (!enabled_) return;
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  draw(true);
}

void progress::run() {
  // The first frame waits a little (300 ms, or SIMDR_PROGRESS_DELAY_MS): short jobs finish
  // without a flash of progress bar.
  long delay_ms = 300;
  if (const char* env = std::getenv("SIMDR_PROGRESS_DELAY_MS"); env != nullptr && *env != '\0')
    delay_ms = std::strtol(env, nullptr, 10);
  std::unique_lock lock(mu_);
  if (delay_ms > 0 &&
      cv_.wait_for(lock, std::chrono::milliseconds(delay_ms), [this] { return stop_; }))
    return;
  for (;;) {
    lock.unlock();
    draw(false);
    lock.lock();
    if (cv_.wait_for(lock, std::chrono::milliseconds(125), [this] { return stop_; })) return;
  }
}

void progress::draw(bool final_frame) {
  std::string line(erase_line);  // to column 0, erase the line
  if (final_frame) {
    std::lock_guard lock(stderr_mu);
    if (bar_visible) (void)write_all(STDERR_FILENO, line.data(), line.size());
    bar_visible = false;
    return;
  }
  ++frame_;
  int width = 80;
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) width = ws.ws_col;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::uint64_t done = bytes_.load(std::memory_order_relaxed);
  const std::uint64_t items = items_.load(std::memory_order_relaxed);
  std::string tail;
  char buf[96];
  if (total_items_ > 0) {
    std::snprintf(buf, sizeof buf, " %" PRIu64 "/%" PRIu64, items, total_items_);
    tail += buf;
  }
  if (total_bytes_ > 0) {
    tail += "  " + human_bytes(static_cast<double>(done)) + " / " +
            human_bytes(static_cast<double>(total_bytes_));
  } else if (done > 0) {
    tail += "  " + human_bytes(static_cast<double>(done));
  }
  if (secs > 0.5 && done > 0) tail += "  " + human_bytes(static_cast<double>(done) / secs) + "/s";
  std::snprintf(buf, sizeof buf, "  %.1f s", secs);
  tail += buf;

  line += label_;
  if (total_bytes_ > 0 || total_items_ > 0) {
    const double frac =
        total_bytes_ > 0
            ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total_bytes_))
            : std::min(1.0, static_cast<double>(items) / static_cast<double>(total_items_));
    std::snprintf(buf, sizeof buf, " %3d%% ", static_cast<int>(frac * 100.0));
    line += buf;
    const int room = width - static_cast<int>(label_.size() + tail.size()) - 10;
    const int bar = std::clamp(room, 0, 40);
    if (bar >= 10) {
      const int fill = static_cast<int>(frac * bar);
      line += '[';
      line.append(static_cast<std::size_t>(fill), '#');
      line.append(static_cast<std::size_t>(bar - fill), '.');
      line += ']';
    }
  } else {
    static const char spin[] = "|/-\\";
    line += ' ';
    line += spin[frame_ % 4];
  }
  line += tail;
  std::lock_guard lock(stderr_mu);
  (void)write_all(STDERR_FILENO, line.data(), line.size());
  bar_visible = true;
}

}  // namespace simdr::cli
