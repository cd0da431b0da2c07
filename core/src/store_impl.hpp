// store_impl.hpp - the portable engine behind simdr::store. Platform backends construct a
// `storage` (storage.hpp) and hand it to open_store(); everything else is here and in
// store.cpp, identical on every target.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "format/format.hpp"
#include "format/gather.hpp"
#include "index/index.hpp"
#include "index/reclaim.hpp"
#include "pod_vector.hpp"
#include "simdr/store.hpp"
#include "storage.hpp"

namespace simdr::detail {

/// Opens a store over `s` (already opened by a backend: file exists, lock taken for writable
/// storage). Writes a header into an empty writable storage when options.create is set.
[[nodiscard]] result<store> open_store(std::unique_ptr<storage> s,
                                       const open_options& options) noexcept;

/// Validates options common to all backends (alignment, create with read_only).
[[nodiscard]] status check_options(const open_options& options) noexcept;

/// Bit 63 of table::log_state: some entry before the committed end is dead (overwritten,
/// erased, or a tombstone), so a log walk alone cannot enumerate live keys.
inline constexpr std::uint64_t log_dirty = std::uint64_t{1} << 63;

class store_impl {
 public:
  store_impl(std::unique_ptr<storage> s, const open_options& o,
             const format::file_header& h) noexcept;
  ~store_impl();

  // Reads (lock-free).
  // Keys as two scalars, not a `bytes`: see store.hpp (get_).
  result<blob_view> get(const std::byte* key, std::size_t size) const noexcept;
  result<bool> contains(const std::byte* key, std::size_t size) const noexcept;
  result<std::size_t> get_batch(std::span<const bytes> keys, std::span<blob_view> out) const noexcept;
  status read_stream(bytes key, stream_sink sink, std::size_t chunk) const noexcept;
  void begin_range(entry_range& r) const noexcept;
  bool next_entry(entry_range& r, blob_view& out) const noexcept;
  void end_range(entry_range& r) const noexcept;
  std::uint64_t live() const noexcept { return live_.load(std::memory_order_relaxed); }
  std::uint64_t committed() const noexcept;
  std::span<const std::byte> committed_image() const noexcept;
  result<verify_report> verify() const noexcept;

  // Writes (serialised by mu_).
  status apply(std::span<const write_op> ops) noexcept;
  status put_batch(std::span<const key_value> kv) noexcept;
  result<bool> erase(bytes key) noexcept;
  status put_stream(bytes key, stream_source source) noexcept;
  status rename(bytes old_key, bytes new_key) noexcept;
  result<compact_report> compact() noexcept;
  status sync() noexcept;
  result<refresh_report> refresh() noexcept;
  store_info info() const noexcept;
  open_report report() const noexcept;

  status load(bool created) noexcept;  // open-time scan and index build
  static store make_handle(store_impl* impl) noexcept;
  /// Tests: the implementation behind a handle, and the writer's current table (read it only
  /// while no other thread writes).
  static store_impl& of(store& s) noexcept { return *s.impl_; }
  const table* current_table() const noexcept { return table_.load(std::memory_order_acquire); }
  /// Tests: whether readers register with a compiler barrier only (reclaim.hpp, BARRIERS), and
  /// the storage's heavy barrier that makes it sound.
  bool readers_asymmetric() const noexcept { return rcu_.asymmetric(); }
  /// Tests: whether lookups skip the reader count (storage::one_thread()).
  bool readers_uncounted() const noexcept { return rcu_.one_thread(); }
  heavy_barrier_fn storage_heavy_barrier() const noexcept { return storage_->heavy_barrier(); }

 private:
  struct loaded_entry {
    std::uint64_t hash;
    std::uint64_t offset;
    std::uint64_t size_kind;  // (entry size << 2) | kind
  };

  status commit_locked(std::span<const write_op> ops) noexcept;
  status encode_ops(std::span<const write_op> ops, std::uint64_t start) noexcept;
  status append_parts() noexcept;
  status after_append(std::uint64_t start) noexcept;
  void publish_ops(std::span<const write_op> ops, std::uint64_t start) noexcept;
  status ensure_capacity(std::uint64_t incoming) noexcept;
  status rebuild(std::uint64_t slots) noexcept;
  table* rebuild_table(const table& old, std::uint64_t slots) noexcept;
  bool regrow_into(const table& old, table& nt, unsigned shift) noexcept;
  bool rehash_into(const table& old, table& nt) noexcept;
  std::uint64_t estimate_puts(std::span<const std::byte> view, std::uint64_t from) const noexcept;
  status index_fresh(std::span<const std::byte> view, std::uint64_t from,
                     std::uint64_t ro_tail_bytes) noexcept;
  void apply_entry(table& t, std::uint64_t hash, const std::byte* key, std::size_t key_size,
                   std::uint64_t offset, std::uint8_t kind, std::uint64_t size,
                   const std::byte* base) noexcept;
  status index_log(std::span<const std::byte> image, std::uint64_t from, std::uint64_t to,
                   bool fresh_table) noexcept;
  void set_log_state(table& t, std::uint64_t end) noexcept;
  status fail_write(std::uint64_t start, status why) noexcept;
  status writable_check() const noexcept;
  std::uint64_t lookup_word_locked(bytes key, std::uint64_t hash) const noexcept;
  status make_view(const std::byte* base, std::uint64_t word, blob_view& out) const noexcept;

  // ---- shared with readers ----
  std::atomic<table*> table_{nullptr};
  mutable reclaimer rcu_;
  std::atomic<std::uint64_t> live_{0};
  const open_options options_;
  const format::file_header header_;
  const std::uint32_t alignment_;

  // ---- writer state, guarded by mu_ ----
  mutable std::mutex mu_;
  std::unique_ptr<storage> storage_;
  std::vector<std::unique_ptr<storage>> retired_;
  std::uint64_t entries_ = 0;
  std::uint64_t tombstones_ = 0;
  std::uint64_t live_bytes_ = 0;   // bytes of entries holding live values
  bool dirty_ = false;
  bool poisoned_ = false;          // a failed sync/undo: refuse writes until reopen
  open_report report_{};
  gather out_;                     // the gather list of the commit being written
  std::vector<std::byte> scratch_;  // put_stream's entry head
  std::vector<std::uint64_t> pending_;
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint64_t> sizes_;
  pod_vector<write_op> ops_buf_;
};

}  // namespace simdr::detail
