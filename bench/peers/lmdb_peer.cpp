// lmdb_peer.cpp - LMDB configured as shared/notes/benchmarks.md says: MDB_NOSYNC | MDB_NOTLS
// for the no-sync mode (its default, which syncs every commit, is the W1sync mode), a large map
// size, one write transaction per batch, a read transaction per get (mdb_txn_reset /
// mdb_txn_renew, the cheap way LMDB documents), values read zero-copy (MDB_val points into the
// map). Multi-get: 1024 gets inside one read transaction (LMDB has no native multi-get).
#include <lmdb.h>

#include <string>

#include "peer.hpp"

namespace simdr_bench {
namespace {

constexpr std::size_t map_size = std::size_t{64} << 30;  // 64 GiB of address space

void check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) throw bench_error(std::string("lmdb ") + what + ": " + mdb_strerror(rc));
}

MDB_val as_val(std::string_view s) { return {s.size(), const_cast<char*>(s.data())}; }
byte_span as_span(const MDB_val& v) {
  return {static_cast<const std::byte*>(v.mv_data), v.mv_size};
}

class lmdb_reader final : public reader {
 public:
  lmdb_reader(MDB_env* env, MDB_dbi dbi) : dbi_(dbi) {
    check(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn_), "txn_begin(read)");
    mdb_txn_reset(txn_);
  }
  ~lmdb_reader() override { mdb_txn_abort(txn_); }
  lmdb_reader(const lmdb_reader&) = delete;
  lmdb_reader& operator=(const lmdb_reader&) = delete;

  bool get(std::string_view key, value_fn fn) override {
    check(mdb_txn_renew(txn_), "txn_renew");
    MDB_val k = as_val(key), v{};
    const int rc = mdb_get(txn_, dbi_, &k, &v);
    if (rc == MDB_SUCCESS) fn(as_span(v));
    mdb_txn_reset(txn_);
    if (rc != MDB_NOTFOUND) check(rc, "get");
    return rc == MDB_SUCCESS;
  }
  std::size_t multi_get(std::span<const std::string_view> keys, multi_value_fn fn) override {
    check(mdb_txn_renew(txn_), "txn_renew");
    std::size_t found = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      MDB_val k = as_val(keys[i]), v{};
      if (mdb_get(txn_, dbi_, &k, &v) == MDB_SUCCESS) {
        ++found;
        fn(i, as_span(v));
      }
    }
    mdb_txn_reset(txn_);
    return found;
  }

 private:
  MDB_txn* txn_ = nullptr;
  MDB_dbi dbi_;
};

class lmdb_engine final : public engine {
 public:
  ~lmdb_engine() override { close(); }
  void open(const open_params& p) override {
    check(mdb_env_create(&env_), "env_create");
    check(mdb_env_set_mapsize(env_, map_size), "set_mapsize");
    check(mdb_env_set_maxreaders(env_, 126), "set_maxreaders");
    const unsigned flags = MDB_NOTLS | (p.sync ? 0u : static_cast<unsigned>(MDB_NOSYNC));
    check(mdb_env_open(env_, p.dir.c_str(), flags, 0644), "env_open");
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), "txn_begin");
    check(mdb_dbi_open(txn, nullptr, p.create ? MDB_CREATE : 0u, &dbi_), "dbi_open");
    check(mdb_txn_commit(txn), "txn_commit");
  }
  void write_batch(std::span<const kv> batch) override {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), "txn_begin(write)");
    for (const kv& e : batch) {
      MDB_val k = as_val(e.key);
      MDB_val v{e.value.size(), const_cast<std::byte*>(e.value.data())};
      const int rc = mdb_put(txn, dbi_, &k, &v, 0);
      if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        check(rc, "put");
      }
    }
    check(mdb_txn_commit(txn), "txn_commit(write)");
  }
  std::unique_ptr<reader> make_reader() override {
    return std::make_unique<lmdb_reader>(env_, dbi_);
  }
  std::uint64_t scan(entry_fn fn) override {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "txn_begin(scan)");
    MDB_cursor* cur = nullptr;
    check(mdb_cursor_open(txn, dbi_, &cur), "cursor_open");
    MDB_val k{}, v{};
    std::uint64_t n = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      fn(std::string_view(static_cast<const char*>(k.mv_data), k.mv_size), as_span(v));
      ++n;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return n;
  }
  void close() override {
    if (env_ == nullptr) return;
    mdb_env_close(env_);
    env_ = nullptr;
  }

 private:
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
};

}  // namespace

std::unique_ptr<engine> make_lmdb_engine() { return std::make_unique<lmdb_engine>(); }
std::string lmdb_version() {
  int major = 0, minor = 0, patch = 0;
  (void)mdb_version(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace simdr_bench
