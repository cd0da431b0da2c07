// kernels_neon.cpp - the aarch64 kernel set: the SSE2-API kernels of kernels_impl.inl, which
// SIMDe implements with NEON intrinsics (NEON is part of the aarch64 baseline, no flags needed).
// xxHash takes its own NEON path.
#if defined(__aarch64__) || defined(_M_ARM64)
#define SIMDR_KERNEL_ISA neon
#define SIMDR_KERNEL_NAME "neon"
#define SIMDR_KERNEL_SYMBOL neon_kernels
#define SIMDR_KERNEL_WIDTH 128
#define XXH_VECTOR XXH_NEON
#include "simd/kernels_impl.inl"
#endif
