// first_touch.cpp - what reading a freshly mapped file costs against reading memory the
// process filled itself (W3's first pass against its hash-map floor), with no store involved.
//
// Writes `--mib` MiB of page cache as values of `--value-kib` KiB (each starting 64 bytes into
// its slot, like a store's payloads, so values do not start on page boundaries), then hashes
// every value once in a random order (XXH3, as the W3 reader does) in five ways:
//   fault       mmap(2), then read: every 64 KiB of page cache costs a minor fault
//   again       the same mapping read a second time (the faults are paid)
//   populate    MADV_POPULATE_READ on each value's pages just before reading it
//   map_populate  mmap(2) with MAP_POPULATE (its mmap time reported separately), then read
//   anon        the same bytes in anonymous memory the process wrote (the floor)
// Prints medians over --reps runs, in MB/s (10^6 bytes). Linux only; not part of ctest.
//   simdr-probe-first-touch [--mib 1024] [--value-kib 1024] [--reps 3] [--dir /tmp]
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14
#endif

namespace {

using clk = std::chrono::steady_clock;
double since(clk::time_point t) { return std::chrono::duration<double>(clk::now() - t).count(); }

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct config {
  std::size_t mib = 1024;
  std::size_t value_kib = 1024;
  int reps = 3;
  std::string dir = "/tmp";
};

config parse(int argc, char** argv) {
  config c;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "--mib") c.mib = std::strtoull(v, nullptr, 10);
    else if (a == "--value-kib") c.value_kib = std::strtoull(v, nullptr, 10);
    else if (a == "--reps") c.reps = std::atoi(v);
    else if (a == "--dir") c.dir = v;
    else {
      std::fprintf(stderr, "usage: simdr-probe-first-touch [--mib N] [--value-kib N] [--reps N] [--dir D]\n");
      std::exit(2);
    }
  }
  if (c.mib == 0 || c.value_kib == 0 || c.reps < 1 || c.value_kib * 1024 > c.mib << 20) {
    std::fprintf(stderr, "first_touch: bad sizes\n");
    std::exit(2);
  }
  return c;
}

constexpr std::size_t lead = 64;  // a payload starts 64 bytes into its slot

}  // namespace

int main(int argc, char** argv) {
  const config c = parse(argc, argv);
  const std::size_t value = c.value_kib * 1024;
  const std::size_t slot = value + 4096;  // room for the lead, page-rounded
  const std::size_t n = (c.mib << 20) / value;
  const std::size_t bytes = n * slot;
  const std::string path = c.dir + "/simdr-first-touch.bin";

  std::vector<char> src(slot);
  std::mt19937_64 rng(1234);
  for (char& b : src) b = static_cast<char>(rng());
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(7));

  std::uint64_t sink = 0;
  // One pass in `order`, in MB/s; with `populate`, MADV_POPULATE_READ on each value's pages
  // just before it is read.
  auto hash_all = [&](const char* base, bool populate = false) {
    const auto t = clk::now();
    for (const std::size_t i : order) {
      const char* v = base + i * slot + lead;
      if (populate) {
        const auto at = reinterpret_cast<std::uintptr_t>(v);
        const std::uintptr_t from = at & ~std::uintptr_t{4095};
        const std::uintptr_t to = (at + value + 4095) & ~std::uintptr_t{4095};
        if (::madvise(reinterpret_cast<void*>(from), to - from, MADV_POPULATE_READ) != 0)
          die("madvise(MADV_POPULATE_READ)");
      }
      sink += XXH3_64bits(v, value);
    }
    return static_cast<double>(n * value) / since(t) / 1e6;
  };

  std::vector<double> fault, again, populate, map_populate, map_populate_ms, anon;
  for (int rep = 0; rep < c.reps; ++rep) {
    {  // the file, in page cache: written with write(2), as a store's commits are
      const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
      if (fd < 0) die("open");
      for (std::size_t i = 0; i < n; ++i) {
        src[0] = static_cast<char>(i);
        if (::write(fd, src.data(), slot) != static_cast<ssize_t>(slot)) die("write");
      }
      ::close(fd);
    }
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) die("open");
    for (int mode = 0; mode < 3; ++mode) {
      const auto t = clk::now();
      void* m = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED | (mode == 2 ? MAP_POPULATE : 0), fd, 0);
      if (m == MAP_FAILED) die("mmap");
      const double map_s = since(t);
      const char* base = static_cast<const char*>(m);
      if (mode == 0) {
        fault.push_back(hash_all(base));
        again.push_back(hash_all(base));
      } else if (mode == 1) {
        populate.push_back(hash_all(base, true));
      } else {
        map_populate_ms.push_back(map_s * 1e3);
        map_populate.push_back(hash_all(base));
      }
      ::munmap(m, bytes);
    }
    ::close(fd);
    {  // the floor: the same layout in anonymous memory this process wrote
      std::vector<char> mem(bytes);
      for (std::size_t i = 0; i < n; ++i) std::memcpy(mem.data() + i * slot, src.data(), slot);
      anon.push_back(hash_all(mem.data()));
    }
  }
  ::unlink(path.c_str());

  const double floor = median(anon);
  std::printf("first touch of a mapped file: %zu values of %zu KiB (%zu MiB), medians of %d\n", n,
              c.value_kib, c.mib, c.reps);
  std::printf("| read, XXH3 of every value | MB/s | vs anon floor |\n|---|---:|---:|\n");
  auto row = [&](const char* what, const std::vector<double>& v) {
    std::printf("| %s | %.0f | %.2fx |\n", what, median(v), median(v) / floor);
  };
  row("mmap, first pass (demand faults)", fault);
  row("mmap, second pass", again);
  row("mmap, MADV_POPULATE_READ per value, first pass", populate);
  row("mmap with MAP_POPULATE, first pass", map_populate);
  row("anonymous memory the process wrote (floor)", anon);
  std::printf("MAP_POPULATE mmap(2) itself: %.1f ms (%.1f ms per GiB)\n", median(map_populate_ms),
              median(map_populate_ms) * 1024.0 / static_cast<double>(c.mib));
  std::printf("(checksum %llu)\n", static_cast<unsigned long long>(sink & 1));
  return 0;
}
