// sqlite_peer.cpp - SQLite configured as shared/notes/benchmarks.md says: WAL,
// synchronous=NORMAL (FULL for W1sync), table kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID,
// prepared statements, one transaction per batch. Values are read zero-copy
// (sqlite3_column_blob, valid until the statement is reset). Each reader thread has its own
// connection (WAL lets readers run beside the writer); the batched read is 1024 lookups inside
// one read transaction. Connections use SQLITE_OPEN_NOMUTEX: each is used by one thread.
#include <sqlite3.h>

#include <string>

#include "peer.hpp"

namespace simdr_bench {
namespace {

void check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw bench_error(std::string("sqlite ") + what + ": " +
                      (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

class statement {
 public:
  statement(sqlite3* db, const char* sql) : db_(db) {
    check(db, sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st_, nullptr), sql);
  }
  ~statement() { sqlite3_finalize(st_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  sqlite3_stmt* get() const { return st_; }
  /// Runs a statement without results (BEGIN, COMMIT, INSERT).
  void exec() {
    const int rc = sqlite3_step(st_);
    sqlite3_reset(st_);
    check(db_, rc, "step");
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

sqlite3* open_connection(const std::string& path, bool writer, bool create, bool sync) {
  sqlite3* db = nullptr;
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw bench_error("sqlite open: " + msg);
  }
  // A reader may meet a lock held for an instant (WAL index rebuild, checkpoint): wait, as
  // every SQLite application does, instead of failing.
  sqlite3_busy_timeout(db, 10000);
  // journal_mode=WAL is persistent in the file: only the writer's connection sets it.
  const char* pragmas = !writer ? "PRAGMA synchronous=NORMAL;"
                        : sync  ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
  check(db, sqlite3_exec(db, pragmas, nullptr, nullptr, nullptr), "pragmas");
  if (create)
    check(db,
          sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID",
                       nullptr, nullptr, nullptr),
          "create table");
  return db;
}

constexpr const char* select_sql = "SELECT v FROM kv WHERE k = ?1";
constexpr const char* insert_sql = "INSERT OR REPLACE INTO kv(k, v) VALUES (?1, ?2)";

/// Owns a connection; declared before the statements that use it, so it is closed last.
class connection {
 public:
  explicit connection(sqlite3* db) : db_(db) {}
  ~connection() { sqlite3_close(db_); }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_;
};

// A reader has its own connection: the W1 reads use one too, so every read path is the same.
class sqlite_reader final : public reader {
 public:
  explicit sqlite_reader(const std::string& path)
      : conn_(open_connection(path, false, false, false)), select_(conn_.get(), select_sql),
        begin_(conn_.get(), "BEGIN"), commit_(conn_.get(), "COMMIT") {}

  bool get(std::string_view key, value_fn fn) override { return lookup(key, fn); }
  std::size_t multi_get(std::span<const std::string_view> keys, multi_value_fn fn) override {
    begin_.exec();
    std::size_t found = 0;
    for (std::size_t i = 0; i < keys.size(); ++i)
      found += lookup(keys[i], [&](byte_span v) { fn(i, v); });
    commit_.exec();
    return found;
  }

 private:
  bool lookup(std::string_view key, value_fn fn) {
    sqlite3_stmt* st = select_.get();
    sqlite3_bind_blob(st, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      const void* p = sqlite3_column_blob(st, 0);
      const int n = sqlite3_column_bytes(st, 0);
      fn(byte_span(static_cast<const std::byte*>(p), static_cast<std::size_t>(n)));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) check(conn_.get(), rc, "select");
    return rc == SQLITE_ROW;
  }

  connection conn_;
  statement select_;
  statement begin_;
  statement commit_;
};

class sqlite_engine final : public engine {
 public:
  void open(const open_params& p) override {
    path_ = p.dir + "/kv.sqlite";
    conn_ = std::make_unique<connection>(open_connection(path_, true, p.create, p.sync));
    insert_ = std::make_unique<statement>(conn_->get(), insert_sql);
    begin_ = std::make_unique<statement>(conn_->get(), "BEGIN");
    commit_ = std::make_unique<statement>(conn_->get(), "COMMIT");
  }
  void write_batch(std::span<const kv> batch) override {
    begin_->exec();
    sqlite3_stmt* st = insert_->get();
    for (const kv& e : batch) {
      sqlite3_bind_blob(st, 1, e.key.data(), static_cast<int>(e.key.size()), SQLITE_STATIC);
      sqlite3_bind_blob64(st, 2, e.value.data(), e.value.size(), SQLITE_STATIC);
      insert_->exec();
    }
    commit_->exec();
  }
  std::unique_ptr<reader> make_reader() override { return std::make_unique<sqlite_reader>(path_); }
  std::uint64_t scan(entry_fn fn) override {
    statement all(conn_->get(), "SELECT k, v FROM kv");
    sqlite3_stmt* st = all.get();
    std::uint64_t n = 0;
    int rc = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const void* k = sqlite3_column_blob(st, 0);
      const int kn = sqlite3_column_bytes(st, 0);
      const void* v = sqlite3_column_blob(st, 1);
      const int vn = sqlite3_column_bytes(st, 1);
      fn(std::string_view(static_cast<const char*>(k), static_cast<std::size_t>(kn)),
         byte_span(static_cast<const std::byte*>(v), static_cast<std::size_t>(vn)));
      ++n;
    }
    check(conn_->get(), rc, "scan");
    return n;
  }
  void close() override {
    commit_.reset();
    begin_.reset();
    insert_.reset();
    conn_.reset();
  }
  ~sqlite_engine() override { close(); }

 private:
  std::string path_;
  std::unique_ptr<connection> conn_;
  std::unique_ptr<statement> insert_, begin_, commit_;
};

}  // namespace

std::unique_ptr<engine> make_sqlite_engine() { return std::make_unique<sqlite_engine>(); }
std::string sqlite_version() { return sqlite3_libversion(); }

}  // namespace simdr_bench
