// simdr-bench - the comparative benchmark of SIMD R Drive (issue 4): workloads W1, W1sync, W2,
// W3 and W4 of shared/notes/benchmarks.md on our store and, in the same run, LMDB, RocksDB,
// LevelDB, SQLite and two floors (raw write(), an in-memory hash map). Never run by ctest.
//
//   tools/bench.sh [--quick] [--only W1,W1sync,W2,W3,W4] [--peers simdr,lmdb,...] [--out DIR]
//
// METHOD. Every (workload phase, peer, repetition) runs in a fresh child process (fork), so
// memory figures belong to one engine, heaps start clean and a crash in one engine only loses
// its cells. Peers are interleaved within each repetition (drift spreads over all of them). The
// page cache is warm: every engine reads files it has just written, as an application would.
// Figures are medians over repetitions; ratios compare medians of the same run.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "peer.hpp"
#include "simdr/kernels.hpp"
#include "report.hpp"
#include "workloads.hpp"

#ifndef SIMDR_BENCH_BUILD_TYPE
#define SIMDR_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef SIMDR_BENCH_SOURCE_DIR
#define SIMDR_BENCH_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;
using namespace simdr_bench;

namespace {

/// The SIMD kernel set SIMD R Drive runs with (simdr/kernels.hpp; SIMDR_KERNELS forces one), and
/// whether a SIMDR_KERNELS request was honoured. The forked children inherit the environment, so
/// they run the same set.
std::string simdr_active_kernel() {
  std::string s(simdr::kernels_name());
  if (const simdr::status st = simdr::kernels_request(); !st.is_ok())
    s += " (SIMDR_KERNELS request not honoured: " + std::string(simdr::to_string(st.code)) + ")";
  return s;
}

/// A child that runs longer than this is killed and its cells reported as errors.
constexpr unsigned child_timeout_s = 300;

using clk = std::chrono::steady_clock;

struct cli {
  bool quick = false;
  std::set<std::string> only = {"W1", "W1sync", "W2", "W3", "W4"};
  std::vector<std::string> peers;  // empty: all compiled in
  std::string out = "simdr-bench-results";
  std::string dir;                 // scratch directory for stores
  int reps = -1;
  std::uint64_t n = 0;
  std::string command;
};

[[noreturn]] void usage(int code) {
  std::puts(
      "usage: simdr-bench [--quick] [--only W1,W1sync,W2,W3,W4] [--peers ID,...] [--out DIR]\n"
      "                   [--dir SCRATCH] [--reps N] [--n W1_ENTRIES]\n"
      "  --quick   development mode: 100k W1 entries, 10k W2, 100 W3, W4 for 1 s, 1 repetition\n"
      "  --only    workloads to run (default all; W4 runs on the W1 store, written untimed if\n"
      "            W1 is not selected)\n"
      "  --peers   simdr,lmdb,rocksdb,leveldb,sqlite,write-floor,map-floor (default all built)\n"
      "  --out     where results.md, results.csv and chart.png go (default ./simdr-bench-results)\n"
      "  --dir     where the stores are created (default $TMPDIR or /tmp)\n"
      "  --reps    repetitions (default 3; --quick 1)");
  std::exit(code);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

cli parse(int argc, char** argv) {
  cli c;
  c.command = "simdr-bench";
  for (int i = 1; i < argc; ++i) c.command += std::string(" ") + argv[i];
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--quick") c.quick = true;
    else if (a == "--only") {
      c.only.clear();
      for (const std::string& w : split(next())) {
        if (w != "W1" && w != "W1sync" && w != "W2" && w != "W3" && w != "W4") usage(2);
        c.only.insert(w);
      }
    } else if (a == "--peers") c.peers = split(next());
    else if (a == "--out") c.out = next();
    else if (a == "--dir") c.dir = next();
    else if (a == "--reps") c.reps = std::stoi(next());
    else if (a == "--n") c.n = std::stoull(next());
    else if (a == "--help" || a == "-h") usage(0);
    else usage(2);
  }
  return c;
}

std::string read_first(const char* path, const char* prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) {
      const auto colon = line.find(':');
      std::string v = colon == std::string::npos ? line : line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return "?";
}

std::string trim_file(const char* path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s.empty() ? "?" : s;
}

std::string fs_type(const std::string& dir) {
  struct statfs s {};
  if (::statfs(dir.c_str(), &s) != 0) return "?";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53: return "ext4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs (RAM: fsync is free, not a real disk)";
    case 0x794C7630: return "overlayfs";
    default: {
      char b[32];
      std::snprintf(b, sizeof b, "0x%lx", static_cast<unsigned long>(s.f_type));
      return b;
    }
  }
}

/// First line printed by a shell command, or "" (read-only git queries only).
std::string shell_line(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char b[256];
    if (std::fgets(b, sizeof b, p) != nullptr) out = b;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

/// The source the library was built from, as git sees it now (plumbing only: never writes).
std::string source_revision() {
  const std::string dir = SIMDR_BENCH_SOURCE_DIR;
  const std::string head =
      shell_line("git -C '" + dir + "' rev-parse --short HEAD 2>/dev/null");
  if (head.empty()) return "unknown (not a git checkout)";
  const std::string dirty = shell_line(
      "GIT_OPTIONAL_LOCKS=0 git -C '" + dir +
      "' diff-index --name-only HEAD -- core native 2>/dev/null | head -1");
  return "git " + head + (dirty.empty() ? " (core/ and native/ as committed)"
                                        : " + uncommitted changes in core/ or native/ (e.g. " +
                                              dirty + ")");
}

/// Bytes allocated on disk by every file under `dir` (du).
std::uint64_t disk_bytes(const std::string& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
      total += static_cast<std::uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

struct outcome {
  bool ok = false;
  metrics m;
  std::string error;
  double seconds = 0;
};

/// Runs `fn` in a fresh child process and collects the figures it returns.
outcome run_child(const std::function<metrics()>& fn) {
  outcome o;
  int fds[2];
  if (::pipe(fds) != 0) {
    o.error = "pipe failed";
    return o;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  // No phase inherits another's dirty pages: the kernel's writeback of earlier phases would
  // otherwise throttle or slow whichever engine happens to run next.
  ::sync();
  const auto t = clk::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    o.error = "fork failed";
    return o;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::alarm(child_timeout_s);
    std::string text;
    try {
      for (const auto& [k, v] : fn()) {
        char b[64];
        std::snprintf(b, sizeof b, "%.17g", v);
        text += k + " " + b + "\n";
      }
    } catch (const std::exception& e) {
      text = std::string("!") + e.what() + "\n";
    }
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t w = ::write(fds[1], text.data() + done, text.size() - done);
      if (w <= 0) break;
      done += static_cast<std::size_t>(w);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t r; (r = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    text.append(buf, static_cast<std::size_t>(r));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  o.seconds = std::chrono::duration<double>(clk::now() - t).count();
  if (WIFSIGNALED(status)) {
    o.error = std::string("child killed by signal ") + std::to_string(WTERMSIG(status)) +
              (WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    return o;
  }
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '!') {
      o.error = line.substr(1);
      return o;
    }
    const auto sp = line.find(' ');
    if (sp != std::string::npos) o.m.push_back({line.substr(0, sp), std::stod(line.substr(sp + 1))});
  }
  o.ok = true;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  cli c = parse(argc, argv);
  config cfg;
  if (c.quick) {
    cfg.w1_n = 100000;
    cfg.w2_n = 10000;
    cfg.w2_reads = 20000;
    cfg.w3_n = 100;
    cfg.w4_seconds = 1.0;
  }
  if (c.n != 0) cfg.w1_n = c.n;
  const int reps = c.reps > 0 ? c.reps : (c.quick ? 1 : 3);

  // Peers, in report order.
  std::vector<peer_info> peers;
  const std::vector<peer_info> available = all_peers();
  if (c.peers.empty()) {
    peers = available;
  } else {
    for (const peer_info& p : available)
      for (const std::string& want : c.peers)
        if (p.id == want) peers.push_back(p);
    for (const std::string& want : c.peers) {
      bool known = false;
      for (const peer_info& p : available) known |= p.id == want;
      if (!known) {
        std::fprintf(stderr, "simdr-bench: unknown or not built peer '%s'; built:", want.c_str());
        for (const peer_info& p : available) std::fprintf(stderr, " %s", p.id.c_str());
        std::fprintf(stderr, "\n");
        return 2;
      }
    }
  }

  // Scratch and output directories.
  const std::string scratch_root =
      c.dir.empty() ? (fs::temp_directory_path() / ("simdr-bench-" + std::to_string(::getpid()))).string()
                    : (fs::path(c.dir) / ("simdr-bench-" + std::to_string(::getpid()))).string();
  fs::create_directories(scratch_root);
  fs::create_directories(c.out);
  int dir_seq = 0;
  auto fresh_dir = [&](const std::string& peer, const std::string& what) {
    const std::string d = scratch_root + "/" + peer + "-" + what + "-" + std::to_string(dir_seq++);
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  };

  // Machine, build and run description.
  struct utsname u {};
  ::uname(&u);
  const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  report_input rep;
  rep.peers = peers;
  rep.reps = reps;
  rep.header = {
      "command: `" + c.command + "`" + (c.quick ? " (QUICK MODE: small sizes, not the issue's figures)" : ""),
      std::string("date: ") + date,
      "machine: " + read_first("/proc/cpuinfo", "model name") + ", " + std::to_string(cores) +
          " cores, " + read_first("/proc/meminfo", "MemTotal") + " RAM; kernel " + u.sysname + " " +
          u.release + " " + u.machine + "; stores on " + fs_type(scratch_root) +
          "; transparent huge pages " + trim_file("/sys/kernel/mm/transparent_hugepage/enabled"),
      std::string("build type: ") + SIMDR_BENCH_BUILD_TYPE + " (compiler " + __VERSION__ +
          "); SIMD R Drive active kernel: " + simdr_active_kernel() + "; source: " +
          source_revision(),
      "sizes: W1 " + std::to_string(cfg.w1_n) + " entries (keys `bench-key-{i}`, 8-byte values), " +
          std::to_string(cfg.w1_batch) + " per commit; batched reads of " +
          std::to_string(cfg.mget_batch) + " keys; W2 " + std::to_string(cfg.w2_n) + " x " +
          std::to_string(cfg.w2_value) + " B (" + std::to_string(cfg.w2_batch) + " per commit), " +
          std::to_string(cfg.w2_reads) + " random reads; W3 " + std::to_string(cfg.w3_n) + " x " +
          std::to_string(cfg.w3_value) + " B (" + std::to_string(cfg.w3_batch) +
          " per commit); W4 " + std::to_string(cfg.w4_readers) + " readers + 1 writer for " +
          std::to_string(cfg.w4_seconds).substr(0, 3) + " s",
  };
  std::string peer_list;
  for (const peer_info& p : peers) peer_list += (peer_list.empty() ? "" : ", ") + p.display;
  rep.header.push_back("peers: " + peer_list);

  std::vector<std::string> errors;
  auto record = [&](const peer_info& p, const std::string& what, const outcome& o, bool keep) {
    if (!o.ok) {
      std::fprintf(stderr, "  %-12s %-10s ERROR: %s\n", p.id.c_str(), what.c_str(), o.error.c_str());
      errors.push_back(p.display + ", " + what + ": " + o.error);
      return;
    }
    std::string line;
    for (const auto& [k, v] : o.m) {
      if (keep) rep.samples[k][p.id].push_back(v);
      char b[96];
      std::snprintf(b, sizeof b, " %s=%.4g", k.c_str(), v);
      line += b;
    }
    std::fprintf(stderr, "  %-12s %-10s %5.1fs%s%s\n", p.id.c_str(), what.c_str(), o.seconds,
                 keep ? "" : " (untimed setup)", line.c_str());
  };

  const std::string load_start = trim_file("/proc/loadavg");
  dataset data;
  const auto t_start = clk::now();
  build_base(cfg, data);

  const bool w1 = c.only.count("W1") != 0;
  const bool w4 = c.only.count("W4") != 0;
  // ---- W1 (+ W4 on the same store) ----------------------------------------------------------
  if (w1 || w4) {
    for (int r = 0; r < reps; ++r) {
      std::fprintf(stderr, "[W1%s rep %d/%d]\n", w4 ? "+W4" : "", r + 1, reps);
      for (const peer_info& p : peers) {
        const bool needs_store = w1 || (w4 && p.caps.concurrent && p.caps.persistent);
        if (!needs_store) continue;
        const std::string dir = fresh_dir(p.id, "w1");
        const outcome wr = run_child([&] { return phase_w1_write(p, cfg, data, dir, false); });
        record(p, "W1 write", wr, w1);
        if (w1 && p.caps.reads && wr.ok) {
          const outcome rd = run_child([&] { return phase_w1_read(p, cfg, data, dir); });
          record(p, "W1 read", rd, true);
        }
        if (w1 && p.caps.persistent && wr.ok)
          rep.samples["w1.disk_bpe"][p.id].push_back(static_cast<double>(disk_bytes(dir)) /
                                                     static_cast<double>(cfg.w1_n));
        if (w4 && p.caps.concurrent && p.caps.persistent && wr.ok)
          record(p, "W4", run_child([&] { return phase_w4(p, cfg, data, dir); }), true);
        fs::remove_all(dir);
      }
    }
  }
  // ---- W1sync -------------------------------------------------------------------------------
  if (c.only.count("W1sync") != 0) {
    for (int r = 0; r < reps; ++r) {
      std::fprintf(stderr, "[W1sync rep %d/%d]\n", r + 1, reps);
      for (const peer_info& p : peers) {
        if (!p.caps.persistent) continue;  // the hash-map floor has nothing to sync
        const std::string dir = fresh_dir(p.id, "w1sync");
        record(p, "W1sync", run_child([&] { return phase_w1_write(p, cfg, data, dir, true); }), true);
        fs::remove_all(dir);
      }
    }
  }
  // ---- W2 and W3 -----------------------------------------------------------------------------
  struct big_workload {
    const char* name;
    const char* tag;
    std::uint64_t n;
    std::size_t size, batch;
    std::uint64_t reads;
  };
  const big_workload bigs[] = {{"W2", "w2", cfg.w2_n, cfg.w2_value, cfg.w2_batch, cfg.w2_reads},
                               {"W3", "w3", cfg.w3_n, cfg.w3_value, cfg.w3_batch, 0}};
  for (const big_workload& b : bigs) {
    if (c.only.count(b.name) == 0) continue;
    build_big(data, b.n, b.size);
    for (int r = 0; r < reps; ++r) {
      std::fprintf(stderr, "[%s rep %d/%d]\n", b.name, r + 1, reps);
      for (const peer_info& p : peers) {
        const std::string dir = fresh_dir(p.id, b.tag);
        const outcome wr =
            run_child([&] { return phase_big_write(p, data, dir, b.batch, b.tag); });
        record(p, std::string(b.name) + " write", wr, true);
        if (p.caps.reads && wr.ok)
          record(p, std::string(b.name) + " read",
                 run_child([&] { return phase_big_read(p, data, dir, b.batch, b.reads, b.tag); }),
                 true);
        fs::remove_all(dir);
      }
    }
    build_big(data, 0, 0);
  }
  fs::remove_all(scratch_root);
  const double total = std::chrono::duration<double>(clk::now() - t_start).count();

  char el[128];
  std::snprintf(el, sizeof el, "wall time of the whole run: %.0f s", total);
  rep.header.push_back(el);
  rep.header.push_back("load average (/proc/loadavg) at start: " + load_start + "; at end: " +
                       trim_file("/proc/loadavg") +
                       " (other processes on this machine add noise: compare ratios, not "
                       "absolute figures)");
  rep.notes = {
      "Each (phase, peer, repetition) ran in its own forked process; peers interleaved within each "
      "repetition; warm page cache (each engine reads what it just wrote).",
      "Zero-copy reads where the engine has them (SIMD R Drive blob_view, LMDB MDB_val, SQLite "
      "column_blob, RocksDB PinnableSlice); LevelDB copies into a std::string (its only API).",
      "Batched reads of 1024 keys: SIMD R Drive " + simdr_batch_read_path() +
          "; LMDB 1024 gets in one read txn; RocksDB native MultiGet; LevelDB 1024 gets on one "
          "snapshot; SQLite 1024 lookups in one transaction; hash-map floor 1024 lookups.",
      "Peer settings (shared/notes/benchmarks.md): LMDB MDB_NOTLS|MDB_NOSYNC (default sync flags "
      "for W1sync), 64 GiB map, read txn reset/renew per get; RocksDB and LevelDB defaults + "
      "Bloom 10 bits/key + 256 MiB LRU block cache, WriteBatch sync=false (true for W1sync); "
      "SQLite WAL, synchronous=NORMAL (FULL for W1sync), kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT "
      "ROWID, prepared statements, one transaction per batch.",
      "Floors: write() floor = the same key+value bytes (6-byte record prefix) appended with one "
      "writev per batch, no index (fdatasync per batch in W1sync); hash-map floor = an "
      "open-addressing in-memory map (XXH3), not persistent: its 'index memory' holds all data.",
      "W3 reads run twice in the same process: the first pass (the target) includes first "
      "touching the data, which for a memory-mapped engine (SIMD R Drive, LMDB) means mapping "
      "1 GB of page cache at one minor fault per 64 KiB, while the hash-map floor reads memory it "
      "filled itself; the second pass has that cost paid and isolates the engine's own read path.",
      "Index memory = growth of RssAnon (/proc/self/status) across open in a fresh process, per "
      "live key: the in-memory structures an engine builds (file maps are not anonymous).",
      "MB = 10^6 bytes of values. W2/W3 values are incompressible random bytes. Every phase "
      "starts after sync(2), so no phase pays for another's writeback.",
  };
  for (const std::string& e : errors) rep.notes.push_back("ERROR " + e);

  const std::string md = write_report(rep, c.out);
  std::fputs(md.c_str(), stdout);
  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
    const std::string cmd = "cd '" + c.out + "' && gnuplot chart.gp";
    if (std::system(cmd.c_str()) != 0)
      std::fprintf(stderr, "simdr-bench: gnuplot failed; chart.png not written\n");
  } else {
    std::fprintf(stderr,
                 "simdr-bench: gnuplot not found (apt-get install gnuplot-nox): chart.png skipped\n");
  }
  std::fprintf(stderr, "simdr-bench: wrote %s/results.md, results.csv, chart.png (%.0f s)\n",
               c.out.c_str(), total);
  return errors.empty() ? 0 : 1;
}
