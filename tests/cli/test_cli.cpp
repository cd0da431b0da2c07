// test_cli.cpp - every `simdr` command driven through the built binary: output, --json (parsed),
// exit statuses, key encodings, and bad input (missing file, not a store, locked, corrupt).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cli_test_util.hpp"
#include "simdr/simdr.hpp"

using namespace simdr::cli_test;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> all_commands = {"put",  "get",    "delete",  "rename", "copy",
                                               "move", "keys",   "info",    "meta",   "verify",
                                               "compact", "import", "export", "bench"};

std::string all_bytes(std::size_t repeat) {
  std::string s;
  for (std::size_t r = 0; r < repeat; ++r)
    for (int b = 0; b < 256; ++b) s.push_back(static_cast<char>(b));
  return s;
}

void put_ok(const std::string& file, const std::string& key, const std::string& value) {
  REQUIRE_EXIT(run({"put", file, key, value}), 0);
}

std::string get_ok(const std::string& file, const std::vector<std::string>& extra) {
  std::vector<std::string> args{"get", file};
  args.insert(args.end(), extra.begin(), extra.end());
  run_result r = run(args);
  REQUIRE_EXIT(r, 0);
  return r.out;
}

}  // namespace

// ---- usage -------------------------------------------------------------------------------------

TEST_CASE("help and version exit 0, every command has help with examples", "[cli][usage]") {
  run_result h = run({"--help"});
  REQUIRE_EXIT(h, 0);
  CHECK(h.err.empty());
  for (const auto& c : all_commands) CHECK(h.out.find("  " + c + " ") != std::string::npos);
  CHECK(h.out.find("Exit status") != std::string::npos);
  CHECK(h.out.find("Examples:") != std::string::npos);

  run_result v = run({"--version"});
  REQUIRE_EXIT(v, 0);
  CHECK(v.out == "simdr " + std::string(simdr::library_version) + " (file format 1.0)\n");

  for (const auto& c : all_commands) {
    INFO("command " << c);
    run_result r = run({c, "--help"});
    REQUIRE_EXIT(r, 0);
    CHECK(r.out.find("Usage: simdr " + c) != std::string::npos);
    CHECK(r.out.find("Example") != std::string::npos);
    CHECK(r.out.find("simdr " + c + " ") != std::string::npos);  // an example of this command
  }
}

TEST_CASE("usage errors exit 2 with one line on stderr", "[cli][usage][errors]") {
  temp_dir d;
  const std::string f = d.file("u.simdr");
  put_ok(f, "k", "v");

  run_result r = run({"frobnicate", f});
  REQUIRE_EXIT(r, 2);
  REQUIRE_ONE_ERROR_LINE(r, "unknown command 'frobnicate'");
  CHECK(r.out.empty());

  REQUIRE_EXIT(run({}), 2);
  r = run({"get", f});
  REQUIRE_EXIT(r, 2);
  REQUIRE_ONE_ERROR_LINE(r, "KEY is required");
  r = run({"get", f, "k", "extra"});
  REQUIRE_EXIT(r, 2);
  r = run({"get", "--bogus", f, "k"});
  REQUIRE_EXIT(r, 2);
  REQUIRE_ONE_ERROR_LINE(r, "--bogus");
  r = run({"get", "--hex", f, "0g"});
  REQUIRE_EXIT(r, 2);
  REQUIRE_ONE_ERROR_LINE(r, "hex");
  r = run({"get", "--hex", f, "abc"});
  REQUIRE_EXIT(r, 2);
  r = run({"get", "-e", f, "bad\\q"});
  REQUIRE_EXIT(r, 2);
  REQUIRE_ONE_ERROR_LINE(r, "unknown escape");
  r = run({"get", "--hex", "-e", f, "00"});
  REQUIRE_EXIT(r, 2);
  r = run({"get", f, ""});
  REQUIRE_EXIT(r, 2);
  REQUIRE_ONE_ERROR_LINE(r, "1 to 65535 bytes");
  r = run({"put", f, std::string(65536, 'a'), "v"});
  REQUIRE_EXIT(r, 2);
  REQUIRE_ONE_ERROR_LINE(r, "1 to 65535 bytes");
  r = run({"put", "--alignment", "100", d.file("new.simdr"), "k", "v"});
  REQUIRE_EXIT(r, 2);
  CHECK_FALSE(fs::exists(d.file("new.simdr")));
  r = run({"bench", "--n", "0"});
  REQUIRE_EXIT(r, 2);
  r = run({"keys", "-0", "--json", f});
  REQUIRE_EXIT(r, 2);
  r = run({"copy", f, "k", f});
  REQUIRE_EXIT(r, 2);
  REQUIRE_ONE_ERROR_LINE(r, "same file");
  // A key starting with '-' goes after "--".
  REQUIRE_EXIT(run({"put", f, "--", "-x", "minus"}), 0);
  CHECK(get_ok(f, {"--", "-x"}) == "minus");
}

// ---- put / get -----------------------------------------------------------------------------------

TEST_CASE("put and get: argument and stdin values, empty values, overwrite, --json", "[cli][put][get]") {
  temp_dir d;
  const std::string f = d.file("p.simdr");
  REQUIRE_FALSE(fs::exists(f));
  run_result r = run({"put", f, "greeting", "hello world"});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  REQUIRE(fs::exists(f));
  CHECK(get_ok(f, {"greeting"}) == "hello world");

  REQUIRE_EXIT(run_in({"put", f, "piped"}, "from stdin\n"), 0);
  CHECK(get_ok(f, {"piped"}) == "from stdin\n");

  REQUIRE_EXIT(run_in({"put", f, "empty"}, ""), 0);
  CHECK(get_ok(f, {"empty"}).empty());
  REQUIRE_EXIT(run({"put", f, "empty-arg", ""}), 0);
  CHECK(get_ok(f, {"empty-arg"}).empty());

  REQUIRE_EXIT(run({"put", "--sync", f, "greeting", "bye"}), 0);
  CHECK(get_ok(f, {"greeting"}) == "bye");

  r = run_in({"put", "--json", f, "js"}, "0123456789");
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["file"] == f);
  CHECK(j["key"] == "js");
  CHECK(j["size"] == 10);
  CHECK(j["offset"].get<std::uint64_t>() % 64 == 0);
  CHECK(j["checksum"].get<std::string>().size() == 16);

  // --no-create refuses a missing file and creates nothing.
  r = run({"put", "--no-create", d.file("absent.simdr"), "k", "v"});
  REQUIRE_EXIT(r, 3);
  REQUIRE_ONE_ERROR_LINE(r, "absent.simdr");
  CHECK_FALSE(fs::exists(d.file("absent.simdr")));

  // --alignment applies to new files.
  const std::string g = d.file("aligned.simdr");
  r = run({"put", "--alignment", "4096", "--json", g, "k", "v"});
  REQUIRE_EXIT(r, 0);
  CHECK(parse_json(r)["offset"].get<std::uint64_t>() % 4096 == 0);
  CHECK(parse_json(run({"info", "--json", g}))["alignment"] == 4096);
}

TEST_CASE("values are binary-safe through stdin and stdout", "[cli][put][get][binary][pipe]") {
  temp_dir d;
  const std::string f = d.file("b.simdr");
  const std::string value = all_bytes(4000);  // ~1 MiB with every byte value, NULs included
  REQUIRE_EXIT(run_in({"put", f, "bin"}, value), 0);
  const std::string back = get_ok(f, {"bin"});
  REQUIRE(back.size() == value.size());
  CHECK(back == value);
  // A value given as an argument may hold any byte but NUL (argv is C strings).
  const std::string high = "\x01\x7f\x80\xff\n\r\t end";
  put_ok(f, "arg", high);
  CHECK(get_ok(f, {"arg"}) == high);
}

TEST_CASE("get: a missing key exits 1, a missing or bad file exits 3", "[cli][get][errors]") {
  temp_dir d;
  const std::string f = d.file("g.simdr");
  put_ok(f, "a", "1");
  run_result r = run({"get", f, "nope"});
  REQUIRE_EXIT(r, 1);
  REQUIRE_ONE_ERROR_LINE(r, "key \"nope\" not found");
  REQUIRE_ONE_ERROR_LINE(r, f);
  CHECK(r.out.empty());

  r = run({"get", d.file("missing.simdr"), "a"});
  REQUIRE_EXIT(r, 3);
  REQUIRE_ONE_ERROR_LINE(r, "missing.simdr: no such file");
  CHECK_FALSE(fs::exists(d.file("missing.simdr")));  // reads never create
}

// ---- keys and key encodings ----------------------------------------------------------------------

TEST_CASE("binary keys: --hex and --escaped in, escaped / hex / NUL / JSON out", "[cli][keys][binary]") {
  temp_dir d;
  const std::string f = d.file("k.simdr");
  const std::string nul_key("\x00\xff\n\\", 4);
  REQUIRE_EXIT(run({"put", "--hex", f, "00ff0a5c", "nul"}), 0);
  REQUIRE_EXIT(run({"put", "-e", f, "tab\\tkey", "tab"}), 0);
  put_ok(f, "caf\xc3\xa9", "utf8");
  put_ok(f, "back\\slash", "bs");
  put_ok(f, "plain", "p");

  run_result r = run({"keys", f});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out == "\\x00\\xff\\n\\\\\nback\\\\slash\ncaf\xc3\xa9\nplain\ntab\\tkey\n");
  // Every printed line reads back with -e.
  std::size_t start = 0;
  std::set<std::string> values;
  while (start < r.out.size()) {
    const std::size_t nl = r.out.find('\n', start);
    values.insert(get_ok(f, {"-e", r.out.substr(start, nl - start)}));
    start = nl + 1;
  }
  CHECK(values == std::set<std::string>{"nul", "tab", "utf8", "bs", "p"});

  r = run({"keys", "--hex", f});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out == "00ff0a5c\n6261636b5c736c617368\n636166c3a9\n706c61696e\n746162096b6579\n");
  CHECK(get_ok(f, {"--hex", "746162096b6579"}) == "tab");
  CHECK(get_ok(f, {"--hex", "00FF0A5C"}) == "nul");  // upper-case hex too

  // --null: raw bytes, NUL-terminated; a key holding a NUL is skipped with status 3.
  r = run({"keys", "-0", f});
  REQUIRE_EXIT(r, 3);
  REQUIRE_ONE_ERROR_LINE(r, "NUL byte");
  CHECK(r.out == std::string("back\\slash") + '\0' + "caf\xc3\xa9" + '\0' + "plain" + '\0' +
                     "tab\tkey" + '\0');
  REQUIRE_EXIT(run({"delete", "--hex", f, "00ff0a5c"}), 0);
  r = run({"keys", "--null", f});
  REQUIRE_EXIT(r, 0);
  CHECK(r.err.empty());

  // --json: "key" for valid UTF-8 keys, "key_hex" for the others; sizes of the values.
  REQUIRE_EXIT(run({"put", "--hex", f, "ff", "12345"}), 0);
  r = run({"keys", "--json", f});
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["file"] == f);
  CHECK(j["count"] == 5);
  REQUIRE(j["keys"].size() == 5);
  CHECK(j["keys"][0] == json({{"key", "back\\slash"}, {"size", 2}}));
  CHECK(j["keys"][1] == json({{"key", "caf\xc3\xa9"}, {"size", 4}}));
  CHECK(j["keys"][2] == json({{"key", "plain"}, {"size", 1}}));
  CHECK(j["keys"][3] == json({{"key", "tab\tkey"}, {"size", 3}}));
  CHECK(j["keys"][4] == json({{"key_hex", "ff"}, {"size", 5}}));
}

TEST_CASE("keys: sorted, --prefix (text and hex), --unsorted, empty store", "[cli][keys]") {
  temp_dir d;
  const std::string f = d.file("k.simdr");
  for (const char* k : {"img/b.png", "doc/x", "img/a.png", "img", "imgz"}) put_ok(f, k, "v");
  run_result r = run({"keys", f});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out == "doc/x\nimg\nimg/a.png\nimg/b.png\nimgz\n");
  r = run({"keys", f, "--prefix", "img/"});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out == "img/a.png\nimg/b.png\n");
  r = run({"keys", "--hex", f, "--prefix", "696d672f"});  // "img/" in hex; output in hex too
  REQUIRE_EXIT(r, 0);
  CHECK(r.out == "696d672f612e706e67\n696d672f622e706e67\n");
  r = run({"keys", "--json", f, "--prefix", "img/"});
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["prefix"] == "img/");
  CHECK(j["count"] == 2);
  r = run({"keys", "--unsorted", f});
  REQUIRE_EXIT(r, 0);
  std::multiset<std::string> lines;
  std::size_t start = 0;
  while (start < r.out.size()) {
    const std::size_t nl = r.out.find('\n', start);
    lines.insert(r.out.substr(start, nl - start));
    start = nl + 1;
  }
  CHECK(lines == std::multiset<std::string>{"img/b.png", "doc/x", "img/a.png", "img", "imgz"});
  r = run({"keys", f, "--prefix", "none/"});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out.empty());
  r = run({"keys", "--json", f, "--prefix", "none/"});
  REQUIRE_EXIT(r, 0);
  j = parse_json(r);
  CHECK(j["count"] == 0);
  CHECK(j["keys"] == json::array());
}

// ---- delete / rename / copy / move -----------------------------------------------------------------

TEST_CASE("delete: several keys in one commit, a missing key exits 1 unless --force", "[cli][delete]") {
  temp_dir d;
  const std::string f = d.file("d.simdr");
  for (const char* k : {"a", "b", "c"}) put_ok(f, k, "v");
  run_result r = run({"delete", f, "a", "b"});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out.empty());
  json info = parse_json(run({"info", "--json", f}));
  CHECK(info["live_keys"] == 1);
  CHECK(info["tombstones"] == 2);
  CHECK(info["open_report"]["commits"] == 4);  // three puts, one delete of two keys

  r = run({"delete", f, "c", "zz"});
  REQUIRE_EXIT(r, 1);
  REQUIRE_ONE_ERROR_LINE(r, "key \"zz\" not found");
  REQUIRE_EXIT(run({"get", f, "c"}), 1);  // the existing one was still removed

  put_ok(f, "e", "v");
  r = run({"delete", "-f", "--json", f, "e", "zz"});
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["deleted"] == json::array({json{{"key", "e"}}}));
  CHECK(j["missing"] == json::array({json{{"key", "zz"}}}));
  r = run({"delete", d.file("none.simdr"), "k"});
  REQUIRE_EXIT(r, 3);
  CHECK_FALSE(fs::exists(d.file("none.simdr")));
}

TEST_CASE("rename moves a value within the store", "[cli][rename]") {
  temp_dir d;
  const std::string f = d.file("r.simdr");
  put_ok(f, "old", "value");
  put_ok(f, "new", "replaced");
  run_result r = run({"rename", "--json", f, "old", "new"});
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["old"] == "old");
  CHECK(j["new"] == "new");
  CHECK(get_ok(f, {"new"}) == "value");
  REQUIRE_EXIT(run({"get", f, "old"}), 1);
  r = run({"rename", f, "old", "x"});
  REQUIRE_EXIT(r, 1);
  REQUIRE_ONE_ERROR_LINE(r, "key \"old\" not found");
  REQUIRE_EXIT(run({"rename", "--hex", f, "6e6577", "ff"}), 0);
  CHECK(get_ok(f, {"--hex", "ff"}) == "value");
}

TEST_CASE("copy and move into another store", "[cli][copy][move]") {
  temp_dir d;
  const std::string a = d.file("a.simdr");
  const std::string b = d.file("b.simdr");
  put_ok(a, "k", "payload");
  put_ok(a, "m", "moved");

  // A missing key exits 1 and does not create the target.
  run_result r = run({"copy", a, "zz", b});
  REQUIRE_EXIT(r, 1);
  CHECK_FALSE(fs::exists(b));

  r = run({"copy", "--json", a, "k", b});
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["target"] == b);
  CHECK(j["size"] == 7);
  CHECK(get_ok(b, {"k"}) == "payload");
  CHECK(get_ok(a, {"k"}) == "payload");

  REQUIRE_EXIT(run({"copy", a, "k", b, "--as", "k2"}), 0);
  CHECK(get_ok(b, {"k2"}) == "payload");

  REQUIRE_EXIT(run({"move", a, "m", b}), 0);
  CHECK(get_ok(b, {"m"}) == "moved");
  REQUIRE_EXIT(run({"get", a, "m"}), 1);
  r = run({"move", a, "m", b});
  REQUIRE_EXIT(r, 1);

  // --no-create: the target must exist.
  r = run({"copy", "--no-create", a, "k", d.file("c.simdr")});
  REQUIRE_EXIT(r, 3);
  CHECK_FALSE(fs::exists(d.file("c.simdr")));

  // A locked target: status 3, nothing changes in the source.
  {
    auto w = simdr::store::open(b, {});
    REQUIRE(w.has_value());
    r = run({"move", a, "k", b});
    REQUIRE_EXIT(r, 3);
    REQUIRE_ONE_ERROR_LINE(r, "locked");
    REQUIRE_ONE_ERROR_LINE(r, b);
  }
  CHECK(get_ok(a, {"k"}) == "payload");
}

// ---- info / meta / verify / compact -----------------------------------------------------------------

TEST_CASE("info: human and --json statistics", "[cli][info]") {
  temp_dir d;
  const std::string f = d.file("i.simdr");
  put_ok(f, "a", std::string(100, 'x'));
  put_ok(f, "a", std::string(100, 'y'));  // the first value becomes reclaimable
  put_ok(f, "b", "1");
  REQUIRE_EXIT(run({"delete", f, "b"}), 0);
  run_result r = run({"info", "--json", f});
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["file"] == f);
  CHECK(j["format_version"] == "1.0");
  CHECK(j["format_major"] == 1);
  CHECK(j["alignment"] == 64);
  CHECK(j["live_keys"] == 1);
  CHECK(j["entries"] == 4);
  CHECK(j["tombstones"] == 1);
  CHECK(j["file_size"] == file_size(f));
  CHECK(j["reclaimable_bytes"].get<std::uint64_t>() >= 200);
  CHECK(j["index_bytes"].get<std::uint64_t>() > 0);
  CHECK(j["open_report"]["tail_dropped"] == false);

  r = run({"info", f});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out.find("format version:    1.0\n") != std::string::npos);
  CHECK(r.out.find("live keys:         1\n") != std::string::npos);
  CHECK(r.out.find("entries:           4 (3 puts, 1 tombstones)\n") != std::string::npos);
  CHECK(r.out.find("file size:         " + std::to_string(file_size(f))) != std::string::npos);
  CHECK(r.out.find("reclaimable bytes: ") != std::string::npos);
  CHECK(r.out.find("torn tail:         none\n") != std::string::npos);
}

TEST_CASE("meta: offset, length, checksum and whether it verifies", "[cli][meta]") {
  temp_dir d;
  const std::string f = d.file("m.simdr");
  run_result p = run_in({"put", "--json", f, "k"}, "some value bytes");
  REQUIRE_EXIT(p, 0);
  const json put = parse_json(p);
  run_result r = run({"meta", "--json", f, "k"});
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["key"] == "k");
  CHECK(j["offset"] == put["offset"]);
  CHECK(j["length"] == 16);
  CHECK(j["checksum"] == put["checksum"]);
  CHECK(j["verified"] == true);
  CHECK(read_file(f).substr(j["offset"].get<std::size_t>(), 16) == "some value bytes");

  r = run({"meta", f, "k"});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out.find("offset:    " + std::to_string(j["offset"].get<std::uint64_t>()) + "\n") != std::string::npos);
  CHECK(r.out.find("length:    16\n") != std::string::npos);
  CHECK(r.out.find("verified:  yes\n") != std::string::npos);

  REQUIRE_EXIT(run({"meta", f, "nope"}), 1);

  // Damage one byte of the value: meta still prints, says it does not verify, and exits 3.
  poke(f, j["offset"].get<std::uint64_t>() + 3, 'X');
  r = run({"meta", "--json", f, "k"});
  REQUIRE_EXIT(r, 3);
  REQUIRE_ONE_ERROR_LINE(r, "checksum");
  CHECK(parse_json(r)["verified"] == false);
}

TEST_CASE("verify: 0 when intact, 3 with every problem listed when damaged", "[cli][verify]") {
  temp_dir d;
  const std::string f = d.file("v.simdr");
  put_ok(f, "a", "alpha value");
  put_ok(f, "b", "beta value");
  run_result r = run({"verify", "--json", f});
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["ok"] == true);
  CHECK(j["entries"] == 2);
  CHECK(j["puts"] == 2);
  CHECK(j["value_bytes"] == 21);
  CHECK(j["issues"] == json::array());
  r = run({"verify", f});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out.find("result:         ok\n") != std::string::npos);
  CHECK(r.err.empty());  // no progress bar on a pipe

  const std::uint64_t off = parse_json(run({"meta", "--json", f, "b"}))["offset"];
  poke(f, off, 'B');
  r = run({"verify", "--json", f});
  REQUIRE_EXIT(r, 3);
  REQUIRE_ONE_ERROR_LINE(r, "verify found 1 problem");
  j = parse_json(r);
  CHECK(j["ok"] == false);
  REQUIRE(j["issues"].size() == 1);
  CHECK(j["issues"][0]["offset"] == off);
  CHECK(j["issues"][0]["code"] == "checksum_mismatch");
  r = run({"verify", f});
  REQUIRE_EXIT(r, 3);
  CHECK(r.out.find("DAMAGED") != std::string::npos);
  // get streams the damaged bytes, then reports the mismatch with status 3.
  r = run({"get", f, "b"});
  REQUIRE_EXIT(r, 3);
  REQUIRE_ONE_ERROR_LINE(r, "checksum_mismatch");
  CHECK(r.out == "Beta value");
}

TEST_CASE("compact: reclaims space, keeps every live value, refuses a locked file", "[cli][compact]") {
  temp_dir d;
  const std::string f = d.file("c.simdr");
  for (int i = 0; i < 20; ++i) put_ok(f, std::string("k").append(std::to_string(i % 5)), std::string(500, static_cast<char>('a' + i)));
  REQUIRE_EXIT(run({"delete", f, "k4"}), 0);
  const std::uint64_t before = file_size(f);
  run_result r = run({"compact", "--json", f});
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["size_before"] == before);
  CHECK(j["size_after"] == file_size(f));
  CHECK(j["size_after"].get<std::uint64_t>() < before / 3);
  CHECK(j["entries_kept"] == 4);
  CHECK(j["bytes_freed"] == before - file_size(f));
  for (int k = 0; k < 4; ++k)
    CHECK(get_ok(f, {std::string("k").append(std::to_string(k))}) == std::string(500, static_cast<char>('a' + 15 + k)));
  REQUIRE_EXIT(run({"get", f, "k4"}), 1);
  CHECK(parse_json(run({"info", "--json", f}))["reclaimable_bytes"] == 0);
  r = run({"compact", f});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out.find("compacted " + f) != std::string::npos);

  auto w = simdr::store::open(f, {});
  REQUIRE(w.has_value());
  r = run({"compact", f});
  REQUIRE_EXIT(r, 3);
  REQUIRE_ONE_ERROR_LINE(r, f + ": the file is locked by another writer (locked");
  REQUIRE_EXIT(run({"compact", d.file("none.simdr")}), 3);
}

// ---- import / export ------------------------------------------------------------------------------

TEST_CASE("import and export a directory tree, with --prefix, byte for byte", "[cli][import][export]") {
  temp_dir d;
  const fs::path src = d.path() / "src";
  fs::create_directories(src / "sub" / "deeper");
  fs::create_directories(src / "empty-dir");
  write_file((src / "a.txt").string(), "alpha\n");
  write_file((src / "sub" / "b.bin").string(), all_bytes(300));
  write_file((src / "sub" / "deeper" / "caf\xc3\xa9 name.txt").string(), "utf8 name");
  write_file((src / "zero").string(), "");
  fs::create_symlink("a.txt", src / "link-to-a");
  const std::string f = d.file("store.simdr");

  run_result r = run({"import", "--json", f, src.string(), "--prefix", "site/"});
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["files"] == 5);
  CHECK(j["bytes"] == 6 + 300 * 256 + 9 + 0 + 6);
  CHECK(j["failed"] == 0);
  CHECK(j["prefix"] == "site/");
  CHECK(r.err.empty());
  r = run({"keys", f});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out == "site/a.txt\nsite/link-to-a\nsite/sub/b.bin\nsite/sub/deeper/caf\xc3\xa9 name.txt\nsite/zero\n");
  CHECK(get_ok(f, {"site/sub/b.bin"}) == all_bytes(300));

  put_ok(f, "other/x", "not exported");
  const fs::path out = d.path() / "out";
  r = run({"export", "--json", f, out.string(), "--prefix", "site/"});
  REQUIRE_EXIT(r, 0);
  j = parse_json(r);
  CHECK(j["files"] == 5);
  CHECK(j["failed"] == 0);
  std::set<std::string> exported;
  for (const auto& e : fs::recursive_directory_iterator(out))
    if (e.is_regular_file()) exported.insert(e.path().lexically_relative(out).generic_string());
  CHECK(exported == std::set<std::string>{"a.txt", "link-to-a", "sub/b.bin", "sub/deeper/caf\xc3\xa9 name.txt", "zero"});
  for (const auto& rel : exported)
    CHECK(read_file((out / rel).string()) == read_file((src / rel).string()));

  // Human summaries; re-import is idempotent (values replaced, same keys).
  r = run({"import", f, src.string(), "--prefix", "site/"});
  REQUIRE_EXIT(r, 0);
  CHECK(r.out == "imported 5 files (" + std::string("75.0 KiB") + ") from " + src.string() + " into " + f + "\n");
  CHECK(parse_json(run({"info", "--json", f}))["live_keys"] == 6);

  // Import without a prefix; a missing directory is status 3.
  const std::string g = d.file("plain.simdr");
  REQUIRE_EXIT(run({"import", g, src.string()}), 0);
  CHECK(get_ok(g, {"a.txt"}) == "alpha\n");
  r = run({"import", g, d.file("no-such-dir")});
  REQUIRE_EXIT(r, 3);
  REQUIRE_ONE_ERROR_LINE(r, "no-such-dir");
}

TEST_CASE("import skips the store itself, export skips keys that are not safe paths", "[cli][import][export][errors]") {
  temp_dir d;
  const fs::path tree = d.path() / "tree";
  fs::create_directories(tree);
  write_file((tree / "f").string(), "file");
  const std::string f = (tree / "self.simdr").string();  // the store lives inside the tree
  put_ok(f, "pre", "existing");
  run_result r = run({"import", "--json", f, tree.string()});
  REQUIRE_EXIT(r, 0);
  CHECK(parse_json(r)["files"] == 1);
  REQUIRE_EXIT(run({"get", f, "self.simdr"}), 1);

  const std::string s = d.file("unsafe.simdr");
  for (const char* k : {"ok/file", "../escape", "/abs", "a//b", "a/./b", "dir/", "x/.."}) put_ok(s, k, "v");
  const fs::path out = d.path() / "out";
  r = run({"export", s, out.string()});
  REQUIRE_EXIT(r, 3);
  CHECK(r.out.find("exported 1 files") != std::string::npos);
  CHECK(r.err.find("6 key(s) could not be exported") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 7);  // one line per key, one summary
  CHECK(read_file((out / "ok" / "file").string()) == "v");
  CHECK_FALSE(fs::exists(d.path() / "escape"));
  CHECK_FALSE(fs::exists("/abs"));
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) files += e.is_regular_file();
  CHECK(files == 1);
}

// ---- bad files -------------------------------------------------------------------------------------

TEST_CASE("not a store, a directory, a missing file: status 3, file untouched", "[cli][errors]") {
  temp_dir d;
  const std::string text = d.file("notes.txt");
  const std::string content = "just some text, not a store\n";
  write_file(text, content);
  const std::vector<std::vector<std::string>> commands = {
      {"get", text, "k"},   {"put", text, "k", "v"}, {"keys", text},    {"info", text},
      {"meta", text, "k"},  {"verify", text},        {"compact", text}, {"delete", text, "k"},
      {"rename", text, "a", "b"}, {"import", text, d.path().string()}, {"export", text, d.file("o")}};
  for (const auto& c : commands) {
    INFO(c[0]);
    run_result r = run(c);
    REQUIRE_EXIT(r, 3);
    REQUIRE_ONE_ERROR_LINE(r, text + ": not a SIMD R Drive file (bad_magic)");
    CHECK(read_file(text) == content);
  }
  run_result r = run({"info", d.path().string()});
  REQUIRE_EXIT(r, 3);
  REQUIRE_ONE_ERROR_LINE(r, "not a regular file");
  r = run({"verify", d.file("missing.simdr")});
  REQUIRE_EXIT(r, 3);
  REQUIRE_ONE_ERROR_LINE(r, "no such file");
  // An empty file is not a store for readers; put initialises it (it asked for creation).
  write_file(d.file("empty.simdr"), "");
  REQUIRE_EXIT(run({"info", d.file("empty.simdr")}), 3);
  REQUIRE_EXIT(run({"put", d.file("empty.simdr"), "k", "v"}), 0);
  CHECK(get_ok(d.file("empty.simdr"), {"k"}) == "v");
}

TEST_CASE("locked by another writer: writes exit 3 'locked', reads still work", "[cli][errors][lock]") {
  temp_dir d;
  const std::string f = d.file("l.simdr");
  put_ok(f, "k", "v");
  auto writer = simdr::store::open(f, {});
  REQUIRE(writer.has_value());
  const std::vector<std::vector<std::string>> writes = {
      {"put", f, "k", "w"}, {"delete", f, "k"}, {"rename", f, "k", "j"},
      {"compact", f},       {"import", f, d.path().string()}, {"move", f, "k", d.file("t.simdr")}};
  for (const auto& c : writes) {
    INFO(c[0]);
    run_result r = run(c);
    REQUIRE_EXIT(r, 3);
    REQUIRE_ONE_ERROR_LINE(r, f + ": the file is locked by another writer (locked");
  }
  CHECK(get_ok(f, {"k"}) == "v");
  REQUIRE_EXIT(run({"verify", f}), 0);
  REQUIRE_EXIT(run({"keys", f}), 0);
  // Commits of the writer are visible to the next reader.
  REQUIRE(writer->put("k2", "from the writer") == simdr::errc::ok);
  CHECK(get_ok(f, {"k2"}) == "from the writer");
  (void)writer->close();  // releases the lock

  // Another simdr process as the writer: a put waiting for stdin holds the lock meanwhile.
  const std::uint64_t committed = file_size(f);
  run_result during{};
  run_options o;
  bool asked = false;
  o.stdin_source = [&](std::span<char> buf) -> std::size_t {
    if (asked) return 0;
    asked = true;
    // put_stream appends its pending header before reading stdin: the lock is held by then.
    for (int i = 0; i < 1000 && file_size(f) == committed; ++i) ::usleep(5000);
    during = run({"compact", f});
    buf[0] = 'x';
    return 1;
  };
  run_result slow = run({"put", f, "slow"}, o);
  REQUIRE_EXIT(slow, 0);
  REQUIRE_EXIT(during, 3);
  REQUIRE_ONE_ERROR_LINE(during, "locked");
  CHECK(get_ok(f, {"slow"}) == "x");
  REQUIRE_EXIT(run({"compact", f}), 0);  // and free again afterwards
}

TEST_CASE("torn tail: reported by info, ignored by reads, dropped (with a note) by the next write", "[cli][errors][recovery]") {
  temp_dir d;
  const std::string f = d.file("t.simdr");
  put_ok(f, "a", "alpha");
  put_ok(f, "b", "beta");
  const std::uint64_t committed = file_size(f);
  {
    std::string bytes = read_file(f);
    bytes.append(100, '\xab');  // debris of an interrupted commit
    write_file(f, bytes);
  }
  run_result r = run({"info", "--json", f});
  REQUIRE_EXIT(r, 0);
  json j = parse_json(r);
  CHECK(j["file_size"] == committed);
  CHECK(j["open_report"]["tail_dropped"] == true);
  CHECK(j["open_report"]["tail_bytes"] == 100);
  CHECK(j["open_report"]["tail_truncated"] == false);
  CHECK(j["open_report"]["file_size_before"] == committed + 100);
  r = run({"info", f});
  CHECK(r.out.find("torn tail:         100 bytes after the last complete commit") != std::string::npos);
  CHECK(get_ok(f, {"a"}) == "alpha");
  r = run({"verify", "--json", f});
  REQUIRE_EXIT(r, 0);  // a torn tail is not damage
  CHECK(parse_json(r)["open_report"]["tail_bytes"] == 100);
  CHECK(file_size(f) == committed + 100);  // read-only commands never truncate

  r = run({"put", f, "c", "gamma"});
  REQUIRE_EXIT(r, 0);
  REQUIRE_ONE_ERROR_LINE(r, "note: dropped 100 bytes");
  CHECK(parse_json(run({"info", "--json", f}))["open_report"]["tail_dropped"] == false);
  CHECK(get_ok(f, {"c"}) == "gamma");
}

TEST_CASE("damage inside committed data: open refuses with 'corrupt' and the offset", "[cli][errors][recovery]") {
  temp_dir d;
  const std::string f = d.file("x.simdr");
  put_ok(f, "a", "1");
  put_ok(f, "b", "2");
  put_ok(f, "c", "3");
  const std::string before = read_file(f);
  poke(f, 64 + 9, 0x7f);  // the flags byte of the first entry's header (offset 64)
  const std::string damaged = read_file(f);
  for (const auto& c : std::vector<std::vector<std::string>>{
           {"get", f, "c"}, {"info", f}, {"verify", f}, {"put", f, "d", "4"}, {"compact", f}}) {
    INFO(c[0]);
    run_result r = run(c);
    REQUIRE_EXIT(r, 3);
    REQUIRE_ONE_ERROR_LINE(r, f + ": the store file is damaged (corrupt, at offset 64)");
    CHECK(read_file(f) == damaged);
  }
  CHECK(before != damaged);
}
