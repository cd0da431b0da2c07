// peer.hpp - the common interface of every engine the comparative benchmark (simdr-bench)
// measures: SIMD R Drive, LMDB, RocksDB, LevelDB, SQLite and the two floors (raw write(), an
// in-memory hash map). One driver per engine lives in bench/peers/<engine>_peer.cpp; the
// workloads (workloads.cpp) only ever see this interface, so every engine runs exactly the same
// loop. Configuration of each peer follows shared/notes/benchmarks.md ("how to configure them
// fairly").
//
// Reads are zero-copy where the engine can: a driver hands the value to a callback while the
// bytes are still valid (LMDB: inside the read transaction; SIMD R Drive: a blob_view; SQLite:
// before sqlite3_reset; RocksDB: a PinnableSlice), so no engine pays for a copy the benchmark
// forces on it. Errors are exceptions (bench_error): the benchmark is not the library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "simdr/store.hpp"

namespace simdr_bench {

struct bench_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A non-owning reference to a callable: the library's own (no allocation, one indirect call).
template <class Sig>
using fn_ref = simdr::function_ref<Sig>;

using byte_span = std::span<const std::byte>;

/// One key/value pair of a write batch (borrowed bytes).
struct kv {
  std::string_view key;
  byte_span value;
};

/// Receives a value that is valid only during the call.
using value_fn = fn_ref<void(byte_span value)>;
/// Receives the value of keys[i] of a multi-get (only found keys are reported).
using multi_value_fn = fn_ref<void(std::size_t i, byte_span value)>;
/// Receives each live entry of a scan.
using entry_fn = fn_ref<void(std::string_view key, byte_span value)>;

struct open_params {
  std::string dir;     ///< A directory owned by this engine instance (created by the harness).
  bool create = false; ///< A fresh store (true) or an existing one (false).
  bool sync = false;   ///< W1sync mode: every committed batch is on stable storage.
};

/// A per-thread read context (LMDB: one read transaction; SQLite: one connection).
class reader {
 public:
  virtual ~reader() = default;
  /// Looks `key` up; calls `fn` with the value when found. Returns whether it was found.
  virtual bool get(std::string_view key, value_fn fn) = 0;
  /// Looks up `keys` as one batch (the engine's native multi-get, or point reads inside one read
  /// snapshot/transaction). Calls `fn(i, value)` for each found key; returns how many were found.
  virtual std::size_t multi_get(std::span<const std::string_view> keys, multi_value_fn fn) = 0;
};

/// What an engine can do; the harness skips the rest (printed as "n/a").
struct capabilities {
  bool persistent = true;  ///< Survives close/reopen (false: the in-memory floor).
  bool reads = true;       ///< Has gets, multi-gets and scans (false: the write() floor).
  bool concurrent = true;  ///< Readers on other threads while one thread writes (W4).
};

class engine {
 public:
  virtual ~engine() = default;
  /// Opens or creates the store in p.dir (the timed "reopen" when !p.create).
  virtual void open(const open_params& p) = 0;
  /// Commits `batch` as one transaction / commit (synced when opened with sync).
  virtual void write_batch(std::span<const kv> batch) = 0;
  /// A read context for the calling thread; valid until close().
  virtual std::unique_ptr<reader> make_reader() = 0;
  /// Visits every live entry once; returns how many.
  virtual std::uint64_t scan(entry_fn fn) = 0;
  /// Closes (idempotent; the destructor closes too).
  virtual void close() = 0;
};

/// A registered peer: CLI id, display name (with the library version) and factory.
struct peer_info {
  std::string id;
  std::string display;
  capabilities caps;
  std::function<std::unique_ptr<engine>()> make;
};

/// Every peer compiled into this binary, in report order (SIMD R Drive first).
std::vector<peer_info> all_peers();

// Factories and version strings of the drivers (each defined in its own file, compiled only
// when CMake found the library: SIMDR_BENCH_HAVE_<ENGINE>).
std::unique_ptr<engine> make_simdr_engine();
std::unique_ptr<engine> make_lmdb_engine();
std::unique_ptr<engine> make_rocksdb_engine();
std::unique_ptr<engine> make_leveldb_engine();
std::unique_ptr<engine> make_sqlite_engine();
std::unique_ptr<engine> make_write_floor_engine();
std::unique_ptr<engine> make_map_floor_engine();
/// How SIMD R Drive's batched read is done in this build (get_batch or a get() loop).
std::string simdr_batch_read_path();
std::string lmdb_version();
std::string rocksdb_version();
std::string leveldb_version();
std::string sqlite_version();

}  // namespace simdr_bench
