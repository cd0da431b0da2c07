// test_faults.cpp - the commit pipeline on a failing disk (fault_storage): failed and torn
// appends, failed undo (truncate), failed fdatasync, and put_stream failing at every append.
// A failed write must leave the committed data and the bytes on "disk" as they were, and a
// handle that can no longer vouch for the file must refuse further writes.
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <sstream>

#include "crash/fault_storage.hpp"
#include "support/test_support.hpp"

using namespace simdr;
using simdr::test::fault_disk;
using simdr::test::fault_plan;
using simdr::test::open_faulty;

namespace {

using model = std::map<std::string, std::string>;

std::string diff_content(const store& db, const model& m) {
  std::ostringstream out;
  if (db.size() != m.size()) out << "size() " << db.size() << " != model " << m.size() << "; ";
  for (const auto& [k, v] : m) {
    auto got = db.get(k);
    if (!got) out << "get(" << k << "): " << to_string(got.code()) << "; ";
    else if (got->str() != v) out << "get(" << k << ") differs; ";
  }
  std::size_t n = 0;
  for (const auto& e : db.entries()) {
    ++n;
    if (m.find(std::string(e.key_str())) == m.end()) out << "unknown key " << e.key_str() << "; ";
  }
  if (n != m.size()) out << "entries() yields " << n << " keys; ";
  return out.str();
}

store must_open(std::shared_ptr<fault_disk> disk, fault_plan plan = {},
                const open_options& o = {.create = true}) {
  auto r = open_faulty(std::move(disk), plan, o);
  INFO("open_faulty: " << to_string(r.code()) << " errno " << r.error().sys_errno);
  REQUIRE(r);
  return std::move(*r);
}

// One commit of a mixed workload, applied to the store (returning its status) and, when asked,
// to the model. Every step appends exactly once (one storage append per commit).
struct step {
  std::string name;
  std::function<status(store&, const model&)> run;  // ok when the store did what the model says
  std::function<void(model&)> apply;
};

std::vector<step> workload(std::mt19937_64& rng) {
  auto rnd = [&](std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  };
  std::vector<step> steps;
  auto put = [&](std::string k, std::string v) {
    steps.push_back({"put " + k, [k, v](store& db, const model&) { return db.put(k, v); },
                     [k, v](model& m) { m[k] = v; }});
  };
  put("a", "alpha");
  put("big", rnd(6000));  // written from the caller's memory (a separate iovec part)
  {
    std::vector<std::pair<std::string, std::string>> kv;
    for (int i = 0; i < 20; ++i) kv.emplace_back("b" + std::to_string(i), rnd(rng() % 2500));
    steps.push_back({"batch",
                     [kv](store& db, const model&) {
                       std::vector<key_value> v;
                       for (const auto& [k, x] : kv) v.push_back({k, x});
                       return db.put_batch(v);
                     },
                     [kv](model& m) {
                       for (const auto& [k, x] : kv) m[k] = x;
                     }});
  }
  steps.push_back({"erase a",
                   [](store& db, const model& m) -> status {
                     auto r = db.erase("a");  // no commit at all when "a" is missing
                     if (!r) return r.error();
                     return *r == m.contains("a") ? status(errc::ok) : status(errc::exists);
                   },
                   [](model& m) { m.erase("a"); }});
  put("empty", "");
  steps.push_back({"apply",
                   [](store& db, const model&) {
                     const std::string q(3000, 'q');
                     const write_op ops[] = {write_op::put("c", "cc"), write_op::erase("b3"),
                                             write_op::put("b4", q)};
                     return db.apply(ops);
                   },
                   [](model& m) {
                     m["c"] = "cc";
                     m.erase("b3");
                     m["b4"] = std::string(3000, 'q');
                   }});
  steps.push_back({"rename",
                   [](store& db, const model& m) -> status {
                     const status st = db.rename("b5", "b5r");
                     if (!m.contains("b5") && st == errc::not_found) return errc::ok;
                     return st;
                   },
                   [](model& m) {
                     if (!m.contains("b5")) return;
                     m["b5r"] = m["b5"];
                     m.erase("b5");
                   }});
  put("a", "again");
  return steps;
}

// A value streamed in pieces of `piece` bytes.
struct streamer {
  const std::string& value;
  std::size_t piece;
  std::size_t pos = 0;
  result<std::size_t> operator()(std::span<std::byte> buf) {
    const std::size_t n = std::min({buf.size(), value.size() - pos, piece});
    std::memcpy(buf.data(), value.data() + pos, n);
    pos += n;
    return n;
  }
};

}  // namespace

TEST_CASE("a failing append returns no_space and leaves the disk as before the commit",
          "[storage]") {
  SIMDR_SEEDED(seed, "faults-append");
  std::mt19937_64 rng(seed);
  const std::vector<step> steps = workload(rng);
  // Append #0 writes the file header; commit i (0-based) is append #(i + 1).
  for (std::size_t fail = 0; fail < steps.size(); ++fail) {
    for (std::uint64_t torn : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{40},
                               std::uint64_t{4096}, std::uint64_t{1} << 40}) {
      INFO("commit " << fail << " (" << steps[fail].name << ") fails after " << torn
                     << " torn bytes");
      auto disk = std::make_shared<fault_disk>();
      store db = must_open(disk, {.fail_append_at = static_cast<std::int64_t>(fail + 1),
                                  .torn_bytes = torn});
      model m;
      std::uint64_t commits = 0;
      for (std::size_t i = 0; i < steps.size(); ++i) {
        INFO("step " << i << ": " << steps[i].name);
        const std::vector<std::byte> before = disk->bytes;
        const std::uint64_t size_before = db.file_size();
        const status st = steps[i].run(db, m);
        if (i == fail) {
          REQUIRE(st == errc::no_space);
          CHECK((disk->bytes == before));  // the torn bytes were truncated away
          CHECK(db.file_size() == size_before);
        } else {
          REQUIRE(st == errc::ok);
          steps[i].apply(m);
          CHECK(db.file_size() == disk->bytes.size());
          commits += db.file_size() > size_before;  // no commit for an erase of a missing key
        }
        const std::string diff = diff_content(db, m);
        INFO(diff);
        REQUIRE(diff.empty());
      }
      REQUIRE(db.verify()->is_ok());
      db = store();
      store again = must_open(disk, {}, {});
      CHECK_FALSE(again.report().tail_dropped);
      CHECK(again.report().commits == commits);
      CHECK(commits + 1 >= steps.size() - 2);
      CHECK(diff_content(again, m).empty());
      CHECK(again.verify()->is_ok());
    }
  }
}

TEST_CASE("a torn append whose undo fails poisons the handle; reopening recovers",
          "[storage]") {
  SIMDR_SEEDED(seed, "faults-poison");
  std::mt19937_64 rng(seed);
  const std::vector<step> steps = workload(rng);
  std::vector<std::uint64_t> commit_size;  // bytes each step appends, from a clean run
  {
    store ref = must_open(std::make_shared<fault_disk>());
    model rm;
    for (const step& s : steps) {
      const std::uint64_t before = ref.file_size();
      REQUIRE(s.run(ref, rm) == errc::ok);
      s.apply(rm);
      commit_size.push_back(ref.file_size() - before);
    }
  }
  for (std::size_t fail = 0; fail < steps.size(); ++fail) {
    for (std::uint64_t torn : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{40},
                               std::uint64_t{777}, std::uint64_t{1} << 40}) {
      INFO("commit " << fail << " (" << steps[fail].name << ") torn after " << torn << " bytes");
      auto disk = std::make_shared<fault_disk>();
      store db = must_open(disk, {.fail_append_at = static_cast<std::int64_t>(fail + 1),
                                  .torn_bytes = torn,
                                  .fail_truncate = true});
      model m;
      for (std::size_t i = 0; i < fail; ++i) {
        REQUIRE(steps[i].run(db, m) == errc::ok);
        steps[i].apply(m);
      }
      const std::vector<std::byte> committed = disk->bytes;
      REQUIRE(steps[fail].run(db, m) == errc::no_space);
      // the undo failed: the torn prefix of the commit is still on disk
      REQUIRE(disk->bytes.size() >= committed.size());
      const std::uint64_t torn_on_disk = disk->bytes.size() - committed.size();
      CHECK(torn_on_disk == std::min(torn, commit_size[fail]));
      // When the failed append had in fact written the whole commit and the undo failed, the
      // commit is complete on disk and a reopen finds it (docs/format.md 6: "truncated away when
      // possible"); the caller was told the outcome is unknown (an error on a poisoned handle).
      const bool whole = torn_on_disk == commit_size[fail];
      CHECK(std::equal(committed.begin(), committed.end(), disk->bytes.begin()));
      // every later write is refused with io, whatever it is
      const std::vector<std::byte> poisoned = disk->bytes;
      for (std::size_t i = 0; i < steps.size(); ++i) {
        INFO("step " << steps[i].name);
        CHECK(steps[i].run(db, m) == errc::io);
      }
      const std::string v(100, 'v');
      CHECK(db.put_stream("s", streamer{v, 7}) == errc::io);
      CHECK(db.sync() == errc::io);
      CHECK(db.compact().code() == errc::io);
      CHECK((disk->bytes == poisoned));
      // reads still serve the committed state
      CHECK(diff_content(db, m).empty());
      db = store();

      // a read-only reopen sees the committed prefix and leaves the tail alone
      {
        store ro = must_open(disk, {}, {.read_only = true});
        const bool tail = torn_on_disk != 0 && !whole;
        CHECK(ro.report().tail_dropped == tail);
        CHECK(ro.report().tail_bytes == (tail ? torn_on_disk : 0));
        model seen = m;
        if (whole) steps[fail].apply(seen);
        CHECK(diff_content(ro, seen).empty());
      }
      CHECK((disk->bytes == poisoned));
      if (torn_on_disk != 0 && !whole) {
        // a reopen that cannot truncate the tail fails and changes nothing
        auto again = open_faulty(disk, {.fail_truncate = true}, {});
        CHECK(again.code() == errc::io);
        CHECK((disk->bytes == poisoned));
      }
      if (whole) steps[fail].apply(m);
      const bool tail = torn_on_disk != 0 && !whole;
      store again = must_open(disk, {}, {});
      CHECK(again.report().tail_dropped == tail);
      CHECK(again.report().tail_bytes == (tail ? torn_on_disk : 0));
      CHECK(again.report().commits == fail + (whole ? 1 : 0));
      CHECK((disk->bytes == (whole ? poisoned : committed)));
      const std::string diff = diff_content(again, m);
      INFO(diff);
      CHECK(diff.empty());
      CHECK(again.verify()->is_ok());
      REQUIRE(again.put("after", "reopen") == errc::ok);
    }
  }
}

TEST_CASE("durability::commit: a failing fdatasync hides the commit and poisons the handle",
          "[storage]") {
  SIMDR_SEEDED(seed, "faults-sync");
  std::mt19937_64 rng(seed);
  const std::vector<step> steps = workload(rng);
  // Sync #0 is the new file's header; commit i (0-based) is sync #(i + 1).
  for (std::size_t fail = 0; fail <= steps.size(); ++fail) {
    const bool stream = fail == steps.size();  // the last case fails a put_stream's sync
    INFO("sync of commit " << fail << (stream ? " (put_stream)" : ""));
    auto disk = std::make_shared<fault_disk>();
    store db = must_open(disk, {.fail_sync_at = static_cast<std::int64_t>(fail + 1)},
                         {.create = true, .durability = durability::commit});
    model m;
    for (std::size_t i = 0; i < fail && i < steps.size(); ++i) {
      REQUIRE(steps[i].run(db, m) == errc::ok);
      steps[i].apply(m);
    }
    const std::vector<std::byte> committed = disk->bytes;
    const std::uint64_t size_before = db.file_size();
    if (stream) {
      const std::string v(3000, 's');
      CHECK(db.put_stream("streamed", streamer{v, 1000}) == errc::io);
      CHECK(db.get("streamed").code() == errc::not_found);
    } else {
      const status st = steps[fail].run(db, m);
      CHECK(st == errc::io);
      CHECK(st.sys_errno == 5);
    }
    // not visible, not in the file, and the handle is done writing
    CHECK(db.file_size() == size_before);
    CHECK((disk->bytes == committed));
    const std::string diff = diff_content(db, m);
    INFO(diff);
    CHECK(diff.empty());
    CHECK(db.put("later", "x") == errc::io);
    CHECK(db.sync() == errc::io);
    CHECK(db.get("later").code() == errc::not_found);
    CHECK((disk->bytes == committed));
    db = store();
    store again = must_open(disk, {}, {});
    CHECK_FALSE(again.report().tail_dropped);
    CHECK(diff_content(again, m).empty());
    REQUIRE(again.put("later", "x") == errc::ok);
  }
}

TEST_CASE("durability::none: a failing sync() poisons the handle", "[storage]") {
  auto disk = std::make_shared<fault_disk>();
  store db = must_open(disk, {.fail_sync_at = 2});
  REQUIRE(db.put("a", "1") == errc::ok);  // no sync per commit
  REQUIRE(db.sync() == errc::ok);          // sync #1
  REQUIRE(db.put("b", "2") == errc::ok);
  CHECK(db.sync() == errc::io);            // sync #2 fails
  CHECK(db.put("c", "3") == errc::io);
  CHECK(db.get("b")->str() == "2");        // handed-over commits stay visible
  CHECK(db.get("c").code() == errc::not_found);
  db = store();
  store again = must_open(disk, {}, {});
  CHECK(again.size() == 2);
  CHECK(again.put("c", "3") == errc::ok);
}

TEST_CASE("put_stream failing at any of its appends commits nothing", "[storage]") {
  SIMDR_SEEDED(seed, "faults-stream");
  std::mt19937_64 rng(seed);
  std::string value((3u << 20) + 5, '\0');  // 3 whole 1 MiB chunks, 5 bytes, 3 bytes of padding
  for (auto& c : value) c = static_cast<char>(rng());
  // put_stream appends: the pending header, chunks 0..2, the last 5 bytes, the padding.
  constexpr std::int64_t stream_appends = 6;
  for (std::int64_t fail = 0; fail <= stream_appends; ++fail) {
    for (std::uint64_t torn : {std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{100000}}) {
      if (fail == stream_appends && torn != 0) continue;
      INFO("append " << fail << " of the stream fails after " << torn << " bytes; piece size");
      auto disk = std::make_shared<fault_disk>();
      // append #0: header; #1, #2: two puts; the stream starts at #3.
      store db = must_open(disk, {.fail_append_at = 3 + fail, .torn_bytes = torn});
      REQUIRE(db.put("k1", "v1") == errc::ok);
      REQUIRE(db.put("s", "old") == errc::ok);
      const std::vector<std::byte> committed = disk->bytes;
      const std::size_t piece = 1 + rng() % 300000;
      INFO(piece);
      const status st = db.put_stream("s", streamer{value, piece});
      if (fail == stream_appends) {
        // sanity: the stream makes exactly `stream_appends` appends, so every one was failed
        REQUIRE(st == errc::ok);
        CHECK(db.get("s")->str() == value);
        continue;
      }
      CHECK(st == errc::no_space);
      CHECK((disk->bytes == committed));
      CHECK(db.get("s")->str() == "old");
      CHECK(db.size() == 2);
      REQUIRE(db.put("k2", "v2") == errc::ok);  // the handle still works
      db = store();
      store again = must_open(disk, {}, {});
      CHECK_FALSE(again.report().tail_dropped);
      CHECK(again.get("s")->str() == "old");
      CHECK(again.get("k2")->str() == "v2");
      CHECK(again.size() == 3);
      CHECK(again.verify()->is_ok());
    }
  }
}

TEST_CASE("put_stream whose source fails or overflows commits nothing", "[storage]") {
  std::string value(5u << 20, 'x');
  for (int fail_call = 0; fail_call < 8; ++fail_call) {
    INFO("source fails at call " << fail_call);
    auto disk = std::make_shared<fault_disk>();
    store db = must_open(disk);
    REQUIRE(db.put("k", "v") == errc::ok);
    const std::vector<std::byte> committed = disk->bytes;
    int calls = 0;
    std::size_t pos = 0;
    auto source = [&](std::span<std::byte> buf) -> result<std::size_t> {
      if (calls++ == fail_call) return status{errc::io, 42};
      const std::size_t n = std::min<std::size_t>({buf.size(), value.size() - pos, 700000});
      std::memcpy(buf.data(), value.data() + pos, n);
      pos += n;
      return n;
    };
    const status st = db.put_stream("s", source);
    CHECK(st == errc::io);
    CHECK(st.sys_errno == 42);
    CHECK((disk->bytes == committed));
    CHECK(db.get("s").code() == errc::not_found);
    REQUIRE(db.put("after", "ok") == errc::ok);
  }
  auto disk = std::make_shared<fault_disk>();
  store db = must_open(disk);
  const std::vector<std::byte> committed = disk->bytes;
  auto liar = [](std::span<std::byte> buf) -> result<std::size_t> { return buf.size() + 1; };
  CHECK(db.put_stream("s", liar) == errc::invalid_argument);
  CHECK((disk->bytes == committed));
  CHECK(db.size() == 0);
}
