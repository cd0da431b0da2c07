// exports.cpp - the C ABI of the wasm module: flat extern "C" simdr_wasm_<verb> functions over
// simdr::store, called by js/backends/wasm.js (compare duckdb-wasm's webdb_api.cc).
//
// Every fallible call returns an int32 status: 0, or a simdr::errc number (1 = not_found is an
// outcome, not a failure). Results and error details go to one out-record in wasm memory
// (simdr_wasm_out()), which JS reads after the call: view pointers and lengths, a number, and
// for errors the OS errno, the damage offset and a message. Nothing throws; the module is
// single-threaded, so one out-record and one key scratch buffer serve every handle.
//
// Views: get/get_batch/iteration return pointers into the store image. In the private-memory
// build, store handles opened here free image buffers as soon as they are moved or released
// (storage_options keep_retired = false); the storage then calls simdr_views_moved() and JS
// detaches every view (js_files.js). An iteration that spans such a move ends with errc::busy.
// The shared-memory build (SIMDR_WASM_SHARED_MEMORY) cannot detach views: it keeps moved-away
// buffers until close (keep_retired = true), and JS gives each store its own instance, which
// it drops at close, so no freed byte is ever reused under a view.
#include <emscripten/emscripten.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <vector>

#include "simdr/store.hpp"
#include "store_impl.hpp"
#include "wasm_storage.hpp"

namespace {

using simdr::errc;

struct out_record {
  std::uint32_t ptr = 0;      // value (or handle / iterator) pointer
  std::uint32_t len = 0;      // value length
  std::uint32_t key_ptr = 0;  // iteration: key pointer
  std::uint32_t key_len = 0;
  double number = 0;          // sizes, counts, booleans
  std::int32_t sys_errno = 0;
  std::int32_t reserved = 0;
  double offset = -1;         // damage offset of corrupt / checksum_mismatch, -1 when none
  char message[256] = {};
};
static_assert(sizeof(out_record) == 40 + 256);

#ifdef SIMDR_WASM_SHARED_MEMORY
constexpr bool shared_memory = true;
#else
constexpr bool shared_memory = false;
#endif

out_record out;
std::byte* scratch = nullptr;
std::size_t scratch_size = 0;

struct iterator;

struct handle {
  simdr::store db;
  std::vector<simdr::bytes> keys;
  std::vector<simdr::blob_view> views;
  std::vector<simdr::key_value> batch;
  std::vector<iterator*> iterators;
};

struct iterator {
  handle* owner;
  simdr::entry_range range;
  simdr::entry_range::iterator it;
  std::uint64_t epoch;
  bool started = false;
};

int fail(simdr::status st, std::string_view what) {
  out.sys_errno = st.sys_errno;
  out.offset = (st.code == errc::corrupt || st.code == errc::checksum_mismatch)
                   ? static_cast<double>(st.offset)
                   : -1;
  const std::string_view name = simdr::to_string(st.code);
  const std::string_view desc = simdr::describe(st.code);
  std::snprintf(out.message, sizeof out.message, "%.*s: %.*s (%.*s)",
                static_cast<int>(what.size()), what.data(), static_cast<int>(desc.size()),
                desc.data(), static_cast<int>(name.size()), name.data());
  return static_cast<int>(st.code);
}

void drop_iterators(handle& h) {
  for (iterator* it : h.iterators) {
    it->range = simdr::entry_range{};
    it->owner = nullptr;
  }
  h.iterators.clear();
}

simdr::bytes key_of(const void* p, std::uint32_t n) { return simdr::bytes(p, n); }

}  // namespace

extern "C" {

/// The out-record (layout: out_record above), fixed for the life of the module.
EMSCRIPTEN_KEEPALIVE void* simdr_wasm_out() { return &out; }

/// A scratch buffer of at least `size` bytes for keys, values and record tables; it moves
/// (and wasm memory may grow) only when it must grow. Returns 0 on no memory.
EMSCRIPTEN_KEEPALIVE void* simdr_wasm_scratch(std::uint32_t size) {
  if (size <= scratch_size) return scratch;
  std::size_t want = scratch_size < 4096 ? 4096 : scratch_size;
  while (want < size) want *= 2;
  auto* fresh = static_cast<std::byte*>(::operator new(want, std::align_val_t{16}, std::nothrow));
  if (fresh == nullptr) return nullptr;
  if (scratch != nullptr) ::operator delete(scratch, std::align_val_t{16});
  scratch = fresh;
  scratch_size = want;
  return scratch;
}

/// Opens a store. flags: 1 create, 2 read_only, 4 durability commit. `reserve`: smallest image
/// buffer in bytes (0: 4 MiB). On success out.ptr is the handle.
EMSCRIPTEN_KEEPALIVE int simdr_wasm_open(const char* path, std::uint32_t path_len,
                                         std::uint32_t flags, std::uint32_t alignment,
                                         double reserve) {
  const simdr::open_options o{.create = (flags & 1) != 0,
                              .read_only = (flags & 2) != 0,
                              .durability = (flags & 4) != 0 ? simdr::durability::commit
                                                             : simdr::durability::none,
                              .alignment = alignment == 0 ? 64 : alignment};
  if (simdr::status st = simdr::detail::check_options(o); !st.is_ok()) return fail(st, "open");
  simdr::wasm::storage_options so{.keep_retired = shared_memory,
                                  .min_reserve = reserve > 0 ? static_cast<std::uint64_t>(reserve)
                                                             : std::uint64_t{4} << 20,
                                  .one_thread = true};
  auto s = simdr::wasm::wasm_storage::open(std::string_view(path, path_len), o, so);
  if (!s) return fail(s.error(), "open");
  auto opened = simdr::detail::open_store(std::unique_ptr<simdr::storage>(std::move(*s)), o);
  if (!opened) return fail(opened.error(), "open");
  auto* h = new (std::nothrow) handle{std::move(*opened), {}, {}, {}, {}};
  if (h == nullptr) return fail(errc::no_memory, "open");
  out.ptr = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(h));
  const simdr::open_report r = h->db.report();
  out.number = r.tail_dropped ? static_cast<double>(r.tail_bytes) : 0;
  return 0;
}

/// Closes and frees the handle; every view and iterator of it ends (views are detached).
EMSCRIPTEN_KEEPALIVE int simdr_wasm_close(handle* h) {
  if (h == nullptr) return 0;
  drop_iterators(*h);
  const simdr::status st = h->db.close();
  delete h;
  return st.is_ok() ? 0 : fail(st, "close");
}

EMSCRIPTEN_KEEPALIVE int simdr_wasm_put(handle* h, const void* key, std::uint32_t key_len,
                                        const void* value, std::uint32_t value_len) {
  const simdr::status st = h->db.put(key_of(key, key_len), simdr::bytes(value, value_len));
  return st.is_ok() ? 0 : fail(st, "put");
}

/// `records` holds n quadruples (key ptr, key len, value ptr, value len): one atomic commit.
EMSCRIPTEN_KEEPALIVE int simdr_wasm_put_batch(handle* h, const std::uint32_t* records,
                                              std::uint32_t n) {
  h->batch.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t* r = records + 4 * i;
    h->batch[i] = {simdr::bytes(reinterpret_cast<const void*>(std::uintptr_t{r[0]}), r[1]),
                   simdr::bytes(reinterpret_cast<const void*>(std::uintptr_t{r[2]}), r[3])};
  }
  const simdr::status st = h->db.put_batch(h->batch);
  return st.is_ok() ? 0 : fail(st, "putMany");
}

/// 0 with out.ptr/out.len = the value, 1 (not_found) when missing.
EMSCRIPTEN_KEEPALIVE int simdr_wasm_get(handle* h, const void* key, std::uint32_t key_len) {
  auto v = h->db.get(key_of(key, key_len));
  if (!v) return v.code() == errc::not_found ? 1 : fail(v.error(), "get");
  out.ptr = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(v->data()));
  out.len = static_cast<std::uint32_t>(v->size());
  return 0;
}

/// `keys` holds n pairs (ptr, len); `results` receives n pairs (value ptr, len), ptr 0 when
/// missing. out.number = how many were found.
EMSCRIPTEN_KEEPALIVE int simdr_wasm_get_batch(handle* h, const std::uint32_t* keys,
                                              std::uint32_t n, std::uint32_t* results) {
  h->keys.resize(n);
  h->views.assign(n, simdr::blob_view{});
  for (std::uint32_t i = 0; i < n; ++i)
    h->keys[i] = simdr::bytes(reinterpret_cast<const void*>(std::uintptr_t{keys[2 * i]}),
                              keys[2 * i + 1]);
  auto found = h->db.get_batch(h->keys, h->views);
  if (!found) return fail(found.error(), "getMany");
  for (std::uint32_t i = 0; i < n; ++i) {
    const simdr::blob_view& v = h->views[i];
    results[2 * i] = v ? static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(v.data())) : 0;
    results[2 * i + 1] = static_cast<std::uint32_t>(v.size());
  }
  out.number = static_cast<double>(*found);
  return 0;
}

/// out.number = 1 when the key has a live value, else 0.
EMSCRIPTEN_KEEPALIVE int simdr_wasm_contains(handle* h, const void* key, std::uint32_t key_len) {
  auto r = h->db.contains(key_of(key, key_len));
  if (!r) return fail(r.error(), "has");
  out.number = *r ? 1 : 0;
  return 0;
}

/// out.number = 1 when the key existed (and a tombstone was written), else 0.
EMSCRIPTEN_KEEPALIVE int simdr_wasm_erase(handle* h, const void* key, std::uint32_t key_len) {
  auto r = h->db.erase(key_of(key, key_len));
  if (!r) return fail(r.error(), "delete");
  out.number = *r ? 1 : 0;
  return 0;
}

EMSCRIPTEN_KEEPALIVE double simdr_wasm_size(handle* h) { return static_cast<double>(h->db.size()); }

EMSCRIPTEN_KEEPALIVE double simdr_wasm_file_size(handle* h) {
  return static_cast<double>(h->db.file_size());
}

/// Starts an iteration over live entries; out.ptr is the iterator.
EMSCRIPTEN_KEEPALIVE int simdr_wasm_iter_begin(handle* h) {
  auto* it = new (std::nothrow) iterator{h, h->db.entries(), {}, simdr::wasm::moved_epoch()};
  if (it == nullptr) return fail(errc::no_memory, "iterate");
  h->iterators.push_back(it);
  out.ptr = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(it));
  return 0;
}

/// Next entry: 0 with out key/value views, 1 at the end, closed after close(), busy when the
/// store's bytes moved since the iteration began (compaction, growth of the image).
EMSCRIPTEN_KEEPALIVE int simdr_wasm_iter_next(iterator* it) {
  if (it->owner == nullptr) return fail(errc::closed, "iterate");
  if (it->epoch != simdr::wasm::moved_epoch())
    return fail(errc::busy, "iterate: the store's memory moved (compaction or growth); restart");
  if (!it->started) {
    it->it = it->range.begin();
    it->started = true;
  } else {
    ++it->it;
  }
  if (it->it == it->range.end()) return 1;
  const simdr::entry_view& e = *it->it;
  out.ptr = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(e.data()));
  out.len = static_cast<std::uint32_t>(e.size());
  out.key_ptr = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(e.key().data()));
  out.key_len = static_cast<std::uint32_t>(e.key().size());
  return 0;
}

/// Frees an iterator (at its end, or when JS abandons it).
EMSCRIPTEN_KEEPALIVE void simdr_wasm_iter_end(iterator* it) {
  if (it->owner != nullptr) {
    auto& v = it->owner->iterators;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (v[i] == it) {
        v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
  }
  delete it;
}

/// out.number = the file size after compaction.
EMSCRIPTEN_KEEPALIVE int simdr_wasm_compact(handle* h) {
  auto r = h->db.compact();
  if (!r) return fail(r.error(), "compact");
  out.number = static_cast<double>(r->size_after);
  return 0;
}

/// 0 when intact; else the first issue's code (corrupt / checksum_mismatch) and offset.
EMSCRIPTEN_KEEPALIVE int simdr_wasm_verify(handle* h) {
  auto r = h->db.verify();
  if (!r) return fail(r.error(), "verify");
  out.number = static_cast<double>(r->issues.size());
  if (r->is_ok()) return 0;
  return fail(simdr::status{r->issues.front().code, 0, r->issues.front().offset}, "verify");
}

EMSCRIPTEN_KEEPALIVE int simdr_wasm_sync(handle* h) {
  const simdr::status st = h->db.sync();
  return st.is_ok() ? 0 : fail(st, "flush");
}

/// out.number = 1 when something changed (new entries, or the file was replaced).
EMSCRIPTEN_KEEPALIVE int simdr_wasm_refresh(handle* h) {
  auto r = h->db.refresh();
  if (!r) return fail(r.error(), "refresh");
  out.number = (r->new_entries > 0 || r->replaced) ? 1 : 0;
  return 0;
}
}
