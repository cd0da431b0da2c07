// test_bad_input.cpp - open() on files that are not (or not yet, or no longer) stores, on
// paths that are not files, without permission, with conflicting options and under a held
// writer lock. Each failure must name its cause with a precise errc and leave the file
// byte-for-byte untouched.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <optional>

#include "format/format.hpp"
#include "hash.hpp"
#include "support/test_support.hpp"

using namespace simdr;
using simdr::test::open_ok;
namespace format = simdr::detail::format;

namespace {

// Opens `path` read-write (with and without create) and read-only, requires each to fail with
// `expect` (`ro_expect` for the read-only open when given), and the file's bytes to stay as
// they were.
void require_rejected(const std::string& path, errc expect, std::optional<errc> ro_expect = {}) {
  const std::vector<std::byte> before = test::read_file(path);
  const auto rw = store::open(path, {});
  INFO("read-write open of " << path << ": " << to_string(rw.code()));
  CHECK(rw.code() == expect);
  const auto rw_create = store::open(path, {.create = true});
  INFO("read-write open with create: " << to_string(rw_create.code()));
  CHECK(rw_create.code() == expect);
  const auto ro = store::open(path, {.read_only = true});
  INFO("read-only open: " << to_string(ro.code()));
  CHECK(ro.code() == ro_expect.value_or(expect));
  CHECK((test::read_file(path) == before));
}

std::vector<std::byte> valid_header(std::uint32_t alignment = 64) {
  test::temp_dir dir;
  const std::string p = dir.file("h.simdr");
  { store db = open_ok(p, {.create = true, .alignment = alignment}); }
  std::vector<std::byte> h = test::read_file(p);
  REQUIRE(h.size() == format::header_size);
  return h;
}

// Rewrites header bytes and recomputes the header checksum (bytes 56..63, XXH3-64 of 0..55).
void reseal(std::vector<std::byte>& h) {
  format::store64(h.data() + 56, detail::xxh3(h.data(), 56));
}

}  // namespace

TEST_CASE("files that are not stores fail with bad_magic and stay untouched", "[recovery]") {
  SIMDR_SEEDED(seed, "bad-input-magic");
  std::mt19937_64 rng(seed);
  test::temp_dir dir;
  const std::string path = dir.file("x");
  for (std::size_t n : {1, 2, 7, 8, 9, 63, 64, 65, 100, 4096, 100000}) {
    for (int rep = 0; rep < 3; ++rep) {
      std::vector<std::byte> bytes = test::random_bytes(rng, n);
      if (bytes[0] == std::byte{0x89}) bytes[0] = std::byte{0x88};  // not a prefix of the magic
      test::write_file(path, bytes);
      INFO(n << " random bytes");
      require_rejected(path, errc::bad_magic);
    }
  }
  const std::string text = "key,value\nalpha,1\nbeta,2\n";
  test::write_file(path, test::as_bytes(text));
  require_rejected(path, errc::bad_magic);
  test::write_file(path, test::as_bytes(std::string(200, '\n')));
  require_rejected(path, errc::bad_magic);
  // the magic, then what a text-mode transfer does to it (CR LF -> LF)
  test::write_file(path, test::as_bytes(std::string("\x89SIMDR\n") + std::string(100, '\0')));
  require_rejected(path, errc::bad_magic);
  // an ELF binary
  for (const char* bin : {"/bin/true", "/usr/bin/true", "/bin/sh"}) {
    if (!std::filesystem::exists(bin)) continue;
    const std::string copy = dir.file("elf");
    std::filesystem::copy_file(bin, copy, std::filesystem::copy_options::overwrite_existing);
    INFO(bin);
    require_rejected(copy, errc::bad_magic);
    break;
  }
}

TEST_CASE("a header cut short is corrupt (or bad_magic when not even the magic matches)",
          "[recovery]") {
  test::temp_dir dir;
  const std::vector<std::byte> h = valid_header();
  const std::string path = dir.file("cut.simdr");
  for (std::size_t n = 1; n < format::header_size; ++n) {
    // A prefix of the magic (n < 8) is a header torn while the store was created: it is ours
    // but not usable, so corrupt, like any header of fewer than 64 bytes (docs/format.md 3).
    test::write_file(path, std::span(h).first(n));
    INFO("header cut to " << n << " bytes");
    require_rejected(path, errc::corrupt);
  }
  // fewer than 8 bytes that are NOT a prefix of the magic: bad_magic
  for (std::size_t n = 1; n < 8; ++n) {
    std::vector<std::byte> b(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(n));
    b[n - 1] ^= std::byte{0x01};
    test::write_file(path, b);
    INFO(n << " bytes, last one not the magic's");
    require_rejected(path, errc::bad_magic);
  }
  // a full header followed by half an entry header opens (a torn first commit)
  std::vector<std::byte> torn = h;
  torn.resize(h.size() + 20, std::byte{0x42});
  test::write_file(path, torn);
  store db = open_ok(path, {});
  CHECK(db.report().tail_dropped);
  CHECK(db.report().tail_bytes == 20);
  CHECK((test::read_file(path) == h));
}

TEST_CASE("header field damage: corrupt or unsupported_version", "[recovery]") {
  test::temp_dir dir;
  const std::vector<std::byte> good = valid_header();
  const std::string path = dir.file("h.simdr");
  auto with = [&](auto edit, bool seal) {
    std::vector<std::byte> h = good;
    edit(h);
    if (seal) reseal(h);
    // an entry after the header: damage to the header must not be mistaken for a tail
    h.resize(h.size() + 64, std::byte{0});
    test::write_file(path, h);
  };
  SECTION("header checksum wrong") {
    for (std::size_t i = 0; i < format::header_size; ++i) {
      if (i < 8) continue;  // the magic: bad_magic, below
      if (i == 8 || i == 9) continue;  // major version: checked before the checksum, below
      INFO("byte " << i << " flipped");
      with([&](std::vector<std::byte>& h) { h[i] ^= std::byte{0x10}; }, false);
      require_rejected(path, errc::corrupt);
    }
  }
  SECTION("magic damaged") {
    for (std::size_t i = 0; i < 8; ++i) {
      INFO("magic byte " << i);
      with([&](std::vector<std::byte>& h) { h[i] ^= std::byte{0x01}; }, true);
      require_rejected(path, errc::bad_magic);
    }
  }
  SECTION("major version 2 is unsupported") {
    with([](std::vector<std::byte>& h) { format::store16(h.data() + 8, 2); }, true);
    require_rejected(path, errc::unsupported_version);
    with([](std::vector<std::byte>& h) { format::store16(h.data() + 8, 0xFFFF); }, true);
    require_rejected(path, errc::unsupported_version);
  }
  SECTION("major version 0 is corrupt") {
    with([](std::vector<std::byte>& h) { format::store16(h.data() + 8, 0); }, true);
    require_rejected(path, errc::corrupt);
  }
  SECTION("sealed but invalid fields are corrupt") {
    with([](std::vector<std::byte>& h) { format::store32(h.data() + 12, 128); }, true);
    require_rejected(path, errc::corrupt);  // header size != 64
    for (std::uint8_t log2 : std::initializer_list<std::uint8_t>{0, 2, 17, 255}) {
      INFO("alignment_log2 " << int(log2));
      with([&](std::vector<std::byte>& h) { h[16] = std::byte{log2}; }, true);
      require_rejected(path, errc::corrupt);
    }
    for (std::size_t i = 19; i < 56; ++i) {
      INFO("reserved byte " << i);
      with([&](std::vector<std::byte>& h) { h[i] = std::byte{1}; }, true);
      require_rejected(path, errc::corrupt);
    }
  }
  SECTION("unknown algorithm ids are unsupported") {
    with([](std::vector<std::byte>& h) { h[17] = std::byte{2}; }, true);
    require_rejected(path, errc::unsupported_version);
    with([](std::vector<std::byte>& h) { h[18] = std::byte{0}; }, true);
    require_rejected(path, errc::unsupported_version);
  }
}

TEST_CASE("a newer minor version opens read-only only", "[recovery]") {
  test::temp_dir dir;
  const std::string path = dir.file("minor.simdr");
  {
    store db = open_ok(path);
    REQUIRE(db.put("k", "v") == errc::ok);
  }
  std::vector<std::byte> bytes = test::read_file(path);
  format::store16(bytes.data() + 10, 1);
  reseal(bytes);
  test::write_file(path, bytes);
  CHECK(store::open(path, {}).code() == errc::unsupported_version);
  CHECK(store::open(path, {.create = true}).code() == errc::unsupported_version);
  CHECK((test::read_file(path) == bytes));
  {
    auto ro = store::open(path, {.read_only = true});
    REQUIRE(ro);
    CHECK(ro->get("k")->str() == "v");
    CHECK(ro->info().format_minor == 1);
    CHECK(ro->put("k2", "v2") == errc::read_only);
  }
  CHECK((test::read_file(path) == bytes));
  // a newer minor version whose last commit is torn: read-only ignores the tail, and still
  // nothing is written
  bytes.resize(bytes.size() + 13, std::byte{7});
  test::write_file(path, bytes);
  CHECK(store::open(path, {}).code() == errc::unsupported_version);
  {
    auto ro = store::open(path, {.read_only = true});
    REQUIRE(ro);
    CHECK(ro->report().tail_dropped);
    CHECK_FALSE(ro->report().tail_truncated);
  }
  CHECK((test::read_file(path) == bytes));
}

TEST_CASE("paths that are not store files", "[recovery]") {
  test::temp_dir dir;
  SECTION("a directory is not_a_file") {
    const std::string d = dir.file("sub");
    std::filesystem::create_directory(d);
    CHECK(store::open(d, {}).code() == errc::not_a_file);
    CHECK(store::open(d, {.create = true}).code() == errc::not_a_file);
    CHECK(store::open(d, {.read_only = true}).code() == errc::not_a_file);
    CHECK(std::filesystem::is_empty(d));
  }
  SECTION("a missing file without create is file_not_found, and is not created") {
    const std::string p = dir.file("missing.simdr");
    CHECK(store::open(p, {}).code() == errc::file_not_found);
    CHECK(store::open(p, {.read_only = true}).code() == errc::file_not_found);
    CHECK_FALSE(std::filesystem::exists(p));
    CHECK(store::open(dir.file("no/such/dir.simdr"), {.create = true}).code() ==
          errc::file_not_found);
  }
  SECTION("an empty file is not a store unless created") {
    const std::string p = dir.file("empty.simdr");
    test::write_file(p, {});
    CHECK(store::open(p, {}).code() == errc::bad_magic);
    CHECK(store::open(p, {.read_only = true}).code() == errc::bad_magic);
    CHECK(std::filesystem::file_size(p) == 0);
    store db = open_ok(p, {.create = true});
    CHECK(db.report().created);
    CHECK(db.size() == 0);
    CHECK(std::filesystem::file_size(p) == format::header_size);
    REQUIRE(db.put("k", "v") == errc::ok);
  }
  SECTION("a /dev node is not_a_file") {
    if (std::filesystem::exists("/dev/null")) {
      CHECK(store::open("/dev/null", {.read_only = true}).code() == errc::not_a_file);
      CHECK(store::open("/dev/null", {}).code() == errc::not_a_file);
    }
  }
  SECTION("an empty path is invalid_argument") {
    CHECK(store::open("", {}).code() == errc::invalid_argument);
  }
}

TEST_CASE("create together with read_only is invalid_argument", "[recovery]") {
  test::temp_dir dir;
  const std::string p = dir.file("a.simdr");
  CHECK(store::open(p, {.create = true, .read_only = true}).code() == errc::invalid_argument);
  CHECK_FALSE(std::filesystem::exists(p));
  { store db = open_ok(p); }
  const auto before = test::read_file(p);
  CHECK(store::open(p, {.create = true, .read_only = true}).code() == errc::invalid_argument);
  CHECK((test::read_file(p) == before));
}

#if SIMDR_TEST_HAS_PROCESSES  // drops privileges in a child process
TEST_CASE("a file the process may not open is access_denied", "[recovery]") {
  test::temp_dir dir;
  const std::string secret = dir.file("secret.simdr"), shared = dir.file("shared.simdr");
  for (const std::string& p : {secret, shared}) {
    store db = open_ok(p);
    REQUIRE(db.put("k", "v") == errc::ok);
  }
  REQUIRE(::chmod(secret.c_str(), 0600) == 0);  // nobody else may read or write
  REQUIRE(::chmod(shared.c_str(), 0644) == 0);  // others may read only
  const auto secret_before = test::read_file(secret), shared_before = test::read_file(shared);
  // As root (CI) permissions do not apply: drop to nobody (65534) in a child first. The child
  // exits with 0 when every open behaved, else with the number of the first failed check.
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(100);
    if (::geteuid() == 0) ::_exit(100);
    if (store::open(secret, {}).code() != errc::access_denied) ::_exit(1);
    if (store::open(secret, {.create = true}).code() != errc::access_denied) ::_exit(2);
    if (store::open(secret, {.read_only = true}).code() != errc::access_denied) ::_exit(3);
    if (store::open(shared, {}).code() != errc::access_denied) ::_exit(4);
    auto ro = store::open(shared, {.read_only = true});  // reading is allowed
    if (!ro) ::_exit(5);
    if (!ro->get("k") || ro->get("k")->str() != "v") ::_exit(6);
    ::_exit(0);
  }
  int wstatus = 0;
  REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
  REQUIRE(WIFEXITED(wstatus));
  const int code = WEXITSTATUS(wstatus);
  if (code == 100) {
    WARN("cannot drop privileges (setuid/setgid 65534 failed): access_denied not tested");
    return;
  }
  INFO("the child's check number " << code << " failed");
  CHECK(code == 0);
  CHECK((test::read_file(secret) == secret_before));
  CHECK((test::read_file(shared) == shared_before));
}
#endif

TEST_CASE("one writer per file: a second read-write open is locked", "[recovery]") {
  test::temp_dir dir;
  const std::string p = dir.file("lock.simdr");
  {
    store first = open_ok(p);
    REQUIRE(first.put("k", "v1") == errc::ok);
    const auto before = test::read_file(p);
    auto second = store::open(p, {});
    CHECK(second.code() == errc::locked);
    CHECK(store::open(p, {.create = true}).code() == errc::locked);
    CHECK((test::read_file(p) == before));
    // readers coexist with the writer and see its commits (refresh for later ones)
    auto reader = store::open(p, {.read_only = true});
    REQUIRE(reader);
    CHECK(reader->get("k")->str() == "v1");
    REQUIRE(first.put("k2", "v2") == errc::ok);
    REQUIRE(reader->refresh());
    CHECK(reader->get("k2")->str() == "v2");
#if SIMDR_TEST_HAS_PROCESSES
    // another process is locked out as well
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(static_cast<int>(store::open(p, {}).code()));
    int wstatus = 0;
    REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
    REQUIRE(WIFEXITED(wstatus));
    CHECK(WEXITSTATUS(wstatus) == static_cast<int>(errc::locked));
#endif
    REQUIRE(first.close() == errc::ok);
    auto third = store::open(p, {});
    REQUIRE(third);  // the lock went with the first handle
    CHECK(third->get("k2")->str() == "v2");
    CHECK(reader->get("k")->str() == "v1");  // the reader is unaffected
  }
  // and after the handle is destroyed (not closed explicitly)
  { store a = open_ok(p, {}); }
  store b = open_ok(p, {});
  CHECK(b.size() == 2);
}

// BUG (tagged [.bug] only, since a "[recovery]" filter would select a hidden test too):
// store::open(fifo, {.read_only = true}) never returns. posix_storage::open_file() calls
// open(2) with O_RDONLY before it checks the file type, and opening a FIFO for reading blocks
// until some process opens it for writing. Expected: not_a_file at once, like a directory or
// /dev/null. Runs in a child with an alarm so a hang fails the test instead of hanging it.
#if SIMDR_TEST_HAS_PROCESSES  // a child process with an alarm
TEST_CASE("a FIFO is not_a_file for read-only opens too and open does not block", "[recovery]") {
  test::temp_dir dir;
  const std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(store::open(fifo, {}).code() == errc::not_a_file);  // O_RDWR does not block on Linux
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::alarm(5);
    ::_exit(static_cast<int>(store::open(fifo, {.read_only = true}).code()));
  }
  int ws = 0;
  REQUIRE(::waitpid(pid, &ws, 0) == pid);
  INFO("child: " << (WIFSIGNALED(ws) ? "killed by signal " : "exit code ")
                 << (WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws)) << " (SIGALRM: 14)");
  REQUIRE(WIFEXITED(ws));
  CHECK(WEXITSTATUS(ws) == static_cast<int>(errc::not_a_file));
}

TEST_CASE("value() of a failed result terminates in every build type", "[errors]") {
  // The no-exceptions analogue of std::bad_expected_access: a caller who ignores an error gets a
  // deterministic stop, never a garbage handle (before, a release build dereferenced one).
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGABRT, SIG_DFL);  // not Catch2's handler, which would report a failure here
    (void)!freopen("/dev/null", "w", stderr);
    simdr::result<simdr::store> r = simdr::errc::file_not_found;
    (void)r.value().size();
    _exit(0);  // not reached
  }
  int wstatus = 0;
  REQUIRE(waitpid(pid, &wstatus, 0) == pid);
  REQUIRE(WIFSIGNALED(wstatus));
  CHECK(WTERMSIG(wstatus) == SIGABRT);
}
#endif
