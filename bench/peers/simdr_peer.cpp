// simdr_peer.cpp - SIMD R Drive behind the peer interface: one put_batch per batch
// (durability::commit for W1sync), zero-copy get() (blob_view), entries() for scans.
#include <string>
#include <vector>

#include "peer.hpp"
#include "simdr/simdr.hpp"

namespace simdr_bench {
namespace {

void check(simdr::status st, const char* what) {
  if (!st.is_ok())
    throw bench_error(std::string("simdr ") + what + ": " + std::string(simdr::to_string(st.code)));
}

simdr::bytes as_bytes(std::string_view s) { return simdr::bytes(s); }

// Whether this library has store::get_batch (hash a window of keys, prefetch their index buckets,
// then their entries, then resolve them, so the cache misses of a batch overlap).
template <class Store>
concept has_get_batch = requires(const Store& s, std::span<const simdr::bytes> k,
                                 std::span<simdr::blob_view> o) {
  { s.get_batch(k, o) };
};
constexpr bool use_get_batch = has_get_batch<simdr::store>;

// The batched read of W1: store::get_batch when the library has it, else 1024 get() calls. This
// is the only place the benchmark performs a multi-get on our store.
std::size_t simdr_multi_get(const simdr::store& db, std::span<const std::string_view> keys,
                            multi_value_fn fn, std::vector<simdr::bytes>& kbuf,
                            std::vector<simdr::blob_view>& vbuf) {
  std::size_t found = 0;
  if constexpr (use_get_batch) {
    kbuf.resize(keys.size());
    vbuf.resize(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) kbuf[i] = as_bytes(keys[i]);
    auto r = db.get_batch(kbuf, vbuf);
    if (!r) throw bench_error("simdr get_batch: " + std::string(simdr::to_string(r.code())));
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (vbuf[i]) fn(i, vbuf[i].bytes());
    return *r;
  } else {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      simdr::result<simdr::blob_view> v = db.get(as_bytes(keys[i]));
      if (!v) continue;
      ++found;
      fn(i, v->bytes());
    }
  }
  return found;
}

class simdr_reader final : public reader {
 public:
  explicit simdr_reader(const simdr::store& db) : db_(db) {}
  bool get(std::string_view key, value_fn fn) override {
    simdr::result<simdr::blob_view> v = db_.get(as_bytes(key));
    if (!v) return false;
    fn(v->bytes());
    return true;
  }
  std::size_t multi_get(std::span<const std::string_view> keys, multi_value_fn fn) override {
    return simdr_multi_get(db_, keys, fn, kbuf_, vbuf_);
  }

 private:
  const simdr::store& db_;
  std::vector<simdr::bytes> kbuf_;
  std::vector<simdr::blob_view> vbuf_;
};

class simdr_engine final : public engine {
 public:
  void open(const open_params& p) override {
    auto o = simdr::store::open(p.dir + "/store.simdr",
                                {.create = p.create,
                                 .durability = p.sync ? simdr::durability::commit
                                                      : simdr::durability::none});
    if (!o) throw bench_error("simdr open: " + std::string(simdr::to_string(o.code())));
    db_ = std::move(*o);
  }
  void write_batch(std::span<const kv> batch) override {
    buf_.clear();
    for (const kv& e : batch) buf_.push_back({as_bytes(e.key), simdr::bytes(e.value)});
    check(db_.put_batch(buf_), "put_batch");
  }
  std::unique_ptr<reader> make_reader() override { return std::make_unique<simdr_reader>(db_); }
  std::uint64_t scan(entry_fn fn) override {
    std::uint64_t n = 0;
    for (const simdr::entry_view& e : db_.entries()) {
      fn(e.key_str(), e.bytes());
      ++n;
    }
    return n;
  }
  void close() override { (void)db_.close(); }

 private:
  simdr::store db_;
  std::vector<simdr::key_value> buf_;
};

}  // namespace

std::unique_ptr<engine> make_simdr_engine() { return std::make_unique<simdr_engine>(); }
std::string simdr_batch_read_path() {
  return use_get_batch ? "store::get_batch (pipelined prefetch)" : "1024 get() calls (no get_batch)";
}

}  // namespace simdr_bench
