// simdr-inspect - look inside a SIMD R Drive store file.
//
//   simdr-inspect dump FILE     every byte of the file, entry by entry, from the raw bytes
//                               (the torn tail and damaged entries included)
//   simdr-inspect verify FILE   open read-only, check every checksum (exit 1 on issues)
//   simdr-inspect stat FILE     store statistics, one "key: value" per line
//
// Exit codes: 0 success (verify: no issue), 1 verify found issues, 2 usage error, 3 the file
// could not be read or opened. Dependency-free on purpose: plain argv parsing.
#include "inspect_dump.hpp"
#include "simdr/simdr.hpp"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int exit_ok = 0;
constexpr int exit_issues = 1;
constexpr int exit_usage = 2;
constexpr int exit_error = 3;

constexpr const char* usage_text =
    "usage: simdr-inspect COMMAND FILE\n"
    "\n"
    "Look inside a SIMD R Drive store file. Nothing is ever written to FILE.\n"
    "\n"
    "commands:\n"
    "  dump FILE     print the file header and every entry in file order, read straight from\n"
    "                the bytes (torn tail and damaged entries included), then a summary\n"
    "  verify FILE   open read-only, check every header, key and value checksum, print the\n"
    "                verify and open reports\n"
    "  stat FILE     print store statistics, one \"key: value\" per line\n"
    "  --help        print this help\n"
    "\n"
    "exit status: 0 ok, 1 verify found issues, 2 usage error, 3 the file could not be opened\n";

int usage_error(const char* why) {
  std::fprintf(stderr, "simdr-inspect: %s\n%s", why, usage_text);
  return exit_usage;
}

void print_error(const char* path, simdr::status st) {
  std::fprintf(stderr, "simdr-inspect: %s: %.*s: %.*s", path,
               static_cast<int>(simdr::to_string(st.code).size()), simdr::to_string(st.code).data(),
               static_cast<int>(simdr::describe(st.code).size()), simdr::describe(st.code).data());
  if (st.code == simdr::errc::corrupt || st.code == simdr::errc::checksum_mismatch)
    std::fprintf(stderr, " at offset %" PRIu64, st.offset);
  if (st.sys_errno != 0) std::fprintf(stderr, ": %s", std::strerror(st.sys_errno));
  std::fputc('\n', stderr);
}

bool read_whole(const char* path, std::vector<std::byte>& out) {
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "simdr-inspect: %s: %s\n", path, std::strerror(errno));
    return false;
  }
  std::byte buf[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f);
    out.insert(out.end(), buf, buf + n);
    if (n < sizeof buf) break;
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) {
    std::fprintf(stderr, "simdr-inspect: %s: %s\n", path, std::strerror(err));
    return false;
  }
  return true;
}

int cmd_dump(const char* path) {
  std::vector<std::byte> bytes;
  if (!read_whole(path, bytes)) return exit_error;
  std::string text;
  (void)simdr::tools::dump(bytes, text);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return exit_ok;
}

simdr::result<simdr::store> open_read_only(const char* path) {
  auto opened = simdr::store::open(path, {.read_only = true});
  if (!opened) print_error(path, opened.error());
  return opened;
}

const char* yes_no(bool b) {
  return b ? "true" : "false";
}

int cmd_verify(const char* path) {
  auto opened = open_read_only(path);
  if (!opened) return exit_error;
  simdr::store db = std::move(*opened);
  const simdr::open_report o = db.report();
  std::printf("open.file_size_before: %" PRIu64 "\n", o.file_size_before);
  std::printf("open.committed_size: %" PRIu64 "\n", o.committed_size);
  std::printf("open.entries: %" PRIu64 "\n", o.entries);
  std::printf("open.commits: %" PRIu64 "\n", o.commits);
  std::printf("open.tail_dropped: %s\n", yes_no(o.tail_dropped));
  std::printf("open.tail_bytes: %" PRIu64 "\n", o.tail_bytes);
  std::printf("open.tail_truncated: %s\n", yes_no(o.tail_truncated));
  auto checked = db.verify();
  if (!checked) {
    print_error(path, checked.error());
    return exit_error;
  }
  const simdr::verify_report& v = *checked;
  std::printf("verify.entries: %" PRIu64 "\n", v.entries);
  std::printf("verify.puts: %" PRIu64 "\n", v.puts);
  std::printf("verify.tombstones: %" PRIu64 "\n", v.tombstones);
  std::printf("verify.value_bytes: %" PRIu64 "\n", v.value_bytes);
  std::printf("verify.committed_size: %" PRIu64 "\n", v.committed_size);
  std::printf("verify.issues: %zu\n", v.issues.size());
  for (const simdr::verify_issue& i : v.issues)
    std::printf("issue: offset %" PRIu64 ": %.*s: %.*s\n", i.offset,
                static_cast<int>(simdr::to_string(i.code).size()), simdr::to_string(i.code).data(),
                static_cast<int>(simdr::describe(i.code).size()), simdr::describe(i.code).data());
  if (o.tail_dropped)
    std::printf("note: %" PRIu64 " bytes after the last commit (a torn tail, or a commit being "
                "written) were ignored\n",
                o.tail_bytes);
  std::printf("result: %s\n", v.is_ok() ? "ok" : "ISSUES");
  return v.is_ok() ? exit_ok : exit_issues;
}

int cmd_stat(const char* path) {
  auto opened = open_read_only(path);
  if (!opened) return exit_error;
  const simdr::store_info i = opened->info();
  std::printf("format_version: %u.%u\n", static_cast<unsigned>(i.format_major),
              static_cast<unsigned>(i.format_minor));
  std::printf("alignment: %" PRIu32 "\n", i.alignment);
  std::printf("live_keys: %" PRIu64 "\n", i.live_keys);
  std::printf("entries: %" PRIu64 "\n", i.entries);
  std::printf("tombstones: %" PRIu64 "\n", i.tombstones);
  std::printf("file_size: %" PRIu64 "\n", i.file_size);
  std::printf("reclaimable_bytes: %" PRIu64 "\n", i.reclaimable_bytes);
  std::printf("index_bytes: %" PRIu64 "\n", i.index_bytes);
  std::printf("read_only: %s\n", yes_no(i.read_only));
  return exit_ok;
}

} // namespace

int main(int argc, char* argv[]) {
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
                    std::strcmp(argv[1], "help") == 0)) {
    std::fputs(usage_text, stdout);
    return exit_ok;
  }
  if (argc < 2) return usage_error("missing command");
  const std::string_view cmd = argv[1];
  if (cmd != "dump" && cmd != "verify" && cmd != "stat") {
    const std::string why = "unknown command '" + std::string(cmd) + "'";
    return usage_error(why.c_str());
  }
  if (argc != 3) return usage_error(argc < 3 ? "missing FILE" : "too many arguments");
  const char* path = argv[2];
  int rc = exit_ok;
  if (cmd == "dump")
    rc = cmd_dump(path);
  else if (cmd == "verify")
    rc = cmd_verify(path);
  else
    rc = cmd_stat(path);
  if (std::fflush(stdout) != 0 && rc == exit_ok) {
    std::fprintf(stderr, "simdr-inspect: writing the output failed: %s\n", std::strerror(errno));
    return exit_error;
  }
  return rc;
}
