// registry.cpp - the peers compiled into simdr-bench. A peer whose library CMake did not find
// is left out of the build (SIMDR_BENCH_HAVE_<ENGINE> undefined) and so of every report.
#include "peer.hpp"

namespace simdr_bench {

std::vector<peer_info> all_peers() {
  std::vector<peer_info> p;
  p.push_back({"simdr", "SIMD R Drive", {}, make_simdr_engine});
#ifdef SIMDR_BENCH_HAVE_LMDB
  p.push_back({"lmdb", "LMDB " + lmdb_version(), {}, make_lmdb_engine});
#endif
#ifdef SIMDR_BENCH_HAVE_ROCKSDB
  p.push_back({"rocksdb", "RocksDB " + rocksdb_version(), {}, make_rocksdb_engine});
#endif
#ifdef SIMDR_BENCH_HAVE_LEVELDB
  p.push_back({"leveldb", "LevelDB " + leveldb_version(), {}, make_leveldb_engine});
#endif
#ifdef SIMDR_BENCH_HAVE_SQLITE
  p.push_back({"sqlite", "SQLite " + sqlite_version(), {}, make_sqlite_engine});
#endif
  p.push_back({"write-floor", "write() floor", {.persistent = true, .reads = false,
               .concurrent = false}, make_write_floor_engine});
  p.push_back({"map-floor", "hash-map floor", {.persistent = false, .reads = true,
               .concurrent = false}, make_map_floor_engine});
  return p;
}

}  // namespace simdr_bench
