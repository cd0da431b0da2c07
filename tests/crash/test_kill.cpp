// test_kill.cpp - kill -9 at random moments (tests/crash/crash_child.cpp is the victim).
//
// A child process writes batches (one commit each) and acknowledges each on stdout. The test
// SIGKILLs it after a random delay, reopens the file and checks the PREFIX RULE: the batches
// in the file are exactly 0..M-1, each complete with the exact values the child writes, every
// acknowledged batch is present (a process crash loses nothing handed to the OS, with
// durability none as with commit), and at most the one commit in flight after the last
// acknowledgement may be present too. Then it restarts the child on the same file, which
// resumes at batch M, and kills it again.
//
// Cycles: SIMDR_KILL_CYCLES (default 200) in total, split across the two durability modes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <thread>

#include "crash/kill_protocol.hpp"
#include "support/test_support.hpp"

extern char** environ;

using namespace simdr;

namespace {

using test::kill_protocol::batch_size;
using test::kill_protocol::value_char;
using test::kill_protocol::value_size;

std::string slurp_text(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

class child_process {
 public:
  child_process(const std::string& file, std::uint64_t seed, const char* mode,
                const std::string& stderr_path) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    REQUIRE(posix_spawn_file_actions_init(&fa) == 0);
    REQUIRE(posix_spawn_file_actions_adddup2(&fa, p[1], 1) == 0);
    REQUIRE(posix_spawn_file_actions_addopen(&fa, 2, stderr_path.c_str(),
                                             O_WRONLY | O_CREAT | O_APPEND, 0644) == 0);
    const std::string seed_s = std::to_string(seed);
    std::string exe = SIMDR_CRASH_CHILD;
    std::string f = file, m = mode;
    char* argv[] = {exe.data(), f.data(), const_cast<char*>(seed_s.c_str()), m.data(), nullptr};
    const int rc = ::posix_spawn(&pid_, exe.c_str(), &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(p[1]);
    if (rc != 0) ::close(p[0]);
    INFO("posix_spawn " << exe << ": " << std::strerror(rc));
    REQUIRE(rc == 0);
    out_ = p[0];
  }
  ~child_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // Waits up to `timeout` for a complete line; nullopt on EOF (the child died) or timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = text_.find('\n', consumed_); nl != std::string::npos) {
        std::string line = text_.substr(consumed_, nl - consumed_);
        consumed_ = nl + 1;
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd pfd{out_, POLLIN, 0};
      const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return std::nullopt;
      if (!fill()) return std::nullopt;
    }
  }

  // SIGKILL, reap, and read what the child wrote before it died. Returns the wait status.
  int kill_and_reap() {
    ::kill(pid_, SIGKILL);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    while (fill()) {
    }
    return st;
  }

  // Complete lines not yet returned by read_line (a torn last line is not included).
  std::vector<std::string> rest_lines() {
    std::vector<std::string> out;
    for (;;) {
      const auto nl = text_.find('\n', consumed_);
      if (nl == std::string::npos) break;
      out.push_back(text_.substr(consumed_, nl - consumed_));
      consumed_ = nl + 1;
    }
    return out;
  }

 private:
  bool fill() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      text_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string text_;
  std::size_t consumed_ = 0;
};

struct file_state {
  std::uint64_t seed = 0;       // the child's seed for this file (fixes n(b))
  std::uint64_t present = 0;    // M: batches 0..M-1 were in the file at the last check
  std::uint64_t acked = 0;      // every batch below this was acknowledged
};

struct stats {
  std::uint64_t cycles = 0, acks = 0, killed_before_ready = 0, unacked_present = 0,
                tails_dropped = 0, batches = 0;
};

// Checks the prefix rule on `path` and returns M. `lo`/`hi`: the range M must fall in.
std::uint64_t check_prefix(const std::string& path, const file_state& fs, std::uint64_t lo,
                           std::uint64_t hi, bool read_only, stats& st,
                           const std::vector<std::string>& fill) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) || std::filesystem::file_size(path, ec) == 0) {
    // killed before the header was written: then nothing was ever acknowledged
    REQUIRE(lo == 0);
    return 0;
  }
  auto opened = store::open(path, {.read_only = read_only});
  INFO("open " << (read_only ? "read-only" : "read-write") << ": " << to_string(opened.code())
               << " at offset " << opened.error().offset);
  REQUIRE(opened);
  const store& db = *opened;
  st.tails_dropped += db.report().tail_dropped;
  std::vector<std::uint32_t> count;
  std::ostringstream bad;
  std::uint64_t keys = 0;
  for (const auto& e : db.entries()) {
    ++keys;
    const std::string k(e.key_str());
    unsigned long long b = 0, i = 0;
    char tail = 0;
    if (std::sscanf(k.c_str(), "b%llu-%llu%c", &b, &i, &tail) != 2 ||
        k != test::kill_protocol::key(b, i)) {
      bad << "unexpected key " << k << "; ";
      continue;
    }
    if (i >= batch_size(fs.seed, b)) bad << "key " << k << " past its batch size; ";
    if (e.size() != value_size(b, i) ||
        std::memcmp(e.data(), fill[static_cast<std::size_t>(value_char(b, i) - 'a')].data(),
                    e.size()) != 0)
      bad << "wrong value under " << k << " (" << e.size() << " bytes); ";
    if (b > 10'000'000) {
      bad << "absurd batch " << b << "; ";
      continue;
    }
    if (count.size() <= b) count.resize(b + 1);
    ++count[b];
  }
  const std::uint64_t m = count.size();
  std::uint64_t expect_keys = 0;
  for (std::uint64_t b = 0; b < m; ++b) {
    expect_keys += batch_size(fs.seed, b);
    if (count[b] != batch_size(fs.seed, b))
      bad << "batch " << b << " has " << count[b] << " of " << batch_size(fs.seed, b) << " keys; ";
  }
  if (keys != db.size()) bad << "entries() yields " << keys << " keys, size() " << db.size() << "; ";
  if (keys != expect_keys) bad << keys << " keys, batches 0.." << m << " hold " << expect_keys << "; ";
  const std::string problems = bad.str();
  INFO("batches present: 0.." << m << " (expected between " << lo << " and " << hi
                              << "); acknowledged: 0.." << fs.acked << "; " << problems);
  REQUIRE(problems.empty());
  REQUIRE(m >= lo);
  REQUIRE(m <= hi);
  REQUIRE(m >= fs.acked);  // no acknowledged batch is lost
  st.batches = std::max(st.batches, m);
  return m;
}

void run_mode(const char* mode, std::uint64_t cycles, std::uint64_t seed, stats& st) {
  std::mt19937_64 rng(seed);
  test::temp_dir dir;
  const std::string err = dir.file("child.stderr");
  std::vector<std::string> fill(26);
  for (int c = 0; c < 26; ++c) fill[static_cast<std::size_t>(c)].assign(3000, static_cast<char>('a' + c));
  constexpr std::uint64_t cycles_per_file = 25;  // bounds the file size (and checking time)
  file_state fs;
  std::string path;
  for (std::uint64_t cycle = 0; cycle < cycles; ++cycle) {
    if (cycle % cycles_per_file == 0) {
      if (!path.empty()) {
        store db = test::open_ok(path, {});  // full verification at the end of a file's life
        REQUIRE(db.verify()->is_ok());
      }
      path = dir.file("kill" + std::to_string(cycle) + ".simdr");
      fs = file_state{rng(), 0, 0};
    }
    // Mostly kill while it writes; sometimes early, while it may still be opening (recovery).
    const bool wait_ready = rng() % 4 != 0;
    const auto delay = std::chrono::microseconds(rng() % (wait_ready ? 20001 : 3001));
    const bool check_read_only = rng() % 2 == 0;
    INFO("mode " << mode << ", cycle " << cycle << ", file " << path << ", child seed " << fs.seed
                 << ", wait for ready " << wait_ready << ", delay " << delay.count() << " us");
    child_process child(path, fs.seed, mode, err);
    std::optional<std::uint64_t> ready;
    if (wait_ready) {
      auto line = child.read_line(std::chrono::seconds(30));
      if (!line || line->rfind("ready ", 0) != 0) {
        const int ws = child.kill_and_reap();
        INFO("child stderr: " << slurp_text(err) << "; wait status " << ws << "; line "
                              << line.value_or("<none>"));
        FAIL("the child did not report ready");
      }
      ready = std::stoull(line->substr(6));
    }
    std::this_thread::sleep_for(delay);
    const int ws = child.kill_and_reap();
    if (!WIFSIGNALED(ws) || WTERMSIG(ws) != SIGKILL) {
      INFO("child stderr: " << slurp_text(err) << "; wait status " << ws);
      FAIL("the child did not die of SIGKILL");
    }
    // Parse what it acknowledged: "ready <b>" then "ack <b> <n>" for b, b+1, ...
    std::optional<std::uint64_t> last_ack;
    for (const std::string& line : child.rest_lines()) {
      INFO("line: " << line);
      unsigned long long b = 0, n = 0;
      if (std::sscanf(line.c_str(), "ready %llu", &b) == 1) {
        REQUIRE_FALSE(ready);
        ready = b;
      } else if (std::sscanf(line.c_str(), "ack %llu %llu", &b, &n) == 2) {
        REQUIRE(ready);
        REQUIRE(b == (last_ack ? *last_ack + 1 : *ready));
        REQUIRE(n == batch_size(fs.seed, b));
        last_ack = b;
        ++st.acks;
      } else {
        FAIL("unexpected output");
      }
    }
    if (ready) REQUIRE(*ready == fs.present);  // the child resumes right after the prefix
    if (last_ack) fs.acked = *last_ack + 1;
    // M is exactly what was there if the child never got to write; else at most one commit
    // beyond its last acknowledgement.
    std::uint64_t lo = fs.present, hi = fs.present;
    if (ready) {
      lo = last_ack ? *last_ack + 1 : *ready;
      hi = lo + 1;
    } else {
      ++st.killed_before_ready;
    }
    const std::uint64_t m = check_prefix(path, fs, lo, hi, check_read_only, st, fill);
    st.unacked_present += m > fs.acked;
    fs.present = m;
    ++st.cycles;
  }
  store db = test::open_ok(path, {});
  REQUIRE(db.verify()->is_ok());
}

std::uint64_t kill_cycles() {
  if (const char* s = std::getenv("SIMDR_KILL_CYCLES")) return std::strtoull(s, nullptr, 10);
  return 200;
}

}  // namespace

TEST_CASE("kill -9 at random moments keeps a prefix of the commits", "[crash]") {
  SIMDR_SEEDED(seed, "kill");
  const std::uint64_t total = kill_cycles();
  INFO(total << " kill cycles (SIMDR_KILL_CYCLES)");
  for (const char* mode : {"none", "commit"}) {
    stats st;
    const auto t0 = std::chrono::steady_clock::now();
    run_mode(mode, (total + 1) / 2, seed ^ (mode[0] == 'n' ? 0 : 0x5bd1e995), st);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - t0).count();
    std::printf("kill test, durability %s: %llu cycles in %lld ms, %llu acks, largest file %llu "
                "batches, %llu kills before ready, %llu unacknowledged commits found, %llu torn "
                "tails\n",
                mode, static_cast<unsigned long long>(st.cycles), static_cast<long long>(ms),
                static_cast<unsigned long long>(st.acks), static_cast<unsigned long long>(st.batches),
                static_cast<unsigned long long>(st.killed_before_ready),
                static_cast<unsigned long long>(st.unacked_present),
                static_cast<unsigned long long>(st.tails_dropped));
    CHECK(st.cycles == (total + 1) / 2);
    if (total >= 20) CHECK(st.acks > 0);  // the children did get to write
  }
}
