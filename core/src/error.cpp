// error.cpp - names and descriptions of errc values. Names are part of the stable API: the JS
// binding exposes them upper-cased as SimdrError.code.
#include "simdr/error.hpp"

namespace simdr {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::ok: return "ok";
    case errc::not_found: return "not_found";
    case errc::exists: return "exists";
    case errc::invalid_argument: return "invalid_argument";
    case errc::closed: return "closed";
    case errc::read_only: return "read_only";
    case errc::busy: return "busy";
    case errc::io: return "io";
    case errc::no_space: return "no_space";
    case errc::locked: return "locked";
    case errc::access_denied: return "access_denied";
    case errc::file_not_found: return "file_not_found";
    case errc::not_a_file: return "not_a_file";
    case errc::corrupt: return "corrupt";
    case errc::checksum_mismatch: return "checksum_mismatch";
    case errc::bad_magic: return "bad_magic";
    case errc::unsupported_version: return "unsupported_version";
    case errc::no_memory: return "no_memory";
    case errc::too_large: return "too_large";
    case errc::unsupported_cpu: return "unsupported_cpu";
    case errc::opfs_unavailable: return "opfs_unavailable";
    case errc::unsupported: return "unsupported";
  }
  return "unknown";
}

std::string_view describe(errc code) noexcept {
  switch (code) {
    case errc::ok: return "success";
    case errc::not_found: return "key not found";
    case errc::exists: return "already exists";
    case errc::invalid_argument: return "invalid argument";
    case errc::closed: return "the store is closed";
    case errc::read_only: return "the store is open read-only";
    case errc::busy: return "the operation cannot run now";
    case errc::io: return "I/O error";
    case errc::no_space: return "no space left on the device";
    case errc::locked: return "the file is locked by another writer";
    case errc::access_denied: return "permission denied";
    case errc::file_not_found: return "no such file";
    case errc::not_a_file: return "not a regular file";
    case errc::corrupt: return "the store file is damaged";
    case errc::checksum_mismatch: return "stored bytes do not match their checksum";
    case errc::bad_magic: return "not a SIMD R Drive file";
    case errc::unsupported_version: return "unsupported file format version";
    case errc::no_memory: return "out of memory";
    case errc::too_large: return "too large";
    case errc::unsupported_cpu: return "the requested SIMD kernel is not supported by this CPU";
    case errc::opfs_unavailable: return "OPFS sync access handles are not available";
    case errc::unsupported: return "not supported by this backend";
  }
  return "unknown error";
}

}  // namespace simdr
