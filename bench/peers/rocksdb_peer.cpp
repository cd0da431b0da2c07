// rocksdb_peer.cpp - RocksDB configured as shared/notes/benchmarks.md says: defaults plus a
// 10 bits/key Bloom filter and a 256 MiB LRU block cache; one WriteBatch per batch with
// sync=false (sync=true for W1sync); point reads through PinnableSlice (no copy when the block
// is pinned in the cache); batched reads through the native batched MultiGet.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

#include <string>
#include <vector>

#include "peer.hpp"

namespace simdr_bench {
namespace {

void check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) throw bench_error(std::string("rocksdb ") + what + ": " + s.ToString());
}

byte_span as_span(const rocksdb::Slice& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
rocksdb::Slice as_slice(std::string_view s) { return {s.data(), s.size()}; }

class rocksdb_reader final : public reader {
 public:
  explicit rocksdb_reader(rocksdb::DB* db) : db_(db) {}
  bool get(std::string_view key, value_fn fn) override {
    value_.Reset();
    const rocksdb::Status s = db_->Get(ro_, db_->DefaultColumnFamily(), as_slice(key), &value_);
    if (s.IsNotFound()) return false;
    check(s, "get");
    fn(as_span(value_));
    return true;
  }
  std::size_t multi_get(std::span<const std::string_view> keys, multi_value_fn fn) override {
    const std::size_t n = keys.size();
    if (slices_.size() < n) {
      slices_.resize(n);
      values_ = std::vector<rocksdb::PinnableSlice>(n);
      statuses_.resize(n);
    }
    for (std::size_t i = 0; i < n; ++i) {
      slices_[i] = as_slice(keys[i]);
      values_[i].Reset();
    }
    db_->MultiGet(ro_, db_->DefaultColumnFamily(), n, slices_.data(), values_.data(),
                  statuses_.data(), /*sorted_input=*/false);
    std::size_t found = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (statuses_[i].IsNotFound()) continue;
      check(statuses_[i], "multiget");
      ++found;
      fn(i, as_span(values_[i]));
    }
    for (std::size_t i = 0; i < n; ++i) values_[i].Reset();
    return found;
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ReadOptions ro_;
  rocksdb::PinnableSlice value_;
  std::vector<rocksdb::Slice> slices_;
  std::vector<rocksdb::PinnableSlice> values_;
  std::vector<rocksdb::Status> statuses_;
};

class rocksdb_engine final : public engine {
 public:
  ~rocksdb_engine() override {
    try {
      close();
    } catch (...) {
    }
  }
  void open(const open_params& p) override {
    rocksdb::Options o;
    o.create_if_missing = p.create;
    rocksdb::BlockBasedTableOptions t;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    t.block_cache = rocksdb::NewLRUCache(std::size_t{256} << 20);
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    wo_.sync = p.sync;
    check(rocksdb::DB::Open(o, p.dir, &db_), "open");
  }
  void write_batch(std::span<const kv> batch) override {
    rocksdb::WriteBatch b;
    for (const kv& e : batch)
      check(b.Put(as_slice(e.key),
                  rocksdb::Slice(reinterpret_cast<const char*>(e.value.data()), e.value.size())),
            "batch put");
    check(db_->Write(wo_, &b), "write");
  }
  std::unique_ptr<reader> make_reader() override { return std::make_unique<rocksdb_reader>(db_); }
  std::uint64_t scan(entry_fn fn) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    std::uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const rocksdb::Slice k = it->key();
      fn(std::string_view(k.data(), k.size()), as_span(it->value()));
      ++n;
    }
    check(it->status(), "iterator");
    return n;
  }
  void close() override {
    if (db_ == nullptr) return;
    check(db_->Close(), "close");
    delete db_;
    db_ = nullptr;
  }

 private:
  rocksdb::DB* db_ = nullptr;
  rocksdb::WriteOptions wo_;
};

}  // namespace

std::unique_ptr<engine> make_rocksdb_engine() { return std::make_unique<rocksdb_engine>(); }
std::string rocksdb_version() {
  return std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." +
         std::to_string(ROCKSDB_PATCH);
}

}  // namespace simdr_bench
