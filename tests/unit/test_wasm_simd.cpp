// test_wasm_simd.cpp - the wasm build really targets WebAssembly SIMD128 (preset wasm builds
// every TU with -msimd128; a build without it fails here), and SIMDe lowers to it.
#include <catch2/catch.hpp>

#if defined(__EMSCRIPTEN__)
#include <simde/x86/sse2.h>

#include <cstdint>

#if !defined(__wasm_simd128__)
#error "the wasm build must be compiled with -msimd128 (SIMDR_WASM_SIMD128)"
#endif

TEST_CASE("wasm: SIMD128 is on and SIMDe uses it natively", "[wasm]") {
  CHECK(SIMDE_NATURAL_VECTOR_SIZE >= 128);
#if defined(SIMDE_WASM_SIMD128_NATIVE)
  const bool simde_native = true;
#else
  const bool simde_native = false;
#endif
  CHECK(simde_native);
  const simde__m128i a = simde_mm_set1_epi8(3);
  const simde__m128i sum = simde_mm_add_epi8(a, simde_mm_set1_epi8(4));
  const int mask = simde_mm_movemask_epi8(simde_mm_cmpeq_epi8(sum, simde_mm_set1_epi8(7)));
  CHECK(mask == 0xFFFF);
}
#endif
