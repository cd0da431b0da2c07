// store.cpp - the portable engine: the commit pipeline, lock-free reads, open-time recovery
// and index build, compaction, refresh and verification. Platform code reaches it only
// through the storage seam (storage.hpp); this file knows no OS.
//
// Invariants (docs/format.md sections 4-6; docs/architecture.md):
//  * storage_->size() == committed end between writes: a failed write is truncated away.
//  * Entry bytes reach the image (storage append) before any index slot points at them, and
//    slots are stored with release semantics; readers fence (acquire) before dereferencing.
//  * Images are never freed before close(): retired storages (compaction, refresh of a
//    replaced file) stay mapped, so views outlive writes (docs/lifetimes.md).
#include "store_impl.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <utility>

#include "hash.hpp"
#include "pod_vector.hpp"
#include "recovery/scan.hpp"

namespace simdr::detail {

namespace {

// Entries per commit-end mark in a compacted file (marks bound recovery's pending list).
constexpr std::uint64_t compact_commit_every = 4096;
// Prefetch distance for pipelined index updates.
constexpr std::size_t prefetch_distance = 16;

status check_key(bytes key) noexcept {
  if (key.empty()) return errc::invalid_argument;
  if (key.size() > max_key_size) return errc::too_large;
  return errc::ok;
}

std::uint64_t key_hash(const std::byte* entry) noexcept {
  return xxh3(entry + format::entry_header_size, format::load16(entry + 10));
}

}  // namespace

status check_options(const open_options& o) noexcept {
  if (o.alignment < format::min_alignment || o.alignment > format::max_alignment ||
      (o.alignment & (o.alignment - 1)) != 0)
    return errc::invalid_argument;
  if (o.create && o.read_only) return errc::invalid_argument;
  if (o.durability != durability::none && o.durability != durability::commit)
    return errc::invalid_argument;
  return errc::ok;
}

store_impl::store_impl(std::unique_ptr<storage> s, const open_options& o,
                       const format::file_header& h) noexcept
    : options_(o), header_(h), alignment_(h.alignment()), storage_(std::move(s)) {
  rcu_.use_heavy_barrier(storage_->heavy_barrier());
  rcu_.use_one_thread(storage_->one_thread());
}

store_impl::~store_impl() {
  // close() contract: no reader is active, so everything retired can go.
  rcu_.free_all();
  table::destroy(table_.load(std::memory_order_relaxed));
}

// ---------------------------------------------------------------------------------------------
// Open
// ---------------------------------------------------------------------------------------------

result<store> open_store(std::unique_ptr<storage> s, const open_options& options) noexcept {
  if (status st = check_options(options); !st.is_ok()) return st;
  bool created = false;
  format::file_header h;
  if (s->size() == 0) {
    // An empty file is a new store only when the caller asked for creation; otherwise it is
    // simply not a store (and stays untouched).
    if (!options.create || !s->is_writable()) return errc::bad_magic;
    h.alignment_log2 = static_cast<std::uint8_t>(std::countr_zero(options.alignment));
    std::byte buf[format::header_size];
    format::encode_header(h, buf);
    const std::span<const std::byte> part(buf, sizeof buf);
    if (status st = s->append(std::span(&part, 1)); !st.is_ok()) {
      (void)s->truncate(0);
      return st;
    }
    if (status st = s->sync(); !st.is_ok()) return st;
    created = true;
  }
  if (status st = format::decode_header(s->image(), h); !st.is_ok()) return st;
  // A newer minor version only adds what older readers may ignore; an older writer must not
  // append to it, since it cannot maintain what it does not know.
  if (h.minor > format::minor && s->is_writable()) return errc::unsupported_version;
  // No writer makes a larger file (format.md section 8); the index could not address it.
  if (s->image().size() > format::max_file_size) return errc::too_large;
  auto* impl = new (std::nothrow) store_impl(std::move(s), options, h);
  if (impl == nullptr) return errc::no_memory;
  store handle = store_impl::make_handle(impl);
  if (status st = impl->load(created); !st.is_ok()) return st;  // handle closes impl
  return handle;
}

status store_impl::load(bool created) noexcept {
  const std::span<const std::byte> img = storage_->image();
  report_.file_size_before = created ? 0 : img.size();
  report_.created = created;
  return index_log(img, format::header_size, img.size(), /*fresh_table=*/true);
}

// Scans [from, to) of `image` for complete commits and applies them to the index: a new table
// sized for what was found (at open, or for a replaced file), or the current table (refresh).
status store_impl::index_log(std::span<const std::byte> image, std::uint64_t from,
                             std::uint64_t to, bool fresh_table) noexcept {
  const std::byte* base = image.data();
  // A read-only handle shares the file with a writer that may truncate its uncommitted tail at
  // any moment (failed write, torn-tail recovery at its open). Find the committed end with
  // pread into a private window first (a short read, never SIGBUS), then index only complete
  // commits through the mapping: those bytes are never truncated.
  scan_outcome tail_scan;
  if (!storage_->is_writable()) {
    window_log wl(*storage_, to);
    if (!wl.ok()) return errc::no_memory;
    tail_scan = scan_log(wl, from, alignment_, pending_,
                         [](std::span<const std::uint64_t>) noexcept { return true; });
    if (tail_scan.error != errc::ok) return {tail_scan.error, 0, tail_scan.error_offset};
    tail_scan.tail_bytes = to - tail_scan.committed_end;  // as seen before any shrink
    to = tail_scan.committed_end;
  }
  const std::span<const std::byte> view = image.first(static_cast<std::size_t>(to));
  if (fresh_table) return index_fresh(view, from, tail_scan.tail_bytes);

  // refresh(): new commits of another writer go into the live table, once the whole scan
  // succeeded (a corrupt file leaves the index as it was).
  pod_vector<loaded_entry> found;
  std::uint64_t puts = 0;
  scan_outcome out = scan_log(view, from, alignment_, pending_,
                              [&](std::span<const std::uint64_t> offsets) noexcept {
                                if (!found.reserve(found.size() + offsets.size())) return false;
                                for (std::uint64_t off : offsets) {
                                  format::entry e;
                                  format::decode_trusted(base + off, off, alignment_, e);
                                  puts += e.kind == format::kind_put;
                                  (void)found.push_back(
                                      {key_hash(base + off), off, ((e.end - off) << 2) | e.kind});
                                }
                                return true;
                              });
  if (out.error != errc::ok) return {out.error, 0, out.error_offset};
  if (status st = ensure_capacity(puts); !st.is_ok()) return st;
  table* t = table_.load(std::memory_order_relaxed);
  if (t->base.load(std::memory_order_relaxed) != base)
    t->base.store(base, std::memory_order_release);
  const std::size_t n = found.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i + prefetch_distance < n) prefetch_home(*t, found[i + prefetch_distance].hash);
    const loaded_entry& le = found[i];
    const std::byte* entry = base + le.offset;
    apply_entry(*t, le.hash, entry + format::entry_header_size, format::load16(entry + 10),
                le.offset, static_cast<std::uint8_t>(le.size_kind & 3), le.size_kind >> 2, base);
  }
  set_log_state(*t, out.committed_end);
  return errc::ok;
}

namespace {

// A run of committed entry offsets handed from the log scan to the index builder.
struct offset_chunk {
  static constexpr std::size_t capacity = 8192;
  offset_chunk* next = nullptr;
  std::size_t size = 0;
  std::uint64_t offsets[capacity];
  std::uint64_t hashes[capacity];  // of the entries' keys
};

// Single producer (the scan), single consumer (the index builder); unbounded, so that the
// producer never waits and the two may also run one after the other (storage::run_pair).
class offset_pipe {
 public:
  offset_pipe() = default;
  offset_pipe(const offset_pipe&) = delete;
  offset_pipe& operator=(const offset_pipe&) = delete;
  ~offset_pipe() {
    release(head_);
    release(filling_);
  }

  // Producer.
  // Hashes the keys here, while the scan's checksum has them in cache.
  [[nodiscard]] bool push(const std::byte* base, std::span<const std::uint64_t> offsets) noexcept {
    for (std::uint64_t off : offsets) {
      if (filling_ == nullptr || filling_->size == offset_chunk::capacity) {
        flush();
        filling_ = new (std::nothrow) offset_chunk;
        if (filling_ == nullptr) return false;
      }
      filling_->offsets[filling_->size] = off;
      filling_->hashes[filling_->size++] = key_hash(base + off);
    }
    return true;
  }
  void finish(const scan_outcome& out) noexcept {
    flush();
    std::lock_guard lock(mu_);
    outcome_ = out;
    done_ = true;
    cv_.notify_one();
  }

  // Consumer: the next chunk (owned by the caller until release()), or nullptr once the
  // producer has finished and everything was taken.
  offset_chunk* pop() noexcept {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return head_ != nullptr || done_; });
    offset_chunk* c = head_;
    if (c != nullptr) {
      head_ = std::exchange(c->next, nullptr);
      if (head_ == nullptr) tail_ = nullptr;
    }
    return c;
  }
  [[nodiscard]] scan_outcome outcome() noexcept {
    std::lock_guard lock(mu_);
    return outcome_;
  }
  static void release(offset_chunk* c) noexcept {
    while (c != nullptr) delete std::exchange(c, c->next);
  }

 private:
  void flush() noexcept {
    if (filling_ == nullptr || filling_->size == 0) return;
    std::lock_guard lock(mu_);
    (tail_ != nullptr ? tail_->next : head_) = filling_;
    tail_ = filling_;
    filling_ = nullptr;
    cv_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  offset_chunk* head_ = nullptr;  // guarded by mu_
  offset_chunk* tail_ = nullptr;  // guarded by mu_
  bool done_ = false;             // guarded by mu_
  scan_outcome outcome_;          // guarded by mu_
  offset_chunk* filling_ = nullptr;  // producer only
};

}  // namespace

// How many puts the log in [from, view.size()) holds, to size the table before the scan: the
// bytes times the puts per byte of the first entries (an unverified hop over their headers;
// the scan checks everything later), capped by what fits at all (each put's value starts on its
// own alignment boundary after a header of at least 33 bytes). A wrong guess costs only time:
// the build grows the table, or shrinks it at the end.
std::uint64_t store_impl::estimate_puts(std::span<const std::byte> view,
                                        std::uint64_t from) const noexcept {
  const std::uint64_t bytes = view.size() - from;
  const std::uint64_t bound = bytes / std::max<std::uint64_t>(alignment_, 40) + 1;
  constexpr std::uint64_t sample = 1024;
  std::uint64_t pos = from;
  std::uint64_t seen = 0;
  std::uint64_t puts = 0;
  while (seen < sample && view.size() - pos >= format::entry_header_size) {
    format::entry e;
    format::decode_trusted(view.data() + pos, pos, alignment_, e);
    if (e.kind != format::kind_put && e.kind != format::kind_tombstone) break;
    if (e.kind == format::kind_put && e.value_size > view.size()) break;  // garbage
    if (e.end <= pos || e.end > view.size()) break;
    ++seen;
    puts += e.kind == format::kind_put;
    pos = e.end;
  }
  if (pos == view.size()) return puts;  // the sample was the whole log
  if (seen == 0 || pos == from) return std::min<std::uint64_t>(bound, 1024);
  const double per_byte = static_cast<double>(puts) / static_cast<double>(pos - from);
  return std::min(bound, static_cast<std::uint64_t>(per_byte * static_cast<double>(bytes)) + 64);
}

// Open (or a read-only handle moving to a replaced file): builds a private table for the
// committed log in `view` and publishes it. The scan, which verifies every header checksum,
// and the index build overlap (storage::run_pair): the builder applies each committed entry as
// soon as the scan hands it over, so no list of all entries is ever materialised. The table is
// sized up front from an estimate (estimate_puts), zeroed before the second thread exists (a
// page first read as the shared zero page and then written costs a TLB shootdown once two
// threads run), grown privately if the estimate was low and rebuilt smaller if it was far too
// high. If the scan fails (corrupt), the private table is simply dropped.
status store_impl::index_fresh(std::span<const std::byte> view, std::uint64_t from,
                               std::uint64_t ro_tail_bytes) noexcept {
  const std::byte* base = view.data();
  table* t = table::create(slots_for(estimate_puts(view, from)), storage_->table_memory());
  if (t == nullptr) return errc::no_memory;
  t->base.store(base, std::memory_order_relaxed);

  offset_pipe pipe;
  status build_error;
  auto scan = [&]() noexcept {
    scan_outcome out = scan_log(view, from, alignment_, pending_,
                                [&](std::span<const std::uint64_t> offsets) noexcept {
                                  return pipe.push(base, offsets);
                                });
    pipe.finish(out);
  };
  auto build = [&]() noexcept {
    while (offset_chunk* c = pipe.pop()) {
      const std::size_t n = c->size;
      if (build_error.is_ok() && needs_growth(*t, n)) {
        table* nt = rebuild_table(*t, slots_for(t->live + n));
        if (nt == nullptr) build_error = errc::no_memory;
        else table::destroy(std::exchange(t, nt));
      }
      if (build_error.is_ok()) {
        const std::uint64_t* hashes = c->hashes;
        for (std::size_t i = 0; i < n; ++i) {
          if (i + prefetch_distance < n) prefetch_home(*t, hashes[i + prefetch_distance]);
          const std::uint64_t off = c->offsets[i];
          const std::byte* entry = base + off;
          format::entry e;
          format::decode_trusted(entry, off, alignment_, e);
          apply_entry(*t, hashes[i], entry + format::entry_header_size, e.key_size, off, e.kind,
                      e.end - off, base);
        }
      }
      offset_pipe::release(c);  // after a failure, keep draining so the scan can finish
    }
  };
  storage_->run_pair(scan, build);

  scan_outcome out = pipe.outcome();
  if (out.error == errc::ok && !build_error.is_ok()) out.error = build_error.code;
  if (out.error != errc::ok) {
    table::destroy(t);
    return {out.error, 0, out.error_offset};
  }
  // Large values: the bound overshot; give the memory back.
  if (t->capacity() > 2 * slots_for(t->live) && t->capacity() > 4096) {
    if (table* nt = rebuild_table(*t, slots_for(t->live)); nt != nullptr)
      table::destroy(std::exchange(t, nt));
  }
  if (!storage_->is_writable()) out.tail_bytes = ro_tail_bytes;

  if (table_.load(std::memory_order_relaxed) == nullptr) {  // opening
    report_.committed_size = out.committed_end;
    report_.entries = out.entries;
    report_.commits = out.commits;
    if (out.tail_bytes != 0) {
      report_.tail_dropped = true;
      report_.tail_bytes = out.tail_bytes;
      if (storage_->is_writable()) {
        auto drop = [&]() noexcept -> status {
          if (status st = storage_->truncate(out.committed_end); !st.is_ok()) return st;
          return storage_->sync();
        };
        if (status st = drop(); !st.is_ok()) {
          table::destroy(t);
          return st;
        }
        report_.tail_truncated = true;
      }
    }
  }
  set_log_state(*t, out.committed_end);
  // Built privately; readers switch to it in one store. The old one (a replaced file's) is
  // freed once no reader holds it.
  table* old = table_.exchange(t, std::memory_order_seq_cst);
  if (old != nullptr) rcu_.retire(old, &table::destroy_erased);
  return errc::ok;
}

store store_impl::make_handle(store_impl* impl) noexcept { return store(impl); }

// ---------------------------------------------------------------------------------------------
// Index maintenance (writer only)
// ---------------------------------------------------------------------------------------------

void store_impl::apply_entry(table& t, std::uint64_t hash, const std::byte* key,
                             std::size_t key_size, std::uint64_t offset, std::uint8_t kind,
                             std::uint64_t size, const std::byte* base) noexcept {
  bool found = false;
  std::atomic<std::uint64_t>* slot = find_slot_for_write(t, hash, key, key_size, base, found);
  SIMDR_ASSERT(slot != nullptr);  // ensure_capacity() ran before
  ++entries_;
  const std::uint64_t old = found ? slot->load(std::memory_order_relaxed) : 0;
  auto old_size = [&]() noexcept {
    format::entry e;
    format::decode_trusted(base + word_offset(old), word_offset(old), alignment_, e);
    return e.end - e.offset;
  };
  if (kind == format::kind_put) {
    if (found) {
      dirty_ = true;  // the previous entry of this key (a put or a tombstone) is now dead
      if (!word_dead(old)) live_bytes_ -= old_size();
      else ++t.live;
    } else {
      ++t.occupied;
      ++t.live;
    }
    live_bytes_ += size;
    const std::uint64_t place = found ? old & placement_mask : placement_of(t, hash, slot);
    slot->store(make_word(hash, place, offset, false), std::memory_order_release);
    return;
  }
  ++tombstones_;
  dirty_ = true;
  if (found && !word_dead(old)) {
    live_bytes_ -= old_size();
    --t.live;
    slot->store(make_word(hash, old & placement_mask, offset, true), std::memory_order_release);
  }
}

void store_impl::set_log_state(table& t, std::uint64_t end) noexcept {
  t.log_state.store(end | (dirty_ ? log_dirty : 0), std::memory_order_release);
  live_.store(t.live, std::memory_order_release);
}

// The writer's growth: the same bucket count when dropping the dead slots makes room, else the
// bucket count multiplied (grown_capacity: x4 while small, then x2) until the keys fit at
// ~60% (so rebuild_table can regrow the table from the slots' placement bits, see index.hpp).
status store_impl::ensure_capacity(std::uint64_t incoming) noexcept {
  table* t = table_.load(std::memory_order_relaxed);
  if (!needs_growth(*t, incoming)) return errc::ok;
  const std::uint64_t want = slots_for(t->live + incoming);
  return rebuild(grown_capacity(t->capacity(), want));
}

// Builds a new table of `slots` slots from the live slots of `old` (dead ones are dropped).
// When the new bucket count is the old one times 2^k and the slots' placement bits still hold
// k exact bits, the slots move without their keys (regrow_into: sequential over both tables);
// otherwise every key is read back and hashed (rehash_into). nullptr when memory is exhausted.
table* store_impl::rebuild_table(const table& old, std::uint64_t slots) noexcept {
  table* nt = table::create(slots, storage_->table_memory());
  if (nt == nullptr) return nullptr;
  nt->base.store(old.base.load(std::memory_order_relaxed), std::memory_order_relaxed);
  nt->log_state.store(old.log_state.load(std::memory_order_relaxed), std::memory_order_relaxed);
  unsigned shift = 0;
  while (shift < old.frac_bits && old.bucket_count << shift < nt->bucket_count) ++shift;
  const bool ok = old.bucket_count << shift == nt->bucket_count ? regrow_into(old, *nt, shift)
                                                                : rehash_into(old, *nt);
  if (ok) return nt;
  table::destroy(nt);
  return nullptr;
}

// Fills nt (old's bucket count << shift) from old's placement bits; slots whose placement is
// unknown are rehashed from their keys afterwards. False when memory is exhausted.
bool store_impl::regrow_into(const table& old, table& nt, unsigned shift) noexcept {
  pod_vector<std::uint8_t> fill;
  pod_vector<std::uint64_t> far;
  if (!fill.reserve(static_cast<std::size_t>(nt.bucket_count))) return false;
  std::memset(fill.data(), 0, static_cast<std::size_t>(nt.bucket_count));
  bool ok = true;
  regrow(old, nt, shift, fill.data(),
         [&](std::uint64_t w) noexcept { ok = ok && far.push_back(word_offset(w)); });
  if (!ok) return false;
  const std::byte* base = old.base.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < far.size(); ++i) insert_fresh(nt, key_hash(base + far[i]), far[i]);
  return true;
}

// Fills nt from the keys of old's live slots, read back from the image and hashed, pipelined
// with prefetches so the cost is bandwidth-bound rather than latency-bound. False when memory
// is exhausted.
bool store_impl::rehash_into(const table& old, table& nt) noexcept {
  pod_vector<std::uint64_t> offsets;
  pod_vector<std::uint64_t> hashes;
  if (!offsets.reserve(static_cast<std::size_t>(old.live)) ||
      !hashes.reserve(static_cast<std::size_t>(old.live)))
    return false;
  for (std::uint64_t b = 0; b < old.bucket_count; ++b)
    for (std::uint32_t i = 0; i < bucket_slots; ++i) {
      const std::uint64_t w = old.buckets[b].slot[i].load(std::memory_order_relaxed);
      if (w != 0 && !word_dead(w)) (void)offsets.push_back(word_offset(w));
    }
  const std::byte* base = old.base.load(std::memory_order_relaxed);
  const std::size_t n = offsets.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i + prefetch_distance < n) SIMDR_PREFETCH(base + offsets[i + prefetch_distance]);
    (void)hashes.push_back(key_hash(base + offsets[i]));
  }
  fill_fresh(nt, hashes.data(), offsets.data(), n);
  return true;
}

// Grows (or shrinks) the live table: a new one is built aside and published; the old one is
// freed once no reader holds it.
status store_impl::rebuild(std::uint64_t slots) noexcept {
  table* old = table_.load(std::memory_order_relaxed);
  table* nt = rebuild_table(*old, slots);
  if (nt == nullptr) return errc::no_memory;
  table_.store(nt, std::memory_order_seq_cst);
  rcu_.retire(old, &table::destroy_erased);
  return errc::ok;
}

std::uint64_t store_impl::lookup_word_locked(bytes key, std::uint64_t hash) const noexcept {
  const table* t = table_.load(std::memory_order_relaxed);
  const std::byte* base = nullptr;
  return find_word(*t, hash, key.data(), key.size(), base);
}

// ---------------------------------------------------------------------------------------------
// Commits
// ---------------------------------------------------------------------------------------------

status store_impl::writable_check() const noexcept {
  if (!storage_->is_writable()) return errc::read_only;
  if (poisoned_) return errc::io;
  return errc::ok;
}

status store_impl::apply(std::span<const write_op> ops) noexcept {
  for (const write_op& op : ops)
    if (status st = check_key(op.key); !st.is_ok()) return st;
  if (ops.empty()) return errc::ok;
  std::lock_guard lock(mu_);
  return commit_locked(ops);
}

status store_impl::put_batch(std::span<const key_value> kv) noexcept {
  for (const key_value& e : kv)
    if (status st = check_key(e.key); !st.is_ok()) return st;
  if (kv.empty()) return errc::ok;
  std::lock_guard lock(mu_);
  ops_buf_.clear();
  if (!ops_buf_.reserve(kv.size())) return errc::no_memory;
  for (const key_value& e : kv) (void)ops_buf_.push_back(write_op::put(e.key, e.value));
  return commit_locked(std::span<const write_op>(ops_buf_.data(), ops_buf_.size()));
}

status store_impl::commit_locked(std::span<const write_op> ops) noexcept {
  if (status st = writable_check(); !st.is_ok()) return st;
  std::uint64_t puts = 0;
  for (const write_op& op : ops) puts += op.op == write_op::kind::put;
  // Grow the index before touching the file: once bytes are appended, publishing them into
  // the index must not fail.
  if (status st = ensure_capacity(puts); !st.is_ok()) return st;
  const std::uint64_t start = storage_->size();
  if (status st = encode_ops(ops, start); !st.is_ok()) return st;
  if (status st = append_parts(); !st.is_ok()) return fail_write(start, st);
  if (status st = after_append(start); !st.is_ok()) return st;
  publish_ops(ops, start);
  return errc::ok;
}

// Encodes `ops` as entries starting at file offset `start` into out_/hashes_/sizes_.
status store_impl::encode_ops(std::span<const write_op> ops, std::uint64_t start) noexcept {
  out_.clear();
  hashes_.resize(ops.size());
  sizes_.resize(ops.size());
  std::uint64_t pos = start;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const write_op& op = ops[i];
    const std::uint8_t flags = i + 1 == ops.size() ? format::flag_commit_end : 0;
    hashes_[i] = xxh3(op.key.data(), op.key.size());
    std::uint64_t end = 0;
    if (op.op == write_op::kind::put) {
      std::uint64_t voff = 0;
      if (!format::layout_put(pos, op.key.size(), op.value.size(), alignment_, voff, end))
        return errc::too_large;
      // The next value's first lines, while this one is hashed: each value usually starts on a
      // new page, where the hardware prefetcher stops, so large batches otherwise pay a DRAM
      // round trip per page at the start of every checksum.
      if (i + 1 < ops.size() && op.value.size() >= 1024) {
        const std::byte* next = ops[i + 1].value.data();
        const std::size_t lines = std::min<std::size_t>(ops[i + 1].value.size(), 4096) / 64;
        for (std::size_t l = 0; l < lines; ++l) SIMDR_PREFETCH(next + l * 64);
      }
      end = out_.put(pos, op.key.span(), op.value.data(), op.value.size(),
                     xxh3(op.value.data(), op.value.size()), flags, voff, end);
    } else {
      end = out_.tombstone(pos, op.key.span(), flags);
      if (end > format::max_file_size) return errc::too_large;
    }
    if (end == 0) return errc::no_memory;
    sizes_[i] = end - pos;
    pos = end;
  }
  return errc::ok;
}

status store_impl::append_parts() noexcept { return storage_->append(out_.parts()); }

// Durability barrier per commit when asked. A failed fdatasync leaves the page cache in an
// unknown state (it may drop the dirty pages and report success later), so the handle stops
// accepting writes until it is reopened.
status store_impl::after_append(std::uint64_t start) noexcept {
  if (options_.durability != durability::commit) return errc::ok;
  if (status st = storage_->sync(); !st.is_ok()) {
    (void)storage_->truncate(start);
    poisoned_ = true;
    return st;
  }
  return errc::ok;
}

status store_impl::fail_write(std::uint64_t start, status why) noexcept {
  if (status st = storage_->truncate(start); !st.is_ok()) poisoned_ = true;
  return why;
}

void store_impl::publish_ops(std::span<const write_op> ops, std::uint64_t start) noexcept {
  table& t = *table_.load(std::memory_order_relaxed);
  const std::byte* base = storage_->image().data();
  // The image may have moved (grown) with this append: readers must resolve the new offsets
  // against a base that covers them before any slot points there.
  if (t.base.load(std::memory_order_relaxed) != base)
    t.base.store(base, std::memory_order_release);
  // Keys and sizes come from the caller's ops and the encoder, not from the image, so the
  // writer does not fault in the pages it just wrote.
  std::uint64_t pos = start;
  const std::size_t n = ops.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i + prefetch_distance < n) prefetch_home(t, hashes_[i + prefetch_distance]);
    const write_op& op = ops[i];
    apply_entry(t, hashes_[i], op.key.data(), op.key.size(), pos,
                op.op == write_op::kind::put ? format::kind_put : format::kind_tombstone,
                sizes_[i], base);
    pos += sizes_[i];
  }
  set_log_state(t, pos);
  rcu_.poll();
}

result<bool> store_impl::erase(bytes key) noexcept {
  if (status st = check_key(key); !st.is_ok()) return st;
  std::lock_guard lock(mu_);
  if (status st = writable_check(); !st.is_ok()) return st;
  const std::uint64_t w = lookup_word_locked(key, xxh3(key.data(), key.size()));
  if (w == 0 || word_dead(w)) return false;
  const write_op op = write_op::erase(key);
  if (status st = commit_locked(std::span(&op, 1)); !st.is_ok()) return st;
  return true;
}

status store_impl::rename(bytes old_key, bytes new_key) noexcept {
  if (status st = check_key(old_key); !st.is_ok()) return st;
  if (status st = check_key(new_key); !st.is_ok()) return st;
  std::lock_guard lock(mu_);
  if (status st = writable_check(); !st.is_ok()) return st;
  const std::uint64_t w = lookup_word_locked(old_key, xxh3(old_key.data(), old_key.size()));
  if (w == 0 || word_dead(w)) return errc::not_found;
  if (old_key.str() == new_key.str()) return errc::ok;
  const std::byte* base = table_.load(std::memory_order_relaxed)->base.load(std::memory_order_relaxed);
  format::entry e;
  format::decode_trusted(base + word_offset(w), word_offset(w), alignment_, e);
  // The value is written from the image itself: those bytes are committed and never change.
  const bytes value(base + e.value_offset, static_cast<std::size_t>(e.value_size));
  const write_op ops[2] = {write_op::put(new_key, value), write_op::erase(old_key)};
  return commit_locked(ops);
}

// Streams a value of unknown length: a kind_pending header goes first (recovery treats it as
// the end of the log), the value follows in chunks, then the header is rewritten in place with
// the real length, checksum and commit mark. Until that rewrite nothing is committed.
status store_impl::put_stream(bytes key, stream_source source) noexcept {
  if (status st = check_key(key); !st.is_ok()) return st;
  std::lock_guard lock(mu_);
  if (status st = writable_check(); !st.is_ok()) return st;
  if (status st = ensure_capacity(1); !st.is_ok()) return st;
  const std::uint64_t start = storage_->size();
  const std::uint64_t key_end = start + format::entry_header_size + key.size();
  const std::uint64_t voff = format::align_up(key_end, alignment_);
  scratch_.assign(static_cast<std::size_t>(voff - start), std::byte{0});
  std::memcpy(scratch_.data() + format::entry_header_size, key.data(), key.size());
  format::encode_entry_header_before_key(format::kind_pending, 0, key.size(),
                                         format::pending_value_size, 0, start, scratch_.data());
  const std::span<const std::byte> head(scratch_.data(), scratch_.size());
  if (status st = storage_->append(std::span(&head, 1)); !st.is_ok()) return fail_write(start, st);

  constexpr std::size_t chunk = std::size_t{1} << 20;
  pod_vector<std::byte> buf;
  if (!buf.reserve(chunk)) return fail_write(start, errc::no_memory);
  xxh3_stream sum;
  std::uint64_t total = 0;
  std::size_t filled = 0;
  auto flush = [&]() -> status {
    if (filled == 0) return errc::ok;
    std::span<const std::byte> p(buf.data(), filled);
    status st = storage_->append(std::span(&p, 1));
    filled = 0;
    return st;
  };
  for (;;) {
    result<std::size_t> got = source(std::span<std::byte>(buf.data() + filled, chunk - filled));
    if (!got) return fail_write(start, got.error());
    if (*got == 0) break;
    if (*got > chunk - filled) return fail_write(start, errc::invalid_argument);
    if (*got > format::max_file_size - voff - total) return fail_write(start, errc::too_large);
    sum.update(buf.data() + filled, *got);
    total += *got;
    filled += *got;
    if (filled == chunk)
      if (status st = flush(); !st.is_ok()) return fail_write(start, st);
  }
  if (status st = flush(); !st.is_ok()) return fail_write(start, st);
  const std::uint64_t end = format::align_up(voff + total, 8);
  if (end > voff + total) {
    std::byte zeros[8] = {};
    std::span<const std::byte> pad(zeros, static_cast<std::size_t>(end - (voff + total)));
    if (status st = storage_->append(std::span(&pad, 1)); !st.is_ok()) return fail_write(start, st);
  }
  std::byte hdr[format::entry_header_size];
  format::encode_entry_header(format::kind_put, format::flag_commit_end, key.span(), total,
                              sum.digest(), start, hdr);
  if (status st = storage_->write_at(start, std::span<const std::byte>(hdr, sizeof hdr));
      !st.is_ok())
    return fail_write(start, st);
  if (status st = after_append(start); !st.is_ok()) return st;
  table& t = *table_.load(std::memory_order_relaxed);
  const std::byte* base = storage_->image().data();
  if (t.base.load(std::memory_order_relaxed) != base) t.base.store(base, std::memory_order_release);
  apply_entry(t, xxh3(key.data(), key.size()), key.data(), key.size(), start, format::kind_put,
              end - start, base);
  set_log_state(t, end);
  rcu_.poll();
  return errc::ok;
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

namespace {
// RAII reader registration (reclaim.hpp).
class read_section {
 public:
  explicit read_section(reclaimer& r) noexcept : r_(r), g_(r.enter()) {}
  ~read_section() { r_.exit(g_); }
  read_section(const read_section&) = delete;
  read_section& operator=(const read_section&) = delete;

 private:
  reclaimer& r_;
  reader_guard g_;
};
}  // namespace

result<blob_view> store_impl::get(const std::byte* key, std::size_t size) const noexcept {
  if (status st = check_key(bytes(key, size)); !st.is_ok()) return st;
  const std::uint64_t hash = xxh3(key, size);
  const std::byte* base = nullptr;
  std::uint64_t w = 0;
  {
    read_section rs(rcu_);
    const table* t = table_.load(std::memory_order_seq_cst);
    w = find_word(*t, hash, key, size, base);
  }
  // The table may be freed from here on, but `base` names an image that lives until close.
  if (w == 0 || word_dead(w)) return errc::not_found;
  blob_view v;
  if (status st = make_view(base, w, v); !st.is_ok()) return st;
  return v;
}

status store_impl::make_view(const std::byte* base, std::uint64_t w, blob_view& out) const noexcept {
  const std::uint64_t off = word_offset(w);
  const std::byte* p = base + off;
  format::entry e;
  format::decode_trusted(p, off, alignment_, e);
  if (SIMDR_UNLIKELY(options_.verify_checksums)) {
    if (format::load64(p) != format::entry_header_checksum(p, off, e.key_size))
      return status{errc::checksum_mismatch, 0, off};
    if (xxh3(base + e.value_offset, static_cast<std::size_t>(e.value_size)) != e.value_checksum)
      return status{errc::checksum_mismatch, 0, e.value_offset};
  }
  out = blob_view(base + e.value_offset, e.value_size, p + format::entry_header_size, e.key_size,
                  e.value_offset, e.value_checksum);
  return errc::ok;
}

// Batched lookups overlap their cache misses: the active kernel set's find_batch takes a
// window of keys, hashes all and prefetches their home buckets, then probes each bucket and
// prefetches the matching entry, then compares keys (simd/kernels_impl.inl). Views are built
// here, after the probe, from the base each word was resolved against.
result<std::size_t> store_impl::get_batch(std::span<const bytes> keys,
                                          std::span<blob_view> out) const noexcept {
  if (out.size() < keys.size()) return errc::invalid_argument;
  for (const bytes& k : keys)
    if (status st = check_key(k); !st.is_ok()) return st;
  constexpr std::size_t window = simd::batch_window;
  std::uint64_t words[window];
  const std::byte* bases[window];
  std::size_t found = 0;
  const simd::kernel_set& kernels = simd::active();
  read_section rs(rcu_);
  const table* t = table_.load(std::memory_order_seq_cst);
  for (std::size_t start = 0; start < keys.size(); start += window) {
    const std::size_t n = std::min(window, keys.size() - start);
    kernels.find_batch(*t, keys.data() + start, n, words, bases);
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint64_t w = words[j];
      if (w == 0 || word_dead(w)) {
        out[start + j] = blob_view();
        continue;
      }
      if (status st = make_view(bases[j], w, out[start + j]); !st.is_ok()) return st;
      ++found;
    }
  }
  return found;
}

result<bool> store_impl::contains(const std::byte* key, std::size_t size) const noexcept {
  if (status st = check_key(bytes(key, size)); !st.is_ok()) return st;
  const std::uint64_t hash = xxh3(key, size);
  const std::byte* base = nullptr;
  read_section rs(rcu_);
  const table* t = table_.load(std::memory_order_seq_cst);
  const std::uint64_t w = find_word(*t, hash, key, size, base);
  return w != 0 && !word_dead(w);
}

status store_impl::read_stream(bytes key, stream_sink sink, std::size_t chunk) const noexcept {
  if (chunk == 0) return errc::invalid_argument;
  result<blob_view> v = get(key.data(), key.size());
  if (!v) return v.error();
  xxh3_stream sum;
  const std::byte* p = v->data();
  std::uint64_t left = v->size();
  while (left > 0) {
    const std::size_t n = left < chunk ? static_cast<std::size_t>(left) : chunk;
    sum.update(p, n);
    if (status st = sink(std::span<const std::byte>(p, n)); !st.is_ok()) return st;
    p += n;
    left -= n;
  }
  if (sum.digest() != v->checksum()) return status{errc::checksum_mismatch, 0, v->offset()};
  return errc::ok;
}

std::uint64_t store_impl::committed() const noexcept {
  read_section rs(rcu_);
  return table_.load(std::memory_order_seq_cst)->log_state.load(std::memory_order_acquire) &
         ~log_dirty;
}

std::span<const std::byte> store_impl::committed_image() const noexcept {
  // Base and end from the same table: a table never pairs an end with another image's base.
  read_section rs(rcu_);
  const table* t = table_.load(std::memory_order_seq_cst);
  const std::uint64_t end = t->log_state.load(std::memory_order_acquire) & ~log_dirty;
  return {t->base.load(std::memory_order_acquire), static_cast<std::size_t>(end)};
}

void store_impl::begin_range(entry_range& r) const noexcept {
  const reader_guard g = rcu_.enter_shared();  // ranges may end on another thread
  r.guard_slot_ = g.slot();
  r.guard_phase_ = g.phase();
  r.table_ = table_.load(std::memory_order_seq_cst);
  const std::uint64_t state = r.table_->log_state.load(std::memory_order_acquire);
  // A store with no dead entry is walked in log order: sequential, and an exact snapshot
  // (entries committed later lie past end_). Otherwise walk the slots (each key once).
  r.log_walk_ = (state & log_dirty) == 0;
  r.end_ = state & ~log_dirty;
  r.position_ = r.log_walk_ ? format::header_size : 0;
}

bool store_impl::next_entry(entry_range& r, blob_view& out) const noexcept {
  const table& t = *r.table_;
  format::entry e;
  if (r.log_walk_) {
    const std::byte* base = t.base.load(std::memory_order_acquire);
    while (r.position_ < r.end_) {
      const std::uint64_t off = r.position_;
      format::decode_trusted(base + off, off, alignment_, e);
      r.position_ = e.end;
      if (e.kind != format::kind_put) continue;
      out = blob_view(base + e.value_offset, e.value_size, base + off + format::entry_header_size,
                      e.key_size, e.value_offset, e.value_checksum);
      return true;
    }
    return false;
  }
  const std::uint64_t cap = t.capacity();
  while (r.position_ < cap) {
    const std::uint64_t i = r.position_++;
    const std::uint64_t ahead = i + prefetch_distance;
    if (ahead < cap) {
      const std::uint64_t wa = t.buckets[ahead / bucket_slots].slot[ahead % bucket_slots].load(
          std::memory_order_relaxed);
      if (wa != 0) SIMDR_PREFETCH(t.base.load(std::memory_order_relaxed) + word_offset(wa));
    }
    const std::uint64_t w =
        t.buckets[i / bucket_slots].slot[i % bucket_slots].load(std::memory_order_acquire);
    if (w == 0 || word_dead(w)) continue;
    const std::byte* base = t.base.load(std::memory_order_acquire);
    const std::uint64_t off = word_offset(w);
    format::decode_trusted(base + off, off, alignment_, e);
    out = blob_view(base + e.value_offset, e.value_size, base + off + format::entry_header_size,
                    e.key_size, e.value_offset, e.value_checksum);
    return true;
  }
  return false;
}

void store_impl::end_range(entry_range& r) const noexcept {
  rcu_.exit({r.guard_slot_, r.guard_phase_});
}

// ---------------------------------------------------------------------------------------------
// Maintenance
// ---------------------------------------------------------------------------------------------

result<verify_report> store_impl::verify() const noexcept {
  const std::byte* base = nullptr;
  std::uint64_t end = 0;
  {
    read_section rs(rcu_);
    const table* t = table_.load(std::memory_order_seq_cst);
    end = t->log_state.load(std::memory_order_acquire) & ~log_dirty;
    base = t->base.load(std::memory_order_acquire);
  }
  // [0, end) of this image is committed and immutable, and the image lives until close: no
  // lock is needed, writers keep going.
  verify_report rep;
  rep.committed_size = end;
  const std::span<const std::byte> img(base, static_cast<std::size_t>(end));
  format::file_header h;
  if (status st = format::decode_header(img, h); !st.is_ok()) rep.issues.push_back({0, st.code});
  auto zero = [&](std::uint64_t from, std::uint64_t to) {
    for (std::uint64_t i = from; i < to; ++i)
      if (base[i] != std::byte{0}) return false;
    return true;
  };
  std::uint64_t pos = format::header_size;
  format::entry e;
  while (pos < end) {
    const auto r = format::decode_entry(img, pos, alignment_, e);
    if (r != format::decode_result::ok) {
      rep.issues.push_back({pos, errc::corrupt});
      // Resynchronise on the next decodable entry to report what follows.
      pos += 8;
      while (pos < end && format::decode_entry(img, pos, alignment_, e) != format::decode_result::ok)
        pos += 8;
      continue;
    }
    ++rep.entries;
    const std::uint64_t key_end = e.key_offset() + e.key_size;
    if (e.kind == format::kind_put) {
      ++rep.puts;
      rep.value_bytes += e.value_size;
      if (xxh3(base + e.value_offset, static_cast<std::size_t>(e.value_size)) != e.value_checksum)
        rep.issues.push_back({e.value_offset, errc::checksum_mismatch});
      if (!zero(key_end, e.value_offset) || !zero(e.value_offset + e.value_size, e.end))
        rep.issues.push_back({e.offset, errc::corrupt});
    } else {
      ++rep.tombstones;
      if (!zero(key_end, e.end)) rep.issues.push_back({e.offset, errc::corrupt});
    }
    if (e.end == end && !e.is_commit_end()) rep.issues.push_back({e.offset, errc::corrupt});
    pos = e.end;
  }
  return rep;
}

result<compact_report> store_impl::compact() noexcept {
  std::lock_guard lock(mu_);
  if (status st = writable_check(); !st.is_ok()) return st;
  table* old = table_.load(std::memory_order_relaxed);
  const std::byte* base = old->base.load(std::memory_order_relaxed);
  compact_report rep;
  rep.size_before = storage_->size();

  // Live entries in file order: sequential reads of the old file, and iteration order kept.
  pod_vector<std::uint64_t> offsets;
  if (!offsets.reserve(static_cast<std::size_t>(old->live))) return errc::no_memory;
  for (std::uint64_t b = 0; b < old->bucket_count; ++b)
    for (std::uint32_t i = 0; i < bucket_slots; ++i) {
      const std::uint64_t w = old->buckets[b].slot[i].load(std::memory_order_relaxed);
      if (w != 0 && !word_dead(w)) (void)offsets.push_back(word_offset(w));
    }
  std::sort(offsets.begin(), offsets.end());

  result<std::unique_ptr<storage>> made = storage_->create_replacement();
  if (!made) return made.error();
  std::unique_ptr<storage> repl = std::move(*made);
  table* nt = table::create(slots_for(offsets.size()), repl->table_memory());
  pod_vector<std::uint64_t> new_offsets;
  pod_vector<std::uint64_t> hashes;
  if (nt == nullptr || !new_offsets.reserve(offsets.size()) || !hashes.reserve(offsets.size())) {
    table::destroy(nt);
    repl->discard();
    return errc::no_memory;
  }
  auto fail = [&](status st) {
    table::destroy(nt);
    repl->discard();
    return st;
  };
  std::byte hdr[format::header_size];
  format::encode_header(header_, hdr);
  std::span<const std::byte> hpart(hdr, sizeof hdr);
  if (status st = repl->append(std::span(&hpart, 1)); !st.is_ok()) return fail(st);

  std::uint64_t pos = format::header_size;
  std::uint64_t live_bytes = 0;
  const std::size_t n = offsets.size();
  out_.clear();
  auto flush = [&]() -> status {
    status st = repl->append(out_.parts());
    out_.clear();
    return st;
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (i + prefetch_distance < n) SIMDR_PREFETCH(base + offsets[i + prefetch_distance]);
    const std::uint64_t off = offsets[i];
    format::entry e;
    format::decode_trusted(base + off, off, alignment_, e);
    const std::span<const std::byte> key(base + off + format::entry_header_size, e.key_size);
    const std::byte* value = base + e.value_offset;
    // Never carry damage into the new file: check what is copied.
    if (format::load64(base + off) != format::entry_header_checksum(base + off, off, e.key_size))
      return fail(status{errc::checksum_mismatch, 0, off});
    if (xxh3(value, static_cast<std::size_t>(e.value_size)) != e.value_checksum)
      return fail(status{errc::checksum_mismatch, 0, e.value_offset});
    const bool last_of_commit = i + 1 == n || (i + 1) % compact_commit_every == 0;
    std::uint64_t voff = 0;
    std::uint64_t end = 0;
    (void)format::layout_put(pos, e.key_size, e.value_size, alignment_, voff, end);
    if (out_.put(pos, key, value, e.value_size, e.value_checksum,
                 last_of_commit ? format::flag_commit_end : 0, voff, end) == 0)
      return fail(errc::no_memory);
    (void)new_offsets.push_back(pos);
    (void)hashes.push_back(xxh3(key.data(), key.size()));
    live_bytes += end - pos;
    pos = end;
    if (last_of_commit && (out_.scratch_bytes() > (std::size_t{4} << 20) || out_.part_count() > 512))
      if (status st = flush(); !st.is_ok()) return fail(st);
  }
  if (status st = flush(); !st.is_ok()) return fail(st);
  if (status st = repl->sync(); !st.is_ok()) return fail(st);
  if (status st = storage_->install_replacement(*repl); !st.is_ok()) return fail(st);

  // The new file is in place. Publish the new index; the old image stays mapped for views.
  storage_->retire();
  retired_.push_back(std::move(storage_));
  storage_ = std::move(repl);
  const std::byte* nbase = storage_->image().data();
  fill_fresh(*nt, hashes.data(), new_offsets.data(), n);
  nt->base.store(nbase, std::memory_order_relaxed);
  entries_ = n;
  tombstones_ = 0;
  live_bytes_ = live_bytes;
  dirty_ = false;
  nt->log_state.store(pos, std::memory_order_relaxed);
  table_.store(nt, std::memory_order_seq_cst);
  live_.store(n, std::memory_order_release);
  rcu_.retire(old, &table::destroy_erased);
  rep.size_after = pos;
  rep.entries_kept = n;
  return rep;
}

status store_impl::sync() noexcept {
  std::lock_guard lock(mu_);
  if (!storage_->is_writable()) return errc::ok;
  if (poisoned_) return errc::io;
  status st = storage_->sync();
  if (!st.is_ok()) poisoned_ = true;
  return st;
}

result<refresh_report> store_impl::refresh() noexcept {
  std::lock_guard lock(mu_);
  refresh_report rep;
  if (storage_->is_writable()) return rep;
  result<std::unique_ptr<storage>> replaced = storage_->reopen_if_replaced();
  if (!replaced) return replaced.error();
  if (*replaced) {
    // Another process compacted the file: index the new one from scratch; the old image stays
    // mapped for outstanding views, and readers use the old table until the new one is built.
    std::unique_ptr<storage> fresh = std::move(*replaced);
    format::file_header h;
    if (status st = format::decode_header(fresh->image(), h); !st.is_ok()) return st;
    if (h.alignment() != alignment_) return errc::unsupported;
    storage_->retire();
    retired_.push_back(std::move(storage_));
    storage_ = std::move(fresh);
    entries_ = tombstones_ = live_bytes_ = 0;
    dirty_ = false;
    if (status st = index_log(storage_->image(), format::header_size, storage_->size(), true);
        !st.is_ok())
      return st;
    rep.replaced = true;
    rep.new_entries = entries_;
    return rep;
  }
  result<std::uint64_t> size = storage_->reload_size();
  if (!size) return size.error();
  const std::uint64_t from = table_.load(std::memory_order_relaxed)->log_state.load(
                                 std::memory_order_relaxed) & ~log_dirty;
  if (*size < from) return status{errc::corrupt, 0, *size};
  if (*size == from) return rep;
  const std::uint64_t before = entries_;
  if (status st = index_log(storage_->image(), from, *size, false); !st.is_ok()) return st;
  rep.new_entries = entries_ - before;
  rcu_.poll();
  return rep;
}

store_info store_impl::info() const noexcept {
  std::lock_guard lock(mu_);
  store_info i;
  const table* t = table_.load(std::memory_order_relaxed);
  i.format_major = header_.major;
  i.format_minor = header_.minor;
  i.alignment = alignment_;
  i.live_keys = t->live;
  i.entries = entries_;
  i.tombstones = tombstones_;
  i.file_size = t->log_state.load(std::memory_order_relaxed) & ~log_dirty;
  const std::uint64_t payload = i.file_size - format::header_size;
  i.reclaimable_bytes = payload > live_bytes_ ? payload - live_bytes_ : 0;
  i.index_bytes = t->memory_bytes();
  i.read_only = !storage_->is_writable();
  i.kernels = simd::active().name;
  return i;
}

open_report store_impl::report() const noexcept {
  std::lock_guard lock(mu_);
  return report_;
}

}  // namespace simdr::detail

// ---------------------------------------------------------------------------------------------
// Public handle: thin forwarding, closed-handle checks.
// ---------------------------------------------------------------------------------------------
namespace simdr {

using detail::store_impl;

store::store(store&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
store& store::operator=(store&& other) noexcept {
  if (this != &other) {
    (void)close();
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}
store::~store() { (void)close(); }

status store::close() noexcept {
  delete std::exchange(impl_, nullptr);
  return errc::ok;
}

status store::put(bytes key, bytes value) noexcept {
  if (impl_ == nullptr) return errc::closed;
  const write_op op = write_op::put(key, value);
  return impl_->apply(std::span(&op, 1));
}
status store::put_batch(std::span<const key_value> entries) noexcept {
  return impl_ ? impl_->put_batch(entries) : status(errc::closed);
}
status store::apply(std::span<const write_op> ops) noexcept {
  return impl_ ? impl_->apply(ops) : status(errc::closed);
}
result<bool> store::erase(bytes key) noexcept {
  if (impl_ == nullptr) return errc::closed;
  return impl_->erase(key);
}
status store::put_stream(bytes key, stream_source source) noexcept {
  return impl_ ? impl_->put_stream(key, source) : status(errc::closed);
}
status store::rename(bytes old_key, bytes new_key) noexcept {
  return impl_ ? impl_->rename(old_key, new_key) : status(errc::closed);
}
status store::copy(bytes key, store& target, bytes target_key) noexcept {
  if (impl_ == nullptr || target.impl_ == nullptr) return errc::closed;
  if (target.impl_ == impl_) return errc::invalid_argument;
  result<blob_view> v = impl_->get(key.data(), key.size());
  if (!v) return v.error();
  return target.put(target_key.empty() ? key : target_key, v->bytes());
}
status store::move(bytes key, store& target, bytes target_key) noexcept {
  if (status st = copy(key, target, target_key); !st.is_ok()) return st;
  result<bool> erased = erase(key);
  return erased ? status(errc::ok) : erased.error();
}
result<blob_view> store::get_(const std::byte* key, std::size_t size) const noexcept {
  if (impl_ == nullptr) return errc::closed;
  return impl_->get(key, size);
}
result<std::size_t> store::get_batch(std::span<const bytes> keys,
                                     std::span<blob_view> out) const noexcept {
  if (impl_ == nullptr) return errc::closed;
  return impl_->get_batch(keys, out);
}
result<bool> store::contains_(const std::byte* key, std::size_t size) const noexcept {
  if (impl_ == nullptr) return errc::closed;
  return impl_->contains(key, size);
}
status store::read_stream(bytes key, stream_sink sink, std::size_t chunk_size) const noexcept {
  return impl_ ? impl_->read_stream(key, sink, chunk_size) : status(errc::closed);
}
entry_range store::entries() const noexcept {
  entry_range r;
  if (impl_ != nullptr) {
    r.impl_ = impl_;
    impl_->begin_range(r);
  }
  return r;
}
std::uint64_t store::size() const noexcept { return impl_ ? impl_->live() : 0; }
std::uint64_t store::file_size() const noexcept { return impl_ ? impl_->committed() : 0; }
std::span<const std::byte> store::image() const noexcept {
  return impl_ ? impl_->committed_image() : std::span<const std::byte>{};
}
store_info store::info() const noexcept { return impl_ ? impl_->info() : store_info{}; }
open_report store::report() const noexcept { return impl_ ? impl_->report() : open_report{}; }
result<verify_report> store::verify() const noexcept {
  if (impl_ == nullptr) return errc::closed;
  return impl_->verify();
}
result<compact_report> store::compact() noexcept {
  if (impl_ == nullptr) return errc::closed;
  return impl_->compact();
}
status store::sync() noexcept { return impl_ ? impl_->sync() : status(errc::closed); }
result<refresh_report> store::refresh() noexcept {
  if (impl_ == nullptr) return errc::closed;
  return impl_->refresh();
}

entry_range::entry_range(entry_range&& o) noexcept
    : impl_(std::exchange(o.impl_, nullptr)), table_(o.table_), position_(o.position_),
      end_(o.end_), log_walk_(o.log_walk_), guard_slot_(o.guard_slot_),
      guard_phase_(o.guard_phase_) {}
entry_range& entry_range::operator=(entry_range&& o) noexcept {
  if (this != &o) {
    this->~entry_range();
    ::new (static_cast<void*>(this)) entry_range(std::move(o));
  }
  return *this;
}
entry_range::~entry_range() {
  if (impl_ != nullptr) impl_->end_range(*this);
}
void entry_range::iterator::advance() noexcept {
  if (range_ == nullptr) return;
  if (!range_->impl_->next_entry(*range_, current_)) range_ = nullptr;
}

}  // namespace simdr
