// wasm_storage.hpp - the wasm storage backend (core/src/storage.hpp seam) and store::open for
// Emscripten builds.
//
// The image is one buffer in wasm linear memory; every byte appended, overwritten or cut off
// is persisted, at the same offset, to a host file through file_io.hpp (OPFS sync access
// handle or node:fs, see js_files.js). Reads never touch the file: the image is the file.
// See wasm_storage.cpp for the write policy, compaction protocol and locking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "simdr/options.hpp"
#include "simdr/result.hpp"
#include "storage.hpp"

namespace simdr::wasm {

/// How a wasm_storage manages image memory.
struct storage_options {
  /// Keep image buffers that were moved away from (growth, compaction) until destruction, so
  /// that C++ views stay valid until close (docs/lifetimes.md, the C++ contract). The JS ABI
  /// (exports.cpp) turns this off: JS views are detached instead and the buffers are freed.
  bool keep_retired = true;
  /// Smallest image buffer, so that small stores never move; bigger files get 50% headroom.
  std::uint64_t min_reserve = std::uint64_t{1} << 20;
  /// Every call into the store over this storage comes from one thread, and no other thread
  /// runs in this wasm instance (the JS ABI: an instance belongs to one JS thread and never
  /// starts threads): storage::one_thread(). Lookups then skip the reclaimer's reader count,
  /// which in a -pthread build (the shared-memory module) is a locked instruction per get
  /// (index/reclaim.hpp, ONE THREAD). Without -pthread atomics are plain stores anyway.
  bool one_thread = false;
};

/// Counts the times image bytes were moved or freed in this instance (each also called
/// simdr_views_moved()). The ABI ends iterations that span such a change (exports.cpp).
[[nodiscard]] std::uint64_t moved_epoch() noexcept;

class wasm_storage final : public storage {
 public:
  /// Opens the file at `path` (create / read_only from `o`) and reads it into memory. Rolls a
  /// completed compaction forward first (see wasm_storage.cpp). Errors: locked (another writer
  /// in this wasm instance, or the host's lock), file_not_found, not_a_file, access_denied, io,
  /// no_memory.
  static result<std::unique_ptr<wasm_storage>> open(std::string_view path, const open_options& o,
                                                    const storage_options& so) noexcept;
  ~wasm_storage() override;
  wasm_storage(const wasm_storage&) = delete;
  wasm_storage& operator=(const wasm_storage&) = delete;

  [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t retired_buffers() const noexcept { return retired_.size(); }

  std::span<const std::byte> image() const noexcept override {
    return {data_, static_cast<std::size_t>(size_)};
  }
  std::uint64_t size() const noexcept override { return size_; }
  bool is_writable() const noexcept override { return writable_; }
  status append(std::span<const std::span<const std::byte>> parts) noexcept override;
  status write_at(std::uint64_t offset, std::span<const std::byte> bytes) noexcept override;
  status sync() noexcept override;
  status truncate(std::uint64_t new_size) noexcept override;
  status read_at(std::uint64_t offset, std::span<std::byte> out,
                 std::size_t& got) noexcept override;
  result<std::uint64_t> reload_size() noexcept override;
  result<std::unique_ptr<storage>> create_replacement() noexcept override;
  status install_replacement(storage& replacement) noexcept override;
  void retire() noexcept override;
  bool one_thread() const noexcept override { return so_.one_thread; }

 private:
  wasm_storage(std::string path, int file, bool writable, const storage_options& so) noexcept;
  status reserve(std::uint64_t need, std::byte*& moved_from) noexcept;
  void release_moved(std::byte* old) noexcept;
  status load(int file, std::uint64_t from, std::uint64_t to) noexcept;

  std::string path_;
  int file_;               // host file id; -1 for a compaction replacement not yet installed
  bool writable_;
  bool locked_ = false;    // holds this instance's writer lock on path_
  bool broken_ = false;    // a compaction failed half-way over the file: refuse writes
  bool refill_ = false;    // read-only: bytes past the committed end may be stale (reload_size)
  storage_options so_;
  std::byte* data_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t capacity_ = 0;
  std::vector<std::byte*> retired_;  // keep_retired: buffers views may still point into
};

}  // namespace simdr::wasm
