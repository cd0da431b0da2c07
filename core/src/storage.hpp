// storage.hpp - THE STORAGE SEAM. The core sees a store file only through this interface,
// implemented by native/posix (memory map), by the in-memory backend (tests, wasm image), by
// wasm/ (OPFS) and by tests/crash (fault injection). It is off the hot path: reads resolve
// offsets against the image base the core caches, never through a virtual call.
//
// Contract common to all implementations:
//  * image() exposes bytes [0, size()) of the file. The memory it points to stays valid and
//    unchanged (for bytes below size()) until the storage object is destroyed, even when a
//    later append moves the image elsewhere: old images are retired, not freed. This is what
//    lets views outlive writes and compaction (docs/lifetimes.md).
//  * append() writes at offset size() only. On failure it leaves size() where it was (the file
//    itself may hold a partial write past it, which the core truncates or recovery drops).
//  * Nothing here is thread-safe: the core calls every mutating method under its writer mutex.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "index/reclaim.hpp"  // heavy_barrier_fn
#include "simdr/error.hpp"
#include "simdr/result.hpp"
#include "simdr/store.hpp"  // function_ref

namespace simdr {

namespace detail {
struct table_memory;  // index/index.hpp
}

class storage {
 public:
  virtual ~storage() = default;

  /// Readable bytes of the file as this handle knows it: [0, size()).
  [[nodiscard]] virtual std::span<const std::byte> image() const noexcept = 0;
  [[nodiscard]] virtual std::uint64_t size() const noexcept = 0;
  /// Whether the storage may be written (false for read-only opens).
  [[nodiscard]] virtual bool is_writable() const noexcept = 0;

  /// Appends the concatenation of `parts` at offset size() and extends the image over them.
  /// Errors: no_space, io, no_memory, read_only.
  virtual status append(std::span<const std::span<const std::byte>> parts) noexcept = 0;
  /// Overwrites bytes at `offset`, which must lie past the last commit (put_stream finalising
  /// its entry header). Errors: io, invalid_argument.
  virtual status write_at(std::uint64_t offset, std::span<const std::byte> bytes) noexcept = 0;
  /// Durability barrier: everything appended so far reaches stable storage (fdatasync).
  virtual status sync() noexcept = 0;
  /// Shrinks the file to `new_size` (recovery of a torn tail, or undoing a failed append).
  virtual status truncate(std::uint64_t new_size) noexcept = 0;

  /// Copies bytes at `offset` of the FILE (not the image) into `out`; `got` is how many were
  /// read: fewer than out.size() at the end of the file. Never faults, even when another
  /// process truncates the file meanwhile (native: pread). Read-only handles scan the
  /// uncommitted tail this way. Default: a copy from image().
  virtual status read_at(std::uint64_t offset, std::span<std::byte> out,
                         std::size_t& got) noexcept {
    const std::span<const std::byte> img = image();
    got = 0;
    if (offset >= img.size()) return errc::ok;
    got = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), img.size() - offset));
    std::memcpy(out.data(), img.data() + offset, got);
    return errc::ok;
  }

  /// Read-only handles: re-reads the file size (another process may have appended) and
  /// extends the image. Returns the new size.
  virtual result<std::uint64_t> reload_size() noexcept { return size(); }
  /// Whether the path now names a different file (another process compacted it); if so, opens
  /// that file read-only and returns it; returns nullptr when the file is the same.
  virtual result<std::unique_ptr<storage>> reopen_if_replaced() noexcept {
    return std::unique_ptr<storage>{};
  }

  /// Compaction, step 1: a new, empty, writable storage that may later replace this one.
  virtual result<std::unique_ptr<storage>> create_replacement() noexcept {
    return errc::unsupported;
  }
  /// Compaction, step 2: makes `replacement` (synced by the caller) the file at this storage's
  /// name, atomically. On success `this` is retired: its image stays readable, its file handle
  /// and lock may be released.
  virtual status install_replacement(storage& replacement) noexcept {
    (void)replacement;
    return errc::unsupported;
  }
  /// Compaction failed: removes a replacement that was never installed.
  virtual void discard() noexcept {}

  /// Runs `a` and `b` concurrently when the platform can (native: `a` on a helper thread), else
  /// `a` to completion and then `b`. Both have returned when this returns, whatever happens.
  /// Open uses it to overlap the log scan (a) with building the index (b); code using it must
  /// therefore be correct in both orders of execution (b never waits for a to make room).
  /// Thread creation lives here because the core cannot start threads without exceptions:
  /// std::thread reports failure by throwing.
  virtual void run_pair(function_ref<void()> a, function_ref<void()> b) noexcept {
    a();
    b();
  }

  /// Where the index tables of this store are allocated: memory the platform picks for tables
  /// probed at random (native: transparent huge pages for large tables, one TLB entry and one
  /// page fault per 2 MiB instead of per 4 KiB), or nullptr for the C++ heap. The functions
  /// must outlive every store (static): tables are freed through the reclaimer, possibly after
  /// this storage object is retired.
  [[nodiscard]] virtual const detail::table_memory* table_memory() const noexcept {
    return nullptr;
  }

  /// A process-wide heavy memory barrier (native Linux: membarrier(2), private expedited), or
  /// nullptr. With one, readers register with a compiler barrier only and the writer pays the
  /// heavy barrier when it frees an index table (index/reclaim.hpp, BARRIERS). The function
  /// must be static, and must run a full barrier on every CPU running a thread of this process
  /// whenever it returns true.
  [[nodiscard]] virtual detail::heavy_barrier_fn heavy_barrier() const noexcept {
    return nullptr;
  }

  /// Whether every call into the store over this storage comes from one thread while no other
  /// thread runs in the process (a wasm instance that belongs to one JS thread: the JS ABI of
  /// wasm/src/exports.cpp). Lookups then skip the reclaimer's reader count: the writer, on that
  /// same thread, never runs in the middle of one (index/reclaim.hpp, ONE THREAD).
  [[nodiscard]] virtual bool one_thread() const noexcept { return false; }

  /// This storage no longer backs the store (compacted away, or a read-only handle moved to
  /// the file that replaced it); it is kept only so that views into image() stay valid until
  /// close. Release everything else: descriptors, locks, and address space reserved beyond the
  /// end of the image (a handle that compacts often would otherwise pile up reservations).
  virtual void retire() noexcept {}
};

}  // namespace simdr
