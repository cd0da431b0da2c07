// kernels_avx2.cpp - the AVX2 kernel set. The ONLY translation unit built with -mavx2 (CMake sets
// it on this file alone); dispatch.cpp calls into it only after checking the CPU supports AVX2.
// See the rules at the top of kernels_impl.inl about what this file may call.
#if defined(__x86_64__) || defined(_M_X64)
#if !defined(__AVX2__)
#error "kernels_avx2.cpp must be compiled with -mavx2 (see CMakeLists.txt)"
#endif
#define SIMDR_KERNEL_ISA avx2
#define SIMDR_KERNEL_NAME "avx2"
#define SIMDR_KERNEL_SYMBOL avx2_kernels
#define SIMDR_KERNEL_WIDTH 256
#define XXH_VECTOR XXH_AVX2
#include "simd/kernels_impl.inl"
#endif
