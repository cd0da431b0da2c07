// fuzz_model.cpp - fuzz target `op_sequence_vs_model`: the input bytes are a program of store
// operations run on memory_storage and on a std::map model; after every operation the store
// must agree with the model (size, every key via entries() and get(), failed writes leaving
// file_size() unchanged, kept views still holding their bytes); any divergence traps.
//
// Input layout: byte 0 picks the payload alignment; then each operation is an opcode byte
// followed by its arguments (keys, value lengths and patterns, chunk sizes), read with a reader
// that yields zeros once the input is exhausted. Operations: put, put_batch, apply, erase,
// rename, put_stream (sometimes with a failing source), compact, reopen (close, then open a new
// memory_storage from the image bytes: read-write, after a read-only look, or with a torn tail
// of garbage appended), invalid calls, and reads (get_batch, read_stream, kept views).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "store_impl.hpp"

namespace {

using namespace simdr;
using namespace simdr::fuzz;

constexpr std::size_t max_ops = 300;       // per input: bounds time and memory
constexpr std::size_t max_compacts = 12;   // each one keeps its old image until close
constexpr std::size_t max_views = 16;

class reader {
 public:
  reader(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}
  [[nodiscard]] bool done() const { return i_ >= n_; }
  std::uint8_t byte() { return i_ < n_ ? p_[i_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(byte() | (byte() << 8)); }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t i_ = 0;
};

std::string pattern(std::size_t n, std::uint8_t seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((seed + i * 131 + (i >> 8) * 7) & 0xff);
  return s;
}

struct kept_view {
  blob_view view;
  std::string bytes;
};

class model_run {
 public:
  explicit model_run(reader in) : in_(in) {}

  void run() {
    static const std::uint32_t alignments[] = {8, 16, 64, 64, 256, 4096};
    alignment_ = alignments[in_.byte() % 6];
    auto r = detail::open_store(tracked_storage::from_bytes({}, true, tracker_),
                                {.create = true, .alignment = alignment_});
    FUZZ_CHECK(r.has_value(), "create gave " + code_name(r.code()));
    db_ = std::move(*r);
    for (std::size_t n = 0; n < max_ops && !in_.done(); ++n) {
      step();
      check_all();
    }
    auto vr = db_.verify();
    if (trace_ && vr && !vr->is_ok()) dump_around(vr->issues[0].offset);
    FUZZ_CHECK(vr.has_value() && vr->is_ok(), "verify at the end not clean: " + describe(vr));
    reopen(0);
    check_all();
  }

 private:
  void dump_around(std::uint64_t off) {
    const std::span<const std::byte> img = tracker_.current->image();
    if (std::FILE* f = std::fopen("fuzz-model-image.simdr", "wb")) {
      std::fwrite(img.data(), 1, img.size(), f);
      std::fclose(f);
      std::fprintf(stderr, "image written to fuzz-model-image.simdr\n");
    }
    for (std::uint64_t i = off & ~std::uint64_t{15}; i < img.size() && i < off + 128; ++i)
      std::fprintf(stderr, "%s%02x", i % 16 == 0 ? "\n" : " ", static_cast<unsigned>(img[i]));
    std::fprintf(stderr, "\n");
  }

  // ---- inputs -------------------------------------------------------------------------------
  std::string key() {
    const std::uint8_t b = in_.byte();
    if (b < 192) return "key" + std::to_string(b % 12);  // a small pool: lots of overwrites
    if (b < 250) {                                       // raw bytes from the input
      std::string k(1 + in_.byte() % 24, '\0');
      for (char& c : k) c = static_cast<char>(in_.byte());
      return k;
    }
    return pattern(200 + static_cast<std::size_t>(in_.byte()) * 8, b);  // a long key
  }
  std::string value() {
    const std::uint8_t l = in_.byte();
    std::size_t n = l < 224 ? l : static_cast<std::size_t>(l - 223) * 512 + in_.byte();
    return pattern(n, in_.byte());
  }

  // ---- model --------------------------------------------------------------------------------
  void check_key(const std::string& k) {
    auto got = db_.get(k);
    const auto it = model_.find(k);
    if (it == model_.end()) {
      FUZZ_CHECK(got.code() == errc::not_found, "get of a missing key gave " + code_name(got.code()));
    } else {
      FUZZ_CHECK(got.has_value(), "get of a live key gave " + code_name(got.code()));
      FUZZ_CHECK(got->str() == it->second, "get returned other bytes");
    }
  }

  void check_all() {
    FUZZ_CHECK(db_.size() == model_.size(),
               "size() " + std::to_string(db_.size()) + ", model " + std::to_string(model_.size()));
    std::size_t seen = 0;
    for (const entry_view& v : db_.entries()) {
      ++seen;
      const auto it = model_.find(std::string(v.key_str()));
      FUZZ_CHECK(it != model_.end(), "entries() yielded a key the model does not have");
      FUZZ_CHECK(it->second == v.str(), "entries() yielded other bytes");
      FUZZ_CHECK(v.offset() % alignment_ == 0, "value offset not aligned");
      FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(v.data()) %
                         std::min<std::uint32_t>(alignment_, memory_storage::buffer_alignment) ==
                     0,
                 "value pointer not aligned");
    }
    FUZZ_CHECK(seen == model_.size(), "entries() yielded " + std::to_string(seen) + " keys");
    for (const auto& [k, v] : model_) check_key(k);
    for (const kept_view& kv : views_)
      FUZZ_CHECK(kv.view.str() == kv.bytes, "a kept view changed its bytes");
    FUZZ_CHECK(db_.file_size() == tracker_.current->size(), "file_size() != storage size");
  }

  void expect_unchanged(status st, errc want, std::uint64_t size_before, const char* what) {
    FUZZ_CHECK(st.code == want, std::string(what) + " gave " + code_name(st.code) + ", expected " +
                                    code_name(want));
    FUZZ_CHECK(db_.file_size() == size_before, std::string(what) + " changed the file size");
  }

  // ---- operations ---------------------------------------------------------------------------
  void step() {
    const std::uint8_t op = in_.byte() % 13;
    if (trace_) std::fprintf(stderr, "op %u at file size %llu\n", op, static_cast<unsigned long long>(db_.file_size()));
    switch (op) {
      case 0:
      case 1: return op_put();
      case 2: return op_put_batch();
      case 3: return op_apply();
      case 4:
      case 5: return op_erase();
      case 6: return op_rename();
      case 7: return op_put_stream();
      case 8: return op_compact();
      case 9: return reopen(in_.byte());
      case 10: return op_invalid();
      case 11: return op_reads();
      default: return keep_view();
    }
  }

  void op_put() {
    const std::string k = key();
    const std::string v = value();
    const status st = db_.put(k, v);
    FUZZ_CHECK(st.is_ok(), "put gave " + code_name(st.code));
    model_[k] = v;
  }

  void op_put_batch() {
    const std::size_t n = 1 + in_.byte() % 8;
    std::vector<std::string> keys, vals;
    for (std::size_t i = 0; i < n; ++i) {
      keys.push_back(key());
      vals.push_back(value());
    }
    std::vector<key_value> kv;
    for (std::size_t i = 0; i < n; ++i) kv.push_back({keys[i], vals[i]});
    const status st = db_.put_batch(kv);
    FUZZ_CHECK(st.is_ok(), "put_batch gave " + code_name(st.code));
    for (std::size_t i = 0; i < n; ++i) model_[keys[i]] = vals[i];
  }

  void op_apply() {
    const std::size_t n = in_.byte() % 9;  // 0 ops: an empty commit
    std::vector<std::string> keys, vals;
    std::vector<bool> puts;
    for (std::size_t i = 0; i < n; ++i) {
      puts.push_back(in_.byte() % 3 != 0);
      keys.push_back(key());
      vals.push_back(puts.back() ? value() : std::string());
    }
    std::vector<write_op> ops;
    for (std::size_t i = 0; i < n; ++i)
      ops.push_back(puts[i] ? write_op::put(keys[i], vals[i]) : write_op::erase(keys[i]));
    const status st = db_.apply(ops);
    FUZZ_CHECK(st.is_ok(), "apply gave " + code_name(st.code));
    for (std::size_t i = 0; i < n; ++i) {
      if (puts[i]) model_[keys[i]] = vals[i];
      else model_.erase(keys[i]);
    }
  }

  void op_erase() {
    const std::string k = key();
    const std::uint64_t size_before = db_.file_size();
    auto r = db_.erase(k);
    FUZZ_CHECK(r.has_value(), "erase gave " + code_name(r.code()));
    const bool existed = model_.erase(k) != 0;
    FUZZ_CHECK(*r == existed, "erase reported existed=" + std::to_string(*r));
    if (!existed) FUZZ_CHECK(db_.file_size() == size_before, "erase of a missing key wrote");
  }

  void op_rename() {
    const std::string from = key();
    const std::string to = in_.byte() % 8 == 0 ? from : key();
    const std::uint64_t size_before = db_.file_size();
    const status st = db_.rename(from, to);
    const auto it = model_.find(from);
    if (it == model_.end()) return expect_unchanged(st, errc::not_found, size_before, "rename of a missing key");
    FUZZ_CHECK(st.is_ok(), "rename gave " + code_name(st.code));
    if (from == to) return;
    const std::string v = it->second;
    model_.erase(it);
    model_[to] = v;
  }

  void op_put_stream() {
    const std::string k = key();
    const std::string v = value();
    const std::size_t max_chunk = 1 + in_.byte();
    const std::uint8_t f = in_.byte();
    const bool fails = f % 4 == 0;
    const std::size_t fail_at = fails ? std::min<std::size_t>(v.size(), f * 16u) : 0;
    std::size_t fed = 0;
    auto source = [&](std::span<std::byte> buf) -> result<std::size_t> {
      if (fails && fed >= fail_at) return status{errc::io, 5};
      const std::size_t c = std::min({buf.size(), v.size() - fed, max_chunk});
      std::memcpy(buf.data(), v.data() + fed, c);
      fed += c;
      return c;
    };
    const std::uint64_t size_before = db_.file_size();
    if (trace_)
      std::fprintf(stderr, "put_stream key %zu bytes, value %zu bytes, chunks <= %zu%s\n", k.size(),
                   v.size(), max_chunk, fails ? ", failing" : "");
    const status st = db_.put_stream(k, source);
    if (fails) return expect_unchanged(st, errc::io, size_before, "put_stream with a failing source");
    FUZZ_CHECK(st.is_ok(), "put_stream gave " + code_name(st.code));
    model_[k] = v;
  }

  void op_compact() {
    if (++compacts_ > max_compacts) return;
    auto rep = db_.compact();
    FUZZ_CHECK(rep.has_value(), "compact gave " + code_name(rep.code()) + " at offset " +
                                    std::to_string(rep.error().offset));
    FUZZ_CHECK(rep->entries_kept == model_.size(), "compact kept " + std::to_string(rep->entries_kept));
    FUZZ_CHECK(rep->size_after == db_.file_size(), "compact: size_after != file_size()");
    auto vr = db_.verify();
    FUZZ_CHECK(vr.has_value() && vr->is_ok(), "verify after compact not clean: " + describe(vr));
  }

  /// Close, then open a new memory_storage from the image bytes. mode % 4: 0 plain read-write;
  /// 1 a read-only look first; 2 a torn tail of garbage appended; 3 a torn tail that is a cut
  /// prefix of an uncommitted put.
  void reopen(std::uint8_t mode) {
    std::vector<std::byte> image = tracker_.copy();
    const std::uint64_t committed = db_.file_size();
    FUZZ_CHECK(image.size() == committed, "image size != file_size() before close");
    const status closed = db_.close();
    FUZZ_CHECK(closed.is_ok(), "close gave " + code_name(closed.code));
    views_.clear();
    std::uint64_t tail = 0;
    if (mode % 4 == 1) {
      auto ro = detail::open_store(tracked_storage::from_bytes(image, false, tracker_),
                                   {.read_only = true, .verify_checksums = true});
      FUZZ_CHECK(ro.has_value(), "read-only reopen gave " + code_name(ro.code()));
      std::swap(db_, *ro);
      check_all();
      FUZZ_CHECK(db_.put("x", "y") == errc::read_only, "put on a read-only reopen");
      FUZZ_CHECK(db_.close().is_ok(), "close of the read-only handle");
    } else if (mode % 4 == 2) {
      tail = in_.byte() % 80;
      for (std::uint64_t i = 0; i < tail; ++i) image.push_back(std::byte{in_.byte()});
    } else if (mode % 4 == 3) {
      // Write an uncommitted put on a scratch copy, then keep a cut prefix of its bytes.
      image_tracker t;
      auto scratch = detail::open_store(tracked_storage::from_bytes(image, true, t), {});
      FUZZ_CHECK(scratch.has_value(), "scratch reopen gave " + code_name(scratch.code()));
      const std::string k = key();
      const std::string v = value();
      FUZZ_CHECK(scratch->put(k, v).is_ok(), "scratch put");
      FUZZ_CHECK(!scratch->report().tail_dropped, "reopen dropped committed bytes as a torn tail");
      const std::vector<std::byte> longer = t.copy();
      FUZZ_CHECK(longer.size() > image.size(), "a put did not grow the image");
      const std::uint64_t added = longer.size() - image.size();
      tail = added == 0 ? 0 : in_.u16() % added;  // strictly shorter than the whole commit
      image.insert(image.end(), longer.begin() + static_cast<std::ptrdiff_t>(image.size()),
                   longer.begin() + static_cast<std::ptrdiff_t>(image.size() + tail));
    }
    auto r = detail::open_store(tracked_storage::from_bytes(image, true, tracker_), {});
    FUZZ_CHECK(r.has_value(), "reopen gave " + code_name(r.code()));
    db_ = std::move(*r);
    const open_report rep = db_.report();
    FUZZ_CHECK(rep.committed_size == committed && rep.file_size_before == committed + tail &&
                   rep.tail_bytes == tail && rep.tail_dropped == (tail != 0) &&
                   rep.tail_truncated == (tail != 0),
               "reopen report: committed " + std::to_string(rep.committed_size) + " tail " +
                   std::to_string(rep.tail_bytes) + ", expected " + std::to_string(committed) +
                   " + " + std::to_string(tail));
    FUZZ_CHECK(db_.file_size() == committed, "reopen: file_size()");
  }

  void op_invalid() {
    const std::uint64_t size_before = db_.file_size();
    const std::string k = key();
    switch (in_.byte() % 6) {
      case 0: return expect_unchanged(db_.put("", "x"), errc::invalid_argument, size_before, "put with an empty key");
      case 1:
        return expect_unchanged(db_.put(std::string(max_key_size + 1, 'k'), "x"), errc::too_large,
                                size_before, "put with a 65,536-byte key");
      case 2: {
        const write_op ops[] = {write_op::put(k, "should not land"), write_op::erase("")};
        return expect_unchanged(db_.apply(ops), errc::invalid_argument, size_before, "apply with an empty key");
      }
      case 3: return expect_unchanged(db_.rename(k, ""), errc::invalid_argument, size_before, "rename to an empty key");
      case 4: {
        const key_value kv[] = {{k, "x"}, {std::string(max_key_size + 1, 'k'), "y"}};
        return expect_unchanged(db_.put_batch(kv), errc::too_large, size_before, "put_batch with a long key");
      }
      default: {
        auto r = db_.erase("");
        FUZZ_CHECK(!r && r.code() == errc::invalid_argument, "erase of an empty key");
        FUZZ_CHECK(db_.file_size() == size_before, "erase of an empty key wrote");
      }
    }
  }

  void op_reads() {
    const std::size_t n = 1 + in_.byte() % 6;
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < n; ++i) keys.push_back(key());
    std::vector<bytes> kb(keys.begin(), keys.end());
    std::vector<blob_view> out(n);
    auto found = db_.get_batch(kb, out);
    FUZZ_CHECK(found.has_value(), "get_batch gave " + code_name(found.code()));
    std::size_t want = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto it = model_.find(keys[i]);
      if (it == model_.end()) {
        FUZZ_CHECK(!out[i], "get_batch found a missing key");
      } else {
        ++want;
        FUZZ_CHECK(out[i] && out[i].str() == it->second, "get_batch returned other bytes");
      }
    }
    FUZZ_CHECK(*found == want, "get_batch count");
    const std::size_t chunk = 1 + in_.byte();
    std::string streamed;
    const status st = db_.read_stream(
        keys[0],
        [&](std::span<const std::byte> c) -> status {
          FUZZ_CHECK(c.size() <= chunk, "read_stream chunk larger than asked");
          streamed += as_string(c);
          return errc::ok;
        },
        chunk);
    const auto it = model_.find(keys[0]);
    if (it == model_.end()) {
      FUZZ_CHECK(st.code == errc::not_found, "read_stream of a missing key gave " + code_name(st.code));
    } else {
      FUZZ_CHECK(st.is_ok() && streamed == it->second, "read_stream gave " + code_name(st.code));
    }
  }

  void keep_view() {
    const std::string k = key();
    auto got = db_.get(k);
    if (!got) return;
    if (views_.size() == max_views) views_.erase(views_.begin());
    views_.push_back({*got, std::string(got->str())});
  }

  // SIMDR_FUZZ_TRACE=1: print each operation; on a failed final verify, write the image to
  // ./fuzz-model-image.simdr (for simdr-inspect dump).
  const bool trace_ = std::getenv("SIMDR_FUZZ_TRACE") != nullptr;
  reader in_;
  std::uint32_t alignment_ = 64;
  image_tracker tracker_;
  store db_;
  std::map<std::string, std::string> model_;
  std::vector<kept_view> views_;
  std::size_t compacts_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  model_run(reader(data, size)).run();
  return 0;
}
