// workloads.hpp - workloads W1, W1sync, W2, W3 and W4 of shared/notes/benchmarks.md, written
// once against the peer interface (peer.hpp). Each function below is ONE phase, meant to run in
// a fresh child process (the harness forks per peer, phase and repetition) so that memory
// figures (RssAnon deltas, peak RSS) and heap state belong to that engine alone. A phase returns
// named figures; the harness takes medians over repetitions.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "peer.hpp"

namespace simdr_bench {

struct config {
  std::uint64_t w1_n = 1000000;           ///< W1 entries (8-byte values)
  std::size_t w1_batch = 1024;            ///< entries per commit in W1/W1sync
  std::size_t mget_batch = 1024;          ///< keys per batched read
  std::uint64_t w2_n = 100000;            ///< W2 entries
  std::size_t w2_value = 4096;            ///< W2 value size
  std::size_t w2_batch = 1024;            ///< W2 entries per commit (4 MiB)
  std::uint64_t w2_reads = 200000;        ///< W2 random reads
  std::uint64_t w3_n = 1000;              ///< W3 entries
  std::size_t w3_value = std::size_t{1} << 20;  ///< W3 value size
  std::size_t w3_batch = 1;               ///< W3 entries per commit (one 1 MiB value each)
  double w4_seconds = 3.0;                ///< W4 duration
  int w4_readers = 2;                     ///< W4 reader threads
};

/// Inputs shared by every phase, built once in the parent before forking (children inherit
/// them copy-on-write and never modify them, so building them costs no phase any time).
struct dataset {
  std::vector<char> key_bytes;             ///< "bench-key-{i}" for i < key_count, packed
  std::vector<std::uint32_t> key_off;      ///< key i is [key_off[i], key_off[i+1])
  std::vector<std::uint64_t> w1_values;    ///< value i: the 8 little-endian bytes of i
  std::vector<kv> w1_kv;                   ///< W1 entries in write order
  std::vector<std::uint64_t> get_order;    ///< W1 random point reads (uniform, seeded)
  std::vector<std::uint64_t> mget_order;   ///< W1 batched reads (uniform, another seed)
  std::vector<std::byte> big;              ///< W2 or W3 values (incompressible), when built
  std::vector<kv> big_kv;                  ///< W2 or W3 entries

  [[nodiscard]] std::string_view key(std::uint64_t i) const {
    return {key_bytes.data() + key_off[i], key_off[i + 1] - key_off[i]};
  }
};

/// Builds keys, W1 values and read orders for `cfg`.
void build_base(const config& cfg, dataset& d);
/// Builds `n` values of `size` random bytes whose first 8 bytes are the little-endian index
/// (so reads can be verified) into d.big / d.big_kv. Releases them when n == 0.
void build_big(dataset& d, std::uint64_t n, std::size_t size);

using metrics = std::vector<std::pair<std::string, double>>;

/// W1 / W1sync: writes d.w1_kv into a fresh store in `dir` in batches; "w1.write" or
/// "w1sync.write" (entries/s).
metrics phase_w1_write(const peer_info& p, const config& cfg, const dataset& d,
                       const std::string& dir, bool sync);
/// W1 reads on the store written by phase_w1_write (or, for a non-persistent engine, on one
/// it populates first): reopen time, index memory, scan, random gets, batched gets.
metrics phase_w1_read(const peer_info& p, const config& cfg, const dataset& d,
                      const std::string& dir);
/// W4 on the W1 store in `dir`: readers' total and writer ops/s.
metrics phase_w4(const peer_info& p, const config& cfg, const dataset& d, const std::string& dir);
/// W2/W3 writes of d.big_kv ("<tag>.write_mbs"), and reads: W2 `reads` random values, W3 every
/// value once in random order (reads == 0), each hashed with XXH3 ("<tag>.read_mbs",
/// "<tag>.read_ops").
metrics phase_big_write(const peer_info& p, const dataset& d, const std::string& dir,
                        std::size_t batch, const std::string& tag);
metrics phase_big_read(const peer_info& p, const dataset& d, const std::string& dir,
                       std::size_t batch, std::uint64_t reads, const std::string& tag);

/// Anonymous resident memory and peak RSS of this process, in bytes (/proc/self/status).
std::uint64_t rss_anon_bytes();
std::uint64_t rss_bytes();
std::uint64_t rss_peak_bytes();

}  // namespace simdr_bench
