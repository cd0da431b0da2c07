// kernels_simd128.cpp - the wasm kernel set: the SSE2-API kernels of kernels_impl.inl, which
// SIMDe implements with wasm SIMD128 intrinsics. Only when the build passes -msimd128 (wasm has
// no run-time dispatch: a module with SIMD instructions does not load where SIMD is missing).
// xxHash 0.8.1 has no SIMD128 path and uses its scalar code here.
#if defined(__wasm_simd128__)
#define SIMDR_KERNEL_ISA simd128
#define SIMDR_KERNEL_NAME "simd128"
#define SIMDR_KERNEL_SYMBOL simd128_kernels
#define SIMDR_KERNEL_WIDTH 128
#include "simd/kernels_impl.inl"
#endif
