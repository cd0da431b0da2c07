// simdr_demo.cpp - the main job: store a real directory tree of this machine in one SIMD R Drive
// file, reopen it, read every file back zero-copy and compare it with the disk, verify every
// checksum, and print what it took.
//
//   simdr-demo [DIR] [--store FILE] [--keep]
//
// DIR defaults to /usr/include (thousands of real files on any Debian machine with a
// compiler). Small files go in batches (one crash-atomic commit per 8 MiB); large ones stream
// with put_stream. Exit status: 0 when every byte read back matches, 1 otherwise.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "simdr/simdr.hpp"

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::string human(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

bool read_whole(const fs::path& p, std::vector<char>& out) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return true;
}

int fail(const char* what, const simdr::status& st, const std::string& path) {
  std::fprintf(stderr, "simdr-demo: %s: %s: %s (%s)%s%s\n", path.c_str(), what,
               std::string(simdr::describe(st.code)).c_str(),
               std::string(simdr::to_string(st.code)).c_str(), st.sys_errno ? ": " : "",
               st.sys_errno ? std::strerror(st.sys_errno) : "");
  return 1;
}

struct source_file {
  std::string key;   // path relative to DIR
  fs::path path;
  std::uint64_t size;
  std::uint64_t hash;  // XXH3 of the content as read at import time
};

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = "/usr/include";
  std::string store_path = (fs::temp_directory_path() / "simdr-demo.simdr").string();
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--store" && i + 1 < argc) store_path = argv[++i];
    else if (a == "--keep") keep = true;
    else if (a == "-h" || a == "--help") {
      std::puts("usage: simdr-demo [DIR] [--store FILE] [--keep]\n"
                "Stores every regular file under DIR (default /usr/include) in one SIMD R Drive\n"
                "file, reopens it, reads everything back zero-copy, compares, verifies.");
      return 0;
    } else dir = a;
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    std::fprintf(stderr, "simdr-demo: %s: not a directory\n", dir.c_str());
    return 2;
  }
  fs::remove(store_path, ec);

  // ---- collect ---------------------------------------------------------------------------
  std::vector<source_file> files;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    files.push_back({fs::relative(it->path(), dir).string(), it->path(), 0, 0});
  }
  std::printf("SIMD R Drive %s demo: %zu files under %s -> %s\n",
              std::string(simdr::library_version).c_str(), files.size(), dir.c_str(),
              store_path.c_str());

  // ---- import ----------------------------------------------------------------------------
  std::uint64_t bytes_in = 0;
  auto t0 = clock_type::now();
  {
    auto opened = simdr::store::open(store_path, {.create = true});
    if (!opened) return fail("open", opened.error(), store_path);
    simdr::store db = std::move(*opened);
    std::vector<std::vector<char>> contents;
    std::vector<simdr::key_value> batch;
    std::uint64_t batch_bytes = 0;
    std::vector<std::size_t> batch_files;
    auto flush = [&]() -> bool {
      if (batch.empty()) return true;
      if (simdr::status st = db.put_batch(batch); !st.is_ok()) return fail("put_batch", st, store_path), false;
      batch.clear();
      contents.clear();
      batch_bytes = 0;
      return true;
    };
    contents.reserve(4096);
    std::vector<char> buf;
    for (std::size_t i = 0; i < files.size(); ++i) {
      source_file& f = files[i];
      if (!read_whole(f.path, buf)) {
        f.size = ~0ull;  // unreadable: skipped
        continue;
      }
      f.size = buf.size();
      f.hash = XXH3_64bits(buf.data(), buf.size());
      bytes_in += buf.size();
      if (buf.size() >= (std::size_t{4} << 20)) {
        // Large: stream it (never held twice in memory by the store).
        std::size_t pos = 0;
        auto src = [&](std::span<std::byte> out) -> simdr::result<std::size_t> {
          const std::size_t n = std::min(out.size(), buf.size() - pos);
          std::memcpy(out.data(), buf.data() + pos, n);
          pos += n;
          return n;
        };
        if (simdr::status st = db.put_stream(f.key, src); !st.is_ok()) return fail("put_stream", st, store_path);
        continue;
      }
      if (contents.size() == contents.capacity() && !flush()) return 1;
      contents.push_back(buf);
      batch.push_back({f.key, simdr::bytes(contents.back().data(), contents.back().size())});
      batch_bytes += buf.size();
      if (batch_bytes >= (std::uint64_t{8} << 20) && !flush()) return 1;
    }
    if (!flush()) return 1;
    if (simdr::status st = db.sync(); !st.is_ok()) return fail("sync", st, store_path);
  }
  const double t_import = seconds_since(t0);

  // ---- reopen ----------------------------------------------------------------------------
  t0 = clock_type::now();
  auto reopened = simdr::store::open(store_path, {.read_only = true});
  const double t_open = seconds_since(t0);
  if (!reopened) return fail("reopen", reopened.error(), store_path);
  simdr::store db = std::move(*reopened);

  // ---- read back, zero-copy: hash every value straight from the mapping ------------------
  std::uint64_t mismatches = 0, bytes_out = 0, checked = 0;
  t0 = clock_type::now();
  for (const source_file& f : files) {
    if (f.size == ~0ull) continue;
    auto v = db.get(f.key);
    if (!v || v->size() != f.size || XXH3_64bits(v->data(), v->size()) != f.hash) {
      ++mismatches;
      std::fprintf(stderr, "MISMATCH %s\n", f.key.c_str());
      continue;
    }
    bytes_out += v->size();
    ++checked;
  }
  const double t_read = seconds_since(t0);

  // ---- compare with the disk, byte for byte ----------------------------------------------
  std::vector<char> disk;
  for (const source_file& f : files) {
    if (f.size == ~0ull) continue;
    auto v = db.get(f.key);
    if (!read_whole(f.path, disk) || !v) continue;  // vanished meanwhile: hash check covered it
    if (disk.size() != v->size() || std::memcmp(disk.data(), v->data(), disk.size()) != 0) {
      if (XXH3_64bits(disk.data(), disk.size()) == f.hash) {  // not a concurrent change on disk
        ++mismatches;
        std::fprintf(stderr, "MISMATCH (bytes) %s\n", f.key.c_str());
      }
    }
  }

  // ---- iterate, verify ---------------------------------------------------------------------
  t0 = clock_type::now();
  std::uint64_t iterated = 0;
  for (const simdr::entry_view& e : db.entries()) iterated += !e.key().empty();
  const double t_scan = seconds_since(t0);
  t0 = clock_type::now();
  auto report = db.verify();
  const double t_verify = seconds_since(t0);
  if (!report) return fail("verify", report.error(), store_path);

  const simdr::store_info info = db.info();
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  std::printf("\n");
  std::printf("  import     %8zu files  %10s   %7.3f s  %8.1f MiB/s   (batches of 8 MiB, streams >= 4 MiB)\n",
              static_cast<std::size_t>(checked), human(static_cast<double>(bytes_in)).c_str(), t_import,
              static_cast<double>(bytes_in) / 1048576.0 / t_import);
  std::printf("  reopen     %8llu keys   index rebuilt  %7.3f s\n",
              static_cast<unsigned long long>(db.size()), t_open);
  std::printf("  read back  zero-copy + XXH3 %10s   %7.3f s  %8.1f MiB/s\n",
              human(static_cast<double>(bytes_out)).c_str(), t_read,
              static_cast<double>(bytes_out) / 1048576.0 / t_read);
  std::printf("  iterate    %8llu entries              %7.3f s\n",
              static_cast<unsigned long long>(iterated), t_scan);
  std::printf("  verify     %8llu entries %10s   %7.3f s  %8.1f MiB/s  %s\n",
              static_cast<unsigned long long>(report->entries),
              human(static_cast<double>(report->value_bytes)).c_str(), t_verify,
              static_cast<double>(report->value_bytes) / 1048576.0 / t_verify,
              report->is_ok() ? "all checksums ok" : "ISSUES FOUND");
  std::printf("  file       %s for %s of data (%.1f%% overhead), alignment %u, format %u.%u\n",
              human(static_cast<double>(info.file_size)).c_str(),
              human(static_cast<double>(bytes_in)).c_str(),
              100.0 * (static_cast<double>(info.file_size) / static_cast<double>(bytes_in ? bytes_in : 1) - 1.0),
              info.alignment, info.format_major, info.format_minor);
  std::printf("  index      %s in memory (%.1f bytes per key); peak RSS %s\n",
              human(static_cast<double>(info.index_bytes)).c_str(),
              static_cast<double>(info.index_bytes) / static_cast<double>(info.live_keys ? info.live_keys : 1),
              human(static_cast<double>(ru.ru_maxrss) * 1024.0).c_str());
  const bool ok = mismatches == 0 && report->is_ok() && iterated == checked;
  std::printf("\n%s: %llu files read back identical, %llu mismatches\n", ok ? "OK" : "FAILED",
              static_cast<unsigned long long>(checked), static_cast<unsigned long long>(mismatches));
  (void)db.close();
  if (!keep) fs::remove(store_path, ec);
  return ok ? 0 : 1;
}
