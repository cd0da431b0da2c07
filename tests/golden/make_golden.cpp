// make_golden.cpp - writes the golden files of tests/golden/ (target simdr_make_golden).
//
//   simdr_make_golden [--force] [DIR]      DIR defaults to the source tree's tests/golden
//
// good/<case>.simdr  the file the fixed operations of golden_cases.hpp produce
// good/<case>.txt    its dump (tools/inspect_dump.hpp, the code behind `simdr-inspect dump`)
// bad/<name>.simdr   files that must fail to open with the error their name starts with
// bad/<name>.txt     their dump
//
// Golden files are kept forever (tests/golden/README.md): an existing file whose content would
// change is NOT overwritten (exit 1) unless --force is given. Identical files are left alone.
#include "format/format.hpp"
#include "golden/golden_cases.hpp"
#include "hash.hpp"
#include "inspect_dump.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#ifndef SIMDR_GOLDEN_DIR
#define SIMDR_GOLDEN_DIR "tests/golden"
#endif

namespace fs = std::filesystem;
namespace fmt = simdr::detail::format;

namespace {

using byte_vector = std::vector<std::byte>;

bool g_force = false;
int g_failures = 0;

byte_vector read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  byte_vector out(c.size());
  if (!c.empty()) std::memcpy(out.data(), c.data(), c.size());
  return out;
}

/// Writes `bytes` to `p` unless it exists with other content (then only with --force).
void emit(const fs::path& p, std::span<const std::byte> bytes) {
  std::error_code ec;
  if (fs::exists(p, ec)) {
    const byte_vector old = read_bytes(p);
    if (old.size() == bytes.size() &&
        (bytes.empty() || std::memcmp(old.data(), bytes.data(), bytes.size()) == 0)) {
      std::printf("unchanged  %s\n", p.string().c_str());
      return;
    }
    if (!g_force) {
      std::printf("DIFFERS    %s (kept; golden files are never rewritten without --force)\n",
                  p.string().c_str());
      ++g_failures;
      return;
    }
  }
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::printf("FAILED     %s: cannot write\n", p.string().c_str());
    ++g_failures;
    return;
  }
  std::printf("written    %s (%zu bytes)\n", p.string().c_str(), bytes.size());
}

void emit_with_dump(const fs::path& dir, std::string_view name, const byte_vector& bytes) {
  emit(dir / (std::string(name) + ".simdr"), bytes);
  std::string text;
  (void)simdr::tools::dump(bytes, text);
  emit(dir / (std::string(name) + ".txt"),
       std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

/// Re-encodes the 64-byte header of `file` with `patch` applied to its bytes 0..55 and a
/// correct header checksum.
template <class Patch> byte_vector with_header(byte_vector file, Patch patch) {
  patch(file.data());
  fmt::store64(file.data() + 56, simdr::detail::xxh3(file.data(), 56));
  return file;
}

byte_vector from_text(std::string_view s) {
  byte_vector v(s.size());
  std::memcpy(v.data(), s.data(), s.size());
  return v;
}

} // namespace

int main(int argc, char* argv[]) {
  fs::path dir = SIMDR_GOLDEN_DIR;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--force")
      g_force = true;
    else if (a == "--help" || a == "-h") {
      std::printf("usage: simdr_make_golden [--force] [DIR]   (DIR defaults to %s)\n",
                  SIMDR_GOLDEN_DIR);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "simdr_make_golden: unknown option %s\n", argv[i]);
      return 2;
    } else
      dir = a;
  }
  std::error_code ec;
  fs::create_directories(dir / "good", ec);
  fs::create_directories(dir / "bad", ec);

  // Stores are written in a scratch directory (compaction renames files next to them), then
  // copied into place.
  char scratch_template[] = "/tmp/simdr-golden-XXXXXX";
  if (::mkdtemp(scratch_template) == nullptr) {
    std::perror("simdr_make_golden: mkdtemp");
    return 1;
  }
  const fs::path scratch = scratch_template;

  std::vector<byte_vector> made;
  for (std::string_view name : simdr::golden::case_names) {
    const fs::path tmp = scratch / (std::string(name) + ".simdr");
    simdr::golden::model m;
    const simdr::status st = simdr::golden::write_case(name, tmp.string(), m);
    if (!st.is_ok()) {
      std::fprintf(stderr, "simdr_make_golden: case %.*s: %.*s\n", static_cast<int>(name.size()),
                   name.data(), static_cast<int>(simdr::to_string(st.code).size()),
                   simdr::to_string(st.code).data());
      ++g_failures;
      made.emplace_back();
      continue;
    }
    made.push_back(read_bytes(tmp));
    std::string text;
    const simdr::tools::dump_stats ds = simdr::tools::dump(made.back(), text);
    if (ds.verdict != simdr::tools::dump_verdict::clean || ds.live_keys != m.size()) {
      std::fprintf(stderr, "simdr_make_golden: case %.*s: the dump disagrees with the model\n",
                   static_cast<int>(name.size()), name.data());
      ++g_failures;
    }
    emit_with_dump(dir / "good", name, made.back());
  }
  fs::remove_all(scratch, ec);
  if (g_failures != 0) return 1;

  const byte_vector& empty = made[0];  // header only, alignment 64
  const byte_vector& align8 = made[2]; // header + 8 commits, alignment 8
  const fs::path bad = dir / "bad";

  // ---- bad_magic: not ours ----
  emit_with_dump(bad, "bad_magic_text",
                 from_text("This is a plain text file, not a SIMD R Drive store.\n"
                           "key = value\n"));
  {
    // A PNG: the first byte (0x89) and the CR LF match the magic; 'P' does not.
    byte_vector png = {std::byte{0x89}, std::byte{'P'},  std::byte{'N'},  std::byte{'G'},
                       std::byte{0x0d}, std::byte{0x0a}, std::byte{0x1a}, std::byte{0x0a}};
    const byte_vector ihdr = {std::byte{0},   std::byte{0},   std::byte{0},   std::byte{13},
                              std::byte{'I'}, std::byte{'H'}, std::byte{'D'}, std::byte{'R'}};
    png.insert(png.end(), ihdr.begin(), ihdr.end());
    for (std::size_t i = 0; png.size() < 96; ++i)
      png.push_back(static_cast<std::byte>((i * 37 + 11) & 0xff));
    emit_with_dump(bad, "bad_magic_png", png);
  }
  emit_with_dump(bad, "bad_magic_empty", {}); // 0 bytes: a store only when creating

  // ---- corrupt: ours, but damaged ----
  emit_with_dump(bad, "corrupt_magic_prefix", byte_vector(empty.begin(), empty.begin() + 5));
  emit_with_dump(bad, "corrupt_truncated_header", byte_vector(empty.begin(), empty.begin() + 40));
  {
    byte_vector f = align8;
    f[56] ^= std::byte{0x01}; // the stored header checksum
    emit_with_dump(bad, "corrupt_header_checksum", f);
  }
  emit_with_dump(bad, "corrupt_header_reserved",
                 with_header(empty, [](std::byte* p) { p[40] = std::byte{0x01}; }));
  emit_with_dump(bad, "corrupt_alignment_log2",
                 with_header(empty, [](std::byte* p) { p[16] = std::byte{17}; }));
  {
    // One byte of the second entry's header flipped; the six commits after it are intact, so
    // this is damage inside committed data, not a torn tail.
    byte_vector f = align8;
    fmt::entry e;
    if (fmt::decode_entry(f, fmt::header_size, 8, e) != fmt::decode_result::ok) {
      std::fprintf(stderr, "simdr_make_golden: align8 does not decode\n");
      return 1;
    }
    f[static_cast<std::size_t>(e.end) + 16] ^= std::byte{0x40}; // value_len, low byte
    emit_with_dump(bad, "corrupt_damaged_entry", f);
  }

  // ---- unsupported_version: ours, from the future ----
  emit_with_dump(bad, "unsupported_version_major2",
                 with_header(align8, [](std::byte* p) { fmt::store16(p + 8, 2); }));
  emit_with_dump(bad, "unsupported_version_hash_algorithm",
                 with_header(empty, [](std::byte* p) { p[17] = std::byte{2}; }));
  emit_with_dump(bad, "unsupported_version_checksum_algorithm",
                 with_header(empty, [](std::byte* p) { p[18] = std::byte{2}; }));

  return g_failures == 0 ? 0 : 1;
}
