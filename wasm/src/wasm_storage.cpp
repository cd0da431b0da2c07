// wasm_storage.cpp - the wasm storage backend: an image in linear memory, persisted to a host
// file through file_io.hpp, and store::open for Emscripten builds.
//
// WRITES. append() copies the commit's gather list into the image and then persists the new
// bytes with ONE simdr_file_write of the contiguous image range (the core appends one commit
// per call), so a commit costs one host write whatever its number of parts; sync() is the
// host's flush (fdatasync / OPFS flush()). write_at() and truncate() reach the file the same
// way, so recovery of a torn tail truncates the file, not only the image.
//
// MEMORY. The buffer is reserved at open with headroom (50% of the file, at least
// storage_options::min_reserve) and grows by doubling, so wasm memory grows rarely. A buffer
// that is moved away from is kept until destruction (keep_retired, the C++ view contract) or,
// for the JS ABI, freed at once after simdr_views_moved() told JS to detach its views.
//
// COMPACTION ("<path>.compact" sidecar, written before the file is overwritten in place). A
// sync access handle cannot be renamed over another file in OPFS, so the compacted image,
// complete in memory, is written in place over the file, protected by a sidecar:
//   1. sidecar := image bytes [64, n), flush; then the 64-byte header, flush. A sidecar with a
//      valid header is therefore complete (the header is written last, after a barrier);
//   2. file := image [0, n), truncate to n, flush;
//   3. remove the sidecar (or truncate it to 0 where the host cannot remove).
// A crash during 1 leaves the file intact and a headerless sidecar, discarded at next open. A
// crash during 2 or 3 leaves a complete sidecar: the next open copies it over the file first
// (roll forward; idempotent), and a read-only open reads the sidecar instead. A failure of
// step 2 in a live handle marks it broken (writes fail with io) since its file is half
// rewritten; reopening rolls forward.
//
// LOCKING. One writer per path within this wasm instance (a table of paths held). Across
// instances the host decides: OPFS sync access handles are exclusive (a second opener gets
// errc::locked); on node:fs the JS host takes a lock file before opening (NodeFiles in
// js/backends/wasm_files.js; docs/js.md).
#include "wasm_storage.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include "file_io.hpp"
#include "format/format.hpp"
#include "simdr/store.hpp"
#include "store_impl.hpp"

namespace simdr::wasm {
namespace {

constexpr std::size_t buffer_alignment = 4096;
constexpr std::uint64_t io_chunk = std::uint64_t{1} << 29;  // one host call moves < 1 GiB
constexpr std::uint64_t growth_quantum = std::uint64_t{1} << 16;

status from_host(int rc) noexcept {
  return {static_cast<errc>(-rc), simdr_file_errno()};
}

std::vector<std::string>& writer_paths() noexcept {
  static std::vector<std::string> paths;
  return paths;
}

bool is_locked(std::string_view path) noexcept {
  const auto& v = writer_paths();
  return std::find(v.begin(), v.end(), path) != v.end();
}

void unlock(std::string_view path) noexcept {
  auto& v = writer_paths();
  if (auto it = std::find(v.begin(), v.end(), path); it != v.end()) v.erase(it);
}

std::byte* allocate(std::uint64_t n) noexcept {
  if (n > SIZE_MAX) return nullptr;
  return static_cast<std::byte*>(::operator new(static_cast<std::size_t>(n),
                                                std::align_val_t{buffer_alignment}, std::nothrow));
}

void release(std::byte* p) noexcept {
  if (p != nullptr) ::operator delete(p, std::align_val_t{buffer_alignment});
}

std::uint64_t epoch = 0;

void notify_moved() noexcept {
  ++epoch;
  simdr_views_moved();
}

std::uint64_t round_up(std::uint64_t n, std::uint64_t q) noexcept { return (n + q - 1) / q * q; }

status write_all(int file, const std::byte* p, std::uint64_t n, std::uint64_t offset) noexcept {
  while (n > 0) {
    const std::uint64_t k = std::min(n, io_chunk);
    if (int rc = simdr_file_write(file, p, static_cast<std::size_t>(k), static_cast<double>(offset));
        rc < 0)
      return from_host(rc);
    p += k;
    n -= k;
    offset += k;
  }
  return errc::ok;
}

// Reads [offset, offset + n) of `file` into `p`; `got` tells how many bytes the file had.
status read_all(int file, std::byte* p, std::uint64_t n, std::uint64_t offset,
                std::uint64_t& got) noexcept {
  got = 0;
  while (got < n) {
    const std::uint64_t k = std::min(n - got, io_chunk);
    const int rc = simdr_file_read(file, p + got, static_cast<std::size_t>(k),
                                   static_cast<double>(offset + got));
    if (rc < 0) return from_host(rc);
    if (rc == 0) break;
    got += static_cast<std::uint64_t>(rc);
  }
  return errc::ok;
}

result<std::uint64_t> file_size(int file) noexcept {
  const double s = simdr_file_size(file);
  if (s < 0) return from_host(static_cast<int>(s));
  return static_cast<std::uint64_t>(s);
}

int open_file(std::string_view path, int flags) noexcept {
  return simdr_file_open(path.data(), path.size(), flags);
}

void remove_sidecar(const std::string& side, int sf) noexcept {
  simdr_file_close(sf);
  if (simdr_file_remove(side.data(), side.size()) < 0) {
    // The host cannot delete (OPFS without async): leave an empty file, which means "none".
    const int again = open_file(side, 0);
    if (again >= 0) {
      (void)simdr_file_truncate(again, 0);
      (void)simdr_file_flush(again);
      simdr_file_close(again);
    }
  }
}

// Whether the sidecar `sf` holds a complete compacted image (its header is valid).
bool sidecar_complete(int sf) noexcept {
  std::byte hdr[detail::format::header_size];
  std::uint64_t got = 0;
  if (!read_all(sf, hdr, sizeof hdr, 0, got).is_ok() || got != sizeof hdr) return false;
  detail::format::file_header h;
  return detail::format::decode_header(std::span<const std::byte>(hdr, sizeof hdr), h).is_ok();
}

}  // namespace

std::uint64_t moved_epoch() noexcept { return epoch; }

wasm_storage::wasm_storage(std::string path, int file, bool writable,
                           const storage_options& so) noexcept
    : path_(std::move(path)), file_(file), writable_(writable), so_(so) {}

wasm_storage::~wasm_storage() {
  if (file_ >= 0) simdr_file_close(file_);
  if (locked_) unlock(path_);
  const bool had_bytes = data_ != nullptr || !retired_.empty();
  release(data_);
  for (std::byte* p : retired_) release(p);
  if (had_bytes) notify_moved();
}

result<std::unique_ptr<wasm_storage>> wasm_storage::open(std::string_view path,
                                                         const open_options& o,
                                                         const storage_options& so) noexcept {
  if (path.empty()) return errc::invalid_argument;
  const bool writable = !o.read_only;
  if (writable && is_locked(path)) return errc::locked;
  std::string side(path);
  side += ".compact";
  // A complete sidecar is the newest state of the file (a compaction crashed after step 1).
  int source = -1;
  const int sf = open_file(side, simdr_file_read_only);
  if (sf >= 0) {
    const result<std::uint64_t> side_size = file_size(sf);
    if (sidecar_complete(sf)) {
      source = sf;
    } else if (side_size && *side_size == 0) {
      simdr_file_close(sf);  // empty: what OPFS, which cannot delete, leaves after a compaction
    } else {
      simdr_file_close(sf);
      if (writable) {
        const int w = open_file(side, 0);
        if (w >= 0) remove_sidecar(side, w);
      }
    }
  }
  const int f = open_file(path, (o.create ? simdr_file_create : 0) |
                                    (writable ? 0 : simdr_file_read_only));
  if (f < 0) {
    if (source >= 0) simdr_file_close(source);
    return from_host(f);
  }
  auto s = std::unique_ptr<wasm_storage>(new (std::nothrow) wasm_storage(std::string(path), f,
                                                                         writable, so));
  if (!s) {
    simdr_file_close(f);
    if (source >= 0) simdr_file_close(source);
    return errc::no_memory;
  }
  if (writable) {
    writer_paths().emplace_back(path);
    s->locked_ = true;
  }
  result<std::uint64_t> n = file_size(source >= 0 ? source : f);
  if (!n) {
    if (source >= 0) simdr_file_close(source);
    return n.error();
  }
  status st = s->load(source >= 0 ? source : f, 0, *n);
  if (st.is_ok() && source >= 0 && writable) {
    // Roll the compaction forward: the file becomes the sidecar's image.
    st = write_all(f, s->data_, s->size_, 0);
    if (st.is_ok()) {
      if (int rc = simdr_file_truncate(f, static_cast<double>(s->size_)); rc < 0) st = from_host(rc);
    }
    if (st.is_ok()) {
      if (int rc = simdr_file_flush(f); rc < 0) st = from_host(rc);
    }
    if (st.is_ok()) {
      remove_sidecar(side, source);
      source = -1;
    }
  }
  if (source >= 0) simdr_file_close(source);
  if (!st.is_ok()) return st;
  return s;
}

// Reads [from, to) of `file` into the image (reserving room), setting size_ to where it ended.
status wasm_storage::load(int file, std::uint64_t from, std::uint64_t to) noexcept {
  std::byte* old = nullptr;
  if (status st = reserve(to, old); !st.is_ok()) return st;
  release_moved(old);
  std::uint64_t got = 0;
  if (to > from) {
    if (status st = read_all(file, data_ + from, to - from, from, got); !st.is_ok()) return st;
  }
  size_ = from + got;
  return errc::ok;
}

// Makes room for `need` bytes. When the image moves, the old buffer is returned in `moved_from`
// (its bytes may still be the source of the append in progress: a rename copies a value out of
// the image) and must be passed to release_moved() afterwards.
status wasm_storage::reserve(std::uint64_t need, std::byte*& moved_from) noexcept {
  moved_from = nullptr;
  if (need <= capacity_ && data_ != nullptr) return errc::ok;
  std::uint64_t want = std::max({need + need / 2, so_.min_reserve, capacity_ * 2});
  want = round_up(want, growth_quantum);
  std::byte* fresh = allocate(want);
  if (fresh == nullptr) {
    want = round_up(std::max<std::uint64_t>(need, 1), growth_quantum);  // no headroom, then
    fresh = allocate(want);
    if (fresh == nullptr) return errc::no_memory;
  }
  if (size_ != 0) std::memcpy(fresh, data_, static_cast<std::size_t>(size_));
  moved_from = data_;
  data_ = fresh;
  capacity_ = want;
  return errc::ok;
}

void wasm_storage::release_moved(std::byte* old) noexcept {
  if (old == nullptr) return;
  if (so_.keep_retired) {
    retired_.push_back(old);
  } else {
    release(old);
    notify_moved();
  }
}

status wasm_storage::append(std::span<const std::span<const std::byte>> parts) noexcept {
  if (!writable_) return errc::read_only;
  if (broken_) return errc::io;
  std::uint64_t total = 0;
  for (const auto& p : parts) total += p.size();
  if (total == 0) return errc::ok;
  std::byte* old = nullptr;
  if (status st = reserve(size_ + total, old); !st.is_ok()) return st;
  std::byte* at = data_ + size_;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    std::memcpy(at, p.data(), p.size());
    at += p.size();
  }
  release_moved(old);
  if (file_ >= 0) {
    if (status st = write_all(file_, data_ + size_, total, size_); !st.is_ok()) return st;
  }
  size_ += total;
  return errc::ok;
}

status wasm_storage::write_at(std::uint64_t offset, std::span<const std::byte> bytes) noexcept {
  if (!writable_) return errc::read_only;
  if (broken_) return errc::io;
  if (offset > size_ || bytes.size() > size_ - offset) return errc::invalid_argument;
  std::memcpy(data_ + offset, bytes.data(), bytes.size());
  if (file_ >= 0) return write_all(file_, data_ + offset, bytes.size(), offset);
  return errc::ok;
}

status wasm_storage::sync() noexcept {
  if (file_ < 0 || !writable_) return errc::ok;
  if (int rc = simdr_file_flush(file_); rc < 0) return from_host(rc);
  return errc::ok;
}

status wasm_storage::truncate(std::uint64_t new_size) noexcept {
  if (!writable_) return errc::read_only;
  if (new_size > size_) return errc::invalid_argument;
  if (file_ >= 0) {
    if (int rc = simdr_file_truncate(file_, static_cast<double>(new_size)); rc < 0)
      return from_host(rc);
  }
  size_ = new_size;
  return errc::ok;
}

// Read-only handles scan past their committed end with read_at (core/src/recovery/scan.hpp).
// The first such read after reload_size() starts at the old committed end: the image is
// refilled from there, since a writer may have truncated and rewritten bytes this handle read
// as a torn tail. The copy handed out comes from the refreshed image.
status wasm_storage::read_at(std::uint64_t offset, std::span<std::byte> out,
                             std::size_t& got) noexcept {
  if (refill_ && file_ >= 0 && offset < size_) {
    refill_ = false;
    if (status st = load(file_, offset, size_); !st.is_ok()) return st;
  }
  return storage::read_at(offset, out, got);
}

result<std::uint64_t> wasm_storage::reload_size() noexcept {
  if (writable_ || file_ < 0) return size_;
  result<std::uint64_t> n = file_size(file_);
  if (!n) return n.error();
  if (*n == size_) return size_;
  std::byte* old = nullptr;
  if (status st = reserve(*n, old); !st.is_ok()) return st;
  release_moved(old);
  size_ = *n;  // bytes arrive in read_at (refill_), before the core indexes them
  refill_ = true;
  return size_;
}

result<std::unique_ptr<storage>> wasm_storage::create_replacement() noexcept {
  if (file_ < 0 || !writable_) return errc::unsupported;
  auto s = std::unique_ptr<wasm_storage>(new (std::nothrow) wasm_storage(path_, -1, true, so_));
  if (!s) return errc::no_memory;
  // The compacted image is at most as large as this one: one buffer, no growth.
  std::byte* none = nullptr;
  if (status st = s->reserve(std::max<std::uint64_t>(size_, 1), none); !st.is_ok()) return st;
  return std::unique_ptr<storage>(std::move(s));
}

status wasm_storage::install_replacement(storage& replacement) noexcept {
  auto& r = static_cast<wasm_storage&>(replacement);
  if (file_ < 0 || r.file_ >= 0 || r.size_ < detail::format::header_size) return errc::invalid_argument;
  constexpr std::uint64_t h = detail::format::header_size;
  const std::string side = path_ + ".compact";
  // Step 1: the sidecar, header last.
  const int sf = open_file(side, simdr_file_create);
  if (sf < 0) return from_host(sf);
  status st = errc::ok;
  auto step = [&](int rc) {
    if (st.is_ok() && rc < 0) st = from_host(rc);
  };
  step(simdr_file_truncate(sf, 0));
  if (st.is_ok()) st = write_all(sf, r.data_ + h, r.size_ - h, h);
  if (st.is_ok()) step(simdr_file_flush(sf));
  if (st.is_ok()) st = write_all(sf, r.data_, h, 0);
  if (st.is_ok()) step(simdr_file_flush(sf));
  if (!st.is_ok()) {
    remove_sidecar(side, sf);
    return st;
  }
  // Step 2: the file itself. From here a failure leaves the file half rewritten.
  st = write_all(file_, r.data_, r.size_, 0);
  step(simdr_file_truncate(file_, static_cast<double>(r.size_)));
  step(simdr_file_flush(file_));
  if (!st.is_ok()) {
    simdr_file_close(sf);  // the complete sidecar stays: the next open rolls forward
    broken_ = true;
    return st;
  }
  // Step 3.
  remove_sidecar(side, sf);
  r.file_ = file_;
  r.locked_ = locked_;
  file_ = -1;
  locked_ = false;
  writable_ = false;
  return errc::ok;
}

void wasm_storage::retire() noexcept {
  if (file_ >= 0) {
    simdr_file_close(file_);
    file_ = -1;
  }
  if (!so_.keep_retired && data_ != nullptr) {
    release(data_);
    data_ = nullptr;
    size_ = 0;
    capacity_ = 0;
    notify_moved();
  }
}

}  // namespace simdr::wasm

namespace simdr {

result<store> store::open(std::string_view path, const open_options& options) noexcept {
  if (status st = detail::check_options(options); !st.is_ok()) return st;
  result<std::unique_ptr<wasm::wasm_storage>> s = wasm::wasm_storage::open(path, options, {});
  if (!s) return s.error();
  return detail::open_store(std::unique_ptr<storage>(std::move(*s)), options);
}

}  // namespace simdr
