// file_io.hpp - the file interface of the wasm storage: a handful of C functions the wasm
// storage (wasm_storage.cpp) calls for every byte it persists.
//
// In the wasm module they are imports implemented in JavaScript (js_files.js, an Emscripten
// --js-library) over a host file object: OPFS FileSystemSyncAccessHandle in a browser worker,
// node:fs in Node. The Catch2 suite built with Emscripten links a POSIX implementation instead
// (tests/support/wasm_posix_files.cpp, through -sNODERAWFS), so the same storage code runs the
// whole C++ suite under Node.
//
// Conventions: a file is a small integer id; negative returns are -errc (simdr::errc numbers),
// with the OS error number, if any, available from simdr_file_errno(). Offsets and sizes are
// doubles (exact up to 2^53) because Emscripten 3.1.6 has no BigInt integration by default.
// Lengths of one call stay below 1 GiB (callers split larger transfers).
#pragma once

#include <cstddef>

extern "C" {

/// Flags of simdr_file_open.
enum : int {
  simdr_file_create = 1,     ///< create the file when it does not exist
  simdr_file_read_only = 2,  ///< open for reading only
};

/// Opens `path` (UTF-8, not NUL-terminated). Returns a file id >= 0 or -errc: file_not_found,
/// not_a_file, access_denied, locked (the host refuses a second writer), io.
int simdr_file_open(const char* path, std::size_t path_len, int flags);
/// Current size of the file in bytes, or -errc.
double simdr_file_size(int file);
/// Reads up to `len` bytes at `offset` into `dst`; returns how many (0 at the end) or -errc.
int simdr_file_read(int file, void* dst, std::size_t len, double offset);
/// Writes all `len` bytes at `offset`; returns 0 or -errc (no_space, io).
int simdr_file_write(int file, const void* src, std::size_t len, double offset);
/// Sets the file size; returns 0 or -errc.
int simdr_file_truncate(int file, double size);
/// Durability barrier (fdatasync, OPFS flush()); returns 0 or -errc.
int simdr_file_flush(int file);
/// Closes the file id (releasing the host's lock, if any).
void simdr_file_close(int file);
/// Deletes the file at `path` if it exists; returns 0 or -errc (unsupported where the host
/// cannot delete synchronously: the caller then leaves an empty file behind).
int simdr_file_remove(const char* path, std::size_t path_len);
/// The OS error number behind the last failure, 0 when none.
int simdr_file_errno(void);
/// Called whenever image bytes that JS views may point at are moved or freed: the host
/// detaches every outstanding view (WebAssembly.Memory.prototype.grow(0)). No-op in C++ tests.
void simdr_views_moved(void);
}
