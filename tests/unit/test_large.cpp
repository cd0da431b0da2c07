// test_large.cpp - values larger than 4 GiB on the native backend (tag [large]).
//
// The value is a 4.5 GiB anonymous mapping: untouched pages read as zeros and cost no memory,
// and a few marked pages above 4 GiB prove offsets are not truncated to 32 bits anywhere
// (layout, pwritev splitting at 2 GiB, checksums, views). Skipped, with a warning, when the
// temporary directory has less than 12 GiB free.
#include <sys/mman.h>
#include <sys/statvfs.h>

#include <catch2/catch.hpp>

#include "support/test_support.hpp"

using namespace simdr;

TEST_CASE("a value larger than 4 GiB round-trips through put, reopen, get and verify", "[large]") {
  test::temp_dir dir;
  struct statvfs vfs {};
  REQUIRE(::statvfs(dir.path().c_str(), &vfs) == 0);
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (free_bytes < (std::uint64_t{12} << 30)) {
    WARN("skipped: only " << (free_bytes >> 20) << " MiB free in " << dir.path());
    return;
  }
  const std::uint64_t size = (std::uint64_t{9} << 29) + 12345;  // 4.5 GiB + a ragged tail
  void* mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
  REQUIRE(mem != MAP_FAILED);
  auto* bytes_ptr = static_cast<unsigned char*>(mem);
  const std::uint64_t marks[] = {0, (std::uint64_t{1} << 32) - 1, std::uint64_t{1} << 32,
                                 (std::uint64_t{1} << 32) + 4097, size - 1};
  for (std::uint64_t m : marks) bytes_ptr[m] = static_cast<unsigned char>(0xA5 ^ (m & 0xff));

  const std::string path = dir.file("large.simdr");
  {
    store db = test::open_ok(path);
    REQUIRE(db.put("small-before", "x") == errc::ok);
    REQUIRE(db.put("huge", bytes(mem, size)) == errc::ok);
    REQUIRE(db.put("small-after", "y") == errc::ok);
    auto v = db.get("huge");
    REQUIRE(v);
    CHECK(v->size() == size);
  }
  ::munmap(mem, size);
  store db = test::open_ok(path, {.verify_checksums = true});
  CHECK_FALSE(db.report().tail_dropped);
  auto v = db.get("huge");  // value checksum verified over all 4.5 GiB
  REQUIRE(v);
  REQUIRE(v->size() == size);
  CHECK(v->offset() % 64 == 0);
  for (std::uint64_t m : marks) {
    INFO("offset " << m);
    CHECK(static_cast<unsigned char>(v->data()[m]) == (0xA5 ^ (m & 0xff)));
  }
  CHECK(v->data()[size / 2] == std::byte{0});
  CHECK(db.get("small-after")->str() == "y");
  auto rep = db.verify();
  REQUIRE(rep);
  CHECK(rep->is_ok());
  CHECK(rep->value_bytes == size + 2);
}
