// simdr/version.hpp - library and file-format versions, which move independently.
//
// The library version follows semantic versioning of the C++ and JS APIs. The format version is
// the one written into every file header (docs/format.md section 2): a reader opens every file
// whose major version it knows; a newer major version fails with errc::unsupported_version.
#pragma once

#include <cstdint>
#include <string_view>

#define SIMDR_VERSION_MAJOR 0
#define SIMDR_VERSION_MINOR 1
#define SIMDR_VERSION_PATCH 0

namespace simdr {

/// Library version as "major.minor.patch".
inline constexpr std::string_view library_version = "0.1.0";

/// The file-format major version this library reads and writes.
inline constexpr std::uint16_t format_version_major = 1;
/// The file-format minor version this library writes. Files with a larger minor version open
/// read-only (their additions are ignorable by definition), see docs/format.md section 2.
inline constexpr std::uint16_t format_version_minor = 0;

}  // namespace simdr
