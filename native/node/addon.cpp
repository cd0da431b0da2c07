// addon.cpp - the Node-API binding (host-binding seam): one `Store` class implementing the
// backend handle contract of js/BACKEND.md over simdr::store, plus its entry iterator.
//
// ZERO-COPY VIEWS. Values live in the store's memory map. V8 must never see two live external
// ArrayBuffers over the same bytes, and an ArrayBuffer must never cover pages past the end of
// the file (touching them raises SIGBUS; `view.buffer` would expose them). So each image (one
// mapping; see simdr::store::image()) is covered by CHUNKS: contiguous, non-overlapping ranges
// [start, end) of file offsets, each one external ArrayBuffer created once, ending at the
// committed end the image had when the chunk was made. get() returns `new Uint8Array(chunk,
// offset - start, length)`. A value always lies inside one chunk: chunk ends are commit ends,
// and a commit never straddles one. Chunks are held WEAKLY: when V8 collects one (no view
// left), its range may be covered again by a fresh buffer. A value that fits no chunk (longer
// than max_chunk) is returned as a copy.
//
// LIFETIMES (docs/lifetimes.md). Every external buffer's finalizer holds a shared_ptr to the
// `native_store`, so a Store dropped without close() keeps its mapping until V8 has collected
// the last view. close() detaches every live chunk (views become length 0), ends open
// iterators, and only then closes the core store (which unmaps).
//
// COPY MODE. Where external buffers are refused (Electron's V8 memory cage: napi status
// napi_no_external_buffers_allowed) or when forced (SIMDR_NODE_COPY=1, open option copy),
// get() returns copies that own their bytes; close() cannot detach those.
//
// THREADS. A Store belongs to the JS thread (main or worker) that opened it; the addon is
// context-aware (per-env instance data). putManyAsync/flushAsync run the core call on the
// libuv pool while JS keeps reading (the core's reads are lock-free; writes are serialised
// by its mutex). close() during an async call detaches views at once and closes the core
// store when the last async call completes.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "simdr/store.hpp"

namespace {

// Longest chunk: V8's typed arrays in Node 20 reach 4 GiB; stay well inside.
constexpr std::uint64_t max_chunk = std::uint64_t{1} << 31;

struct addon_data {
  Napi::FunctionReference simdr_error;
  Napi::FunctionReference iter_ctor;
  bool force_copy = false;  // SIMDR_NODE_COPY=1 at load
};

addon_data& data_of(Napi::Env env) { return *env.GetInstanceData<addon_data>(); }

[[noreturn]] void throw_simdr(Napi::Env env, simdr::status st, const std::string& what = {}) {
  addon_data& d = data_of(env);
  std::string msg(simdr::describe(st.code));
  if (!what.empty()) msg += ": " + what;
  if (st.sys_errno != 0) msg += std::string(" (") + std::strerror(st.sys_errno) + ")";
  Napi::Object details = Napi::Object::New(env);
  if (st.sys_errno != 0) details.Set("errno", st.sys_errno);
  if (st.code == simdr::errc::corrupt || st.code == simdr::errc::checksum_mismatch)
    details.Set("offset", static_cast<double>(st.offset));
  if (d.simdr_error.IsEmpty()) throw Napi::Error::New(env, msg);
  Napi::Value err = d.simdr_error.New(
      {Napi::Number::New(env, static_cast<double>(st.code)), Napi::String::New(env, msg), details});
  throw Napi::Error(env, err);
}

// A key from JS: a string (UTF-8, via a stack buffer for the common short key) or a Uint8Array.
class key_arg {
 public:
  key_arg(napi_env env, napi_value v) {
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t == napi_string) {
      std::size_t n = 0;
      napi_get_value_string_utf8(env, v, stack_, sizeof stack_, &n);
      if (n + 4 >= sizeof stack_) {  // maybe truncated (perhaps mid-character): take it whole
        napi_get_value_string_utf8(env, v, nullptr, 0, &n);
        heap_.resize(n + 1);
        napi_get_value_string_utf8(env, v, heap_.data(), n + 1, &n);
        bytes_ = simdr::bytes(heap_.data(), n);
      } else {
        bytes_ = simdr::bytes(stack_, n);
      }
      return;
    }
    bool is_ta = false;
    napi_is_typedarray(env, v, &is_ta);
    if (!is_ta) throw Napi::TypeError::New(env, "key must be a string or a Uint8Array");
    napi_typedarray_type tt;
    std::size_t len = 0;
    void* p = nullptr;
    napi_get_typedarray_info(env, v, &tt, &len, &p, nullptr, nullptr);
    bytes_ = simdr::bytes(p, len);
  }
  key_arg(const key_arg&) = delete;
  key_arg& operator=(const key_arg&) = delete;
  simdr::bytes bytes() const { return bytes_; }

 private:
  char stack_[256];
  std::string heap_;
  simdr::bytes bytes_;
};

simdr::bytes value_arg(Napi::Env env, Napi::Value v) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(env, "value must be a Uint8Array");
  auto ta = v.As<Napi::TypedArray>();
  const auto* p = static_cast<const std::byte*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  return simdr::bytes(p, ta.ByteLength());
}

// Copies keys and values out of JS memory (for async work on the libuv pool, where JS may
// mutate or transfer its buffers meanwhile).
struct owned_batch {
  std::vector<std::byte> arena;
  std::vector<std::uint64_t> spans;  // (offset, length) pairs: key, value, key, value...
  std::vector<simdr::key_value> kv;
  void add(simdr::bytes b) {
    spans.push_back(arena.size());
    spans.push_back(b.size());
    arena.insert(arena.end(), b.data(), b.data() + b.size());
  }
  void finish() {
    kv.resize(spans.size() / 4);
    for (std::size_t i = 0; i < kv.size(); ++i) {
      const std::uint64_t* s = &spans[i * 4];
      kv[i] = {simdr::bytes(arena.data() + s[0], s[1]), simdr::bytes(arena.data() + s[2], s[3])};
    }
  }
};

class store_wrap;
class iter_wrap;

// The state behind one JS Store; shared with buffer finalizers and async workers.
class native_store {
 public:
  struct chunk {
    std::uint64_t start = 0, end = 0;  // file offsets covered
    napi_ref ref = nullptr;            // weak; nullptr once released (close, re-creation)
  };
  struct finalizer_hint {
    std::shared_ptr<native_store> owner;  // keeps the mapping while V8 holds the buffer
    std::shared_ptr<chunk> c;
  };
  struct image_chunks {
    const std::byte* base;
    std::vector<std::shared_ptr<chunk>> chunks;  // sorted by start, non-overlapping
  };

  native_store(napi_env env, simdr::store s, bool copy) : env_(env), db_(std::move(s)), copy_(copy) {}
  ~native_store() {
    // Reached when the JS Store is gone and V8 has finalized every external buffer.
    (void)db_.close();
    stores_freed.fetch_add(1, std::memory_order_relaxed);
  }

  static inline std::atomic<std::uint64_t> stores_freed{0};

  simdr::store& db() { return db_; }
  bool is_closed() const { return closed_; }
  bool copy_mode() const { return copy_; }

  // A Uint8Array over [data, data + size) of the image at `base`: a view of a chunk, or a copy.
  napi_value view(const std::shared_ptr<native_store>& self, const std::byte* base,
                  const std::byte* data, std::uint64_t size) {
    napi_value out;
    viewed_ = nullptr;
    if (!copy_) {
      const auto off = static_cast<std::uint64_t>(data - base);
      std::uint64_t chunk_start = 0;
      if (napi_value ab = chunk_for(self, base, off, off + size, chunk_start); ab != nullptr) {
        napi_create_typedarray(env_, napi_uint8_array, static_cast<std::size_t>(size), ab,
                               static_cast<std::size_t>(off - chunk_start), &out);
        viewed_ = last_;
        return out;
      }
    }
    void* p = nullptr;
    napi_value ab;
    if (napi_create_arraybuffer(env_, static_cast<std::size_t>(size), &p, &ab) != napi_ok)
      throw Napi::Error::New(Napi::Env(env_), "out of memory");
    if (size != 0) std::memcpy(p, data, static_cast<std::size_t>(size));
    napi_create_typedarray(env_, napi_uint8_array, static_cast<std::size_t>(size), ab, 0, &out);
    return out;
  }

  napi_value value_view(const std::shared_ptr<native_store>& self, const simdr::blob_view& v) {
    return view(self, v.data() - v.offset(), v.data(), v.size());
  }
  napi_value key_view(const std::shared_ptr<native_store>& self, const simdr::blob_view& v) {
    const auto k = v.key();
    return view(self, v.data() - v.offset(), k.data(), k.size());
  }

  // The fast get (getFast): when the value lies in the chunk the JS wrapper holds (the chunk
  // of the last view it was handed), writes (offset in chunk, length) to `fast_out` and returns
  // true, so that JS builds the view itself (no N-API object creation).
  bool in_js_chunk(const simdr::blob_view& v, std::uint32_t* fast_out) const {
    if (!js_chunk_) return false;
    const std::byte* base = v.data() - v.offset();
    const std::uint64_t off = v.offset();
    if (base != js_base_ || off < js_chunk_->start || off + v.size() > js_chunk_->end) return false;
    fast_out[0] = static_cast<std::uint32_t>(off - js_chunk_->start);
    fast_out[1] = static_cast<std::uint32_t>(v.size());
    return true;
  }
  // After value_view(): whether that view is over a chunk (not a copy); if so the JS wrapper
  // will hold that chunk from now on.
  bool viewed_is_chunk() const { return viewed_ != nullptr; }
  bool adopt_viewed_chunk(const simdr::blob_view& v) {
    if (!viewed_) return false;
    js_chunk_ = viewed_;
    js_base_ = v.data() - v.offset();
    return true;
  }

  // close(): detach every live view, end iterators, then close the core store unless an async
  // call still uses it (then the last one closes it).
  void close();
  void async_begin() { ++pending_; }
  void async_end() {
    if (--pending_ == 0 && closed_) (void)db_.close();
  }
  void add_iter(iter_wrap* it) { iters_.insert(it); }
  void remove_iter(iter_wrap* it) { iters_.erase(it); }

 private:
  // Runs on the JS thread (Node defers external-buffer finalizers there), after GC.
  static void finalize(napi_env env, void* /*data*/, void* hint) {
    auto* h = static_cast<finalizer_hint*>(hint);
    if (h->c->ref != nullptr) {
      napi_delete_reference(env, h->c->ref);
      h->c->ref = nullptr;
    }
    chunks_finalized.fetch_add(1, std::memory_order_relaxed);
    delete h;  // may drop the last reference to the store: unmaps
  }

 public:
  static inline std::atomic<std::uint64_t> chunks_created{0};
  static inline std::atomic<std::uint64_t> chunks_finalized{0};

 private:
  static napi_value deref(napi_env env, const std::shared_ptr<chunk>& c) {
    if (c->ref == nullptr) return nullptr;
    napi_value v = nullptr;
    napi_get_reference_value(env, c->ref, &v);
    return v;
  }

  // The ArrayBuffer of the chunk holding [off, end) of the image at `base`, created if needed;
  // nullptr when the range cannot be a view (longer than max_chunk, or straddling two chunks
  // of an image larger than max_chunk, or external buffers refused).
  napi_value chunk_for(const std::shared_ptr<native_store>& self, const std::byte* base,
                       std::uint64_t off, std::uint64_t end, std::uint64_t& chunk_start) {
    if (last_ && last_base_ == base && off >= last_->start && end <= last_->end) {
      if (napi_value ab = deref(env_, last_); ab != nullptr) {
        chunk_start = last_->start;
        return ab;
      }
    }
    if (end - off > max_chunk) return nullptr;
    image_chunks* img = nullptr;
    for (auto& i : images_)
      if (i.base == base) img = &i;
    if (img == nullptr) img = &images_.emplace_back(image_chunks{base, {}});
    auto& list = img->chunks;
    const std::uint64_t covered = list.empty() ? 0 : list.back()->end;
    std::shared_ptr<chunk>* slot = nullptr;
    if (end <= covered) {
      auto it = std::upper_bound(list.begin(), list.end(), off,
                                 [](std::uint64_t o, const std::shared_ptr<chunk>& x) {
                                   return o < x->end;
                                 });
      if (it == list.end() || off < (*it)->start || end > (*it)->end) return nullptr;
      if (napi_value ab = deref(env_, *it); ab != nullptr) {
        last_ = *it;
        last_base_ = base;
        chunk_start = last_->start;
        return ab;
      }
      // Collected (no view was left): cover the same range with a fresh buffer. The old
      // record stays with its pending finalizer; release its weak reference now.
      auto fresh = std::make_shared<chunk>(chunk{(*it)->start, (*it)->end, nullptr});
      if ((*it)->ref != nullptr) {
        napi_delete_reference(env_, (*it)->ref);
        (*it)->ref = nullptr;
      }
      *it = std::move(fresh);
      slot = &*it;
    } else {
      if (off < covered) return nullptr;  // straddles a capped chunk's end: copy
      // A new chunk from the end of the last one to the image's committed end now (ends are
      // commit ends, so no later value straddles it). An older image (an iterator pinned to a
      // compacted-away generation) only promises the value's own end.
      const std::span<const std::byte> now = db_.image();
      std::uint64_t cend = now.data() == base ? std::max<std::uint64_t>(now.size(), end) : end;
      const std::uint64_t cstart = end - covered <= max_chunk ? covered : off;
      cend = std::min(cend, cstart + max_chunk);
      list.push_back(std::make_shared<chunk>(chunk{cstart, cend, nullptr}));
      slot = &list.back();
    }
    chunk& c = **slot;
    napi_value ab;
    auto* hint = new finalizer_hint{self, *slot};
    void* start = const_cast<std::byte*>(base + c.start);  // NOLINT: the N-API signature
    const napi_status s = napi_create_external_arraybuffer(
        env_, start, static_cast<std::size_t>(c.end - c.start), &native_store::finalize, hint,
        &ab);
    if (s != napi_ok) {
      // Refused (napi_no_external_buffers_allowed in Electron's memory cage): copy from now on.
      delete hint;
      bool pending = false;
      napi_is_exception_pending(env_, &pending);
      if (pending) {
        napi_value e;
        napi_get_and_clear_last_exception(env_, &e);
      }
      copy_ = true;
      external_refused.store(true, std::memory_order_relaxed);
      return nullptr;
    }
    napi_create_reference(env_, ab, 0, &c.ref);
    chunks_created.fetch_add(1, std::memory_order_relaxed);
    last_ = *slot;
    last_base_ = base;
    chunk_start = c.start;
    return ab;
  }

 public:
  static inline std::atomic<bool> external_refused{false};

 private:
  napi_env env_;
  simdr::store db_;
  bool copy_;
  bool closed_ = false;
  int pending_ = 0;
  std::shared_ptr<chunk> last_;
  const std::byte* last_base_ = nullptr;
  std::shared_ptr<chunk> viewed_;    // chunk of the last view made (nullptr: a copy)
  std::shared_ptr<chunk> js_chunk_;  // chunk whose ArrayBuffer the JS wrapper holds
  const std::byte* js_base_ = nullptr;
  std::vector<image_chunks> images_;
  std::unordered_set<iter_wrap*> iters_;
};

// ---- the iterator ------------------------------------------------------------------------------

class iter_wrap : public Napi::ObjectWrap<iter_wrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "SimdrIterator", {InstanceMethod<&iter_wrap::next>("next")});
  }
  explicit iter_wrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<iter_wrap>(info) {}
  ~iter_wrap() override { release(); }

  void start(std::shared_ptr<native_store> st) {
    st_ = std::move(st);
    range_ = std::make_unique<simdr::entry_range>(st_->db().entries());
    it_ = range_->begin();
    st_->add_iter(this);
  }
  // Ends the walk (unpins the index generation). Called at exhaustion, close and GC.
  void release() {
    it_ = {};
    range_.reset();
    if (st_) st_->remove_iter(this);
    st_.reset();
  }

 private:
  Napi::Value next(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!range_) {
      if (closed_seen_) throw_simdr(env, simdr::errc::closed);
      return env.Undefined();
    }
    if (st_->is_closed()) {
      closed_seen_ = true;
      release();
      throw_simdr(env, simdr::errc::closed);
    }
    if (it_ == range_->end()) {
      release();
      return env.Undefined();
    }
    const simdr::entry_view v = *it_;
    ++it_;
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::Value(env, st_->key_view(st_, v)));
    pair.Set(1u, Napi::Value(env, st_->value_view(st_, v)));
    return pair;
  }

 public:
  void mark_closed() {
    closed_seen_ = true;
    it_ = {};
    range_.reset();
    st_.reset();  // the store erases us from its set itself
  }

 private:
  std::shared_ptr<native_store> st_;
  std::unique_ptr<simdr::entry_range> range_;
  simdr::entry_range::iterator it_;
  bool closed_seen_ = false;
};

void native_store::close() {
  if (closed_) return;
  closed_ = true;
  napi_env env = env_;
  for (auto& img : images_)
    for (auto& c : img.chunks) {
      if (c->ref == nullptr) continue;
      napi_value ab = nullptr;
      napi_get_reference_value(env, c->ref, &ab);
      if (ab != nullptr) napi_detach_arraybuffer(env, ab);
      // The finalizer (run later by V8) still owns its hint; keep `c` until then.
      napi_delete_reference(env, c->ref);
      c->ref = nullptr;
    }
  last_.reset();
  viewed_.reset();
  js_chunk_.reset();
  for (iter_wrap* it : iters_) it->mark_closed();
  iters_.clear();
  if (pending_ == 0) (void)db_.close();
}

// ---- async work (libuv pool) -------------------------------------------------------------------

class commit_worker : public Napi::AsyncWorker {
 public:
  enum class kind { put_many, flush };
  commit_worker(Napi::Env env, std::shared_ptr<native_store> st, kind k, owned_batch batch)
      : Napi::AsyncWorker(env), st_(std::move(st)), kind_(k), batch_(std::move(batch)),
        deferred_(Napi::Promise::Deferred::New(env)) {
    st_->async_begin();
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    status_ = kind_ == kind::put_many ? st_->db().put_batch(batch_.kv) : st_->db().sync();
  }
  void OnOK() override {
    Napi::Env env = Env();
    st_->async_end();
    if (status_.is_ok()) {
      deferred_.Resolve(env.Undefined());
      return;
    }
    try {
      throw_simdr(env, status_, kind_ == kind::put_many ? "putManyAsync" : "flushAsync");
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

 private:
  std::shared_ptr<native_store> st_;
  kind kind_;
  owned_batch batch_;
  Napi::Promise::Deferred deferred_;
  simdr::status status_;
};

// ---- the bound fast get ------------------------------------------------------------------------

// A get that crosses into the addon as cheaply as Node-API allows: a plain function (no
// ObjectWrap unwrap, no arguments, no string conversion) bound to one store, whose key JS has
// already written into a scratch ArrayBuffer: bytes [0, 16) are four uint32 slots (offset,
// length, adopt flag, key length), the key's bytes follow. JS takes this path for ASCII string
// keys and Uint8Array keys that fit (js/backends/native.js), the only copy being the key into
// the scratch. Returns what getFast returns, or -2 when JS must take the slow path instead
// (closed, an error to throw with its details, a copy that failed to allocate).
struct fast_get_state {
  std::shared_ptr<native_store> st;
  napi_ref scratch = nullptr;  // strong: the slots and key bytes below point into it
  std::uint32_t* slots = nullptr;
  const std::byte* key = nullptr;
  std::size_t key_cap = 0;

  static napi_value call(napi_env env, napi_callback_info info) {
    std::size_t argc = 0;
    void* data = nullptr;
    napi_get_cb_info(env, info, &argc, nullptr, nullptr, &data);
    auto* f = static_cast<fast_get_state*>(data);
    native_store& s = *f->st;
    napi_value out;
    const std::uint32_t n = f->slots[3];
    if (s.is_closed() || n == 0 || n > f->key_cap) return slow(env);
    auto r = s.db().get(simdr::bytes(f->key, n));
    if (!r) {
      if (r.error().code != simdr::errc::not_found) return slow(env);
      napi_get_undefined(env, &out);
      return out;
    }
    if (s.in_js_chunk(*r, f->slots)) {
      napi_create_int32(env, 0, &out);
      return out;
    }
    try {
      out = s.value_view(f->st, *r);
    } catch (const Napi::Error&) {
      return slow(env);
    }
    f->slots[2] = s.adopt_viewed_chunk(*r) ? 1 : 0;
    return out;
  }
  static napi_value slow(napi_env env) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
    }
    napi_value out;
    napi_create_int32(env, -2, &out);
    return out;
  }
  static void finalize(napi_env env, void* data, void* /*hint*/) {
    auto* f = static_cast<fast_get_state*>(data);
    napi_delete_reference(env, f->scratch);
    delete f;
  }
};

// ---- the Store ---------------------------------------------------------------------------------

class store_wrap : public Napi::ObjectWrap<store_wrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "SimdrStore",
                       {
                           InstanceMethod<&store_wrap::put>("put"),
                           InstanceMethod<&store_wrap::put_many>("putMany"),
                           InstanceMethod<&store_wrap::put_packed>("putPacked"),
                           InstanceMethod<&store_wrap::put_many_async>("putManyAsync"),
                           InstanceMethod<&store_wrap::get>("get"),
                           InstanceMethod<&store_wrap::get_fast>("getFast"),
                           InstanceMethod<&store_wrap::set_fast_out>("setFastOutput"),
                           InstanceMethod<&store_wrap::bind_fast_get>("bindFastGet"),
                           InstanceMethod<&store_wrap::get_many>("getMany"),
                           InstanceMethod<&store_wrap::get_packed>("getPacked"),
                           InstanceMethod<&store_wrap::has>("has"),
                           InstanceMethod<&store_wrap::del>("delete"),
                           InstanceMethod<&store_wrap::size>("size"),
                           InstanceMethod<&store_wrap::file_size>("fileSize"),
                           InstanceMethod<&store_wrap::iterate>("iterate"),
                           InstanceMethod<&store_wrap::compact>("compact"),
                           InstanceMethod<&store_wrap::verify>("verify"),
                           InstanceMethod<&store_wrap::flush>("flush"),
                           InstanceMethod<&store_wrap::flush_async>("flushAsync"),
                           InstanceMethod<&store_wrap::refresh>("refresh"),
                           InstanceMethod<&store_wrap::close>("close"),
                           InstanceMethod<&store_wrap::copy_mode>("isCopyMode"),
                       });
  }

  // new SimdrStore(path, create, readOnly, durability, alignment, copy)
  explicit store_wrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<store_wrap>(info) {
    Napi::Env env = info.Env();
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    simdr::open_options o;
    o.create = info[1].ToBoolean();
    o.read_only = info[2].ToBoolean();
    o.durability = info[3].ToNumber().Int32Value() == 1 ? simdr::durability::commit
                                                         : simdr::durability::none;
    o.alignment = info[4].ToNumber().Uint32Value();
    const bool copy = info[5].ToBoolean() || data_of(env).force_copy ||
                      native_store::external_refused.load(std::memory_order_relaxed);
    auto opened = simdr::store::open(path, o);
    if (!opened) throw_simdr(env, opened.error(), path);
    st_ = std::make_shared<native_store>(env, std::move(*opened), copy);
  }
  ~store_wrap() override = default;  // a dropped Store: buffers' finalizers keep st_ alive

 private:
  native_store& live(Napi::Env env) {
    if (!st_ || st_->is_closed()) throw_simdr(env, simdr::errc::closed);
    return *st_;
  }

  Napi::Value put(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    native_store& s = live(env);
    key_arg k(env, info[0]);
    const simdr::bytes v = value_arg(env, info[1]);
    if (simdr::status st = s.db().put(k.bytes(), v); !st.is_ok()) throw_simdr(env, st);
    return env.Undefined();
  }

  static owned_batch collect(Napi::Env env, Napi::Value keys_v, Napi::Value values_v) {
    if (!keys_v.IsArray() || !values_v.IsArray())
      throw Napi::TypeError::New(env, "putMany takes two arrays");
    auto keys = keys_v.As<Napi::Array>();
    auto values = values_v.As<Napi::Array>();
    if (keys.Length() != values.Length())
      throw Napi::RangeError::New(env, "putMany: keys and values differ in length");
    owned_batch b;
    for (std::uint32_t i = 0; i < keys.Length(); ++i) {
      key_arg k(env, keys.Get(i));
      b.add(k.bytes());
      b.add(value_arg(env, values.Get(i)));
    }
    b.finish();
    return b;
  }

  Napi::Value put_many(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    native_store& s = live(env);
    // Synchronous: the JS buffers cannot change during the call, but the keys may be strings
    // (encoded into temporaries): the arena copy keeps this simple and is cheap next to a commit.
    owned_batch b = collect(env, info[0], info[1]);
    if (simdr::status st = s.db().put_batch(b.kv); !st.is_ok()) throw_simdr(env, st);
    return env.Undefined();
  }

  // putPacked(lengths: Uint32Array, bytes: Uint8Array, n): putMany of n entries that JS packed
  // into one buffer (js/backends/native.js): lengths holds (key length, value length) pairs,
  // bytes the key and value bytes back to back in the same order. Three N-API reads per batch
  // instead of several per entry, and no arena copy: the core reads the JS buffer directly,
  // which cannot change during this synchronous call.
  Napi::Value put_packed(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    native_store& s = live(env);
    if (!info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsNumber())
      throw Napi::TypeError::New(env, "putPacked(Uint32Array, Uint8Array, n)");
    auto lengths = info[0].As<Napi::Uint32Array>();
    auto packed = info[1].As<Napi::Uint8Array>();
    const std::uint32_t n = info[2].As<Napi::Number>().Uint32Value();
    if (lengths.ElementLength() / 2 < n)
      throw Napi::RangeError::New(env, "putPacked: short lengths");
    const std::uint32_t* len = lengths.Data();
    const auto* p = reinterpret_cast<const std::byte*>(packed.Data());
    const std::size_t avail = packed.ByteLength();
    packed_kv_.resize(n);
    std::size_t off = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::size_t kl = len[2 * i], vl = len[2 * i + 1];
      if (kl + vl > avail - off) throw Napi::RangeError::New(env, "putPacked: short bytes");
      packed_kv_[i] = {simdr::bytes(p + off, kl), simdr::bytes(p + off + kl, vl)};
      off += kl + vl;
    }
    if (simdr::status st = s.db().put_batch(std::span(packed_kv_.data(), n)); !st.is_ok())
      throw_simdr(env, st);
    return env.Undefined();
  }

  Napi::Value put_many_async(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    auto* w = new commit_worker(env, st_, commit_worker::kind::put_many,
                                collect(env, info[0], info[1]));
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }

  Napi::Value flush_async(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    auto* w = new commit_worker(env, st_, commit_worker::kind::flush, {});
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }

  Napi::Value get(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    native_store& s = live(env);
    key_arg k(env, info[0]);
    auto r = s.db().get(k.bytes());
    if (!r) {
      if (r.error().code == simdr::errc::not_found) return env.Undefined();
      throw_simdr(env, r.error());
    }
    return Napi::Value(env, s.value_view(st_, *r));
  }

  // setFastOutput(Uint32Array(3)): the shared slots of getFast.
  Napi::Value set_fast_out(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto a = info[0].As<Napi::Uint32Array>();
    if (a.ElementLength() < 3) throw Napi::RangeError::New(env, "setFastOutput needs 3 slots");
    fast_out_ref_ = Napi::Persistent(a);
    fast_out_ = a.Data();
    return env.Undefined();
  }

  // getFast(key): undefined (missing); the number 0 when the value lies in the chunk the JS
  // wrapper holds (offset and length in slots 0 and 1: JS builds the view); otherwise a view
  // (or copy), with slot 2 set to 1 when the wrapper should hold its buffer from now on.
  Napi::Value get_fast(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    native_store& s = live(env);
    if (fast_out_ == nullptr) throw Napi::Error::New(env, "getFast before setFastOutput");
    key_arg k(env, info[0]);
    auto r = s.db().get(k.bytes());
    if (!r) {
      if (r.error().code == simdr::errc::not_found) return env.Undefined();
      throw_simdr(env, r.error());
    }
    if (s.in_js_chunk(*r, fast_out_)) return Napi::Number::New(env, 0);
    Napi::Value v(env, s.value_view(st_, *r));
    fast_out_[2] = s.adopt_viewed_chunk(*r) ? 1 : 0;
    return v;
  }

  // bindFastGet(ArrayBuffer scratch): the bound fast get over `scratch` (fast_get_state).
  Napi::Value bind_fast_get(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    if (!info[0].IsArrayBuffer())
      throw Napi::TypeError::New(env, "bindFastGet takes an ArrayBuffer");
    auto ab = info[0].As<Napi::ArrayBuffer>();
    if (ab.ByteLength() < 17) throw Napi::RangeError::New(env, "bindFastGet: scratch too small");
    auto f = std::make_unique<fast_get_state>();
    f->st = st_;
    f->slots = static_cast<std::uint32_t*>(ab.Data());
    f->key = static_cast<const std::byte*>(ab.Data()) + 16;
    f->key_cap = ab.ByteLength() - 16;
    napi_value fn;
    if (napi_create_function(env, "fastGet", NAPI_AUTO_LENGTH, &fast_get_state::call, f.get(),
                             &fn) != napi_ok ||
        napi_create_reference(env, ab, 1, &f->scratch) != napi_ok)
      throw Napi::Error::New(env, "bindFastGet failed");
    if (napi_add_finalizer(env, fn, f.get(), &fast_get_state::finalize, nullptr, nullptr) !=
        napi_ok) {
      napi_delete_reference(env, f->scratch);
      throw Napi::Error::New(env, "bindFastGet failed");
    }
    f.release();  // owned by the function's finalizer
    return Napi::Value(env, fn);
  }

  Napi::Value get_many(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    native_store& s = live(env);
    if (!info[0].IsArray()) throw Napi::TypeError::New(env, "getMany takes an array of keys");
    auto keys = info[0].As<Napi::Array>();
    const std::uint32_t n = keys.Length();
    owned_batch b;
    for (std::uint32_t i = 0; i < n; ++i) {
      key_arg k(env, keys.Get(i));
      b.add(k.bytes());
    }
    std::vector<simdr::bytes> kb(n);
    for (std::uint32_t i = 0; i < n; ++i)
      kb[i] = simdr::bytes(b.arena.data() + b.spans[2 * i], b.spans[2 * i + 1]);
    std::vector<simdr::blob_view> out(n);
    auto r = s.db().get_batch(kb, out);
    if (!r) throw_simdr(env, r.error());
    Napi::Array arr = Napi::Array::New(env, n);
    for (std::uint32_t i = 0; i < n; ++i)
      arr.Set(i, out[i] ? Napi::Value(env, s.value_view(st_, out[i])) : env.Undefined());
    return arr;
  }

  // getPacked(lengths: Uint32Array, bytes: Uint8Array, n, out: Uint32Array): getMany of n keys
  // that JS packed back to back into `bytes` (lengths: one per key). For each key i, out[2i] and
  // out[2i + 1] receive (offset, length) in the chunk the JS wrapper holds, or out[2i] is
  // packed_missing (no such key) or packed_extra (the view is element i of the returned array,
  // which is undefined when no key needed one). When such a view is over a chunk, the wrapper
  // holds that chunk from now on: the fast slots' [2] is set to 1 (else 0) and [0] to i.
  static constexpr std::uint32_t packed_missing = 0xffffffffu;
  static constexpr std::uint32_t packed_extra = 0xfffffffeu;
  Napi::Value get_packed(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    native_store& s = live(env);
    if (!info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsNumber() ||
        !info[3].IsTypedArray() || fast_out_ == nullptr)
      throw Napi::TypeError::New(env, "getPacked(Uint32Array, Uint8Array, n, Uint32Array)");
    auto lengths = info[0].As<Napi::Uint32Array>();
    auto packed = info[1].As<Napi::Uint8Array>();
    const std::uint32_t n = info[2].As<Napi::Number>().Uint32Value();
    auto out_a = info[3].As<Napi::Uint32Array>();
    if (lengths.ElementLength() < n || out_a.ElementLength() / 2 < n)
      throw Napi::RangeError::New(env, "getPacked: short arrays");
    const std::uint32_t* len = lengths.Data();
    std::uint32_t* out = out_a.Data();
    const auto* p = reinterpret_cast<const std::byte*>(packed.Data());
    const std::size_t avail = packed.ByteLength();
    packed_keys_.resize(n);
    packed_views_.resize(n);
    std::size_t off = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (len[i] > avail - off) throw Napi::RangeError::New(env, "getPacked: short bytes");
      packed_keys_[i] = simdr::bytes(p + off, len[i]);
      off += len[i];
    }
    auto r =
        s.db().get_batch(std::span(packed_keys_.data(), n), std::span(packed_views_.data(), n));
    if (!r) throw_simdr(env, r.error());
    napi_value extras = nullptr;
    std::uint32_t adopt = 0;  // 1 + index of the last extra view over a chunk
    for (std::uint32_t i = 0; i < n; ++i) {
      const simdr::blob_view& v = packed_views_[i];
      if (!v) {
        out[2 * i] = packed_missing;
        continue;
      }
      if (s.in_js_chunk(v, out + 2 * i)) continue;
      if (extras == nullptr) napi_create_array_with_length(env, n, &extras);
      napi_set_element(env, extras, i, s.value_view(st_, v));
      out[2 * i] = packed_extra;
      if (s.viewed_is_chunk()) adopt = i + 1;
    }
    fast_out_[2] = 0;
    if (adopt != 0) {
      // Make that view's chunk the last one viewed again (a throwaway view), then adopt it.
      (void)s.value_view(st_, packed_views_[adopt - 1]);
      fast_out_[2] = s.adopt_viewed_chunk(packed_views_[adopt - 1]) ? 1 : 0;
      fast_out_[0] = adopt - 1;  // which extra's buffer the wrapper holds from now on
    }
    if (extras == nullptr) return env.Undefined();
    return Napi::Value(env, extras);
  }

  Napi::Value has(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    native_store& s = live(env);
    key_arg k(env, info[0]);
    auto r = s.db().contains(k.bytes());
    if (!r) throw_simdr(env, r.error());
    return Napi::Boolean::New(env, *r);
  }

  Napi::Value del(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    native_store& s = live(env);
    key_arg k(env, info[0]);
    auto r = s.db().erase(k.bytes());
    if (!r) throw_simdr(env, r.error());
    return Napi::Boolean::New(env, *r);
  }

  Napi::Value size(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(live(info.Env()).db().size()));
  }
  Napi::Value file_size(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(live(info.Env()).db().file_size()));
  }

  Napi::Value iterate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    Napi::Object obj = data_of(env).iter_ctor.New({});
    iter_wrap::Unwrap(obj)->start(st_);
    return obj;
  }

  Napi::Value compact(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto r = live(env).db().compact();
    if (!r) throw_simdr(env, r.error());
    return env.Undefined();
  }

  Napi::Value verify(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto r = live(env).db().verify();
    if (!r) throw_simdr(env, r.error());
    if (!r->is_ok()) {
      const simdr::verify_issue& first = r->issues.front();
      throw_simdr(env, simdr::status{first.code, 0, first.offset},
                  std::to_string(r->issues.size()) + " problem(s), first at offset " +
                      std::to_string(first.offset));
    }
    return env.Undefined();
  }

  Napi::Value flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (simdr::status st = live(env).db().sync(); !st.is_ok()) throw_simdr(env, st);
    return env.Undefined();
  }

  Napi::Value refresh(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto r = live(env).db().refresh();
    if (!r) throw_simdr(env, r.error());
    return Napi::Boolean::New(env, r->new_entries != 0 || r->replaced);
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    if (st_) st_->close();
    return info.Env().Undefined();
  }

  Napi::Value copy_mode(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), st_ && st_->copy_mode());
  }

  std::shared_ptr<native_store> st_;
  std::vector<simdr::key_value> packed_kv_;  // putPacked's spans, kept to reuse their memory
  std::vector<simdr::bytes> packed_keys_;      // getPacked's keys and views, likewise
  std::vector<simdr::blob_view> packed_views_;
  Napi::Reference<Napi::Uint32Array> fast_out_ref_;
  std::uint32_t* fast_out_ = nullptr;
};

// binding.init({ SimdrError }): the error class every failure is thrown as.
Napi::Value init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  data_of(env).simdr_error = Napi::Persistent(o.Get("SimdrError").As<Napi::Function>());
  return env.Undefined();
}

// binding.stats(): counters for tests (chunks created/finalized, stores freed by GC).
Napi::Value stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  addon_data& d = data_of(env);
  Napi::Object o = Napi::Object::New(env);
  o.Set("chunksCreated", static_cast<double>(native_store::chunks_created.load()));
  o.Set("chunksFinalized", static_cast<double>(native_store::chunks_finalized.load()));
  o.Set("storesFreed", static_cast<double>(native_store::stores_freed.load()));
  o.Set("copyForced", d.force_copy);
  o.Set("externalRefused", native_store::external_refused.load());
  return o;
}

Napi::Object module_init(Napi::Env env, Napi::Object exports) {
  auto* d = new addon_data();
  const char* copy_env = std::getenv("SIMDR_NODE_COPY");
  d->force_copy = copy_env != nullptr && copy_env[0] == '1';
  env.SetInstanceData(d);
  d->iter_ctor = Napi::Persistent(iter_wrap::define(env));
  exports.Set("Store", store_wrap::define(env));
  exports.Set("init", Napi::Function::New<init>(env, "init"));
  exports.Set("stats", Napi::Function::New<stats>(env, "stats"));
  exports.Set("version", Napi::String::New(env, "0.1.0"));
  return exports;
}

}  // namespace

NODE_API_MODULE(simdr_node, module_init)
