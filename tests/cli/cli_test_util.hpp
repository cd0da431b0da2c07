// cli_test_util.hpp - assertions shared by the CLI test files.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "cli_harness.hpp"

namespace simdr::cli_test {

using json = nlohmann::json;

/// The exit status, with the captured output printed when it is not the expected one.
#define REQUIRE_EXIT(r, code)                                                                 \
  do {                                                                                        \
    const ::simdr::cli_test::run_result& r_ = (r);                                           \
    INFO("exit " << r_.exit_code << " signal " << r_.term_signal << "\nstdout: "             \
                 << r_.out.substr(0, 3000) << "\nstderr: " << r_.err.substr(0, 3000));       \
    REQUIRE(r_.exit_code == (code));                                                          \
  } while (0)

/// stderr is exactly one line "simdr: ..." containing `needle`.
#define REQUIRE_ONE_ERROR_LINE(r, needle)                                                     \
  do {                                                                                        \
    const std::string& e_ = (r).err;                                                          \
    INFO("stderr: " << e_);                                                                   \
    REQUIRE(e_.rfind("simdr: ", 0) == 0);                                                     \
    REQUIRE(std::count(e_.begin(), e_.end(), '\n') == 1);                                     \
    REQUIRE(e_.back() == '\n');                                                               \
    REQUIRE(e_.find(needle) != std::string::npos);                                            \
  } while (0)

inline json parse_json(const run_result& r) {
  INFO("stdout: " << r.out.substr(0, 3000) << "\nstderr: " << r.err.substr(0, 3000));
  json j;
  REQUIRE_NOTHROW(j = json::parse(r.out));
  return j;
}

}  // namespace simdr::cli_test
