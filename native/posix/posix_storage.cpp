// posix_storage.cpp - the native storage backend (storage.hpp seam) and store::open for POSIX.
//
// MAPPING. The file is mapped read-only and MAP_SHARED over a RESERVED range much larger than
// the file (64 GiB, or 4x the file). Appends go through pwritev(2) into the page cache, which
// the mapping shares, so the image grows in place: the base never moves while the file fits
// the reservation, and views stay valid. A file outgrowing the reservation gets a new, larger
// mapping; the old one stays mapped until the storage is destroyed (at close), so views into
// it stay valid too (compare LMDB's fixed map size, without MDB_MAP_RESIZED for users).
// Pages past the end of the file are never touched: the core reads only committed offsets.
//
// LOCKING. A writer holds flock(LOCK_EX) on the file it writes (released by close or process
// death). flock locks belong to the open file description, so two handles in one process
// conflict too. After locking, the path is re-checked to still name the locked inode: a
// compaction by the previous owner may have replaced it (then we retry on the new file).
// Readers take no lock.
//
// WRITES. pwritev at the known end, looping on short writes and EINTR. Durability uses
// fdatasync(2). Compaction writes "<path>.compact", fsyncs it, renames it over <path> and
// fsyncs the directory; the replacement is locked before the rename.
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/membarrier.h>
#include <sys/syscall.h>
#endif

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "simdr/store.hpp"
#include "store_impl.hpp"

namespace simdr {
namespace {

// INDEX MEMORY. Index tables are probed at random, so a table of many MiB costs a TLB miss per
// probe and, when new, a page fault per 4 KiB. Tables from 4 MiB up are mapped on their own,
// 2 MiB aligned, with MADV_HUGEPAGE (transparent huge pages in "madvise" mode, the Debian
// default; ignored where THP is off): one fault and one TLB entry per 2 MiB. Unmapped when
// freed, so a replaced table's memory returns to the system at once. Smaller tables use the
// heap.
constexpr std::size_t huge_table_min = std::size_t{4} << 20;
constexpr std::size_t huge_page = std::size_t{2} << 20;

void* allocate_table(std::size_t bytes) noexcept {
  if (bytes < huge_table_min) return ::operator new(bytes, std::align_val_t{64}, std::nothrow);
  const std::size_t len = (bytes + huge_page - 1) & ~(huge_page - 1);
  void* raw = ::mmap(nullptr, len + huge_page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t at = (start + huge_page - 1) & ~std::uintptr_t{huge_page - 1};
  if (at > start) ::munmap(raw, at - start);
  if (const std::uintptr_t tail = start + len + huge_page - (at + len); tail > 0)
    ::munmap(reinterpret_cast<void*>(at + len), tail);
  (void)::madvise(reinterpret_cast<void*>(at), len, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(at);
}

void release_table(void* p, std::size_t bytes) noexcept {
  if (bytes < huge_table_min) {
    ::operator delete(p, std::align_val_t{64});
    return;
  }
  ::munmap(p, (bytes + huge_page - 1) & ~(huge_page - 1));
}

constexpr detail::table_memory posix_table_memory{&allocate_table, &release_table};

// READER BARRIER. With membarrier(2) (Linux 4.14+), the index reclaimer's readers need only a
// compiler barrier; the writer calls this after flipping the reclaimer's phase, a few
// microseconds once per replaced index table (core/src/index/reclaim.hpp, BARRIERS).
#ifdef __linux__
long membarrier(int cmd) noexcept { return ::syscall(SYS_membarrier, cmd, 0, 0); }

bool membarrier_heavy() noexcept {
  if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return true;
  // A fork()ed child is not registered: register and try once more.
  return errno == EPERM && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
         membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;
}

detail::heavy_barrier_fn probe_heavy_barrier() noexcept {
  static const bool ok = [] {
    const long cmds = membarrier(MEMBARRIER_CMD_QUERY);
    return cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
           membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
  }();
  return ok ? &membarrier_heavy : nullptr;
}
#else
detail::heavy_barrier_fn probe_heavy_barrier() noexcept { return nullptr; }
#endif

status from_errno(int e) noexcept {
  switch (e) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG: return {errc::no_space, e};
    case EACCES:
    case EPERM:
    case EROFS: return {errc::access_denied, e};
    case ENOENT: return {errc::file_not_found, e};
    case EISDIR: return {errc::not_a_file, e};
    case ENOMEM: return {errc::no_memory, e};
    case EWOULDBLOCK: return {errc::locked, e};
    default: return {errc::io, e};
  }
}

constexpr std::uint64_t min_reserve = std::uint64_t{64} << 30;  // 64 GiB of address space

void* run_erased(void* f) {
  (*static_cast<function_ref<void()>*>(f))();
  return nullptr;
}

std::uint64_t page_size() noexcept {
  static const std::uint64_t ps = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  return ps;
}

class posix_storage final : public storage {
 public:
  posix_storage(int fd, std::string path, bool writable, std::uint64_t size, struct stat st)
      : fd_(fd), path_(std::move(path)), writable_(writable), size_(size), id_(st) {}

  ~posix_storage() override {
    for (const auto& m : maps_)
      if (m.second != 0) ::munmap(m.first, m.second);
    if (fd_ >= 0) ::close(fd_);
  }

  status map_initial() noexcept { return ensure_mapped(size_); }

  std::span<const std::byte> image() const noexcept override {
    return {base_, static_cast<std::size_t>(size_)};
  }
  void run_pair(function_ref<void()> a, function_ref<void()> b) noexcept override {
    pthread_t helper;
    // pthread_create rather than std::thread, which reports failure by throwing: without a
    // thread, `a` simply runs first (storage.hpp).
    if (pthread_create(&helper, nullptr, &run_erased, &a) != 0) {
      a();
      b();
      return;
    }
    b();
    pthread_join(helper, nullptr);
  }
  std::uint64_t size() const noexcept override { return size_; }
  bool is_writable() const noexcept override { return writable_; }
  const detail::table_memory* table_memory() const noexcept override {
    return &posix_table_memory;
  }
  detail::heavy_barrier_fn heavy_barrier() const noexcept override {
    return probe_heavy_barrier();
  }

  status append(std::span<const std::span<const std::byte>> parts) noexcept override {
    if (!writable_) return errc::read_only;
    std::uint64_t total = 0;
    for (const auto& p : parts) total += p.size();
    if (total == 0) return errc::ok;
    // Map first: once written, the bytes must be reachable through the image.
    if (status st = ensure_mapped(size_ + total); !st.is_ok()) return st;
    iov_.clear();
    for (const auto& p : parts)
      if (!p.empty())
        iov_.push_back({const_cast<std::byte*>(p.data()), p.size()});  // NOLINT: iovec API
    std::uint64_t off = size_;
    std::size_t first = 0;
    while (first < iov_.size()) {
      const int count = static_cast<int>(std::min<std::size_t>(iov_.size() - first, IOV_MAX));
      const ssize_t n = ::pwritev(fd_, iov_.data() + first, count, static_cast<off_t>(off));
      if (n < 0) {
        if (errno == EINTR) continue;
        return from_errno(errno);
      }
      if (n == 0) return {errc::io, EIO};
      off += static_cast<std::uint64_t>(n);
      // Consume fully written iovecs; trim a partially written one and retry the rest.
      auto left = static_cast<std::size_t>(n);
      while (first < iov_.size() && left >= iov_[first].iov_len) left -= iov_[first++].iov_len;
      if (left > 0) {
        iov_[first].iov_base = static_cast<char*>(iov_[first].iov_base) + left;
        iov_[first].iov_len -= left;
      }
    }
    size_ = off;
    return errc::ok;
  }

  status write_at(std::uint64_t offset, std::span<const std::byte> bytes) noexcept override {
    if (!writable_) return errc::read_only;
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                                 static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return from_errno(errno);
      }
      done += static_cast<std::size_t>(n);
    }
    return errc::ok;
  }

  status sync() noexcept override {
    if (!writable_) return errc::ok;
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return {errc::io, errno};
    }
    return errc::ok;
  }

  status truncate(std::uint64_t new_size) noexcept override {
    if (!writable_) return errc::read_only;
    while (::ftruncate(fd_, static_cast<off_t>(new_size)) != 0) {
      if (errno != EINTR) return from_errno(errno);
    }
    size_ = new_size;
    return errc::ok;
  }

  status read_at(std::uint64_t offset, std::span<std::byte> out, std::size_t& got) noexcept override {
    got = 0;
    while (got < out.size()) {
      const ssize_t n = ::pread(fd_, out.data() + got, out.size() - got,
                                static_cast<off_t>(offset + got));
      if (n < 0) {
        if (errno == EINTR) continue;
        return from_errno(errno);
      }
      if (n == 0) break;  // end of file
      got += static_cast<std::size_t>(n);
    }
    return errc::ok;
  }

  result<std::uint64_t> reload_size() noexcept override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return status{errc::io, errno};
    // The file may also have SHRUNK: a writer that opened after a crash truncates the torn
    // tail this read-only handle saw (and ignored). Never expose bytes past the real end:
    // touching mapped pages beyond it raises SIGBUS.
    const auto sz = static_cast<std::uint64_t>(st.st_size);
    if (sz > size_)
      if (status s = ensure_mapped(sz); !s.is_ok()) return s;
    size_ = sz;
    return size_;
  }

  result<std::unique_ptr<storage>> reopen_if_replaced() noexcept override {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      if (errno == ENOENT) return std::unique_ptr<storage>{};  // removed: keep what we have
      return status{errc::io, errno};
    }
    if (st.st_dev == id_.st_dev && st.st_ino == id_.st_ino) return std::unique_ptr<storage>{};
    return open_file(path_, /*writable=*/false, /*create=*/false);
  }

  result<std::unique_ptr<storage>> create_replacement() noexcept override {
    const std::string tmp = path_ + ".compact";
    const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return from_errno(errno);
    // Lock before it becomes visible under the real name (see LOCKING above).
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return from_errno(e);
    }
    struct stat st {};
    (void)::fstat(fd, &st);
    auto s = std::unique_ptr<posix_storage>(new (std::nothrow) posix_storage(fd, tmp, true, 0, st));
    if (!s) {
      ::close(fd);
      return errc::no_memory;
    }
    if (status m = s->map_initial(); !m.is_ok()) {
      s->discard();
      return m;
    }
    s->final_path_ = path_;
    return std::unique_ptr<storage>(std::move(s));
  }

  status install_replacement(storage& replacement) noexcept override {
    auto& r = static_cast<posix_storage&>(replacement);
    if (::rename(r.path_.c_str(), r.final_path_.c_str()) != 0) return from_errno(errno);
    r.path_ = r.final_path_;
    sync_directory(r.path_);
    // This file is no longer the store: release its lock and descriptor, keep its mapping.
    ::close(fd_);
    fd_ = -1;
    writable_ = false;
    return errc::ok;
  }

  void retire() noexcept override {
    // Views point below size_; unmap the reservation past the page that holds the last byte.
    const std::uint64_t keep = (size_ + page_size() - 1) & ~(page_size() - 1);
    for (auto& m : maps_) {
      if (m.second > keep) {
        ::munmap(static_cast<std::byte*>(m.first) + keep, m.second - keep);
        m.second = static_cast<std::size_t>(keep);
      }
    }
    reserved_ = keep;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    writable_ = false;
  }

  void discard() noexcept override {
    if (!final_path_.empty()) ::unlink(path_.c_str());
  }

  static result<std::unique_ptr<storage>> open_file(const std::string& path, bool writable,
                                                    bool create) noexcept;

 private:
  static void sync_directory(const std::string& path) noexcept {
    const auto slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  }

  // Makes [0, need) addressable. Keeps every earlier mapping (views may point into them).
  status ensure_mapped(std::uint64_t need) noexcept {
    if (base_ != nullptr && need <= reserved_) return errc::ok;
    std::uint64_t want = std::max({min_reserve, need * 4, reserved_ * 2});
    if (want > (std::uint64_t{1} << 46)) want = std::max(need, std::uint64_t{1} << 46);
    if (sizeof(void*) < 8) want = std::max<std::uint64_t>(need, std::min<std::uint64_t>(want, 1u << 30));
    want = (want + page_size() - 1) & ~(page_size() - 1);
    // Address space may be limited (ulimit -v, 39-bit aarch64 kernels, emulators). Then fall
    // back to a modest reservation, never to "the largest that fits": that would take half of
    // what is left each time and starve the next mapping (compaction, another store).
    const std::uint64_t modest =
        (std::max(need * 2, need + (std::uint64_t{64} << 20)) + page_size() - 1) & ~(page_size() - 1);
    const std::uint64_t exact = std::max((need + page_size() - 1) & ~(page_size() - 1), page_size());
    void* p = MAP_FAILED;
    for (const std::uint64_t size : {want, std::min(want, modest), exact}) {
      p = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_SHARED, fd_, 0);
      if (p != MAP_FAILED) {
        want = size;
        break;
      }
      if (errno != ENOMEM) return from_errno(errno);
    }
    if (p == MAP_FAILED) return from_errno(ENOMEM);
    maps_.emplace_back(p, static_cast<std::size_t>(want));
    base_ = static_cast<const std::byte*>(p);
    reserved_ = want;
    return errc::ok;
  }

  int fd_;
  std::string path_;
  std::string final_path_;  // set on compaction replacements
  bool writable_;
  std::uint64_t size_;
  struct stat id_;
  const std::byte* base_ = nullptr;
  std::uint64_t reserved_ = 0;
  std::vector<std::pair<void*, std::size_t>> maps_;
  std::vector<struct iovec> iov_;
};

result<std::unique_ptr<storage>> posix_storage::open_file(const std::string& path, bool writable,
                                                          bool create) noexcept {
  for (int attempt = 0; attempt < 8; ++attempt) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before the type
    // check below could refuse it. It changes nothing for regular files, and is cleared.
    int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK;
    if (create) flags |= O_CREAT;
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return from_errno(errno);
    (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      return status{errc::io, e};
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return status{errc::not_a_file, S_ISDIR(st.st_mode) ? EISDIR : 0};
    }
    if (writable) {
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        ::close(fd);
        return e == EWOULDBLOCK ? status{errc::locked, e} : from_errno(e);
      }
      // The path may have been replaced (compacted) between open and flock: then this lock
      // guards a dead inode. Retry on whatever the path names now.
      struct stat now {};
      if (::stat(path.c_str(), &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
        ::close(fd);
        continue;
      }
    }
    auto s = std::unique_ptr<posix_storage>(new (std::nothrow) posix_storage(
        fd, path, writable, static_cast<std::uint64_t>(st.st_size), st));
    if (!s) {
      ::close(fd);
      return errc::no_memory;
    }
    if (status m = s->map_initial(); !m.is_ok()) return m;
    return std::unique_ptr<storage>(std::move(s));
  }
  return errc::busy;
}

}  // namespace

result<store> store::open(std::string_view path, const open_options& options) noexcept {
  if (status st = detail::check_options(options); !st.is_ok()) return st;
  if (path.empty()) return errc::invalid_argument;
  std::string p(path);
  result<std::unique_ptr<storage>> s =
      posix_storage::open_file(p, !options.read_only, options.create);
  if (!s) return s.error();
  return detail::open_store(std::move(*s), options);
}

}  // namespace simdr
