// kernels_sse2.cpp - the x86-64 baseline kernel set (SSE2, no extra compiler flags), used when
// the CPU lacks AVX2. See kernels_impl.inl.
#if defined(__x86_64__) || defined(_M_X64)
#define SIMDR_KERNEL_ISA sse2
#define SIMDR_KERNEL_NAME "sse2"
#define SIMDR_KERNEL_SYMBOL sse2_kernels
#define SIMDR_KERNEL_WIDTH 128
#define XXH_VECTOR XXH_SSE2
#include "simd/kernels_impl.inl"
#endif
