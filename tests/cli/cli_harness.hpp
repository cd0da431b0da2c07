// cli_harness.hpp - runs the built `simdr` binary as a child process (posix_spawn) with pipes:
// feeds stdin (a string, a generator or a file), captures or streams stdout, captures stderr
// (optionally through a pseudo-terminal), and reports the exit status and the child's peak
// resident set size (wait4's ru_maxrss).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace simdr::cli_test {

/// Path of the binary under test (compile definition SIMDR_CLI_BINARY).
const char* binary();

struct run_options {
  std::string stdin_data;  ///< fed to stdin, then stdin is closed (unless a source or a path)
  /// Generator for stdin: fills the buffer, returns the bytes written; 0 ends (closes stdin).
  std::function<std::size_t(std::span<char>)> stdin_source;
  std::string stdin_path;  ///< when set, this file (or directory) is opened as stdin
  /// When set, stdout is passed here chunk by chunk instead of being collected.
  std::function<void(std::string_view)> stdout_sink;
  bool stderr_tty = false;  ///< give the child a pseudo-terminal as stderr
  std::function<void(pid_t)> on_spawn;  ///< called with the child's pid
  /// Close our end of stdout once this many bytes arrived (a reader that goes away).
  std::size_t stdout_limit = static_cast<std::size_t>(-1);
  std::vector<std::string> env;  ///< extra "NAME=value" entries for the child's environment
  int timeout_s = 600;      ///< the child is killed (and the test fails) after this
};

struct run_result {
  int exit_code = -1;   ///< exit status, or -1 when killed by a signal
  int term_signal = 0;  ///< the signal that killed it, 0 if it exited
  std::string out;      ///< stdout (empty when a sink was given)
  std::string err;      ///< stderr
  /// Peak resident set size of the child after exec, in KiB: the largest VmHWM read from
  /// /proc/PID/status while it ran (sampled every 20 ms).
  /// Not wait4's ru_maxrss: Linux folds the hiwater mark of the pre-exec address space (the
  /// test process's own, shared through vfork) into it.
  long max_rss_kib = 0;
  double seconds = 0;
  bool timed_out = false;
};

/// Runs `simdr ARGS...`.
run_result run(const std::vector<std::string>& args, run_options opt = {});
/// Shorthand: runs with `stdin_data` as stdin.
run_result run_in(const std::vector<std::string>& args, std::string stdin_data);

/// A fresh temporary directory removed with everything in it at scope exit.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, std::string_view bytes);
/// Overwrites one byte of a file in place.
void poke(const std::string& path, std::uint64_t offset, unsigned char byte);
std::uint64_t file_size(const std::string& path);

}  // namespace simdr::cli_test
