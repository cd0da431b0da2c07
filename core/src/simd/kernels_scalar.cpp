// kernels_scalar.cpp - the scalar kernel set: plain C++, the reference every other set is tested
// and fuzzed against (see kernels_impl.inl). xxHash is forced to its scalar path too.
#define SIMDR_KERNEL_ISA scalar
#define SIMDR_KERNEL_NAME "scalar"
#define SIMDR_KERNEL_SYMBOL scalar_kernels
#define SIMDR_KERNEL_WIDTH 0
#define XXH_VECTOR XXH_SCALAR
#include "simd/kernels_impl.inl"
