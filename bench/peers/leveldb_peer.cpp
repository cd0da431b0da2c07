// leveldb_peer.cpp - LevelDB configured as shared/notes/benchmarks.md says: defaults plus a
// 10 bits/key Bloom filter and a 256 MiB LRU block cache; one WriteBatch per batch with
// sync=false (sync=true for W1sync). LevelDB has no zero-copy point read (Get copies into a
// std::string) and no multi-get: the batched read is 1024 Gets on one snapshot.
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <memory>
#include <string>

#include "peer.hpp"

namespace simdr_bench {
namespace {

void check(const leveldb::Status& s, const char* what) {
  if (!s.ok()) throw bench_error(std::string("leveldb ") + what + ": " + s.ToString());
}

byte_span as_span(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
leveldb::Slice as_slice(std::string_view s) { return {s.data(), s.size()}; }

class leveldb_reader final : public reader {
 public:
  explicit leveldb_reader(leveldb::DB* db) : db_(db) {}
  bool get(std::string_view key, value_fn fn) override {
    const leveldb::Status s = db_->Get(leveldb::ReadOptions(), as_slice(key), &value_);
    if (s.IsNotFound()) return false;
    check(s, "get");
    fn(as_span(value_));
    return true;
  }
  std::size_t multi_get(std::span<const std::string_view> keys, multi_value_fn fn) override {
    leveldb::ReadOptions ro;
    ro.snapshot = db_->GetSnapshot();
    std::size_t found = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const leveldb::Status s = db_->Get(ro, as_slice(keys[i]), &value_);
      if (s.IsNotFound()) continue;
      check(s, "get");
      ++found;
      fn(i, as_span(value_));
    }
    db_->ReleaseSnapshot(ro.snapshot);
    return found;
  }

 private:
  leveldb::DB* db_;
  std::string value_;
};

class leveldb_engine final : public engine {
 public:
  ~leveldb_engine() override { close(); }
  void open(const open_params& p) override {
    policy_.reset(leveldb::NewBloomFilterPolicy(10));
    cache_.reset(leveldb::NewLRUCache(std::size_t{256} << 20));
    leveldb::Options o;
    o.create_if_missing = p.create;
    o.filter_policy = policy_.get();
    o.block_cache = cache_.get();
    wo_.sync = p.sync;
    check(leveldb::DB::Open(o, p.dir, &db_), "open");
  }
  void write_batch(std::span<const kv> batch) override {
    leveldb::WriteBatch b;
    for (const kv& e : batch)
      b.Put(as_slice(e.key),
            leveldb::Slice(reinterpret_cast<const char*>(e.value.data()), e.value.size()));
    check(db_->Write(wo_, &b), "write");
  }
  std::unique_ptr<reader> make_reader() override { return std::make_unique<leveldb_reader>(db_); }
  std::uint64_t scan(entry_fn fn) override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    std::uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const leveldb::Slice k = it->key();
      const leveldb::Slice v = it->value();
      fn(std::string_view(k.data(), k.size()),
         byte_span(reinterpret_cast<const std::byte*>(v.data()), v.size()));
      ++n;
    }
    check(it->status(), "iterator");
    return n;
  }
  void close() override {
    delete db_;  // LevelDB closes on delete
    db_ = nullptr;
  }

 private:
  leveldb::DB* db_ = nullptr;
  std::unique_ptr<const leveldb::FilterPolicy> policy_;
  std::unique_ptr<leveldb::Cache> cache_;
  leveldb::WriteOptions wo_;
};

}  // namespace

std::unique_ptr<engine> make_leveldb_engine() { return std::make_unique<leveldb_engine>(); }
std::string leveldb_version() {
  return std::to_string(leveldb::kMajorVersion) + "." + std::to_string(leveldb::kMinorVersion);
}

}  // namespace simdr_bench
