// replay_main.cpp - main() for the fuzz targets when they are NOT built with -fsanitize=fuzzer:
// runs LLVMFuzzerTestOneInput once on every file named on the command line, or found (sorted,
// recursively) in the directories named there. This is how ctest replays the checked-in
// corpora with any compiler; a failed invariant traps, which fails the test.
//
//   simdr_fuzz_open_replay [--skip=NAME]... PATH...
//
// --skip=NAME leaves out files whose name is NAME (known crashers kept in the corpus until the
// bug is fixed; tests/fuzz/CMakeLists.txt lists them with the reason).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::set<std::string> skip;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--skip=", 0) == 0) {
      skip.insert(arg.substr(7));
      continue;
    }
    const fs::path p(arg);
    if (fs::is_directory(p)) {
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "replay: no such file or directory: %s\n", arg.c_str());
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  std::size_t ran = 0, skipped = 0;
  for (const fs::path& f : files) {
    if (skip.count(f.filename().string()) != 0) {
      std::printf("replay: skipping %s\n", f.string().c_str());
      ++skipped;
      continue;
    }
    std::ifstream in(f, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", f.string().c_str(), bytes.size());
    // A copy in its own allocation, so AddressSanitizer sees reads past the end of the input.
    std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(data.data(), data.size());
    ++ran;
  }
  std::printf("replay: ran %zu inputs (%zu skipped)\n", ran, skipped);
  return ran == 0 ? 1 : 0;
}
