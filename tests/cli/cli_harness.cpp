// cli_harness.cpp - see cli_harness.hpp.
#include "cli_harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace simdr::cli_test {

namespace {

[[noreturn]] void die(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void set_nonblocking(int fd) {
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) die("fcntl");
}

struct ignore_sigpipe {
  ignore_sigpipe() { std::signal(SIGPIPE, SIG_IGN); }
} ignore_sigpipe_once;

}  // namespace

const char* binary() { return SIMDR_CLI_BINARY; }

run_result run(const std::vector<std::string>& args, run_options opt) {
  run_result r;
  int in_pipe[2] = {-1, -1}, out_pipe[2], err_pipe[2] = {-1, -1};
  int in_file = -1, pty_master = -1, pty_slave = -1;
  const bool feed = opt.stdin_path.empty();
  if (feed) {
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) die("pipe2");
  } else {
    in_file = ::open(opt.stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in_file < 0) die("open " + opt.stdin_path);
  }
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) die("pipe2");
  if (opt.stderr_tty) {
    pty_master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (pty_master < 0 || ::grantpt(pty_master) != 0 || ::unlockpt(pty_master) != 0) die("posix_openpt");
    pty_slave = ::open(::ptsname(pty_master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (pty_slave < 0) die("open pty slave");
  } else if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    die("pipe2");
  }
  // Large pipes make multi-GiB transfers cheaper (best effort).
  (void)::fcntl(out_pipe[0], F_SETPIPE_SZ, opt.stdout_limit == static_cast<std::size_t>(-1) ? 1 << 20 : 4096);
  if (in_pipe[1] >= 0) (void)::fcntl(in_pipe[1], F_SETPIPE_SZ, 1 << 20);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, feed ? in_pipe[0] : in_file, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, opt.stderr_tty ? pty_slave : err_pipe[1], 2);
  std::vector<std::string> full{binary()};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : full) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const auto start = std::chrono::steady_clock::now();
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (auto& e : opt.env) envp.push_back(e.data());
  envp.push_back(nullptr);
  // The child starts as from a shell: SIGPIPE at its default action (this process ignores it).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  const int rc = ::posix_spawn(&pid, binary(), &fa, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    errno = rc;
    die("posix_spawn");
  }
  if (feed) ::close(in_pipe[0]);
  else ::close(in_file);
  ::close(out_pipe[1]);
  if (opt.stderr_tty) ::close(pty_slave);
  else ::close(err_pipe[1]);
  if (opt.on_spawn) opt.on_spawn(pid);

  int in_fd = feed ? in_pipe[1] : -1;
  int out_fd = out_pipe[0];
  int err_fd = opt.stderr_tty ? pty_master : err_pipe[0];
  for (int fd : {in_fd, out_fd, err_fd})
    if (fd >= 0) set_nonblocking(fd);

  std::vector<char> inbuf(opt.stdin_source ? (1u << 20) : 0);
  std::size_t in_pos = 0, in_len = 0;
  std::size_t data_pos = 0;
  std::size_t out_bytes = 0;
  std::vector<char> rbuf(1u << 20);
  const auto deadline = start + std::chrono::seconds(opt.timeout_s);

  auto sample_rss = [&] {
    std::ifstream st("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(st, line))
      if (line.rfind("VmHWM:", 0) == 0) r.max_rss_kib = std::max(r.max_rss_kib, std::stol(line.substr(6)));
  };
  auto last_sample = std::chrono::steady_clock::now();
  sample_rss();
  auto close_fd = [](int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  };
  while (out_fd >= 0 || err_fd >= 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      r.timed_out = true;
      break;
    }
    // Refill the generator's buffer.
    if (in_fd >= 0 && opt.stdin_source && in_pos == in_len) {
      in_len = opt.stdin_source(std::span<char>(inbuf.data(), inbuf.size()));
      in_pos = 0;
      if (in_len == 0) close_fd(in_fd);
    } else if (in_fd >= 0 && !opt.stdin_source && data_pos == opt.stdin_data.size()) {
      close_fd(in_fd);
    }
    pollfd p[3];
    int n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in_fd >= 0) p[idx_in = n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) p[idx_out = n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) p[idx_err = n++] = {err_fd, POLLIN, 0};
    if (::poll(p, static_cast<nfds_t>(n), 20) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (const auto now = std::chrono::steady_clock::now(); now - last_sample > std::chrono::milliseconds(20)) {
      sample_rss();
      last_sample = now;
    }
    if (idx_in >= 0 && (p[idx_in].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const char* src = opt.stdin_source ? inbuf.data() + in_pos : opt.stdin_data.data() + data_pos;
      const std::size_t len = opt.stdin_source ? in_len - in_pos : opt.stdin_data.size() - data_pos;
      const ssize_t w = ::write(in_fd, src, len);
      if (w > 0) {
        (opt.stdin_source ? in_pos : data_pos) += static_cast<std::size_t>(w);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        close_fd(in_fd);  // EPIPE: the child stopped reading
      }
    }
    auto drain = [&](int& fd, bool is_out) {
      for (;;) {
        const ssize_t got = ::read(fd, rbuf.data(), rbuf.size());
        if (got > 0) {
          if (is_out) out_bytes += static_cast<std::size_t>(got);
          if (is_out && opt.stdout_sink) opt.stdout_sink(std::string_view(rbuf.data(), static_cast<std::size_t>(got)));
          else (is_out ? r.out : r.err).append(rbuf.data(), static_cast<std::size_t>(got));
          if (is_out && out_bytes >= opt.stdout_limit) {  // the reader goes away, mid-stream
            close_fd(fd);
            return;
          }
          continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
        close_fd(fd);  // EOF, or EIO from a pty whose slave side was closed
        return;
      }
    };
    if (idx_out >= 0 && p[idx_out].revents != 0) drain(out_fd, true);
    if (idx_err >= 0 && p[idx_err].revents != 0) drain(err_fd, false);
  }
  close_fd(in_fd);
  close_fd(out_fd);
  close_fd(err_fd);
  int status = 0;
  struct rusage ru {};
  while (::wait4(pid, &status, 0, &ru) < 0)
    if (errno != EINTR) die("wait4");
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
  return r;
}

run_result run_in(const std::vector<std::string>& args, std::string stdin_data) {
  run_options o;
  o.stdin_data = std::move(stdin_data);
  return run(args, std::move(o));
}

temp_dir::temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "simdr-cli-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) die("mkdtemp");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  if (std::getenv("SIMDR_KEEP_TMP") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream o(path, std::ios::binary | std::ios::trunc);
  o.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!o) throw std::runtime_error("cannot write " + path);
}

void poke(const std::string& path, std::uint64_t offset, unsigned char byte) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) die("open " + path);
  const ssize_t w = ::pwrite(fd, &byte, 1, static_cast<off_t>(offset));
  ::close(fd);
  if (w != 1) die("pwrite " + path);
}

std::uint64_t file_size(const std::string& path) { return std::filesystem::file_size(path); }

}  // namespace simdr::cli_test
