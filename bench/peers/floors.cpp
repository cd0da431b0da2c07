// floors.cpp - the two floors of shared/notes/benchmarks.md, which show the physical limits:
//
//  * write floor: the same key and value bytes appended to one file with plain writev(2), one
//    call per batch (IOV_MAX pieces at a time), a 6-byte length prefix per record and no index;
//    fdatasync per batch in W1sync. It has no reads.
//  * map floor: an in-memory hash map built for speed (open addressing, XXH3 hashes, records
//    [key length | value length | key | value] in a bump arena; one cache miss for the slot,
//    one for the record). Lookups are plain point reads; nothing persists (no reopen, no W4:
//    it is not thread-safe).
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "peer.hpp"

namespace simdr_bench {
namespace {

// ---- write() floor -----------------------------------------------------------------------------

class write_floor final : public engine {
 public:
  ~write_floor() override { close(); }
  void open(const open_params& p) override {
    fd_ = ::open((p.dir + "/floor.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw bench_error("write floor: open: " + std::string(std::strerror(errno)));
    sync_ = p.sync;
  }
  void write_batch(std::span<const kv> batch) override {
    // Small records are packed into one buffer (like any log would); large values are written
    // from the caller's memory.
    heads_.clear();
    iov_.clear();
    std::size_t run = 0;  // start of the buffer run not yet in iov_
    auto close_run = [&] {
      if (heads_.size() > run) iov_.push_back({heads_.data() + run, heads_.size() - run});
      run = heads_.size();
    };
    // heads_ must not reallocate while iov_ points into it: reserve its final size first.
    std::size_t need = 0;
    for (const kv& e : batch) need += 6 + e.key.size() + (e.value.size() <= 1024 ? e.value.size() : 0);
    heads_.reserve(need);
    for (const kv& e : batch) {
      const auto klen = static_cast<std::uint16_t>(e.key.size());
      const auto vlen = static_cast<std::uint32_t>(e.value.size());
      const std::size_t at = heads_.size();
      heads_.resize(at + 6 + e.key.size());
      std::memcpy(heads_.data() + at, &klen, 2);
      std::memcpy(heads_.data() + at + 2, &vlen, 4);
      std::memcpy(heads_.data() + at + 6, e.key.data(), e.key.size());
      if (e.value.size() <= 1024) {
        heads_.insert(heads_.end(), reinterpret_cast<const char*>(e.value.data()),
                      reinterpret_cast<const char*>(e.value.data()) + e.value.size());
      } else {
        close_run();
        iov_.push_back({const_cast<std::byte*>(e.value.data()), e.value.size()});
      }
    }
    close_run();
    std::size_t first = 0;
    while (first < iov_.size()) {
      const int count = static_cast<int>(std::min<std::size_t>(iov_.size() - first, IOV_MAX));
      ssize_t n = ::writev(fd_, iov_.data() + first, count);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw bench_error("write floor: writev: " + std::string(std::strerror(errno)));
      }
      auto left = static_cast<std::size_t>(n);
      while (first < iov_.size() && left >= iov_[first].iov_len) left -= iov_[first++].iov_len;
      if (left > 0) {
        iov_[first].iov_base = static_cast<char*>(iov_[first].iov_base) + left;
        iov_[first].iov_len -= left;
      }
    }
    if (sync_ && ::fdatasync(fd_) != 0)
      throw bench_error("write floor: fdatasync: " + std::string(std::strerror(errno)));
  }
  std::unique_ptr<reader> make_reader() override { throw bench_error("write floor has no reads"); }
  std::uint64_t scan(entry_fn) override { throw bench_error("write floor has no reads"); }
  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool sync_ = false;
  std::vector<char> heads_;
  std::vector<struct iovec> iov_;
};

// ---- in-memory hash map floor ------------------------------------------------------------------

class map_floor;

class map_reader final : public reader {
 public:
  explicit map_reader(const map_floor& m) : m_(m) {}
  bool get(std::string_view key, value_fn fn) override;
  std::size_t multi_get(std::span<const std::string_view> keys, multi_value_fn fn) override;

 private:
  const map_floor& m_;
};

class map_floor final : public engine {
 public:
  ~map_floor() override { close(); }
  void open(const open_params&) override { grow(1024); }
  void write_batch(std::span<const kv> batch) override {
    for (const kv& e : batch) insert(e.key, e.value);
  }
  std::unique_ptr<reader> make_reader() override { return std::make_unique<map_reader>(*this); }
  std::uint64_t scan(entry_fn fn) override {
    std::uint64_t n = 0;
    for (const slot& s : slots_)
      if (s.rec != nullptr) {
        fn(rec_key(s.rec), rec_value(s.rec));
        ++n;
      }
    return n;
  }
  void close() override {
    slots_.clear();
    slots_.shrink_to_fit();
    for (char* c : chunks_) delete[] c;
    chunks_.clear();
    used_ = 0;
    count_ = 0;
  }

  // Record layout: u16 key length, u32 value length, key, value (unaligned, packed).
  static std::string_view rec_key(const char* r) {
    std::uint16_t k;
    std::memcpy(&k, r, 2);
    return {r + 6, k};
  }
  static byte_span rec_value(const char* r) {
    std::uint16_t k;
    std::uint32_t v;
    std::memcpy(&k, r, 2);
    std::memcpy(&v, r + 2, 4);
    return {reinterpret_cast<const std::byte*>(r + 6 + k), v};
  }

  const char* find(std::string_view key) const {
    const std::uint64_t h = XXH3_64bits(key.data(), key.size());
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const slot& s = slots_[i];
      if (s.rec == nullptr) return nullptr;
      if (s.hash == h && rec_key(s.rec) == key) return s.rec;
    }
  }

 private:
  struct slot {
    std::uint64_t hash = 0;
    const char* rec = nullptr;
  };
  static constexpr std::size_t chunk_size = std::size_t{64} << 20;

  char* alloc(std::size_t n) {
    if (n > chunk_size / 4) {  // large values get their own allocation
      chunks_.push_back(new char[n]);
      return chunks_.back();
    }
    if (chunks_.empty() || used_ + n > chunk_size || last_small_ == nullptr) {
      chunks_.push_back(new char[chunk_size]);
      last_small_ = chunks_.back();
      used_ = 0;
    }
    char* p = last_small_ + used_;
    used_ += n;
    return p;
  }

  void insert(std::string_view key, byte_span value) {
    if ((count_ + 1) * 4 > slots_.size() * 3) grow(slots_.size() * 2);
    const std::uint64_t h = XXH3_64bits(key.data(), key.size());
    char* r = alloc(6 + key.size() + value.size());
    const auto k = static_cast<std::uint16_t>(key.size());
    const auto v = static_cast<std::uint32_t>(value.size());
    std::memcpy(r, &k, 2);
    std::memcpy(r + 2, &v, 4);
    std::memcpy(r + 6, key.data(), key.size());
    std::memcpy(r + 6 + key.size(), value.data(), value.size());
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      slot& s = slots_[i];
      if (s.rec == nullptr) {
        s = {h, r};
        ++count_;
        return;
      }
      if (s.hash == h && rec_key(s.rec) == key) {  // replace (the old record is leaked: a floor)
        s.rec = r;
        return;
      }
    }
  }

  void grow(std::size_t n) {
    std::vector<slot> old;
    old.swap(slots_);
    slots_.assign(n, slot{});
    const std::size_t mask = n - 1;
    for (const slot& s : old) {
      if (s.rec == nullptr) continue;
      std::size_t i = s.hash & mask;
      while (slots_[i].rec != nullptr) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<slot> slots_;
  std::vector<char*> chunks_;
  char* last_small_ = nullptr;
  std::size_t used_ = 0;
  std::size_t count_ = 0;
};

bool map_reader::get(std::string_view key, value_fn fn) {
  const char* r = m_.find(key);
  if (r == nullptr) return false;
  fn(map_floor::rec_value(r));
  return true;
}

std::size_t map_reader::multi_get(std::span<const std::string_view> keys, multi_value_fn fn) {
  std::size_t found = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const char* r = m_.find(keys[i]);
    if (r == nullptr) continue;
    ++found;
    fn(i, map_floor::rec_value(r));
  }
  return found;
}

}  // namespace

std::unique_ptr<engine> make_write_floor_engine() { return std::make_unique<write_floor>(); }
std::unique_ptr<engine> make_map_floor_engine() { return std::make_unique<map_floor>(); }

}  // namespace simdr_bench
