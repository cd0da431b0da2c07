// test_model.cpp - model-based random testing. Seeded random sequences of every write operation
// (put, put_batch, apply, erase, rename, put_stream incl. failing sources, compact, invalid
// calls, close + reopen) run against a store and against a std::map model; after every step the
// store must agree with the model (get of touched and random keys, missing ones included, size,
// file_size on failed writes), and periodically in full (entries() walk, verify(), info(), old
// views still holding their bytes). Runs on the native backend and on memory_storage.
//
// Replay: every run prints its seed on failure.
//   SIMDR_MODEL_SEED=<n>   run exactly that seed (one run per backend)
//   SIMDR_MODEL_RUNS=<k>   number of seeds per backend (default below)
//   SIMDR_MODEL_STEPS=<s>  steps per run
#include <catch2/catch.hpp>

#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "memory_storage.hpp"
#include "store_impl.hpp"
#include "support/test_support.hpp"

namespace {

using namespace simdr;

// Defaults sized for ~10-20 s in a Debug build (both backends together).
constexpr std::uint64_t default_runs = 12;
constexpr std::uint64_t default_steps = 2000;

std::optional<std::uint64_t> env_u64(const char* name) {
  const char* s = std::getenv(name);
  if (s == nullptr || *s == '\0') return std::nullopt;
  return std::strtoull(s, nullptr, 10);
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// A printable rendering of a key or value for failure messages.
std::string show(std::string_view s, std::size_t limit = 48) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (s.size() > limit) out += "...(" + std::to_string(s.size()) + " bytes)";
  return "\"" + out + "\"";
}

enum class backend { native, memory };

class model_run {
 public:
  model_run(backend b, std::uint64_t seed, std::uint64_t steps)
      : backend_(b), seed_(seed), steps_(steps), rng_(seed) {}

  void run() {
    static const std::uint32_t alignments[] = {8, 16, 64, 64, 64, 256};
    alignment_ = alignments[rng_() % 6];
    open_options o{.create = true, .alignment = alignment_};
    if (backend_ == backend::native) {
      path_ = dir_.file("model.simdr");
      auto r = store::open(path_, o);
      expect(r.has_value(), [&] { return "open failed: " + std::string(to_string(r.code())); });
      db_ = std::move(*r);
    } else {
      auto r = detail::open_store(std::make_unique<memory_storage>(), o);
      expect(r.has_value(), [&] { return "open_store failed: " + std::string(to_string(r.code())); });
      db_ = std::move(*r);
    }
    for (step_ = 0; step_ < steps_; ++step_) {
      touched_.clear();
      one_step();
      after_step();
      if (step_ % 64 == 63) full_check();
    }
    full_check();
    if (backend_ == backend::native) {
      reopen();
      full_check();
    }
    db_ = store();
  }

  std::uint64_t checks() const { return checks_; }

 private:
  // ---- failure reporting ----------------------------------------------------------------------
  template <class Msg>
  void expect(bool ok, Msg&& msg) {
    ++checks_;
    if (ok) return;
    std::ostringstream os;
    os << (backend_ == backend::native ? "native" : "memory") << " model run, seed " << seed_
       << " (replay: SIMDR_MODEL_SEED=" << seed_ << " SIMDR_MODEL_STEPS=" << steps_
       << "), alignment " << alignment_ << ", step " << step_ << ": " << msg() << "\nlast ops:";
    for (const std::string& h : history_) os << "\n  " << h;
    FAIL(os.str());
  }
  void note(std::string s) {
    history_.push_back("#" + std::to_string(step_) + " " + std::move(s));
    if (history_.size() > 12) history_.pop_front();
  }

  // ---- random inputs --------------------------------------------------------------------------
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }

  std::string binary_key() {
    std::string k(1 + below(below(8) == 0 ? 300 : 24), '\0');
    for (char& c : k) c = static_cast<char>(rng_());
    return k;
  }
  std::string pick_key() {
    const std::uint64_t r = below(100);
    std::string k;
    if (r < 35) {
      k = "s" + std::to_string(below(16));  // small key space: heavy overwrites and erases
    } else if (r < 60 && !pool_.empty()) {
      k = pool_[below(pool_.size())];  // a key used before (often live, sometimes erased)
    } else if (r < 96) {
      k = "key-" + std::to_string(below(20000));  // large key space: growth, mostly new keys
    } else {
      k = binary_key();
    }
    if (pool_set_.insert(k).second) pool_.push_back(k);
    return k;
  }
  /// Most often a key the model holds (a few tries over the pool), else any key.
  std::string existing_key() {
    for (int i = 0; i < 8 && !pool_.empty(); ++i) {
      const std::string& k = pool_[below(pool_.size())];
      if (model_.count(k) == 1) return k;
    }
    return pick_key();
  }
  std::string pick_value() {
    const std::uint64_t r = below(100);
    std::size_t n = 0;
    if (r < 10) n = 0;
    else if (r < 65) n = 1 + below(200);
    else n = below(5001);
    return fill(n);
  }
  std::string fill(std::size_t n) {
    std::string v(n, '\0');
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const std::uint64_t x = rng_();
      std::memcpy(v.data() + i, &x, 8);
    }
    for (; i < n; ++i) v[i] = static_cast<char>(rng_());
    return v;
  }

  // ---- model helpers --------------------------------------------------------------------------
  void model_put(const std::string& k, const std::string& v) {
    model_[k] = v;
    touched_.push_back(k);
  }
  void model_erase(const std::string& k) {
    model_.erase(k);
    touched_.push_back(k);
  }

  void check_key(const std::string& k) {
    const auto it = model_.find(k);
    auto got = db_.get(k);
    if (it == model_.end()) {
      expect(got.code() == errc::not_found, [&] {
        return "get(" + show(k) + ") should be not_found, got " + std::string(to_string(got.code())) +
               (got ? " value " + show(got->str()) : "");
      });
      auto c = db_.contains(k);
      expect(c.has_value() && !*c, [&] { return "contains(" + show(k) + ") should be false"; });
      return;
    }
    expect(got.has_value(), [&] {
      return "get(" + show(k) + ") failed: " + std::string(to_string(got.code())) + ", model has " +
             show(it->second);
    });
    expect(got->str() == it->second, [&] {
      return "get(" + show(k) + ") = " + show(got->str()) + ", model has " + show(it->second);
    });
    expect(got->key_str() == k, [&] { return "view key " + show(got->key_str()) + " for " + show(k); });
    expect(got->offset() % alignment_ == 0 &&
               reinterpret_cast<std::uintptr_t>(got->data()) % alignment_ == 0,
           [&] { return "value of " + show(k) + " not aligned to " + std::to_string(alignment_); });
    auto c = db_.contains(k);
    expect(c.has_value() && *c, [&] { return "contains(" + show(k) + ") should be true"; });
  }

  void after_step() {
    expect(db_.size() == model_.size(), [&] {
      return "size() = " + std::to_string(db_.size()) + ", model has " + std::to_string(model_.size());
    });
    for (const std::string& k : touched_) check_key(k);
    for (int i = 0; i < 3; ++i) check_key(pick_key());
    check_key("never-written-" + std::to_string(below(1000)));
  }

  void full_check() {
    std::map<std::string, std::string> seen;
    for (const entry_view& e : db_.entries()) {
      const std::string k(e.key_str());
      const bool fresh = seen.emplace(k, std::string(e.str())).second;
      expect(fresh, [&] { return "entries() yielded " + show(k) + " twice"; });
    }
    if (seen != model_) {
      for (const auto& kv : model_) {
        const auto it = seen.find(kv.first);
        expect(it != seen.end(), [&] { return "entries() misses " + show(kv.first); });
        expect(it->second == kv.second, [&] {
          return "entries() gives " + show(kv.first) + " = " + show(it->second) + ", model " +
                 show(kv.second);
        });
      }
      for (const auto& kv : seen)
        expect(model_.count(kv.first) == 1, [&] { return "entries() yields deleted key " + show(kv.first); });
    }
    auto rep = db_.verify();
    expect(rep.has_value(), [&] { return "verify() failed: " + std::string(to_string(rep.code())); });
    expect(rep->is_ok(), [&] {
      return "verify() found " + std::to_string(rep->issues.size()) + " issues, first at " +
             std::to_string(rep->issues[0].offset) + ": " + std::string(to_string(rep->issues[0].code));
    });
    expect(rep->committed_size == db_.file_size(), [&] {
      return "verify covered " + std::to_string(rep->committed_size) + " of " +
             std::to_string(db_.file_size());
    });
    const store_info info = db_.info();
    expect(info.live_keys == model_.size() && info.alignment == alignment_, [&] {
      return "info().live_keys " + std::to_string(info.live_keys) + " alignment " +
             std::to_string(info.alignment);
    });
    for (const auto& kv : kept_)
      expect(kv.view.str() == kv.value && kv.view.key_str() == kv.key, [&] {
        return "a view of " + show(kv.key) + " taken earlier changed to " + show(kv.view.str()) +
               ", was " + show(kv.value);
      });
  }

  void keep_view() {
    if (model_.empty()) return;
    const std::string k = existing_key();
    auto v = db_.get(k);
    if (!v) return;
    if (kept_.size() >= 64) kept_.erase(kept_.begin() + static_cast<std::ptrdiff_t>(below(64)));
    kept_.push_back({*v, k, std::string(v->str())});
  }

  void reopen() {
    note("close + reopen");
    kept_.clear();  // views die with the handle
    (void)db_.close();
    open_options o{};
    o.verify_checksums = below(2) == 0;
    auto r = store::open(path_, o);
    expect(r.has_value(), [&] { return "reopen failed: " + std::string(to_string(r.code())); });
    db_ = std::move(*r);
    const open_report rep = db_.report();
    expect(!rep.tail_dropped && !rep.created, [&] {
      return "reopen dropped a tail of " + std::to_string(rep.tail_bytes) + " bytes";
    });
    expect(rep.committed_size == db_.file_size() && rep.file_size_before == db_.file_size(), [&] {
      return "reopen: committed " + std::to_string(rep.committed_size) + ", file " +
             std::to_string(rep.file_size_before);
    });
  }

  // ---- one random operation -------------------------------------------------------------------
  void one_step() {
    const std::uint64_t r = below(1000);
    if (r < 300) return op_put();
    if (r < 400) return op_put_batch();
    if (r < 500) return op_apply();
    if (r < 620) return op_erase();
    if (r < 700) return op_rename();
    if (r < 760) return op_put_stream();
    if (r < 790) return op_invalid();
    if (r < 840) return op_read_stream();
    if (r < 900) return keep_view();
    if (r < 960) return;  // a step of pure reads (after_step checks)
    if (r < 980) return op_compact();
    if (backend_ == backend::native) return reopen();
    // memory_storage keeps every image it outgrew or compacted away until close (views may
    // point there): no extra compactions, so the run stays small in memory.
  }

  void op_put() {
    const std::string k = pick_key();
    const std::string v = pick_value();
    note("put " + show(k) + " (" + std::to_string(v.size()) + " bytes)");
    const status st = db_.put(k, v);
    expect(st.is_ok(), [&] { return "put failed: " + std::string(to_string(st.code)); });
    model_put(k, v);
  }

  void op_put_batch() {
    const std::size_t n = 1 + below(50);
    std::vector<std::string> keys, vals;
    for (std::size_t i = 0; i < n; ++i) {
      // Sometimes repeat an earlier key of the batch: the last value wins.
      keys.push_back(i > 0 && below(10) == 0 ? keys[below(i)] : pick_key());
      vals.push_back(pick_value());
    }
    std::vector<key_value> kv;
    for (std::size_t i = 0; i < n; ++i) kv.push_back({keys[i], vals[i]});
    note("put_batch of " + std::to_string(n));
    const status st = db_.put_batch(kv);
    expect(st.is_ok(), [&] { return "put_batch failed: " + std::string(to_string(st.code)); });
    for (std::size_t i = 0; i < n; ++i) model_put(keys[i], vals[i]);
  }

  void op_apply() {
    const std::size_t n = 1 + below(30);
    std::vector<std::string> keys, vals;
    std::vector<bool> is_put;
    for (std::size_t i = 0; i < n; ++i) {
      keys.push_back(i > 0 && below(8) == 0 ? keys[below(i)] : pick_key());
      is_put.push_back(below(10) < 6);
      vals.push_back(is_put.back() ? pick_value() : std::string());
    }
    std::vector<write_op> ops;
    std::string desc = "apply:";
    for (std::size_t i = 0; i < n; ++i) {
      ops.push_back(is_put[i] ? write_op::put(keys[i], vals[i]) : write_op::erase(keys[i]));
      if (i < 6) desc += (is_put[i] ? " put " : " erase ") + show(keys[i], 16);
    }
    if (n > 6) desc += " ... (" + std::to_string(n) + " ops)";
    note(desc);
    const status st = db_.apply(ops);
    expect(st.is_ok(), [&] { return "apply failed: " + std::string(to_string(st.code)); });
    for (std::size_t i = 0; i < n; ++i) {
      if (is_put[i]) model_put(keys[i], vals[i]);
      else model_erase(keys[i]);
    }
  }

  void op_erase() {
    const std::string k = below(2) == 0 ? pick_key() : existing_key();
    note("erase " + show(k));
    const bool existed = model_.count(k) == 1;
    const std::uint64_t size_before = db_.file_size();
    auto r = db_.erase(k);
    expect(r.has_value(), [&] { return "erase failed: " + std::string(to_string(r.code())); });
    expect(*r == existed, [&] {
      return "erase(" + show(k) + ") returned " + (*r ? "true" : "false") + ", model says " +
             (existed ? "present" : "absent");
    });
    if (!existed)
      expect(db_.file_size() == size_before, [&] { return "erase of a missing key wrote a tombstone"; });
    model_erase(k);
  }

  void op_rename() {
    const std::string from = below(4) == 0 ? pick_key() : existing_key();
    const std::string to = below(20) == 0 ? from : pick_key();
    note("rename " + show(from) + " -> " + show(to));
    const status st = db_.rename(from, to);
    const auto it = model_.find(from);
    if (it == model_.end()) {
      expect(st == errc::not_found, [&] {
        return "rename of a missing key gave " + std::string(to_string(st.code));
      });
      touched_.push_back(to);
      return;
    }
    expect(st.is_ok(), [&] { return "rename failed: " + std::string(to_string(st.code)); });
    if (from == to) return;
    const std::string v = it->second;
    model_erase(from);
    model_put(to, v);
  }

  void op_put_stream() {
    const std::string k = pick_key();
    std::size_t n = 0;
    const std::uint64_t r = below(100);
    if (r < 10) n = 0;
    else if (r < 97) n = below(20000);
    else n = (1u << 20) - 1000 + below(3u << 19);  // crosses the 1 MiB internal chunk
    std::string v;
    if (n <= 20000) {
      v = fill(n);
    } else {
      const std::string block = fill(4099);  // cheaper than n random bytes, still not periodic in 4 KiB
      v.reserve(n);
      while (v.size() < n) v.append(block, 0, std::min(block.size(), n - v.size()));
      v[n / 2] = static_cast<char>(rng_());
    }
    // One stream in eight fails part way (or at once): nothing may be committed.
    const bool fails = below(8) == 0;
    const std::size_t fail_at = fails ? static_cast<std::size_t>(below(n + 1)) : 0;
    const std::uint64_t max_chunk = below(2) == 0 ? 64 : 70000;
    note("put_stream " + show(k) + " (" + std::to_string(n) + " bytes" +
         (fails ? ", source fails at " + std::to_string(fail_at) : std::string()) + ")");
    std::size_t fed = 0;
    auto source = [&](std::span<std::byte> buf) -> result<std::size_t> {
      if (fails && fed >= fail_at) return status{errc::io, 5};
      if (fed == v.size()) return std::size_t{0};
      std::size_t c = std::min<std::size_t>({buf.size(), v.size() - fed, static_cast<std::size_t>(1 + below(max_chunk))});
      if (fails) c = std::min(c, std::max<std::size_t>(fail_at - fed, 1));
      std::memcpy(buf.data(), v.data() + fed, c);
      fed += c;
      return c;
    };
    const std::uint64_t size_before = db_.file_size();
    const status st = db_.put_stream(k, source);
    if (fails) {
      expect(st == errc::io, [&] {
        return "put_stream with a failing source gave " + std::string(to_string(st.code));
      });
      expect(db_.file_size() == size_before, [&] {
        return "failed put_stream moved file_size from " + std::to_string(size_before) + " to " +
               std::to_string(db_.file_size());
      });
      touched_.push_back(k);
      return;
    }
    expect(st.is_ok(), [&] { return "put_stream failed: " + std::string(to_string(st.code)); });
    model_put(k, v);
  }

  void op_invalid() {
    const std::uint64_t size_before = db_.file_size();
    const std::string k = pick_key();
    switch (below(5)) {
      case 0: {
        note("put with an empty key");
        const status st = db_.put("", "x");
        expect(st == errc::invalid_argument, [&] { return "empty key put gave " + std::string(to_string(st.code)); });
        break;
      }
      case 1: {
        note("put with a key of 65,536 bytes");
        const status st = db_.put(std::string(max_key_size + 1, 'k'), "x");
        expect(st == errc::too_large, [&] { return "too long key gave " + std::string(to_string(st.code)); });
        break;
      }
      case 2: {
        note("apply: put " + show(k) + " then an empty-key erase (rejected whole)");
        const write_op ops[] = {write_op::put(k, "should not land"), write_op::erase("")};
        const status st = db_.apply(ops);
        expect(st == errc::invalid_argument, [&] { return "bad apply gave " + std::string(to_string(st.code)); });
        touched_.push_back(k);
        break;
      }
      case 3: {
        note("rename " + show(k) + " to an empty key");
        const status st = db_.rename(k, "");
        expect(st == errc::invalid_argument, [&] { return "rename to \"\" gave " + std::string(to_string(st.code)); });
        touched_.push_back(k);
        break;
      }
      default: {
        note("put_batch with an empty key last");
        const key_value kv[] = {{k, "nope"}, {"", "x"}};
        const status st = db_.put_batch(kv);
        expect(st == errc::invalid_argument, [&] { return "bad put_batch gave " + std::string(to_string(st.code)); });
        touched_.push_back(k);
        break;
      }
    }
    expect(db_.file_size() == size_before, [&] { return "a rejected call changed file_size"; });
  }

  void op_read_stream() {
    const std::string k = pick_key();
    note("read_stream " + show(k));
    std::string back;
    const std::size_t chunk = 1 + below(3000);
    const status st = db_.read_stream(
        k,
        [&](std::span<const std::byte> c) -> status {
          if (c.size() > chunk) return errc::invalid_argument;
          back.append(reinterpret_cast<const char*>(c.data()), c.size());
          return errc::ok;
        },
        chunk);
    const auto it = model_.find(k);
    if (it == model_.end()) {
      expect(st == errc::not_found, [&] { return "read_stream of a missing key gave " + std::string(to_string(st.code)); });
      return;
    }
    expect(st.is_ok() && back == it->second, [&] {
      return "read_stream gave " + std::string(to_string(st.code)) + " / " + show(back) + ", model " +
             show(it->second);
    });
  }

  void op_compact() {
    note("compact");
    const std::uint64_t before = db_.file_size();
    auto r = db_.compact();
    expect(r.has_value(), [&] { return "compact failed: " + std::string(to_string(r.code())); });
    expect(r->entries_kept == model_.size(), [&] {
      return "compact kept " + std::to_string(r->entries_kept) + " entries, model has " +
             std::to_string(model_.size());
    });
    expect(r->size_before == before && r->size_after == db_.file_size() && r->size_after <= before, [&] {
      return "compact report " + std::to_string(r->size_before) + " -> " + std::to_string(r->size_after) +
             ", file_size " + std::to_string(before) + " -> " + std::to_string(db_.file_size());
    });
    const store_info info = db_.info();
    expect(info.tombstones == 0 && info.reclaimable_bytes == 0 && info.entries == model_.size(), [&] {
      return "after compact: tombstones " + std::to_string(info.tombstones) + ", reclaimable " +
             std::to_string(info.reclaimable_bytes) + ", entries " + std::to_string(info.entries);
    });
    if (backend_ == backend::native) {
      std::error_code ec;
      const auto on_disk = std::filesystem::file_size(path_, ec);
      expect(!ec && on_disk == db_.file_size(), [&] {
        return "file on disk has " + std::to_string(on_disk) + " bytes, store says " +
               std::to_string(db_.file_size());
      });
      expect(!std::filesystem::exists(path_ + ".compact"), [&] { return "<path>.compact left behind"; });
    }
    full_check();
  }

  backend backend_;
  std::uint64_t seed_;
  std::uint64_t steps_;
  std::mt19937_64 rng_;
  std::uint32_t alignment_ = 64;
  test::temp_dir dir_;
  std::string path_;
  store db_;
  std::map<std::string, std::string> model_;
  std::vector<std::string> pool_;
  std::set<std::string> pool_set_;
  std::vector<std::string> touched_;
  struct kept {
    blob_view view;
    std::string key;
    std::string value;
  };
  std::vector<kept> kept_;
  std::deque<std::string> history_;
  std::uint64_t step_ = 0;
  std::uint64_t checks_ = 0;
};

void run_model(backend b, std::uint64_t base_seed) {
  const auto fixed = env_u64("SIMDR_MODEL_SEED");
  const std::uint64_t runs = fixed ? 1 : env_u64("SIMDR_MODEL_RUNS").value_or(default_runs);
  const std::uint64_t steps = env_u64("SIMDR_MODEL_STEPS").value_or(default_steps);
  std::uint64_t total_checks = 0;
  for (std::uint64_t i = 0; i < runs; ++i) {
    const std::uint64_t seed = fixed ? *fixed : splitmix64(base_seed + i);
    INFO("run " << i << " seed " << seed << " (replay: SIMDR_MODEL_SEED=" << seed << ")");
    model_run m(b, seed, steps);
    m.run();
    total_checks += m.checks();
  }
  // Each step makes several checks: a run that silently did nothing would show here.
  CHECK(total_checks >= runs * steps * 5);
}

}  // namespace

TEST_CASE("model: random operation sequences agree with a std::map (native)", "[model]") {
  SIMDR_SEEDED(seed, "model native");
  run_model(backend::native, seed);
}

TEST_CASE("model: random operation sequences agree with a std::map (memory_storage)", "[model]") {
  SIMDR_SEEDED(seed, "model memory");
  run_model(backend::memory, seed);
}
