// test_cli_streams.cpp - `simdr` with real streams: values far larger than the tool's memory
// through pipes (the 5 GiB one is tagged [large]), readers that go away, failing and killed
// writers, progress bars on a pseudo-terminal, and the W1 benchmark.
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "cli_test_util.hpp"
#include "simdr/simdr.hpp"

using namespace simdr::cli_test;
namespace fs = std::filesystem;

namespace {

/// A reproducible byte stream of any length that can be regenerated at any position: a 1 MiB
/// random block repeated, with the block number written into the first 8 bytes of each
/// repetition (so dropped, repeated or reordered blocks and shifted bytes are all detected).
class pattern {
 public:
  static constexpr std::size_t block = std::size_t{1} << 20;
  explicit pattern(std::uint64_t seed) : base_(block) {
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < block; i += 8) {
      const std::uint64_t x = rng();
      std::memcpy(base_.data() + i, &x, 8);
    }
  }
  /// Writes bytes [pos, pos + n) of the stream to dst.
  void fill(std::uint64_t pos, char* dst, std::size_t n) const {
    while (n > 0) {
      const std::uint64_t b = pos / block;
      const auto off = static_cast<std::size_t>(pos % block);
      const std::size_t take = std::min(n, block - off);
      std::memcpy(dst, base_.data() + off, take);
      for (std::size_t i = off; i < 8 && i < off + take; ++i)
        dst[i - off] = static_cast<char>((b ^ 0x5a5a5a5a5a5a5a5aULL) >> (8 * i));
      dst += take;
      pos += take;
      n -= take;
    }
  }

 private:
  std::vector<char> base_;
};

/// Streams `size` bytes of `pat` into `simdr put FILE KEY` and back out of `simdr get`,
/// comparing every byte as it arrives. Returns the two runs.
std::pair<run_result, run_result> round_trip(const std::string& file, std::uint64_t size,
                                             const pattern& pat) {
  run_options put;
  std::uint64_t sent = 0;
  put.stdin_source = [&](std::span<char> buf) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - sent));
    pat.fill(sent, buf.data(), n);
    sent += n;
    return n;
  };
  run_result p = run({"put", file, "big"}, put);
  REQUIRE(sent == size);

  run_options get;
  std::uint64_t received = 0, mismatches = 0;
  std::vector<char> expect;
  get.stdout_sink = [&](std::string_view chunk) {
    expect.resize(chunk.size());
    pat.fill(received, expect.data(), chunk.size());
    if (std::memcmp(expect.data(), chunk.data(), chunk.size()) != 0) ++mismatches;
    received += chunk.size();
  };
  run_result g = run({"get", file, "big"}, get);
  CHECK(received == size);
  CHECK(mismatches == 0);
  return {std::move(p), std::move(g)};
}

}  // namespace

TEST_CASE("a 256 MiB value streams through put and get with a small resident set", "[cli][pipe][stream]") {
  temp_dir d;
  const std::string f = d.file("s.simdr");
  const std::uint64_t size = (std::uint64_t{256} << 20) + 12345;  // not a multiple of any chunk
  const pattern pat(7);
  auto [p, g] = round_trip(f, size, pat);
  REQUIRE_EXIT(p, 0);
  REQUIRE_EXIT(g, 0);
  INFO("put peak RSS " << p.max_rss_kib << " KiB, get peak RSS " << g.max_rss_kib << " KiB");
  CHECK(p.max_rss_kib < 64 * 1024);
  CHECK(g.max_rss_kib < 64 * 1024);
  const json meta = parse_json(run({"meta", "--json", f, "big"}));
  CHECK(meta["length"] == size);
  CHECK(meta["verified"] == true);
}

TEST_CASE("a 5 GiB value through put and get pipes, memory stays small", "[cli][pipe][stream][large]") {
  temp_dir d;
  const std::uint64_t size = (std::uint64_t{5} << 30) + 4097;
  const auto space = fs::space(d.path());
  if (space.available < (std::uint64_t{16} << 30)) {
    WARN("skipped: " << d.path() << " has " << (space.available >> 30) << " GiB free, needs 16");
    return;
  }
  const pattern pat(11);
  const std::string f = d.file("large.simdr");
  auto [p, g] = round_trip(f, size, pat);
  REQUIRE_EXIT(p, 0);
  REQUIRE_EXIT(g, 0);
  INFO("put " << p.seconds << " s, peak RSS " << p.max_rss_kib << " KiB; get " << g.seconds
              << " s, peak RSS " << g.max_rss_kib << " KiB");
  CHECK(p.max_rss_kib < 64 * 1024);  // the value is 5 GiB: a copy, or a mapped read, shows
  CHECK(g.max_rss_kib < 64 * 1024);
  const json info = parse_json(run({"info", "--json", f}));
  CHECK(info["file_size"].get<std::uint64_t>() > size);
}

TEST_CASE("get into a reader that goes away ends quietly with status 3", "[cli][pipe][get]") {
  temp_dir d;
  const std::string f = d.file("e.simdr");
  const pattern pat(3);
  std::uint64_t sent = 0;
  const std::uint64_t size = std::uint64_t{64} << 20;
  run_options put;
  put.stdin_source = [&](std::span<char> buf) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - sent));
    pat.fill(sent, buf.data(), n);
    sent += n;
    return n;
  };
  REQUIRE_EXIT(run({"put", f, "v"}, put), 0);
  run_options get;
  get.stdout_limit = 1;  // like '| head -c 1'
  run_result r = run({"get", f, "v"}, get);
  REQUIRE_EXIT(r, 3);
  CHECK(r.term_signal == 0);
  CHECK(r.err.empty());
  // keys into a closed pipe: same (4 MB of keys, written in many pieces).
  {
    auto db = simdr::store::open(f, {});
    REQUIRE(db.has_value());
    std::vector<std::string> names;
    for (int i = 0; i < 20000; ++i) names.push_back(std::string(200, 'k') + std::to_string(i));
    std::vector<simdr::key_value> batch;
    for (const auto& n : names) batch.push_back({n, "x"});
    REQUIRE(db->put_batch(batch) == simdr::errc::ok);
  }
  run_options keys;
  keys.stdout_limit = 1;
  r = run({"keys", f}, keys);
  REQUIRE_EXIT(r, 3);
  CHECK(r.err.empty());
  r = run({"keys", f});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out.size() > 4000000);
}

TEST_CASE("put: a failing stdin stores nothing", "[cli][put][errors]") {
  temp_dir d;
  const std::string f = d.file("f.simdr");
  REQUIRE_EXIT(run({"put", f, "k", "before"}), 0);
  const std::uint64_t size = file_size(f);
  run_options o;
  o.stdin_path = d.path().string();  // reading a directory fails with EISDIR
  run_result r = run({"put", f, "k"}, o);
  REQUIRE_EXIT(r, 3);
  REQUIRE_ONE_ERROR_LINE(r, "stdin: read error: Is a directory (nothing was stored)");
  CHECK(file_size(f) == size);
  run_result g = run({"get", f, "k"});
  REQUIRE_EXIT(g, 0);
  CHECK(g.out == "before");
}

TEST_CASE("a put killed mid-stream commits nothing, the next write drops its tail", "[cli][put][recovery]") {
  temp_dir d;
  const std::string f = d.file("k.simdr");
  REQUIRE_EXIT(run({"put", f, "kept", "yes"}), 0);
  const std::uint64_t committed = file_size(f);
  pid_t child = 0;
  std::uint64_t sent = 0;
  run_options o;
  o.on_spawn = [&](pid_t pid) { child = pid; };
  o.stdin_source = [&](std::span<char> buf) -> std::size_t {
    if (sent >= (std::uint64_t{8} << 20)) {
      // 8 MiB are in the pipe or the file: wait until the child has written some, then kill it.
      for (int i = 0; i < 500 && file_size(f) < committed + (std::uint64_t{4} << 20); ++i) ::usleep(10000);
      ::kill(child, SIGKILL);
      return 0;
    }
    std::memset(buf.data(), 'z', buf.size());
    sent += buf.size();
    return buf.size();
  };
  run_result r = run({"put", f, "partial"}, o);
  REQUIRE(r.term_signal == SIGKILL);
  REQUIRE(file_size(f) > committed);  // the pending entry and some of its value are there

  run_result info = run({"info", "--json", f});
  REQUIRE_EXIT(info, 0);
  const json j = parse_json(info);
  CHECK(j["live_keys"] == 1);
  CHECK(j["open_report"]["tail_dropped"] == true);
  CHECK(j["open_report"]["tail_bytes"] == file_size(f) - committed);
  REQUIRE_EXIT(run({"get", f, "partial"}), 1);

  r = run({"put", f, "next", "v"});
  REQUIRE_EXIT(r, 0);
  REQUIRE_ONE_ERROR_LINE(r, "torn tail");
  CHECK(parse_json(run({"info", "--json", f}))["open_report"]["tail_dropped"] == false);
  REQUIRE_EXIT(run({"verify", f}), 0);
}

TEST_CASE("progress bars on a terminal, nothing when stderr is a pipe", "[cli][progress]") {
  temp_dir d;
  const fs::path src = d.path() / "src";
  fs::create_directories(src);
  for (int i = 0; i < 20; ++i) write_file((src / std::string("f").append(std::to_string(i))).string(), std::string(100000, 'p'));
  const std::string f = d.file("p.simdr");
  const std::vector<std::vector<std::string>> jobs = {{"import", "--json", f, src.string()},
                                                      {"export", "--json", f, d.file("out")},
                                                      {"verify", "--json", f},
                                                      {"compact", "--json", f}};
  for (const auto& job : jobs) {
    INFO(job[0]);
    // On a terminal (zero delay before the first frame): a bar on stderr, clean JSON on stdout.
    run_options tty;
    tty.stderr_tty = true;
    tty.env = {"SIMDR_PROGRESS_DELAY_MS=0"};
    run_result r = run(job, tty);
    REQUIRE_EXIT(r, 0);
    CHECK(r.err.find(job[0]) != std::string::npos);
    CHECK(r.err.find('\r') != std::string::npos);
    CHECK(r.err.find("\x1b[K") != std::string::npos);
    if (job[0] == "import" || job[0] == "export") CHECK(r.err.find('%') != std::string::npos);
    CHECK_NOTHROW(json::parse(r.out));
    // --no-progress on a terminal: nothing.
    std::vector<std::string> quiet = job;
    quiet.insert(quiet.begin() + 1, "--no-progress");
    r = run(quiet, tty);
    REQUIRE_EXIT(r, 0);
    CHECK(r.err.empty());
    // Piped: nothing.
    run_options piped;
    piped.env = {"SIMDR_PROGRESS_DELAY_MS=0"};
    r = run(job, piped);
    REQUIRE_EXIT(r, 0);
    CHECK(r.err.empty());
  }
}

TEST_CASE("warnings during a progress bar start on a line of their own", "[cli][progress][export]") {
  temp_dir d;
  const std::string f = d.file("w.simdr");
  for (int i = 0; i < 50; ++i) {
    REQUIRE_EXIT(run({"put", f, "ok/" + std::to_string(i), std::string(100000, 'w')}), 0);
    REQUIRE_EXIT(run({"put", f, "zz/../bad" + std::to_string(i), "x"}), 0);  // sorted last
  }
  run_options tty;
  tty.stderr_tty = true;
  tty.env = {"SIMDR_PROGRESS_DELAY_MS=0"};
  run_result r = run({"export", f, d.file("out")}, tty);
  REQUIRE_EXIT(r, 3);
  std::size_t warnings = 0;
  const std::string head = "simdr: " + f + ": ";  // how every message line starts
  for (std::size_t at = r.err.find(head); at != std::string::npos; at = r.err.find(head, at + 1)) {
    ++warnings;
    INFO("stderr: " << r.err);
    const bool line_start = at == 0 || r.err[at - 1] == '\n' ||
                            (at >= 4 && r.err.compare(at - 4, 4, "\r\x1b[K") == 0);
    CHECK(line_start);
  }
  CHECK(warnings == 51);  // 50 skipped keys and the summary
}

TEST_CASE("bench runs W1 and prints its rates", "[cli][bench]") {
  temp_dir d;
  run_result r = run({"bench", "--n", "5000", "--json", "--dir", d.path().string()});
  REQUIRE_EXIT(r, 0);
  const json j = parse_json(r);
  CHECK(j["workload"] == "W1");
  CHECK(j["n"] == 5000);
  CHECK(j["batch"] == 1024);
  for (const char* k : {"write_entries_per_s", "reopen_ms", "scan_entries_per_s", "get_ops_per_s"}) {
    INFO(k);
    CHECK(j[k].get<double>() > 0);
  }
  CHECK(j["bytes_per_entry"].get<double>() >= 64.0);
  CHECK(j["bytes_per_entry"].get<double>() < 65.0);
  CHECK(fs::is_empty(d.path()));  // the temporary store is removed

  r = run({"bench", "-n", "3000", "--dir", d.path().string()});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out.find("W1 on simdr") != std::string::npos);
  CHECK(r.out.find("entries/s") != std::string::npos);
  CHECK(r.out.find("ops/s") != std::string::npos);
  CHECK(r.out.find("reopen") != std::string::npos);
  REQUIRE_EXIT(run({"bench", "--n", "10", "--dir", d.file("no/such/dir")}), 3);
}
