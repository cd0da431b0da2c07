// report.hpp - turns the measurements of simdr-bench into results.md (tables: medians, ratios,
// targets), results.csv and chart.png (gnuplot, from the CSV).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "peer.hpp"

namespace simdr_bench {

/// One reported figure (a row of the tables).
struct metric_def {
  std::string id;        ///< as produced by the phases, e.g. "w1.get"
  std::string label;     ///< row title
  std::string unit;      ///< unit after scaling, e.g. "M ops/s"
  double scale;          ///< displayed value = raw / scale
  bool higher_better;
};

/// A goal of the issue: SIMD R Drive against a reference peer (ratio), or against a limit.
struct target_def {
  std::string chart_label;  ///< short, for the chart
  std::string text;         ///< e.g. ">= 2x LMDB"
  std::string metric;
  std::string ref_peer;     ///< peer id, or "" for an absolute limit
  double required;          ///< minimum ratio (better-oriented), or the limit (raw units)
};

const std::vector<metric_def>& metric_defs();
const std::vector<target_def>& target_defs();

/// All samples: samples[metric][peer id] = one value per repetition.
using sample_map = std::map<std::string, std::map<std::string, std::vector<double>>>;

struct report_input {
  std::vector<peer_info> peers;     ///< in column order
  sample_map samples;
  std::vector<std::string> header;  ///< lines printed above the tables (command, machine, ...)
  std::vector<std::string> notes;   ///< lines printed under them (method, errors)
  int reps = 0;
};

/// Writes results.md, results.csv (and chart.gp, chart.png when gnuplot exists) into `out_dir`;
/// returns the Markdown text (also printed by the caller).
std::string write_report(const report_input& in, const std::string& out_dir);

}  // namespace simdr_bench
