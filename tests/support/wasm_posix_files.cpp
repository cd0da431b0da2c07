// wasm_posix_files.cpp - the file interface of the wasm storage (wasm/src/file_io.hpp) over
// POSIX calls, for the Catch2 suite built with Emscripten and run under Node with
// -sNODERAWFS=1 (Emscripten maps these calls onto node:fs). The wasm module proper implements
// the same functions in JavaScript (wasm/src/js_files.js).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "file_io.hpp"
#include "simdr/error.hpp"

namespace {

int last_errno = 0;

int fail(int e) {
  last_errno = e;
  simdr::errc c = simdr::errc::io;
  switch (e) {
    case ENOENT: c = simdr::errc::file_not_found; break;
    case EISDIR: c = simdr::errc::not_a_file; break;
    case EACCES:
    case EPERM:
    case EROFS: c = simdr::errc::access_denied; break;
    case ENOSPC:
    case EDQUOT:
    case EFBIG: c = simdr::errc::no_space; break;
    default: break;
  }
  return -static_cast<int>(c);
}

}  // namespace

extern "C" {

int simdr_file_open(const char* path, std::size_t path_len, int flags) {
  const std::string p(path, path_len);
  int oflags = (flags & simdr_file_read_only) ? O_RDONLY : O_RDWR;
  if (flags & simdr_file_create) oflags |= O_CREAT;
  const int fd = ::open(p.c_str(), oflags | O_CLOEXEC, 0644);
  if (fd < 0) return fail(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    last_errno = 0;
    return -static_cast<int>(simdr::errc::not_a_file);
  }
  return fd;
}

double simdr_file_size(int file) {
  struct stat st {};
  if (::fstat(file, &st) != 0) return fail(errno);
  return static_cast<double>(st.st_size);
}

int simdr_file_read(int file, void* dst, std::size_t len, double offset) {
  for (;;) {
    const ssize_t n = ::pread(file, dst, len, static_cast<off_t>(offset));
    if (n >= 0) return static_cast<int>(n);
    if (errno != EINTR) return fail(errno);
  }
}

int simdr_file_write(int file, const void* src, std::size_t len, double offset) {
  auto* p = static_cast<const char*>(src);
  auto off = static_cast<off_t>(offset);
  while (len > 0) {
    const ssize_t n = ::pwrite(file, p, len, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    p += n;
    off += n;
    len -= static_cast<std::size_t>(n);
  }
  return 0;
}

int simdr_file_truncate(int file, double size) {
  return ::ftruncate(file, static_cast<off_t>(size)) == 0 ? 0 : fail(errno);
}

int simdr_file_flush(int file) { return ::fsync(file) == 0 ? 0 : fail(errno); }

void simdr_file_close(int file) { ::close(file); }

int simdr_file_remove(const char* path, std::size_t path_len) {
  const std::string p(path, path_len);
  return ::unlink(p.c_str()) == 0 || errno == ENOENT ? 0 : fail(errno);
}

int simdr_file_errno(void) { return last_errno; }

void simdr_views_moved(void) {}
}
