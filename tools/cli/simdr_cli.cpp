// simdr - the command-line tool of SIMD R Drive (docs/cli.md).
//
//   simdr COMMAND FILE ...     put get delete rename copy move keys info meta verify compact
//                              import export bench
//
// Exit status (stable): 0 success, 1 a named key is not in the store, 2 usage error, 3 store or
// file error (corrupt, locked, not a store, missing file, I/O). Errors are one line on stderr
// naming the file and the cause. Values are streamed in both directions, never held whole.
// Arguments are parsed by CLI11 and --json output is written by nlohmann::json (Debian's
// libcli11-dev and nlohmann-json3-dev).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "simdr/simdr.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // members in the order written
using simdr::errc;
using namespace simdr::cli;

// ---- shared state ------------------------------------------------------------------------------

fd_writer out(STDOUT_FILENO);  // all stdout output goes through here (binary-safe, EPIPE-aware)

/// Everything the command line can set; each subcommand binds the fields it uses.
struct args {
  std::string file;
  std::string key, key2, value;  // key2: NEW of rename
  std::vector<std::string> keys;  // delete
  std::string target, as_key;     // copy / move
  std::string dir, prefix;        // import / export / keys
  bool hex = false, escaped = false;
  bool json = false, sync = false, no_create = false, no_progress = false;
  bool force = false, null_sep = false, unsorted = false;
  std::uint32_t alignment = 64;
  std::uint64_t n = 1000000;
  std::string bench_dir;
};

key_format key_fmt(const args& a) {
  return a.hex ? key_format::hex : a.escaped ? key_format::escaped : key_format::text;
}

// ---- messages ----------------------------------------------------------------------------------

void error_line(std::string_view subject, std::string_view cause) {
  std::string line = "simdr: ";
  if (!subject.empty()) {
    line.append(subject);
    line += ": ";
  }
  line.append(cause);
  stderr_line(line);
}

std::string describe_status(simdr::status st) {
  std::string s(simdr::describe(st.code));
  s += " (";
  s += simdr::to_string(st.code);
  if (st.sys_errno != 0) {
    s += ": ";
    s += std::strerror(st.sys_errno);
  }
  if ((st.code == errc::corrupt || st.code == errc::checksum_mismatch) && st.offset != 0)
    s += ", at offset " + std::to_string(st.offset);
  s += ')';
  return s;
}

/// Prints a store error on stderr and returns its exit status.
int store_error(std::string_view file, simdr::status st) {
  error_line(file, describe_status(st));
  return st.code == errc::not_found ? exit_not_found : exit_failure;
}

int usage_error(std::string_view cmd, std::string_view cause) {
  error_line(cmd, std::string(cause) + " (see 'simdr " + std::string(cmd) + " --help')");
  return exit_usage;
}

std::string quoted_key(std::string_view key) { return "key \"" + escape(key) + "\""; }

int key_not_found(std::string_view file, std::string_view key) {
  error_line(file, quoted_key(key) + " not found");
  return exit_not_found;
}

/// Decodes a key argument and checks its length; prints a usage error on failure.
std::optional<std::string> key_arg(std::string_view cmd, std::string_view what,
                                   const std::string& raw, key_format f, bool allow_empty = false) {
  std::string why;
  std::optional<std::string> k = decode_key(raw, f, why);
  if (!k) {
    (void)usage_error(cmd, std::string(what) + " \"" + escape(raw) + "\": " + why);
    return std::nullopt;
  }
  if ((k->empty() && !allow_empty) || k->size() > simdr::max_key_size) {
    (void)usage_error(cmd, std::string(what) + " must be 1 to 65535 bytes (got " +
                               std::to_string(k->size()) + ")");
    return std::nullopt;
  }
  return k;
}

// ---- JSON --------------------------------------------------------------------------------------

/// Keys in JSON: "key" holds the exact key when it is valid UTF-8, otherwise "key_hex" holds
/// its bytes in hex (JSON strings cannot carry arbitrary bytes).
void put_key(json& j, std::string_view key, const char* name = "key") {
  if (is_utf8(key)) j[name] = std::string(key);
  else j[std::string(name) + "_hex"] = to_hex(key);
}

json key_object(std::string_view key) {
  json j = json::object();
  put_key(j, key);
  return j;
}

void emit(const json& j) {
  (void)out.write(j.dump(2, ' ', false, json::error_handler_t::replace));
  (void)out.put('\n');
}

json open_report_json(const simdr::open_report& r) {
  return {{"file_size_before", r.file_size_before}, {"committed_size", r.committed_size},
          {"entries", r.entries},                   {"commits", r.commits},
          {"created", r.created},                   {"tail_dropped", r.tail_dropped},
          {"tail_bytes", r.tail_bytes},             {"tail_truncated", r.tail_truncated}};
}

std::string checksum_hex(std::uint64_t c) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, c);
  return buf;
}

// ---- opening stores ----------------------------------------------------------------------------

/// Opens `path`; on failure prints the error and sets `rc`. Read-write opens say so on stderr
/// when they dropped a torn tail (recovery is never silent).
std::optional<simdr::store> open_store(const std::string& path, const simdr::open_options& o,
                                       int& rc) {
  auto opened = simdr::store::open(path, o);
  if (!opened) {
    rc = store_error(path, opened.error());
    return std::nullopt;
  }
  simdr::store db = std::move(*opened);
  const simdr::open_report r = db.report();
  if (r.tail_truncated)
    error_line(path, "note: dropped " + std::to_string(r.tail_bytes) +
                         " bytes of an incomplete commit at the end of the file (torn tail)");
  return db;
}

std::optional<simdr::store> open_read(const std::string& path, int& rc) {
  return open_store(path, {.read_only = true}, rc);
}

std::optional<simdr::store> open_write(const args& a, const std::string& path, bool create,
                                       int& rc, bool per_commit_sync) {
  return open_store(path,
                    {.create = create,
                     .durability = per_commit_sync && a.sync ? simdr::durability::commit
                                                             : simdr::durability::none,
                     .alignment = a.alignment},
                    rc);
}

bool progress_wanted(const args& a) { return !a.no_progress && stderr_is_terminal(); }

/// Finishes a command: flushes stdout. A closed pipe (EPIPE) ends quietly with status 3; other
/// write errors are reported.
int finish(int rc) {
  if (!out.flush()) {
    if (out.error() != EPIPE) error_line("stdout", std::string("write error: ") + std::strerror(out.error()));
    return exit_failure;
  }
  return rc;
}

// ---- put ---------------------------------------------------------------------------------------

int read_some(int fd, std::span<std::byte> buf, int& err) {
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      pollfd pfd{fd, POLLIN, 0};
      (void)::poll(&pfd, 1, -1);
      continue;
    }
    err = errno;
    return -1;
  }
}

/// A stream_source over a file descriptor (stdin, or a file being imported).
struct fd_source {
  int fd;
  int err = 0;
  progress* prog = nullptr;
  simdr::result<std::size_t> operator()(std::span<std::byte> buf) {
    // read(2) may return less than asked for (pipes give at most their buffer): one call per
    // chunk is fine, put_stream keeps asking until 0.
    const std::size_t want = std::min<std::size_t>(buf.size(), std::size_t{1} << 30);
    const int n = read_some(fd, buf.first(want), err);
    if (n < 0) return simdr::status{errc::io, err};
    if (prog != nullptr) prog->add_bytes(static_cast<std::uint64_t>(n));
    return static_cast<std::size_t>(n);
  }
};

int cmd_put(const args& a, bool value_given) {
  auto key = key_arg("put", "KEY", a.key, key_fmt(a));
  if (!key) return exit_usage;
  int rc = 0;
  auto db = open_write(a, a.file, !a.no_create, rc, true);
  if (!db) return rc;
  if (value_given) {
    if (simdr::status st = db->put(*key, a.value); !st.is_ok()) return store_error(a.file, st);
  } else {
    if (::isatty(STDIN_FILENO) == 1)
      stderr_line("simdr: reading the value from the terminal; end it with Ctrl-D");
    fd_source src{STDIN_FILENO};
    simdr::status st = db->put_stream(*key, src);
    if (src.err != 0) {
      error_line("stdin", std::string("read error: ") + std::strerror(src.err) +
                              " (nothing was stored)");
      return exit_failure;
    }
    if (!st.is_ok()) return store_error(a.file, st);
  }
  if (a.json) {
    auto v = db->get(*key);
    if (!v) return store_error(a.file, v.error());
    json j = {{"file", a.file}};
    put_key(j, *key);
    j["size"] = v->size();
    j["offset"] = v->offset();
    j["checksum"] = checksum_hex(v->checksum());
    emit(j);
  }
  return finish(exit_ok);
}

// ---- get ---------------------------------------------------------------------------------------

/// Streams the value of `key` to `fd` through read_stream (checksum checked at the end),
/// releasing the pages already written so the resident set stays small for huge values.
/// `write_err` receives the errno of a failed write.
simdr::status stream_value(const simdr::store& db, const simdr::blob_view& v, int fd,
                           int& write_err, progress* prog = nullptr) {
  const std::byte* vb = v.data();
  const std::byte* ve = vb + v.size();
  const std::byte* released = vb;
  return db.read_stream(v.key(), [&](std::span<const std::byte> chunk) -> simdr::status {
    if (fd >= 0) {
      if (int e = write_all(fd, chunk.data(), chunk.size()); e != 0) {
        write_err = e;
        return {errc::io, e};
      }
    }
    if (prog != nullptr) prog->add_bytes(chunk.size());
    // Only pointers into the value's own mapping are released (never a copy).
    if (chunk.data() >= vb && chunk.data() + chunk.size() <= ve)
      released = release_mapped(released, chunk.data() + chunk.size());
    return errc::ok;
  });
}

// The common start of `get` and `meta`: decode KEY, open FILE read-only, look the key up.
// Returns exit_ok, or the exit status to return (the error is already reported).
int lookup_read(const args& a, const char* cmd, std::optional<std::string>& key,
                std::optional<simdr::store>& db, simdr::blob_view& found) {
  key = key_arg(cmd, "KEY", a.key, key_fmt(a));
  if (!key) return exit_usage;
  int rc = 0;
  db = open_read(a.file, rc);
  if (!db) return rc;
  auto v = db->get(*key);
  if (!v) return v.code() == errc::not_found ? key_not_found(a.file, *key) : store_error(a.file, v.error());
  found = *v;
  return exit_ok;
}

int cmd_get(const args& a) {
  std::optional<std::string> key;
  std::optional<simdr::store> db;
  simdr::blob_view found;
  if (int rc = lookup_read(a, "get", key, db, found); rc != exit_ok) return rc;
  const simdr::blob_view* v = &found;
  if (!out.flush()) return finish(exit_failure);
  int werr = 0;
  simdr::status st = stream_value(*db, *v, STDOUT_FILENO, werr);
  if (werr == EPIPE) return exit_failure;  // the reader went away: quiet, like cat
  if (werr != 0) {
    error_line("stdout", std::string("write error: ") + std::strerror(werr));
    return exit_failure;
  }
  if (!st.is_ok()) return store_error(a.file, st);
  return exit_ok;
}

// ---- delete / rename / copy / move -------------------------------------------------------------

int cmd_delete(const args& a) {
  std::vector<std::string> keys;
  for (const auto& raw : a.keys) {
    auto k = key_arg("delete", "KEY", raw, key_fmt(a));
    if (!k) return exit_usage;
    keys.push_back(std::move(*k));
  }
  int rc = 0;
  auto db = open_write(a, a.file, false, rc, true);
  if (!db) return rc;
  std::vector<simdr::write_op> ops;
  std::vector<std::string_view> missing, deleted;
  for (const auto& k : keys) {
    auto has = db->contains(k);
    if (!has) return store_error(a.file, has.error());
    const bool dup = std::find(deleted.begin(), deleted.end(), k) != deleted.end();
    if (!*has) missing.push_back(k);
    else if (!dup) {
      deleted.push_back(k);
      ops.push_back(simdr::write_op::erase(k));
    }
  }
  if (!ops.empty())
    if (simdr::status st = db->apply(ops); !st.is_ok()) return store_error(a.file, st);
  if (a.json) {
    json j = {{"file", a.file}, {"deleted", json::array()}, {"missing", json::array()}};
    for (auto k : deleted) j["deleted"].push_back(key_object(k));
    for (auto k : missing) j["missing"].push_back(key_object(k));
    emit(j);
  }
  if (!missing.empty() && !a.force) {
    for (auto k : missing) (void)key_not_found(a.file, k);
    return finish(exit_not_found);
  }
  return finish(exit_ok);
}

int cmd_rename(const args& a) {
  auto from = key_arg("rename", "OLD", a.key, key_fmt(a));
  if (!from) return exit_usage;
  auto to = key_arg("rename", "NEW", a.key2, key_fmt(a));
  if (!to) return exit_usage;
  int rc = 0;
  auto db = open_write(a, a.file, false, rc, true);
  if (!db) return rc;
  if (simdr::status st = db->rename(*from, *to); !st.is_ok())
    return st.code == errc::not_found ? key_not_found(a.file, *from) : store_error(a.file, st);
  if (a.json) {
    json j = {{"file", a.file}};
    put_key(j, *from, "old");
    put_key(j, *to, "new");
    emit(j);
  }
  return finish(exit_ok);
}

bool same_file(const std::string& x, const std::string& y) {
  struct stat sx {}, sy {};
  if (::stat(x.c_str(), &sx) != 0 || ::stat(y.c_str(), &sy) != 0) return false;
  return sx.st_dev == sy.st_dev && sx.st_ino == sy.st_ino;
}

int cmd_copy_move(const args& a, bool move) {
  const char* cmd = move ? "move" : "copy";
  auto key = key_arg(cmd, "KEY", a.key, key_fmt(a));
  if (!key) return exit_usage;
  std::optional<std::string> as = *key;
  if (!a.as_key.empty()) {
    as = key_arg(cmd, "--as", a.as_key, key_fmt(a));
    if (!as) return exit_usage;
  }
  if (same_file(a.file, a.target))
    return usage_error(cmd, "TARGET is the same file as FILE; use 'simdr rename' within a store");
  int rc = 0;
  auto src = move ? open_write(a, a.file, false, rc, true) : open_read(a.file, rc);
  if (!src) return rc;
  auto v = src->get(*key);  // before the target is created: a missing key creates nothing
  if (!v) return v.code() == errc::not_found ? key_not_found(a.file, *key) : store_error(a.file, v.error());
  auto dst = open_write(a, a.target, !a.no_create, rc, true);
  if (!dst) return rc;
  simdr::status st = move ? src->move(*key, *dst, *as) : src->copy(*key, *dst, *as);
  if (!st.is_ok()) {
    // copy() reports the target's write errors; move() may fail on either side.
    auto still = dst->contains(*as);
    return store_error(still && *still && move ? a.file : a.target, st);
  }
  if (a.json) {
    json j = {{"file", a.file}, {"target", a.target}, {"size", v->size()}};
    put_key(j, *key);
    put_key(j, *as, "target_key");
    emit(j);
  }
  return finish(exit_ok);
}

// ---- keys --------------------------------------------------------------------------------------

int cmd_keys(const args& a) {
  auto prefix = key_arg("keys", "--prefix", a.prefix, key_fmt(a), true);
  if (!prefix) return exit_usage;
  int rc = 0;
  auto db = open_read(a.file, rc);
  if (!db) return rc;
  std::uint64_t count = 0;
  std::uint64_t unprintable = 0;
  bool first = true;
  if (a.json) {
    json head = {{"file", a.file}};
    put_key(head, *prefix, "prefix");
    std::string h = head.dump(2, ' ', false, json::error_handler_t::replace);
    h.pop_back();  // reopen the object: "keys" is streamed, one element at a time
    while (!h.empty() && (h.back() == '\n' || h.back() == ' ')) h.pop_back();
    (void)out.write(h);
    (void)out.write(",\n  \"keys\": [");
  }
  auto print = [&](const simdr::entry_view& e) {
    const std::string_view k = e.key_str();
    ++count;
    if (a.json) {
      json j = key_object(k);
      j["size"] = e.size();
      (void)out.write(first ? "\n    " : ",\n    ");
      (void)out.write(j.dump());
    } else if (a.null_sep) {
      if (k.find('\0') != std::string_view::npos) {
        ++unprintable;
        error_line(a.file, quoted_key(k) + " contains a NUL byte: skipped (use --hex or --json)");
        return;
      }
      (void)out.write(k);
      (void)out.put('\0');
    } else {
      (void)out.write(a.hex ? to_hex(k) : escape(k));
      (void)out.put('\n');
    }
    first = false;
  };
  auto selected = [&](const simdr::entry_view& e) {
    return e.key_str().substr(0, prefix->size()) == *prefix;
  };
  if (a.unsorted) {
    for (const simdr::entry_view& e : db->entries()) {
      if (!selected(e)) continue;
      print(e);
      if (out.error() != 0) break;
    }
  } else {
    std::vector<simdr::entry_view> all;
    all.reserve(static_cast<std::size_t>(db->size()));
    for (const simdr::entry_view& e : db->entries())
      if (selected(e)) all.push_back(e);
    std::sort(all.begin(), all.end(),
              [](const simdr::entry_view& x, const simdr::entry_view& y) { return x.key_str() < y.key_str(); });
    for (const auto& e : all) {
      print(e);
      if (out.error() != 0) break;
    }
  }
  if (a.json) {
    (void)out.write(first ? "],\n" : "\n  ],\n");
    (void)out.write("  \"count\": " + std::to_string(count) + "\n}\n");
  }
  return finish(unprintable > 0 ? exit_failure : exit_ok);
}

// ---- info / meta / verify / compact ------------------------------------------------------------

std::string tail_text(const simdr::open_report& r) {
  if (!r.tail_dropped) return "none";
  return std::to_string(r.tail_bytes) + " bytes after the last complete commit (" +
         (r.tail_truncated ? "truncated" : "ignored read-only; the next write truncates it") + ")";
}

int cmd_info(const args& a) {
  int rc = 0;
  auto db = open_read(a.file, rc);
  if (!db) return rc;
  const simdr::store_info i = db->info();
  const simdr::open_report r = db->report();
  if (a.json) {
    emit({{"file", a.file},
          {"format_version", std::to_string(i.format_major) + "." + std::to_string(i.format_minor)},
          {"format_major", i.format_major},
          {"format_minor", i.format_minor},
          {"alignment", i.alignment},
          {"live_keys", i.live_keys},
          {"entries", i.entries},
          {"tombstones", i.tombstones},
          {"file_size", i.file_size},
          {"reclaimable_bytes", i.reclaimable_bytes},
          {"index_bytes", i.index_bytes},
          {"open_report", open_report_json(r)}});
    return finish(exit_ok);
  }
  auto line = [](const char* k, const std::string& v) { (void)out.write(std::string(k) + v + "\n"); };
  auto with_human = [](std::uint64_t n) {
    return std::to_string(n) + (n >= 1024 ? " (" + human_bytes(static_cast<double>(n)) + ")" : "");
  };
  line("file:              ", a.file);
  line("format version:    ", std::to_string(i.format_major) + "." + std::to_string(i.format_minor));
  line("alignment:         ", std::to_string(i.alignment));
  line("live keys:         ", std::to_string(i.live_keys));
  line("entries:           ", std::to_string(i.entries) + " (" + std::to_string(i.entries - i.tombstones) +
                                " puts, " + std::to_string(i.tombstones) + " tombstones)");
  line("file size:         ", with_human(i.file_size));
  line("reclaimable bytes: ", with_human(i.reclaimable_bytes));
  line("index memory:      ", with_human(i.index_bytes));
  line("torn tail:         ", tail_text(r));
  return finish(exit_ok);
}

int cmd_meta(const args& a) {
  std::optional<std::string> key;
  std::optional<simdr::store> db;
  simdr::blob_view found;
  if (int rc = lookup_read(a, "meta", key, db, found); rc != exit_ok) return rc;
  const simdr::blob_view* v = &found;
  int werr = 0;
  const simdr::status st = stream_value(*db, *v, -1, werr);
  const bool verified = st.is_ok();
  if (!verified && st.code != errc::checksum_mismatch) return store_error(a.file, st);
  if (a.json) {
    json j = {{"file", a.file}};
    put_key(j, *key);
    j["offset"] = v->offset();
    j["length"] = v->size();
    j["checksum"] = checksum_hex(v->checksum());
    j["alignment"] = db->info().alignment;
    j["verified"] = verified;
    emit(j);
  } else {
    (void)out.write("key:       " + escape(*key) + "\n");
    (void)out.write("offset:    " + std::to_string(v->offset()) + "\n");
    (void)out.write("length:    " + std::to_string(v->size()) + "\n");
    (void)out.write("checksum:  " + checksum_hex(v->checksum()) + " (XXH3-64)\n");
    (void)out.write("alignment: " + std::to_string(db->info().alignment) + "\n");
    (void)out.write(std::string("verified:  ") + (verified ? "yes" : "NO (checksum mismatch)") + "\n");
  }
  if (!verified) {
    (void)out.flush();
    return store_error(a.file, st);
  }
  return finish(exit_ok);
}

int cmd_verify(const args& a) {
  int rc = 0;
  auto db = open_read(a.file, rc);
  if (!db) return rc;
  simdr::result<simdr::verify_report> rep = simdr::verify_report{};
  {
    progress bar(progress_wanted(a), "verify " + human_bytes(static_cast<double>(db->file_size())), 0, 0);
    rep = db->verify();
  }
  if (!rep) return store_error(a.file, rep.error());
  const simdr::open_report r = db->report();
  if (a.json) {
    json issues = json::array();
    for (const auto& is : rep->issues)
      issues.push_back({{"offset", is.offset}, {"code", simdr::to_string(is.code)},
                        {"description", simdr::describe(is.code)}});
    emit({{"file", a.file},
          {"ok", rep->is_ok()},
          {"entries", rep->entries},
          {"puts", rep->puts},
          {"tombstones", rep->tombstones},
          {"value_bytes", rep->value_bytes},
          {"committed_size", rep->committed_size},
          {"issues", issues},
          {"open_report", open_report_json(r)}});
  } else {
    (void)out.write("file:           " + a.file + "\n");
    (void)out.write("entries:        " + std::to_string(rep->entries) + " (" + std::to_string(rep->puts) +
                    " puts, " + std::to_string(rep->tombstones) + " tombstones)\n");
    (void)out.write("value bytes:    " + std::to_string(rep->value_bytes) + "\n");
    (void)out.write("committed size: " + std::to_string(rep->committed_size) + "\n");
    (void)out.write("torn tail:      " + tail_text(r) + "\n");
    (void)out.write("issues:         " + std::to_string(rep->issues.size()) + "\n");
    for (const auto& is : rep->issues)
      (void)out.write("  at offset " + std::to_string(is.offset) + ": " +
                      std::string(simdr::to_string(is.code)) + " (" + std::string(simdr::describe(is.code)) + ")\n");
    (void)out.write(rep->is_ok() ? "result:         ok\n" : "result:         DAMAGED\n");
  }
  if (!rep->is_ok()) {
    (void)out.flush();
    error_line(a.file, "verify found " + std::to_string(rep->issues.size()) +
                           " problem(s), the first at offset " + std::to_string(rep->issues[0].offset) +
                           ": " + std::string(simdr::describe(rep->issues[0].code)));
    return exit_failure;
  }
  return finish(exit_ok);
}

int cmd_compact(const args& a) {
  int rc = 0;
  auto db = open_write(a, a.file, false, rc, false);
  if (!db) return rc;
  simdr::result<simdr::compact_report> rep = simdr::compact_report{};
  {
    progress bar(progress_wanted(a), "compact " + human_bytes(static_cast<double>(db->file_size())), 0, 0);
    rep = db->compact();
  }
  if (!rep) return store_error(a.file, rep.error());
  if (a.json) {
    emit({{"file", a.file},
          {"size_before", rep->size_before},
          {"size_after", rep->size_after},
          {"entries_kept", rep->entries_kept},
          {"bytes_freed", rep->size_before - rep->size_after}});
  } else {
    (void)out.write("compacted " + a.file + ": " + human_bytes(static_cast<double>(rep->size_before)) +
                    " -> " + human_bytes(static_cast<double>(rep->size_after)) + ", " +
                    std::to_string(rep->entries_kept) + " keys kept, " +
                    std::to_string(rep->size_before - rep->size_after) + " bytes freed\n");
  }
  return finish(exit_ok);
}

// ---- import / export ---------------------------------------------------------------------------

struct import_item {
  std::string rel;  // generic (/-separated) path relative to DIR
  fs::path path;
  std::uint64_t size;
};

// The summary of import/export: one line (or JSON), and exit_failure when some files or keys
// could not be transferred (each was reported on stderr as it happened).
int report_transfer(const args& a, const std::string& prefix, bool importing, std::uint64_t files,
                    std::uint64_t bytes, std::uint64_t failed) {
  if (a.json) {
    json j = {{"file", a.file}, {"dir", a.dir}, {"files", files}, {"bytes", bytes}, {"failed", failed}};
    put_key(j, prefix, "prefix");
    emit(j);
  } else if (importing) {
    (void)out.write("imported " + std::to_string(files) + " files (" +
                    human_bytes(static_cast<double>(bytes)) + ") from " + a.dir + " into " + a.file + "\n");
  } else {
    (void)out.write("exported " + std::to_string(files) + " files (" +
                    human_bytes(static_cast<double>(bytes)) + ") from " + a.file + " to " + a.dir + "\n");
  }
  if (failed > 0) {
    (void)out.flush();
    error_line(importing ? a.dir : a.file,
               std::to_string(failed) + (importing ? " file(s) could not be imported (see above)"
                                                   : " key(s) could not be exported (see above)"));
    return exit_failure;
  }
  return finish(exit_ok);
}

int cmd_import(const args& a) {
  auto prefix = key_arg("import", "--prefix", a.prefix, key_fmt(a), true);
  if (!prefix) return exit_usage;
  std::error_code ec;
  if (!fs::is_directory(a.dir, ec)) {
    error_line(a.dir, ec ? ec.message() : fs::exists(a.dir) ? "not a directory" : "no such directory");
    return exit_failure;
  }
  int rc = 0;
  auto db = open_write(a, a.file, !a.no_create, rc, false);
  if (!db) return rc;
  struct stat store_st {};
  const bool have_store_st = ::stat(a.file.c_str(), &store_st) == 0;
  std::uint64_t failed = 0;

  // Walk first (sorted, for a deterministic order and a progress total), then stream.
  std::vector<import_item> items;
  std::uint64_t total = 0;
  fs::recursive_directory_iterator it(a.dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    error_line(a.dir, ec.message());
    return exit_failure;
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      error_line(a.dir, ec.message());
      ++failed;
      ec.clear();
      continue;
    }
    const fs::directory_entry& e = *it;
    std::error_code ec2;
    if (e.is_directory(ec2)) continue;
    const fs::path rel = e.path().lexically_relative(a.dir);
    if (!e.is_regular_file(ec2)) {
      error_line(e.path().string(), "skipped: not a regular file");
      continue;
    }
    struct stat st {};
    if (::stat(e.path().c_str(), &st) != 0) {
      error_line(e.path().string(), std::strerror(errno));
      ++failed;
      continue;
    }
    // Never import the store into itself (it grows while being read), nor its compaction file.
    if (have_store_st && st.st_dev == store_st.st_dev && st.st_ino == store_st.st_ino) continue;
    if (e.path().string() == a.file + ".compact") continue;
    items.push_back({rel.generic_string(), e.path(), static_cast<std::uint64_t>(st.st_size)});
    total += static_cast<std::uint64_t>(st.st_size);
  }
  std::sort(items.begin(), items.end(),
            [](const import_item& x, const import_item& y) { return x.rel < y.rel; });

  std::uint64_t files = 0, bytes = 0;
  {
    progress bar(progress_wanted(a), "import", total, items.size());
    for (const auto& item : items) {
      const std::string key = *prefix + item.rel;
      if (key.size() > simdr::max_key_size) {
        error_line(item.path.string(), "skipped: the key would be longer than 65535 bytes");
        ++failed;
        bar.add_item();
        continue;
      }
      const int fd = ::open(item.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        error_line(item.path.string(), std::strerror(errno));
        ++failed;
        bar.add_item();
        continue;
      }
      fd_source src{fd, 0, &bar};
      simdr::status st = db->put_stream(key, src);
      ::close(fd);
      bar.add_item();
      if (src.err != 0) {
        error_line(item.path.string(), std::string("read error: ") + std::strerror(src.err) + " (skipped)");
        ++failed;
        continue;
      }
      if (!st.is_ok()) return store_error(a.file, st);
      ++files;
      auto v = db->get(key);
      bytes += v ? v->size() : 0;
    }
  }
  if (a.sync)
    if (simdr::status st = db->sync(); !st.is_ok()) return store_error(a.file, st);
  return report_transfer(a, *prefix, true, files, bytes, failed);
}

/// Why `rel` (a key minus the prefix) cannot be a relative path under DIR, or "" when it can.
std::string unsafe_path(std::string_view rel) {
  if (rel.empty()) return "the key equals the prefix (empty file name)";
  if (rel.find('\0') != std::string_view::npos) return "contains a NUL byte";
  if (rel.front() == '/') return "absolute path";
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = rel.find('/', start);
    const std::string_view part = rel.substr(start, slash == std::string_view::npos ? rel.npos : slash - start);
    if (part.empty()) return "empty path component ('//' or a trailing '/')";
    if (part == "." || part == "..") return "'.' or '..' path component";
    if (part.size() > 255) return "a path component longer than 255 bytes";
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

int cmd_export(const args& a) {
  auto prefix = key_arg("export", "--prefix", a.prefix, key_fmt(a), true);
  if (!prefix) return exit_usage;
  int rc = 0;
  auto db = open_read(a.file, rc);
  if (!db) return rc;
  std::error_code ec;
  fs::create_directories(a.dir, ec);
  if (ec || !fs::is_directory(a.dir, ec)) {
    error_line(a.dir, ec ? ec.message() : "not a directory");
    return exit_failure;
  }
  std::vector<simdr::entry_view> all;
  std::uint64_t total = 0;
  for (const simdr::entry_view& e : db->entries())
    if (e.key_str().substr(0, prefix->size()) == *prefix) {
      all.push_back(e);
      total += e.size();
    }
  std::sort(all.begin(), all.end(),
            [](const simdr::entry_view& x, const simdr::entry_view& y) { return x.key_str() < y.key_str(); });

  std::uint64_t files = 0, bytes = 0, failed = 0;
  {
    progress bar(progress_wanted(a), "export", total, all.size());
    for (const auto& e : all) {
      const std::string_view rel = e.key_str().substr(prefix->size());
      if (std::string why = unsafe_path(rel); !why.empty()) {
        error_line(a.file, quoted_key(e.key_str()) + " skipped: not a safe relative path: " + why);
        ++failed;
        bar.add_item();
        bar.add_bytes(e.size());
        continue;
      }
      const fs::path dest = fs::path(a.dir) / fs::path(std::string(rel));
      std::error_code ec2;
      fs::create_directories(dest.parent_path(), ec2);
      const int fd = ec2 ? -1 : ::open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
      if (fd < 0) {
        error_line(dest.string(), ec2 ? ec2.message() : std::strerror(errno));
        ++failed;
        bar.add_item();
        bar.add_bytes(e.size());
        continue;
      }
      int werr = 0;
      simdr::status st = stream_value(*db, e, fd, werr, &bar);
      if (::close(fd) != 0 && werr == 0) werr = errno;
      bar.add_item();
      if (werr != 0 || !st.is_ok()) {
        error_line(dest.string(), werr != 0 ? std::string("write error: ") + std::strerror(werr)
                                            : describe_status(st));
        ::unlink(dest.c_str());
        ++failed;
        continue;
      }
      ++files;
      bytes += e.size();
    }
  }
  return report_transfer(a, *prefix, false, files, bytes, failed);
}

// ---- bench (W1) --------------------------------------------------------------------------------

int cmd_bench(const args& a) {
  using clk = std::chrono::steady_clock;
  auto since = [](clk::time_point t) { return std::chrono::duration<double>(clk::now() - t).count(); };
  if (a.n == 0) return usage_error("bench", "--n must be at least 1");
  std::error_code ec;
  const fs::path parent = a.bench_dir.empty() ? fs::temp_directory_path(ec) : fs::path(a.bench_dir);
  std::string tmpl = (parent / "simdr-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    error_line(parent.string(), std::string("cannot create a temporary directory: ") + std::strerror(errno));
    return exit_failure;
  }
  const fs::path dir = tmpl;
  struct cleanup {
    fs::path d;
    ~cleanup() {
      std::error_code e;
      fs::remove_all(d, e);
    }
  } remove_dir{dir};
  const std::string path = (dir / "w1.simdr").string();
  const std::uint64_t n = a.n;
  std::vector<std::string> keys(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i) keys[i] = "bench-key-" + std::to_string(i);
  std::vector<std::uint64_t> order(static_cast<std::size_t>(n));
  std::mt19937_64 rng(42);
  for (auto& o : order) o = rng() % n;

  double write_s = 0, reopen_s = 0, scan_s = 0, get_s = 0;
  std::uint64_t file_size = 0, index_bytes = 0;
  int rc = 0;
  {
    auto db = open_store(path, {.create = true, .durability = a.sync ? simdr::durability::commit
                                                                     : simdr::durability::none}, rc);
    if (!db) return rc;
    std::vector<simdr::key_value> batch;
    std::vector<std::uint64_t> vals(1024);
    const auto t = clk::now();
    for (std::uint64_t i = 0; i < n;) {
      batch.clear();
      for (std::size_t j = 0; j < 1024 && i < n; ++j, ++i) {
        vals[j] = i;  // W1: the 8 little-endian bytes of i (x86-64 and arm64 are little-endian)
        batch.push_back({keys[i], simdr::bytes(&vals[j], 8)});
      }
      if (simdr::status st = db->put_batch(batch); !st.is_ok()) return store_error(path, st);
    }
    write_s = since(t);
    file_size = db->file_size();
  }
  const auto t_open = clk::now();
  auto db = open_read(path, rc);
  reopen_s = since(t_open);
  if (!db) return rc;
  index_bytes = db->info().index_bytes;
  auto t = clk::now();
  std::uint64_t seen = 0, sum = 0;
  for (const simdr::entry_view& e : db->entries()) {
    std::uint64_t v = 0;
    std::memcpy(&v, e.data(), 8);
    sum += v;
    ++seen;
  }
  scan_s = since(t);
  if (seen != n || sum != n * (n - 1) / 2) {
    error_line(path, "bench: the scan read wrong values");
    return exit_failure;
  }
  t = clk::now();
  std::uint64_t bad = 0;
  for (std::uint64_t i : order) {
    auto v = db->get(keys[i]);
    std::uint64_t x = ~i;
    if (v && v->size() == 8) std::memcpy(&x, v->data(), 8);
    bad += x != i;
  }
  get_s = since(t);
  if (bad != 0) {
    error_line(path, "bench: random gets read wrong values");
    return exit_failure;
  }
  const double dn = static_cast<double>(n);
  if (a.json) {
    emit({{"workload", "W1"},
          {"n", n},
          {"batch", 1024},
          {"sync", a.sync},
          {"write_entries_per_s", dn / write_s},
          {"reopen_ms", reopen_s * 1000.0},
          {"scan_entries_per_s", dn / scan_s},
          {"get_ops_per_s", dn / get_s},
          {"bytes_per_entry", static_cast<double>(file_size) / dn},
          {"index_bytes_per_key", static_cast<double>(index_bytes) / dn},
          {"library_version", std::string(simdr::library_version)}});
  } else {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "W1 on simdr %s: %" PRIu64 " entries (\"bench-key-{i}\" -> 8-byte i), batches of 1024, %s\n"
                  "batched write   %s entries/s\n"
                  "reopen          %.1f ms\n"
                  "full scan       %s entries/s\n"
                  "random get      %s ops/s\n"
                  "bytes on disk   %.1f per entry\n"
                  "index memory    %.1f bytes per key\n",
                  std::string(simdr::library_version).c_str(), n, a.sync ? "fdatasync per batch" : "no sync",
                  human_count(dn / write_s).c_str(), reopen_s * 1000.0, human_count(dn / scan_s).c_str(),
                  human_count(dn / get_s).c_str(), static_cast<double>(file_size) / dn,
                  static_cast<double>(index_bytes) / dn);
    (void)out.write(buf);
  }
  return finish(exit_ok);
}

// ---- command line ------------------------------------------------------------------------------

constexpr const char* main_footer = R"(
Exit status (stable):
  0  success
  1  a key named on the command line is not in the store
  2  usage error: unknown command, missing or bad argument, malformed key
  3  store or file error: corrupt, locked by another writer, not a store, missing file, I/O

Keys on the command line are text; --hex (hex digits) or -e/--escaped (\\ \n \r \t \xHH, the
form 'simdr keys' prints) give any bytes. Put '--' before a key that starts with '-'.
Read commands open the store read-only (any number, alongside one writer); write commands take
the writer lock and fail with status 3 (locked) when another writer holds it.

Examples:
  simdr put cache.simdr greeting hello          store a value given as an argument
  tar c src | simdr put cache.simdr src.tar     store stdin, streamed (any size)
  simdr get cache.simdr src.tar | tar x         stream a value to stdout
  simdr keys cache.simdr --prefix img/          list keys, one per line
  simdr info cache.simdr --json                 statistics as JSON
  simdr import cache.simdr ./assets --prefix assets/
  simdr verify cache.simdr && simdr compact cache.simdr

Run 'simdr COMMAND --help' for the options and examples of each command. Manual: docs/cli.md)";

struct command_flags {
  bool key_format = false;
  bool json = false;
  bool sync = false;
  bool progress = false;
  bool create = false;
};

void add_common(CLI::App* sub, args& a, command_flags f) {
  if (f.key_format) {
    auto* hx = sub->add_flag("--hex", a.hex, "keys and --prefix on the command line are hex digits");
    auto* es = sub->add_flag("-e,--escaped", a.escaped,
                             "keys and --prefix use the escapes 'simdr keys' prints (\\\\ \\n \\r \\t \\xHH)");
    hx->excludes(es);
  }
  if (f.json) sub->add_flag("--json", a.json, "print the result as one JSON object on stdout");
  if (f.sync) sub->add_flag("--sync", a.sync, "the write is on stable storage (fdatasync) when the command exits 0");
  if (f.progress)
    sub->add_flag("--no-progress", a.no_progress, "no progress bar (it is drawn only when stderr is a terminal)");
  if (f.create) {
    sub->add_flag("--no-create", a.no_create, "fail (status 3) when FILE does not exist instead of creating it");
    sub->add_option("--alignment", a.alignment, "payload alignment of a new file, 8 to 65536 (default 64)")
        ->check(CLI::Validator(
            [](std::string& v) -> std::string {
              unsigned long x = 0;
              try {
                x = std::stoul(v);
              } catch (const std::exception&) {
                return "not a number: " + v;
              }
              if (x < 8 || x > 65536 || (x & (x - 1)) != 0) return "must be a power of two from 8 to 65536";
              return {};
            },
            "POW2 in [8 - 65536]"));
  }
}

CLI::Option* file_arg(CLI::App* sub, args& a) {
  return sub->add_option("FILE", a.file, "the store file")->required();
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // write errors become EPIPE, handled where they happen
  args a;
  CLI::App app{"simdr - SIMD R Drive: an append-only single-file key/value store", "simdr"};
  app.set_version_flag("-V,--version", "simdr " + std::string(simdr::library_version) + " (file format " +
                                           std::to_string(simdr::format_version_major) + "." +
                                           std::to_string(simdr::format_version_minor) + ")");
  app.require_subcommand(1, 1);
  app.footer(main_footer + 1);  // without its leading newline
  app.get_formatter()->column_width(34);

  auto* put = app.add_subcommand("put", "store a value: VALUE, or stdin streamed when VALUE is omitted");
  file_arg(put, a);
  put->add_option("KEY", a.key, "the key")->required();
  auto* value_opt = put->add_option("VALUE", a.value, "the value (text); omit it to read stdin to its end");
  add_common(put, a, {.key_format = true, .json = true, .sync = true, .create = true});
  put->footer(R"(Creates FILE when it does not exist (unless --no-create). Replaces any value under KEY. The
value is committed whole or not at all: if stdin fails, nothing is stored. Silent on success;
--json prints the stored value's key, size, offset and checksum.

Examples:
  simdr put cache.simdr greeting "hello world"
  simdr put cache.simdr backup.tar < backup.tar
  curl -s https://example.com/x.bin | simdr put cache.simdr x.bin
  printf 'bytes' | simdr put --hex cache.simdr 00ff10)");

  auto* get = app.add_subcommand("get", "write a value's raw bytes to stdout, streamed");
  file_arg(get, a);
  get->add_option("KEY", a.key, "the key")->required();
  add_common(get, a, {.key_format = true});
  get->footer(R"(Opens FILE read-only. The value's checksum is computed while it streams; on a mismatch the
bytes already written are damaged and the status is 3. Status 1 when KEY is absent. A closed
pipe (e.g. '| head') ends the command quietly with status 3.

Examples:
  simdr get cache.simdr greeting
  simdr get cache.simdr backup.tar > backup.tar
  simdr get cache.simdr src.tar | tar x)");

  auto* del = app.add_subcommand("delete", "remove keys (one atomic commit)");
  file_arg(del, a);
  del->add_option("KEY", a.keys, "keys to remove")->required();
  del->add_flag("-f,--force", a.force, "a missing key is not an error (status 0)");
  add_common(del, a, {.key_format = true, .json = true, .sync = true});
  del->footer(R"(Removes every listed key that exists, in one commit. A key that is absent is named on stderr
and makes the status 1 (the others are still removed), unless --force.

Examples:
  simdr delete cache.simdr greeting
  simdr delete -f cache.simdr tmp/a tmp/b)");

  auto* ren = app.add_subcommand("rename", "move a value to another key in the same store");
  file_arg(ren, a);
  ren->add_option("OLD", a.key, "the current key")->required();
  ren->add_option("NEW", a.key2, "the new key (its value, if any, is replaced)")->required();
  add_common(ren, a, {.key_format = true, .json = true, .sync = true});
  ren->footer(R"(One atomic commit: after a crash the value is under OLD or under NEW, never both or neither.
Status 1 when OLD is absent.

Example:
  simdr rename cache.simdr draft.txt final.txt)");

  auto* cpy = app.add_subcommand("copy", "copy a key into another store");
  auto* mov = app.add_subcommand("move", "move a key into another store (copy, then delete here)");
  for (auto* sub : {cpy, mov}) {
    file_arg(sub, a);
    sub->add_option("KEY", a.key, "the key to copy")->required();
    sub->add_option("TARGET", a.target, "the store to copy into (created unless --no-create)")->required();
    sub->add_option("--as", a.as_key, "the key in TARGET (default: KEY)");
    add_common(sub, a, {.key_format = true, .json = true, .sync = true, .create = true});
  }
  cpy->footer(R"(Opens FILE read-only and TARGET read-write. Status 1 when KEY is absent (TARGET is then not
created).

Examples:
  simdr copy cache.simdr logo.png archive.simdr
  simdr copy cache.simdr logo.png archive.simdr --as 2024/logo.png)");
  mov->footer(R"(Not atomic across the two files: after a crash the key may be in both stores, never in
neither. Status 1 when KEY is absent.

Example:
  simdr move inbox.simdr report.pdf archive.simdr)");

  auto* keys = app.add_subcommand("keys", "list keys (sorted bytewise)");
  file_arg(keys, a);
  keys->add_option("--prefix", a.prefix, "only keys starting with this");
  auto* nul = keys->add_flag("-0,--null", a.null_sep, "raw key bytes, each followed by a NUL byte");
  keys->add_flag("--unsorted", a.unsorted, "store order, streamed without holding the key list");
  add_common(keys, a, {.key_format = true, .json = true});
  nul->excludes("--hex");
  nul->excludes("--json");
  keys->footer(R"(Default output: one key per line, escaped so that every key is one unambiguous line: '\' is
'\\', newline, CR and tab are \n \r \t, other control or invalid-UTF-8 bytes are \xHH, valid
UTF-8 passes through. Give a printed key back with -e. --hex prints (and reads --prefix as)
hex. --null prints raw bytes NUL-terminated (a key containing NUL is skipped, status 3).
--json: {"file", "prefix", "keys": [{"key" or "key_hex", "size"}...], "count"}, where "key"
is used for keys that are valid UTF-8 and "key_hex" for the others.

Examples:
  simdr keys cache.simdr
  simdr keys cache.simdr --prefix img/ --json | jq -r '.keys[].key'
  simdr keys -0 cache.simdr | xargs -0 -n1 echo)");

  auto* info = app.add_subcommand("info", "statistics: format, alignment, keys, entries, sizes");
  file_arg(info, a);
  add_common(info, a, {.json = true});
  info->footer(R"(Opens FILE read-only. Shows the format version, payload alignment, live keys, entries (puts
and tombstones), file size, bytes 'simdr compact' would reclaim, index memory, and the torn
tail the open found, if any (bytes after the last complete commit: left alone read-only, the
next write truncates them).

Examples:
  simdr info cache.simdr
  simdr info cache.simdr --json | jq .reclaimable_bytes)");

  auto* meta = app.add_subcommand("meta", "where a value lives: offset, length, checksum, verified");
  file_arg(meta, a);
  meta->add_option("KEY", a.key, "the key")->required();
  add_common(meta, a, {.key_format = true, .json = true});
  meta->footer(R"(Reads the value once to check its XXH3-64 checksum. Status 1 when KEY is absent, 3 when the
checksum does not match (the metadata is printed first, with verified: no).

Example:
  simdr meta cache.simdr greeting --json)");

  auto* ver = app.add_subcommand("verify", "check every entry header, key and value checksum");
  file_arg(ver, a);
  add_common(ver, a, {.json = true, .progress = true});
  ver->footer(R"(Opens FILE read-only (a writer may keep writing) and re-reads every committed entry. Status 0
when intact, 3 when a problem was found (each is listed with its offset) or FILE cannot be
opened. A torn tail is reported but is not damage.

Example:
  simdr verify cache.simdr --json)");

  auto* cmp = app.add_subcommand("compact", "rewrite the file with only the live values");
  file_arg(cmp, a);
  add_common(cmp, a, {.json = true, .progress = true});
  cmp->footer(R"(Takes the writer lock (status 3 'locked' when another writer holds it), writes FILE.compact
with the newest value of every live key (checking each checksum), syncs it and atomically
renames it over FILE. Always durable.

Example:
  simdr compact cache.simdr)");

  auto* imp = app.add_subcommand("import", "store every file under DIR, key = PREFIX + relative path");
  file_arg(imp, a);
  imp->add_option("DIR", a.dir, "the directory to import")->required();
  imp->add_option("--prefix", a.prefix, "prepended to each key (e.g. 'assets/')");
  add_common(imp, a, {.key_format = true, .json = true, .sync = true, .progress = true, .create = true});
  imp->footer(R"(Walks DIR recursively (symbolic links to files are followed, to directories not), in sorted
order, and streams each regular file into its own commit under PREFIX + its '/'-separated path
relative to DIR. FILE itself is skipped when it lies under DIR. Files that cannot be read are
named on stderr and skipped; the status is then 3. --sync syncs once at the end.

Examples:
  simdr import site.simdr ./public
  simdr import cache.simdr /usr/include --prefix include/ --json)");

  auto* exp = app.add_subcommand("export", "write every value (under PREFIX) as a file under DIR");
  file_arg(exp, a);
  exp->add_option("DIR", a.dir, "the directory to write (created if needed)")->required();
  exp->add_option("--prefix", a.prefix, "only keys starting with PREFIX, which is removed from the path");
  add_common(exp, a, {.key_format = true, .json = true, .progress = true});
  exp->footer(R"(The inverse of import: key PREFIX + 'a/b.txt' becomes DIR/a/b.txt (existing files are
replaced). Keys that are not safe relative paths (absolute, '..', '.', empty components,
NUL bytes) are named on stderr and skipped, and so are files that cannot be written; the status
is then 3. Each value's checksum is checked while it is written.

Examples:
  simdr export site.simdr ./out
  simdr export cache.simdr ./include --prefix include/)");

  auto* bench = app.add_subcommand("bench", "run workload W1 on this store engine, print ops/s");
  bench->add_option("-n,--n", a.n, "entries (default 1000000)");
  bench->add_option("--dir", a.bench_dir, "where to create the temporary store (default: $TMPDIR or /tmp)");
  add_common(bench, a, {.json = true, .sync = true});
  bench->footer(R"(W1: N entries, key "bench-key-{i}" -> the 8-byte little-endian i, written in batches of 1024,
then a reopen (index rebuild), a full scan and N random gets. The store lives in a fresh
temporary directory, removed afterwards.

Examples:
  simdr bench
  simdr bench --n 100000 --json)");

  // An unknown command gets a clearer message than CLI11's "arguments were not expected".
  for (int i = 1; i < argc; ++i) {
    const std::string_view s = argv[i];
    if (s.empty() || s[0] == '-') continue;
    const auto subs = app.get_subcommands([](CLI::App*) { return true; });
    if (std::none_of(subs.begin(), subs.end(), [&](CLI::App* c) { return c->check_name(std::string(s)); })) {
      error_line("", "unknown command '" + escape(s) +
                         "' (commands: put get delete rename copy move keys info meta verify compact"
                         " import export bench; see 'simdr --help')");
      return exit_usage;
    }
    break;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: printed on stdout
    std::string cmd;
    for (const CLI::App* sub : app.get_subcommands()) cmd = sub->get_name();
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    error_line(cmd, what + (cmd.empty() ? " (see 'simdr --help')" : " (see 'simdr " + cmd + " --help')"));
    return exit_usage;
  }

  if (put->parsed()) return cmd_put(a, value_opt->count() > 0);
  if (get->parsed()) return cmd_get(a);
  if (del->parsed()) return cmd_delete(a);
  if (ren->parsed()) return cmd_rename(a);
  if (cpy->parsed()) return cmd_copy_move(a, false);
  if (mov->parsed()) return cmd_copy_move(a, true);
  if (keys->parsed()) return cmd_keys(a);
  if (info->parsed()) return cmd_info(a);
  if (meta->parsed()) return cmd_meta(a);
  if (ver->parsed()) return cmd_verify(a);
  if (cmp->parsed()) return cmd_compact(a);
  if (imp->parsed()) return cmd_import(a);
  if (exp->parsed()) return cmd_export(a);
  if (bench->parsed()) return cmd_bench(a);
  return usage_error("", "no command");
}
