// dispatch.cpp - picks the kernel set once, at first use, and answers simdr/kernels.hpp.
//
// Which sets exist is decided by CMake per target architecture (SIMDR_KERNELS_X86: sse2 +
// avx2, SIMDR_KERNELS_NEON, SIMDR_KERNELS_SIMD128 with -msimd128); scalar is always there.
// Only avx2 needs a run-time check: sse2 is the x86-64 baseline, NEON the aarch64 one, and a
// wasm module with SIMD128 does not load where SIMD128 is missing.
//
// Behaviour of SIMDR_KERNELS is documented in simdr/kernels.hpp: an unknown or unavailable
// name runs the best set, and kernels_request() says why the request was not honoured.
#include <atomic>
#include <cstdlib>
#include <string_view>

#include "simd/kernels.hpp"
#include "simdr/kernels.hpp"

namespace simdr::detail::simd {

extern const kernel_set scalar_kernels;
#if defined(SIMDR_KERNELS_X86)
extern const kernel_set sse2_kernels;
extern const kernel_set avx2_kernels;
#endif
#if defined(SIMDR_KERNELS_NEON)
extern const kernel_set neon_kernels;
#endif
#if defined(SIMDR_KERNELS_SIMD128) && defined(__wasm_simd128__)
extern const kernel_set simd128_kernels;
#endif

std::atomic<const kernel_set*> active_set{nullptr};

namespace {

// Compiled-in sets, best first.
const kernel_set* const compiled_sets[] = {
#if defined(SIMDR_KERNELS_X86)
    &avx2_kernels,
    &sse2_kernels,
#endif
#if defined(SIMDR_KERNELS_NEON)
    &neon_kernels,
#endif
#if defined(SIMDR_KERNELS_SIMD128) && defined(__wasm_simd128__)
    &simd128_kernels,
#endif
    &scalar_kernels,
};
constexpr std::size_t compiled_count = sizeof(compiled_sets) / sizeof(compiled_sets[0]);

// Every name a SIMDR_KERNELS value may use, compiled in or not.
constexpr std::string_view known_names[] = {"scalar", "sse2", "avx2", "neon", "simd128"};

bool cpu_runs(const kernel_set* k) noexcept {
#if defined(SIMDR_KERNELS_X86) && (defined(__GNUC__) || defined(__clang__))
  if (k == &avx2_kernels) {
    __builtin_cpu_init();  // may run before the constructors that would call it
    return __builtin_cpu_supports("avx2") != 0;
  }
#elif defined(SIMDR_KERNELS_X86)
  if (k == &avx2_kernels) return false;
#endif
  (void)k;
  return true;
}

struct runnable_list {
  const kernel_set* sets[compiled_count];
  std::string_view names[compiled_count];
  std::size_t n = 0;
};

const runnable_list& runnable() noexcept {
  static const runnable_list list = [] {
    runnable_list l{};
    for (const kernel_set* k : compiled_sets)
      if (cpu_runs(k)) {
        l.sets[l.n] = k;
        l.names[l.n] = k->name;
        ++l.n;
      }
    return l;
  }();
  return list;
}

bool is_known(std::string_view name) noexcept {
  for (std::string_view k : known_names)
    if (k == name) return true;
  return false;
}

// The runnable set of that name, or nullptr.
const kernel_set* find_runnable(std::string_view name) noexcept {
  const runnable_list& l = runnable();
  for (std::size_t i = 0; i < l.n; ++i)
    if (l.names[i] == name) return l.sets[i];
  return nullptr;
}

const selection& env_selection() noexcept {
  static const selection s = select(std::getenv("SIMDR_KERNELS"));
  return s;
}

}  // namespace

std::span<const kernel_set* const> available() noexcept {
  const runnable_list& l = runnable();
  return {l.sets, l.n};
}

const kernel_set* compiled(std::string_view name) noexcept {
  for (const kernel_set* k : compiled_sets)
    if (name == k->name) return k;
  return nullptr;
}

selection select(const char* env) noexcept {
  const kernel_set* best = runnable().sets[0];
  if (env == nullptr) return {best, errc::ok};
  const std::string_view want(env);
  if (want.empty() || want == "auto") return {best, errc::ok};
  if (const kernel_set* k = find_runnable(want)) return {k, errc::ok};
  return {best, is_known(want) ? errc::unsupported_cpu : errc::invalid_argument};
}

const kernel_set& init_active() noexcept {
  const kernel_set* expected = nullptr;
  // select_kernels() may have won the race; its choice stands.
  active_set.compare_exchange_strong(expected, env_selection().set, std::memory_order_relaxed);
  return *active_set.load(std::memory_order_relaxed);
}

}  // namespace simdr::detail::simd

namespace simdr {

std::string_view kernels_name() noexcept { return detail::simd::active().name; }

std::span<const std::string_view> available_kernels() noexcept {
  const auto& l = detail::simd::runnable();
  return {l.names, l.n};
}

status kernels_request() noexcept { return detail::simd::env_selection().request; }

status select_kernels(std::string_view name) noexcept {
  namespace s = detail::simd;
  const s::kernel_set* k = name == "auto" ? s::runnable().sets[0] : s::find_runnable(name);
  if (k == nullptr) return s::is_known(name) ? errc::unsupported_cpu : errc::invalid_argument;
  s::active_set.store(k, std::memory_order_relaxed);
  return errc::ok;
}

}  // namespace simdr
