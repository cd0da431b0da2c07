// simdr/store.hpp - `simdr::store`: an append-only, single-file key/value store with zero-copy
// reads.
//
// THREAD SAFETY
//   One store handle may be shared by any number of threads. Reads (get, contains, size,
//   entries(), read_stream) never take a lock the writer holds and never wait for a writer.
//   Writes (put, put_batch, erase, rename, copy/move into this store, put_stream, compact,
//   sync, refresh) are serialised by an internal mutex. close() and destruction must not race
//   with any other call on the same handle.
//
// PROCESSES
//   One writer per file: a second read-write open (from any process, or another handle in this
//   process) fails at once with errc::locked. Read-only opens are always allowed and see new
//   commits after refresh().
//
// VIEWS
//   get() and entries() return views into the store's memory; see simdr/view.hpp for the
//   lifetime contract (valid until close()).
//
// ERRORS
//   Nothing throws. Every call that can fail returns `status` or `result<T>`; a missing key is
//   the outcome errc::not_found. Possible codes are listed per function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "simdr/bytes.hpp"
#include "simdr/error.hpp"
#include "simdr/options.hpp"
#include "simdr/result.hpp"
#include "simdr/view.hpp"

namespace simdr {

namespace detail {
class store_impl;
struct table;
}  // namespace detail

/// The longest key: keys are 1 to 65,535 bytes (docs/format.md section 4).
inline constexpr std::size_t max_key_size = 65535;

/// A non-owning reference to a callable, used for streaming callbacks (no allocation).
template <class Sig>
class function_ref;
template <class R, class... Args>
class function_ref<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, function_ref>>>
  function_ref(F&& f) noexcept  // NOLINT: implicit by design
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(a)...);
        }) {}
  R operator()(Args... a) const { return call_(obj_, std::forward<Args>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, Args...);
};

/// Fills `buffer` with the next bytes of a streamed value and returns how many it wrote;
/// 0 means the end of the stream. An error aborts the put and nothing is committed.
using stream_source = function_ref<result<std::size_t>(std::span<std::byte> buffer)>;
/// Receives the next chunk of a streamed value. A non-ok status stops the stream.
using stream_sink = function_ref<status(std::span<const std::byte> chunk)>;

/// One operation of an atomic batch (apply()).
struct write_op {
  enum class kind : std::uint8_t { put = 1, erase = 2 };
  kind op = kind::put;
  bytes key;
  bytes value;  ///< Ignored for erase.

  static write_op put(bytes k, bytes v) noexcept { return {kind::put, k, v}; }
  static write_op erase(bytes k) noexcept { return {kind::erase, k, {}}; }
};

/// A key/value pair for put_batch().
struct key_value {
  bytes key;
  bytes value;
};

class entry_range;

/// A handle to an open store. Move-only; the destructor closes it.
class store {
 public:
  /// Opens (or with `create`, creates) the store file at `path`.
  ///
  /// A new or empty file gets a header with `options.alignment`. An existing file is validated
  /// and its index rebuilt; a torn tail (an incomplete last commit, or garbage) is truncated in
  /// read-write mode or ignored read-only, and reported in open_report(). A file that is not a
  /// store is never modified.
  ///
  /// Errors: file_not_found, not_a_file, access_denied, locked (another writer), bad_magic,
  /// unsupported_version, corrupt (damage before the last commit), invalid_argument (bad
  /// alignment), no_memory, io.
  /// Implemented by the platform backend (native: memory map; browser: OPFS).
  [[nodiscard]] static result<store> open(std::string_view path,
                                          const open_options& options = {}) noexcept;

  store() noexcept = default;
  store(store&& other) noexcept;
  store& operator=(store&& other) noexcept;
  store(const store&) = delete;
  store& operator=(const store&) = delete;
  ~store();

  // ---- writes: each call is one crash-atomic commit -------------------------------------

  /// Stores `value` under `key`, replacing any previous value.
  /// Errors: invalid_argument (empty key), too_large (key > 65,535 bytes), read_only, closed,
  /// no_space, io, no_memory. On error nothing is committed and the file is unchanged.
  status put(bytes key, bytes value) noexcept;

  /// Stores all pairs in one commit: after a crash either all of them are present or none.
  /// A key repeated in the batch ends with its last value. Same errors as put().
  status put_batch(std::span<const key_value> entries) noexcept;

  /// Applies puts and erases in one commit. Same errors as put().
  status apply(std::span<const write_op> ops) noexcept;

  /// Removes `key` by appending a tombstone. Returns whether the key existed (no tombstone is
  /// written when it did not). Errors as put().
  [[nodiscard]] result<bool> erase(bytes key) noexcept;

  /// Stores a value read from `source` until it returns 0, never holding it whole in memory.
  /// The value's length need not be known in advance. Errors as put(), plus any error the
  /// source returns. Nothing is committed unless the whole stream was written.
  status put_stream(bytes key, stream_source source) noexcept;

  /// Moves the value of `old_key` to `new_key` in one commit (replacing any value under
  /// `new_key`). Errors: not_found (no `old_key`), and those of put().
  status rename(bytes old_key, bytes new_key) noexcept;

  /// Copies the entry `key` into `target` (another open store) under the same key, or under
  /// `target_key` when given. Errors: not_found, invalid_argument (target is this store),
  /// and those of put() on the target.
  status copy(bytes key, store& target, bytes target_key = {}) noexcept;

  /// Copies the entry into `target` then erases it here. Not atomic across the two files:
  /// after a crash the entry may exist in both, never in neither.
  status move(bytes key, store& target, bytes target_key = {}) noexcept;

  // ---- reads: lock-free, zero-copy --------------------------------------------------------

  /// The value stored under `key`. Errors: not_found, closed, and with verify_checksums,
  /// checksum_mismatch. The view lives until close() (simdr/view.hpp).
  [[nodiscard]] result<blob_view> get(bytes key) const noexcept SIMDR_LIFETIMEBOUND {
    return get_(key.data(), key.size());
  }

  /// Looks up many keys at once: `out[i]` receives the value of `keys[i]`, or a default view
  /// (converting to false) when the key is missing. Faster than get() in a loop: hashes are
  /// computed and index buckets and entries prefetched for a window of keys before any is
  /// resolved, so cache misses overlap. Returns how many keys were found.
  /// Errors: invalid_argument (out.size() < keys.size(), or an empty/too long key: then no
  /// output is written), closed, and with verify_checksums, checksum_mismatch.
  [[nodiscard]] result<std::size_t> get_batch(std::span<const bytes> keys,
                                              std::span<blob_view> out) const noexcept
      SIMDR_LIFETIMEBOUND;

  /// Whether `key` has a live value. Errors: closed.
  [[nodiscard]] result<bool> contains(bytes key) const noexcept {
    return contains_(key.data(), key.size());
  }

  /// Passes the value of `key` to `sink` in chunks of at most `chunk_size` bytes, then checks
  /// its checksum (checksum_mismatch if it does not match: the sink has seen the bytes by then).
  /// Errors: not_found, closed, checksum_mismatch, or the sink's error.
  status read_stream(bytes key, stream_sink sink, std::size_t chunk_size = 1 << 20) const noexcept;

  /// Every live entry once, with its newest value. Weakly consistent when writes run
  /// concurrently: each key appears at most once; keys written during the iteration may or may
  /// not appear. The range pins the index it walks; views live until close().
  [[nodiscard]] entry_range entries() const noexcept SIMDR_LIFETIMEBOUND;

  /// The committed image this handle reads from now: bytes [0, file_size()) of the file as one
  /// span (natively the memory map, under wasm the linear buffer). Every view returned by get()
  /// or get_batch() at this moment points into it, at `data() - offset()` == image().data().
  /// For bindings that must expose store memory as whole buffers (Node's external
  /// ArrayBuffers): the span is valid, and its bytes unchanged, until close(), like a view.
  /// A later write extends the image (same data(), larger size); compact(), a refresh() that
  /// follows a replaced file, or a remap of a file outgrowing its reservation moves it (a new
  /// data(); the old span stays valid). Consistent with concurrent writers (one snapshot of
  /// base and committed end). Empty after close().
  [[nodiscard]] std::span<const std::byte> image() const noexcept SIMDR_LIFETIMEBOUND;

  /// Live keys. 0 after close().
  [[nodiscard]] std::uint64_t size() const noexcept;
  /// Bytes in the file that this handle has accepted (complete commits). 0 after close().
  [[nodiscard]] std::uint64_t file_size() const noexcept;
  /// Statistics; see store_info.
  [[nodiscard]] store_info info() const noexcept;
  /// What open() found and did.
  [[nodiscard]] open_report report() const noexcept;
  [[nodiscard]] bool is_open() const noexcept { return impl_ != nullptr; }

  // ---- maintenance --------------------------------------------------------------------------

  /// Re-reads every entry, checking each header, key and value checksum and the padding.
  /// Errors: closed, no_memory. Problems are listed in the report, not returned as errors.
  [[nodiscard]] result<verify_report> verify() const noexcept;

  /// Rewrites the file with only the newest value of each live key (checking every value's
  /// checksum on the way) and atomically replaces it. Views taken before stay valid (they keep
  /// the old mapping alive until close()). Errors: read_only, closed, checksum_mismatch (nothing
  /// replaced), no_space, io, unsupported (backend cannot replace files).
  [[nodiscard]] result<compact_report> compact() noexcept;

  /// Durability barrier: everything committed so far reaches stable storage. Errors: io.
  status sync() noexcept;

  /// Read-only handles: makes commits appended by the writer since open visible, and follows a
  /// file replaced by another process's compact(). Read-write handles: returns at once.
  [[nodiscard]] result<refresh_report> refresh() noexcept;

  /// Closes the handle: flushes nothing extra (commits are already handed over), releases the
  /// writer lock, unmaps the file. Every view from this store becomes invalid. Idempotent.
  status close() noexcept;

 private:
  friend class detail::store_impl;
  friend class entry_range;
  explicit store(detail::store_impl* impl) noexcept : impl_(impl) {}
  // The out-of-line halves of get() and contains() take the key as two scalars. wasm32's C ABI
  // passes a struct argument through memory, and clang copies it there as two 32-bit stores
  // read back as one 64-bit load, which store-to-load forwarding cannot serve: the load waits
  // until the stores retire, that is until the previous lookup's cache misses have been
  // served, so back-to-back gets from JS could not overlap (docs/architecture.md, "Point reads
  // under wasm").
  result<blob_view> get_(const std::byte* key, std::size_t size) const noexcept;
  result<bool> contains_(const std::byte* key, std::size_t size) const noexcept;
  detail::store_impl* impl_ = nullptr;
};

/// A live entry yielded by entries(): the key and a view of its newest value.
using entry_view = blob_view;

/// The range returned by store::entries(). Move-only; pins the index it walks.
class entry_range {
 public:
  class iterator {
   public:
    using value_type = entry_view;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;
    iterator() noexcept = default;
    const entry_view& operator*() const noexcept { return current_; }
    const entry_view* operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept {
      advance();
      return *this;
    }
    void operator++(int) noexcept { advance(); }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.range_ == b.range_;
    }

   private:
    friend class entry_range;
    explicit iterator(entry_range* r) noexcept : range_(r) { advance(); }
    void advance() noexcept;
    entry_range* range_ = nullptr;
    entry_view current_{};
  };

  entry_range() noexcept = default;
  entry_range(entry_range&& o) noexcept;
  entry_range& operator=(entry_range&& o) noexcept;
  entry_range(const entry_range&) = delete;
  entry_range& operator=(const entry_range&) = delete;
  ~entry_range();

  /// Starts the walk. Call once: an input range.
  iterator begin() noexcept { return iterator(impl_ ? this : nullptr); }
  iterator end() noexcept { return iterator(); }

 private:
  friend class store;
  friend class detail::store_impl;
  detail::store_impl* impl_ = nullptr;
  const detail::table* table_ = nullptr;
  std::uint64_t position_ = 0;
  std::uint64_t end_ = 0;
  bool log_walk_ = false;
  std::uint32_t guard_slot_ = 0;
  std::uint32_t guard_phase_ = 0;
};

}  // namespace simdr
