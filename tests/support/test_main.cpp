// test_main.cpp - Catch2 entry point. Prints the suite seed so any failure can be replayed:
// SIMDR_TEST_SEED=<n> ./simdr_tests "<test name>"
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "support/test_support.hpp"

int main(int argc, char* argv[]) {
  // stderr: catch_discover_tests parses stdout of --list-test-names-only.
  std::fprintf(stderr, "simdr tests: seed %llu (set SIMDR_TEST_SEED to replay)\n",
               static_cast<unsigned long long>(simdr::test::suite_seed()));
  return Catch::Session().run(argc, argv);
}
