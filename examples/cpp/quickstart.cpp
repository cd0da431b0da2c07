// quickstart.cpp - the C++ quick start of the README, as a program CI builds and runs.
#include <cstdio>
#include <span>
#include <simdr/simdr.hpp>

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "quickstart.simdr";
  auto opened = simdr::store::open(path, {.create = true});
  if (!opened) return std::fprintf(stderr, "open: %s\n", simdr::to_string(opened.code()).data()), 1;
  simdr::store db = std::move(*opened);

  const float samples[4] = {1.5f, 2.5f, 3.5f, 4.5f};
  if (db.put("greeting", "hello, world") != simdr::errc::ok) return 1;
  if (db.put("samples", simdr::bytes(samples, sizeof samples)) != simdr::errc::ok) return 1;

  auto greeting = db.get("greeting");               // zero-copy view into the mapping
  auto floats = db.get("samples")->as<float>();     // 64-byte aligned: a typed span, no copy
  std::printf("%.*s; %zu floats, last %.1f; %llu keys\n", static_cast<int>(greeting->size()),
              greeting->str().data(), floats.size(), floats.back(),
              static_cast<unsigned long long>(db.size()));
  return greeting->str() == "hello, world" && floats.size() == 4 && floats[3] == 4.5f ? 0 : 1;
}
