// kernels_avx2.cpp - the AVX2 kernel set. The ONLY translation unit built with -mavx2 (CMake sets
// it on this file alone); dispatch.cpp calls into it only after checking the CPU supports AVX2.
// See the rules at the top of kernels_impl.inl about what this file may call.
//
// What AVX2 buys is XXH3's AVX2 path (checksums of large values: about 2x SSE2 in
// bench/kernels). The probe and key compare are the 128-bit kernels, VEX-encoded: 256-bit
// versions (match_tags with two 32-byte loads, a pack and a lane-crossing permute; keys compared
// 32 bytes at a time) measured 20-25% SLOWER per in-cache probe than these on the 2-core
// AMD EPYC machine (141 and 155 vs 187 M probes/s): the probe is latency-bound, the permute adds
// latency, and any ymm use costs a vzeroupper and a realigned stack frame on every call.
#if defined(__x86_64__) || defined(_M_X64)
#if !defined(__AVX2__)
#error "kernels_avx2.cpp must be compiled with -mavx2 (see CMakeLists.txt)"
#endif
#define SIMDR_KERNEL_ISA avx2
#define SIMDR_KERNEL_NAME "avx2"
#define SIMDR_KERNEL_SYMBOL avx2_kernels
#define SIMDR_KERNEL_WIDTH 128
#define XXH_VECTOR XXH_AVX2
#include "simd/kernels_impl.inl"
#endif
