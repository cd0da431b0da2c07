// test_multiprocess.cpp - one writer per file across processes and handles, read-only handles
// following a writer (refresh) and a compacted (replaced) file. Children are made with fork():
// the test process is single-threaded when it forks; a child only opens stores, writes, and
// leaves with _exit(code) (no Catch in the child: a non-zero code names the failed step).
#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace {

using namespace simdr;
using simdr::test::open_ok;

struct child {
  pid_t pid = -1;
  int ready_fd = -1;  // the child writes one byte to its end when it reached a checkpoint
};

/// Forks a child running `body(notify_fd)`; its return value becomes the exit code.
child spawn(const std::function<int(int)>& body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::fflush(nullptr);  // no duplicated stdio buffers in the child
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    int rc = 97;
    try {
      rc = body(fds[1]);
    } catch (...) {
      rc = 98;
    }
    ::_exit(rc);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

void notify(int fd) {
  const char c = 'r';
  (void)!::write(fd, &c, 1);
}

/// Waits for the child's checkpoint byte; false on timeout or when the child exited first.
bool wait_ready(const child& c, int timeout_ms = 30000) {
  pollfd p{c.ready_fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return false;
  char b = 0;
  return ::read(c.ready_fd, &b, 1) == 1;
}

/// Waits for the child to end (SIGKILL after `timeout_s`); returns a printable outcome and
/// whether it exited with code 0.
std::string wait_exit(child& c, bool& ok, int timeout_s = 60) {
  int st = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    const pid_t r = ::waitpid(c.pid, &st, WNOHANG);
    if (r == c.pid) break;
    if (std::chrono::steady_clock::now() > until) {
      ::kill(c.pid, SIGKILL);
      (void)::waitpid(c.pid, &st, 0);
      ok = false;
      if (c.ready_fd >= 0) ::close(c.ready_fd);
      c.ready_fd = -1;
      return "timed out (killed)";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (c.ready_fd >= 0) ::close(c.ready_fd);
  c.ready_fd = -1;
  ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  if (WIFEXITED(st)) return "exit code " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st))
    return "killed by signal " + std::to_string(WTERMSIG(st)) + " (" + strsignal(WTERMSIG(st)) + ")";
  return "status " + std::to_string(st);
}

#define REQUIRE_CHILD_OK(c)                        \
  do {                                             \
    bool child_ok_ = false;                        \
    const std::string how_ = wait_exit(c, child_ok_); \
    INFO("child " << how_);                        \
    REQUIRE(child_ok_);                            \
  } while (0)

std::string value_for(const std::string& key, int version) {
  return key + "#" + std::to_string(version) + std::string(static_cast<std::size_t>(version * 37 % 900), 'p');
}

}  // namespace

TEST_CASE("a second writer is refused at once with errc::locked (other process, same process)",
          "[storage]") {
  test::temp_dir dir;
  const std::string path = dir.file("lock.simdr");
  {
    store w = open_ok(path);
    REQUIRE(w.put("parent", "1") == errc::ok);

    // Another process: fails at once (no waiting), read-only is still allowed.
    child c = spawn([&](int) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = store::open(path, {});
      if (r || r.code() != errc::locked) return 10;
      if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(2)) return 11;  // it waited
      auto ro = store::open(path, {.read_only = true});
      if (!ro || ro->get("parent").code() != errc::ok) return 12;
      return 0;
    });
    REQUIRE_CHILD_OK(c);

    // Another handle in this process.
    auto second = store::open(path, {});
    CHECK(second.code() == errc::locked);
    auto second_create = store::open(path, {.create = true});
    CHECK(second_create.code() == errc::locked);
    auto ro = store::open(path, {.read_only = true});
    REQUIRE(ro);
    CHECK(ro->get("parent")->str() == "1");

    // The lock follows the file through compaction (the replacement is locked before the rename).
    REQUIRE(w.put("parent", "2") == errc::ok);
    REQUIRE(w.compact());
    CHECK(store::open(path, {}).code() == errc::locked);
    child c2 = spawn([&](int) { return store::open(path, {}).code() == errc::locked ? 0 : 20; });
    REQUIRE_CHILD_OK(c2);
    REQUIRE(w.put("parent", "3") == errc::ok);  // and the writer can still write
  }
  // Closed by the parent: another process may now write.
  child c3 = spawn([&](int) {
    auto r = store::open(path, {});
    if (!r) return 30;
    if (r->put("child", "was here") != errc::ok) return 31;
    return 0;
  });
  REQUIRE_CHILD_OK(c3);
  store again = open_ok(path, {});
  CHECK(again.get("child")->str() == "was here");
  CHECK(again.get("parent")->str() == "3");
  // And after this process closes its handle, a new handle of this process may write too.
  REQUIRE(again.close() == errc::ok);
  store third = open_ok(path, {});
  CHECK(third.size() == 2);
}

TEST_CASE("the writer lock is released when the writer process dies", "[storage]") {
  test::temp_dir dir;
  const std::string path = dir.file("dead.simdr");
  child c = spawn([&](int ready) {
    auto r = store::open(path, {.create = true});
    if (!r) return 10;
    if (r->put("from-child", "committed") != errc::ok) return 11;
    notify(ready);
    for (;;) ::pause();  // holds the lock until SIGKILL
  });
  REQUIRE(wait_ready(c));
  CHECK(store::open(path, {}).code() == errc::locked);
  ::kill(c.pid, SIGKILL);
  int st = 0;
  REQUIRE(::waitpid(c.pid, &st, 0) == c.pid);
  ::close(c.ready_fd);
  CHECK(WIFSIGNALED(st));
  store w = open_ok(path, {});
  CHECK(w.get("from-child")->str() == "committed");
  CHECK_FALSE(w.report().tail_dropped);
  REQUIRE(w.put("after", "death") == errc::ok);
}

TEST_CASE("a read-only handle sees another process's commits only after refresh()", "[storage]") {
  test::temp_dir dir;
  const std::string path = dir.file("follow.simdr");
  {
    store w = open_ok(path);
    for (int i = 0; i < 50; ++i) REQUIRE(w.put("base-" + std::to_string(i), value_for("base", i)) == errc::ok);
  }
  store ro = open_ok(path, {.read_only = true});
  REQUIRE(ro.size() == 50);
  auto old_view = ro.get("base-7");
  REQUIRE(old_view);
  const std::uint64_t size0 = ro.file_size();

  // Child: a batch of 100, 10 single puts, 5 erases (tombstones), one overwrite = 116 entries.
  child c = spawn([&](int) {
    auto r = store::open(path, {});
    if (!r) return 10;
    std::vector<std::string> keys, vals;
    for (int i = 0; i < 100; ++i) {
      keys.push_back("child-" + std::to_string(i));
      vals.push_back(value_for("child", i));
    }
    std::vector<key_value> kv;
    for (int i = 0; i < 100; ++i) kv.push_back({keys[i], vals[i]});
    if (r->put_batch(kv) != errc::ok) return 11;
    for (int i = 0; i < 10; ++i)
      if (r->put("single-" + std::to_string(i), value_for("single", i)) != errc::ok) return 12;
    for (int i = 0; i < 5; ++i) {
      auto e = r->erase("base-" + std::to_string(i));
      if (!e || !*e) return 13;
    }
    if (r->put("base-7", "overwritten") != errc::ok) return 14;
    return 0;
  });
  REQUIRE_CHILD_OK(c);

  // Nothing new before refresh().
  CHECK(ro.size() == 50);
  CHECK(ro.file_size() == size0);
  CHECK(ro.get("child-0").code() == errc::not_found);
  CHECK(ro.get("base-0")->str() == value_for("base", 0));
  CHECK(ro.get("base-7")->str() == value_for("base", 7));

  auto rep = ro.refresh();
  REQUIRE(rep);
  CHECK_FALSE(rep->replaced);
  CHECK(rep->new_entries == 116);
  CHECK(ro.size() == 50 + 100 + 10 - 5);
  CHECK(ro.file_size() == std::filesystem::file_size(path));
  CHECK(ro.get("child-99")->str() == value_for("child", 99));
  CHECK(ro.get("single-3")->str() == value_for("single", 3));
  CHECK(ro.get("base-0").code() == errc::not_found);
  CHECK(ro.get("base-7")->str() == "overwritten");
  CHECK(old_view->str() == value_for("base", 7));  // the old view is unchanged
  std::size_t walked = 0;
  for (const entry_view& e : ro.entries()) walked += e.key_str().empty() ? 0 : 1;
  CHECK(walked == ro.size());
  CHECK(ro.verify()->is_ok());

  auto again = ro.refresh();  // nothing more
  REQUIRE(again);
  CHECK(again->new_entries == 0);
  CHECK_FALSE(again->replaced);
  CHECK(ro.put("x", "y") == errc::read_only);
  CHECK(ro.compact().code() == errc::read_only);
}

namespace {

/// A writer (made by `compact_writer`) compacts the file while `ro` is open; checks that
/// `ro` keeps serving the old file until refresh(), then reports replaced and shows the
/// compacted content, and that views it handed out before stay valid.
void follow_compaction(const std::string& path, const std::function<void()>& compact_writer) {
  {
    store w = open_ok(path);
    for (int round = 0; round < 4; ++round)
      for (int i = 0; i < 300; ++i)
        REQUIRE(w.put("k" + std::to_string(i), value_for("k" + std::to_string(i), round)) == errc::ok);
  }
  store ro = open_ok(path, {.read_only = true});
  struct kept {
    blob_view view;
    std::string bytes;
  };
  std::vector<kept> views;
  for (int i = 0; i < 300; i += 7) {
    auto v = ro.get("k" + std::to_string(i));
    REQUIRE(v);
    views.push_back({*v, std::string(v->str())});
  }
  for (const entry_view& e : ro.entries()) views.push_back({e, std::string(e.str())});
  const std::uint64_t old_size = ro.file_size();

  compact_writer();  // overwrites k0..k99, erases k100..k149, compacts, then puts "post"

  // Before refresh: still the old file, unchanged.
  CHECK(ro.file_size() == old_size);
  CHECK(ro.get("k0")->str() == value_for("k0", 3));
  CHECK(ro.get("k120")->str() == value_for("k120", 3));
  CHECK(ro.get("post").code() == errc::not_found);

  auto rep = ro.refresh();
  REQUIRE(rep);
  CHECK(rep->replaced);
  CHECK(rep->new_entries == 250 + 1);  // the compacted file: 250 live keys + "post"
  CHECK(ro.size() == 251);
  CHECK(ro.file_size() == std::filesystem::file_size(path));
  CHECK(ro.file_size() < old_size);
  for (int i = 0; i < 300; ++i) {
    const std::string k = "k" + std::to_string(i);
    INFO(k);
    auto v = ro.get(k);
    if (i < 100) CHECK(v->str() == "new-" + k);
    else if (i < 150) CHECK(v.code() == errc::not_found);
    else CHECK(v->str() == value_for(k, 3));
  }
  CHECK(ro.get("post")->str() == "after compaction");
  std::map<std::string, std::string> walked;
  for (const entry_view& e : ro.entries()) walked.emplace(std::string(e.key_str()), std::string(e.str()));
  CHECK(walked.size() == 251);
  CHECK(ro.verify()->is_ok());
  for (const kept& k : views) {
    INFO("view of " << k.view.key_str());
    CHECK(k.view.str() == k.bytes);  // the old file stays mapped until close
  }
  CHECK_FALSE(std::filesystem::exists(path + ".compact"));
  auto again = ro.refresh();
  REQUIRE(again);
  CHECK_FALSE(again->replaced);
  CHECK(again->new_entries == 0);
}

int compact_as_writer(const std::string& path) {
  auto r = store::open(path, {});
  if (!r) return 10;
  for (int i = 0; i < 100; ++i)
    if (r->put("k" + std::to_string(i), "new-k" + std::to_string(i)) != errc::ok) return 11;
  for (int i = 100; i < 150; ++i) {
    auto e = r->erase("k" + std::to_string(i));
    if (!e || !*e) return 12;
  }
  auto c = r->compact();
  if (!c || c->entries_kept != 250) return 13;
  if (r->put("post", "after compaction") != errc::ok) return 14;
  return 0;
}

}  // namespace

TEST_CASE("a read-only handle follows a file compacted by another process", "[storage]") {
  test::temp_dir dir;
  const std::string path = dir.file("compacted.simdr");
  follow_compaction(path, [&] {
    child c = spawn([&](int) { return compact_as_writer(path); });
    REQUIRE_CHILD_OK(c);
  });
}

TEST_CASE("a read-only handle follows a file compacted by another handle", "[storage]") {
  test::temp_dir dir;
  const std::string path = dir.file("compacted.simdr");
  follow_compaction(path, [&] { REQUIRE(compact_as_writer(path) == 0); });
}

TEST_CASE("a read-only handle follows several compactions and commits in between", "[storage]") {
  test::temp_dir dir;
  const std::string path = dir.file("multi.simdr");
  store w = open_ok(path);
  REQUIRE(w.put("a", "1") == errc::ok);
  store ro = open_ok(path, {.read_only = true});
  auto view_a1 = ro.get("a");
  REQUIRE(view_a1);
  for (int round = 2; round < 6; ++round) {
    INFO("round " << round);
    REQUIRE(w.put("a", std::to_string(round)) == errc::ok);
    REQUIRE(w.put("r" + std::to_string(round), "x") == errc::ok);
    REQUIRE(w.compact());
    REQUIRE(w.put("tail" + std::to_string(round), "t") == errc::ok);  // a commit after compaction
    auto rep = ro.refresh();
    REQUIRE(rep);
    CHECK(rep->replaced);
    CHECK(ro.get("a")->str() == std::to_string(round));
    CHECK(ro.get("tail" + std::to_string(round))->str() == "t");
    CHECK(ro.size() == w.size());
    REQUIRE(w.put("b" + std::to_string(round), "y") == errc::ok);
    auto rep2 = ro.refresh();
    REQUIRE(rep2);
    CHECK_FALSE(rep2->replaced);
    CHECK(rep2->new_entries == 1);
    CHECK(ro.size() == w.size());
  }
  CHECK(view_a1->str() == "1");
}

TEST_CASE("read-only handles see an unfinished put_stream only once it commits", "[storage]") {
  test::temp_dir dir;
  const std::string path = dir.file("stream.simdr");
  store w = open_ok(path);
  REQUIRE(w.put("a", "1") == errc::ok);
  store early = open_ok(path, {.read_only = true});
  store late;
  std::size_t fed = 0;
  const std::size_t total = (std::size_t{5} << 20) / 2 + 123;
  // Checked inside the source (no Catch assertion may throw through put_stream: noexcept).
  bool mid_checked = false, early_saw_nothing = false, late_opened = false;
  open_report late_report{};
  std::uint64_t late_size = 99;
  errc late_big = errc::ok;
  auto source = [&](std::span<std::byte> buf) -> result<std::size_t> {
    if (!mid_checked && fed > (std::size_t{3} << 20) / 2) {
      // More than 1 MiB of the pending entry is in the file now.
      mid_checked = true;
      auto r = early.refresh();
      early_saw_nothing = r && r->new_entries == 0 && !r->replaced;
      auto o = store::open(path, {.read_only = true});
      if (o) {
        late_opened = true;
        late = std::move(*o);
        late_report = late.report();
        late_size = late.size();
        late_big = late.get("big").code();
      }
    }
    const std::size_t n = std::min<std::size_t>({buf.size(), total - fed, 50000});
    for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<std::byte>((fed + i) * 7 % 251);
    fed += n;
    return n;
  };
  REQUIRE(w.put_stream("big", source) == errc::ok);
  REQUIRE(mid_checked);
  CHECK(early_saw_nothing);
  REQUIRE(late_opened);
  CHECK(late_report.tail_dropped);        // the unfinished stream is a tail...
  CHECK_FALSE(late_report.tail_truncated);  // ...which a read-only open leaves alone
  CHECK(late_size == 1);
  CHECK(late_big == errc::not_found);
  for (store* r : {&early, &late}) {
    auto rep = r->refresh();
    REQUIRE(rep);
    CHECK(rep->new_entries == 1);
    auto v = r->get("big");
    REQUIRE(v);
    REQUIRE(v->size() == total);
    bool same = true;
    for (std::size_t i = 0; i < total && same; ++i)
      same = v->data()[i] == static_cast<std::byte>(i * 7 % 251);
    CHECK(same);
    CHECK(r->size() == 2);
    CHECK(r->verify()->is_ok());
  }
}

// Regression: posix_storage::reload_size() used to never shrink the read-only handle's size.
// When the writer truncated uncommitted bytes that the reader's refresh() had already seen (a
// put_stream whose source fails, or recovery of a torn tail by the next writer), the reader's
// image still claimed the vanished bytes and the next refresh() scanned them through the
// mapping: pages past the end of the file raised SIGBUS (the child dies with signal 7).
TEST_CASE("refresh() after the writer truncated a failed put_stream it had seen", "[storage]") {
  test::temp_dir dir;
  const std::string path = dir.file("shrink.simdr");
  // In a child: the expected failure mode is a crash (SIGBUS), which must not take the test
  // runner down.
  child c = spawn([&](int) {
    auto w = store::open(path, {.create = true});
    if (!w) return 10;
    if (w->put("before", "1") != errc::ok) return 11;
    auto ro = store::open(path, {.read_only = true});
    if (!ro) return 12;
    std::size_t fed = 0;
    bool refreshed = false;
    auto source = [&](std::span<std::byte> buf) -> result<std::size_t> {
      if (fed >= (std::size_t{3} << 20) / 2) {
        // More than 1 MiB has reached the file (the stream flushes each full MiB): the
        // reader sees an unfinished stream, commits nothing, but takes in the new size.
        auto rep = ro->refresh();
        refreshed = rep && rep->new_entries == 0;
        return errc::io;  // the stream fails: the writer truncates its bytes away
      }
      const std::size_t n = std::min<std::size_t>(buf.size(), 65536);
      std::memset(buf.data(), 'z', n);
      fed += n;
      return n;
    };
    if (w->put_stream("big", source) != errc::io) return 13;
    if (!refreshed) return 14;
    if (w->put("after", "2") != errc::ok) return 15;
    auto rep = ro->refresh();  // SIGBUS here with the bug
    if (!rep) return 16;
    if (rep->new_entries != 1) return 17;
    auto v = ro->get("after");
    if (!v || v->str() != "2") return 18;
    if (ro->file_size() != w->file_size()) return 19;
    return 0;
  });
  REQUIRE_CHILD_OK(c);
}

// The same regression through crash recovery: a writer died in the middle of a large commit, a
// reader refreshed and took in the torn bytes, then the next writer's open truncated them.
TEST_CASE("refresh() after the next writer truncated a torn tail the reader had seen", "[storage]") {
  test::temp_dir dir;
  const std::string path = dir.file("torn.simdr");
  child c = spawn([&](int) {
    {
      auto w = store::open(path, {.create = true});
      if (!w || w->put("before", "1") != errc::ok) return 10;
    }
    auto ro = store::open(path, {.read_only = true});
    if (!ro) return 11;
    {
      // The debris of a crashed writer: 256 KiB that do not decode (appended like a torn write).
      std::FILE* f = std::fopen(path.c_str(), "ab");
      if (f == nullptr) return 12;
      const std::string junk(256 * 1024, '\xff');
      if (std::fwrite(junk.data(), 1, junk.size(), f) != junk.size()) return 13;
      std::fclose(f);
    }
    auto seen = ro->refresh();  // takes in the new size; the debris is a tail, nothing new
    if (!seen || seen->new_entries != 0) return 14;
    auto w = store::open(path, {});  // recovery truncates the torn tail
    if (!w || !w->report().tail_truncated) return 15;
    if (w->put("after", "2") != errc::ok) return 16;
    auto rep = ro->refresh();  // SIGBUS here with the bug
    if (!rep || rep->new_entries != 1) return 17;
    auto v = ro->get("after");
    if (!v || v->str() != "2") return 18;
    return 0;
  });
  REQUIRE_CHILD_OK(c);
}


// Regression: refresh() used to read bytes past the committed end THROUGH THE MAPPING, and
// another process may truncate them at any moment (put_stream failure, fail_write(), recovery
// at open): a truncation between refresh()'s fstat and its scan made it touch pages past the
// new end of file (SIGBUS). Read-only handles now find the committed end with pread into a
// private window (store.cpp index_log, scan.hpp window_log). Here a reader thread
// refreshes in a loop while the writer's put_streams fail after 1 MiB (each failure truncates
// ~1 MiB); it usually dies within a few seconds. In a child, so the crash fails the test only.
TEST_CASE("refresh() racing a writer whose failed put_streams truncate the file", "[storage]") {
  test::temp_dir dir;
  const std::string path = dir.file("race.simdr");
  child c = spawn([&](int) {
    auto w = store::open(path, {.create = true});
    if (!w || w->put("a", "1") != errc::ok) return 10;
    std::vector<store> readers;  // several read-only handles widen the window
    for (int i = 0; i < 3; ++i) {
      auto ro = store::open(path, {.read_only = true});
      if (!ro) return 11;
      readers.push_back(std::move(*ro));
    }
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (store& ro : readers)
      threads.emplace_back([&stop, &bad, &ro] {
        while (!stop.load()) {
          auto r = ro.refresh();
          if (!r) bad = 1;
        }
      });
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
    while (std::chrono::steady_clock::now() < until && bad.load() == 0) {
      std::size_t fed = 0;
      auto source = [&](std::span<std::byte> buf) -> result<std::size_t> {
        if (fed >= (std::size_t{1} << 20) + 4096) return errc::io;  // after one 1 MiB flush
        const std::size_t n = std::min<std::size_t>(buf.size(), 1 << 20);
        std::memset(buf.data(), 'q', n);
        fed += n;
        return n;
      };
      if (w->put_stream("big", source) != errc::io) bad = 2;
    }
    stop = true;
    for (auto& t : threads) t.join();
    return bad.load() == 0 ? 0 : 20 + bad.load();
  });
  REQUIRE_CHILD_OK(c);
}
