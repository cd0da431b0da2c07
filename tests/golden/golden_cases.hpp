// golden_cases.hpp - the FIXED operation sequences behind tests/golden/good/*.simdr.
//
// Each case creates a store and performs the same operations through the public API every
// time, so the file it produces is byte-for-byte deterministic. tools/ (simdr_make_golden)
// writes the checked-in files with it; tests/golden/test_golden.cpp replays it and requires the
// same bytes. NEVER change an existing case: add a new one (see tests/golden/README.md).
//
// Every operation also updates a std::map model (the live key/value set the case must leave),
// computed from the operations alone. With a null store only the model is computed.
#pragma once

#include "simdr/simdr.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace simdr::golden {

/// Names of the cases, in the order the generator writes them.
inline constexpr std::array<std::string_view, 7> case_names = {
    "empty", "basic", "align8", "align4096", "stream", "compacted", "w1"};

/// The live key/value set a case leaves (keys and values as byte strings).
using model = std::map<std::string, std::string>;

/// Applies operations to a store (when one is given) and to the model.
class recorder {
public:
  explicit recorder(store* db) noexcept : db_(db) {}

  status put(std::string_view k, std::string_view v) {
    if (db_ != nullptr)
      if (status st = db_->put(k, v); !st.is_ok()) return st;
    model_[std::string(k)] = std::string(v);
    return errc::ok;
  }

  /// Returns errc::ok when the key existed, errc::not_found when it did not (the store writes
  /// nothing then); the store's answer must agree with the model's.
  status erase(std::string_view k) {
    const bool had = model_.erase(std::string(k)) != 0;
    if (db_ != nullptr) {
      result<bool> r = db_->erase(k);
      if (!r) return r.error();
      if (*r != had) return errc::invalid_argument; // the store disagrees with the model
    }
    return had ? errc::ok : errc::not_found;
  }

  status rename(std::string_view from, std::string_view to) {
    auto it = model_.find(std::string(from));
    if (it == model_.end()) return errc::not_found;
    if (db_ != nullptr)
      if (status st = db_->rename(from, to); !st.is_ok()) return st;
    std::string v = it->second;
    model_.erase(it);
    model_[std::string(to)] = std::move(v);
    return errc::ok;
  }

  status put_batch(const std::vector<std::pair<std::string, std::string>>& kv) {
    std::vector<key_value> entries;
    for (const auto& [k, v] : kv)
      entries.push_back({k, v});
    if (db_ != nullptr)
      if (status st = db_->put_batch(entries); !st.is_ok()) return st;
    for (const auto& [k, v] : kv)
      model_[k] = v;
    return errc::ok;
  }

  /// ops: (true, key, value) puts, (false, key, "") erases, applied as one commit.
  struct op {
    bool put;
    std::string key;
    std::string value;
  };
  status apply(const std::vector<op>& ops) {
    std::vector<write_op> w;
    for (const op& o : ops)
      w.push_back(o.put ? write_op::put(o.key, o.value) : write_op::erase(o.key));
    if (db_ != nullptr)
      if (status st = db_->apply(w); !st.is_ok()) return st;
    for (const op& o : ops) {
      if (o.put)
        model_[o.key] = o.value;
      else
        model_.erase(o.key);
    }
    return errc::ok;
  }

  /// Streams `value` in chunks whose sizes cycle through `chunks`.
  status put_stream(std::string_view k, const std::string& value,
                    const std::vector<std::size_t>& chunks) {
    if (db_ != nullptr) {
      std::size_t pos = 0;
      std::size_t turn = 0;
      auto source = [&](std::span<std::byte> buf) -> result<std::size_t> {
        std::size_t n = chunks[turn++ % chunks.size()];
        if (n > buf.size()) n = buf.size();
        if (n > value.size() - pos) n = value.size() - pos;
        std::memcpy(buf.data(), value.data() + pos, n);
        pos += n;
        return n;
      };
      if (status st = db_->put_stream(k, source); !st.is_ok()) return st;
    }
    model_[std::string(k)] = value;
    return errc::ok;
  }

  status compact() {
    if (db_ != nullptr) {
      result<compact_report> r = db_->compact();
      if (!r) return r.error();
    }
    return errc::ok;
  }

  [[nodiscard]] const model& live() const noexcept { return model_; }

private:
  store* db_;
  model model_;
};

/// Alignment a case's store is created with.
inline std::uint32_t case_alignment(std::string_view name) {
  if (name == "align8") return 8;
  if (name == "align4096") return 4096;
  return 64;
}

/// A deterministic byte pattern of `n` bytes (`salt` varies it between values).
inline std::string pattern(std::size_t n, std::uint32_t salt) {
  std::string s(n, '\0');
  std::uint32_t x = 0x9E3779B9u ^ salt;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13; // xorshift32: fixed, portable, no library RNG
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

/// Propagates a non-ok status out of the running case. erase() of a missing key is expected
/// (errc::not_found) where a case says so.
#define SIMDR_GOLDEN_TRY(expr)                                                                     \
  do {                                                                                             \
    if (::simdr::status st_ = (expr); !st_.is_ok()) return st_;                                    \
  } while (0)

inline status run_basic(recorder& r) {
  SIMDR_GOLDEN_TRY(r.put("alpha", "one"));
  SIMDR_GOLDEN_TRY(r.put("empty", ""));                       // an empty value
  SIMDR_GOLDEN_TRY(r.put("zero", std::string_view("\0", 1))); // a single 0x00 byte
  std::string binary_key(256, '\0');
  for (int i = 0; i < 256; ++i)
    binary_key[static_cast<std::size_t>(i)] = static_cast<char>(i);
  SIMDR_GOLDEN_TRY(r.put(binary_key, "every byte value in the key"));
  SIMDR_GOLDEN_TRY(r.put("quote\"back\\slash", "escaped in dumps"));
  SIMDR_GOLDEN_TRY(r.put("alpha", "two")); // an overwrite
  SIMDR_GOLDEN_TRY(r.put("beta", "to be erased"));
  SIMDR_GOLDEN_TRY(r.erase("beta"));               // a tombstone
  if (r.erase("never-written") != errc::not_found) // writes nothing
    return errc::invalid_argument;
  SIMDR_GOLDEN_TRY(r.put("old-name", "renamed value"));
  SIMDR_GOLDEN_TRY(r.rename("old-name", "new-name")); // a put + a tombstone
  std::vector<std::pair<std::string, std::string>> batch;
  for (int i = 0; i < 20; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "batch-%02d", i);
    // Lengths 0, 7, ..., 133, and one over the inline limit of the writer (1024 bytes).
    const std::size_t len = i == 19 ? 1500 : static_cast<std::size_t>(i) * 7;
    batch.emplace_back(key, pattern(len, static_cast<std::uint32_t>(i)));
  }
  SIMDR_GOLDEN_TRY(r.put_batch(batch));
  SIMDR_GOLDEN_TRY(r.apply({{true, "batch-03", "replaced in apply"},
                            {false, "batch-04", ""},
                            {true, "apply-new", "n"},
                            {false, "zero", ""},
                            {false, "not-there", ""},         // a tombstone for an absent key
                            {true, "batch-04", "back again"}, // erased then put in one commit
                            {true, "apply-new", "last one wins"}}));
  SIMDR_GOLDEN_TRY(r.put("last", "done"));
  return errc::ok;
}

inline status run_align8(recorder& r) {
  SIMDR_GOLDEN_TRY(r.put("a", "1"));
  SIMDR_GOLDEN_TRY(r.put("bb", "xyz"));
  SIMDR_GOLDEN_TRY(r.put("nine-byte", "123456789"));
  SIMDR_GOLDEN_TRY(r.put("k", ""));
  SIMDR_GOLDEN_TRY(r.erase("a"));
  SIMDR_GOLDEN_TRY(r.put_batch({{"b1", "one"}, {"b2", pattern(8, 2)}, {"b3", pattern(13, 3)}}));
  SIMDR_GOLDEN_TRY(r.put(std::string(100, 'L'), pattern(17, 100)));
  SIMDR_GOLDEN_TRY(r.put("bb", "overwritten"));
  return errc::ok;
}

inline status run_align4096(recorder& r) {
  SIMDR_GOLDEN_TRY(r.put("v1", pattern(1, 1)));
  SIMDR_GOLDEN_TRY(r.put("v4095", pattern(4095, 4095)));
  SIMDR_GOLDEN_TRY(r.put("v4096", pattern(4096, 4096)));
  SIMDR_GOLDEN_TRY(r.put("v4097", pattern(4097, 4097)));
  return errc::ok;
}

inline status run_stream(recorder& r) {
  SIMDR_GOLDEN_TRY(r.put_stream("streamed", pattern(100000, 7), {1, 7, 4093, 333, 65537, 12289}));
  SIMDR_GOLDEN_TRY(r.put("after", "the stream"));
  return errc::ok;
}

inline status run_w1(recorder& r) {
  for (int b = 0; b < 10; ++b) {
    std::vector<std::pair<std::string, std::string>> batch;
    for (int i = b * 100; i < b * 100 + 100; ++i) {
      std::string v(8, '\0');
      for (int k = 0; k < 8; ++k)
        v[static_cast<std::size_t>(k)] =
            static_cast<char>((static_cast<std::uint64_t>(i) >> (8 * k)) & 0xff);
      batch.emplace_back("bench-key-" + std::to_string(i), std::move(v));
    }
    SIMDR_GOLDEN_TRY(r.put_batch(batch));
  }
  return errc::ok;
}

/// Runs case `name` on `db` (a store just created with case_alignment(name); may be null to
/// compute only the model) and returns the live set it leaves in `out`.
inline status run_case(std::string_view name, store* db, model& out) {
  recorder r(db);
  status st = errc::ok;
  if (name == "empty")
    st = errc::ok;
  else if (name == "basic")
    st = run_basic(r);
  else if (name == "align8")
    st = run_align8(r);
  else if (name == "align4096")
    st = run_align4096(r);
  else if (name == "stream")
    st = run_stream(r);
  else if (name == "compacted") {
    st = run_basic(r);
    if (st.is_ok()) st = r.compact();
  } else if (name == "w1")
    st = run_w1(r);
  else
    st = errc::invalid_argument;
  out = r.live();
  return st;
}

/// Creates a store at `path` (which must not exist) and runs case `name` on it; the store is
/// closed on return.
inline status write_case(std::string_view name, const std::string& path, model& out) {
  result<store> opened = store::open(path, {.create = true, .alignment = case_alignment(name)});
  if (!opened) return opened.error();
  store db = std::move(*opened);
  status st = run_case(name, &db, out);
  (void)db.close();
  return st;
}

#undef SIMDR_GOLDEN_TRY

} // namespace simdr::golden
