// assert.hpp - SIMDR_ASSERT: invariant checks for bugs (not for bad data).
//
// Corrupt bytes on disk are data and return errc::corrupt; a violated invariant is a bug in
// this library. Checks are on in debug and fuzz builds (SIMDR_DEV_CHECKS forces them on) and
// compile to nothing in release builds. The core never prints: a failed check traps.
#pragma once

#if !defined(NDEBUG) || defined(SIMDR_DEV_CHECKS)
#define SIMDR_ASSERT(cond)               \
  do {                                   \
    if (!(cond)) __builtin_trap();       \
  } while (0)
#else
#define SIMDR_ASSERT(cond) \
  do {                     \
  } while (0)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SIMDR_LIKELY(x) __builtin_expect(!!(x), 1)
#define SIMDR_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SIMDR_PREFETCH(p) __builtin_prefetch(p)
#else
#define SIMDR_LIKELY(x) (x)
#define SIMDR_UNLIKELY(x) (x)
#define SIMDR_PREFETCH(p) ((void)0)
#endif

// SIMDR_TSAN: 1 in ThreadSanitizer builds (gcc defines __SANITIZE_THREAD__, clang reports the
// feature). Code that TSan cannot model takes its checkable form there: the kernels' bucket
// snapshot (simd/kernels_impl.inl) and the reclaimer's barrier mode (index/reclaim.hpp).
#if defined(__SANITIZE_THREAD__)
#define SIMDR_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SIMDR_TSAN 1
#endif
#endif
#ifndef SIMDR_TSAN
#define SIMDR_TSAN 0
#endif
