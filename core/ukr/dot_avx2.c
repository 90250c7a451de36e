/* dot_avx2.c — the dot-product micro-kernel for few filters with AVX2+FMA (contract in
 * conv2dt_internal.h; compiled with -mavx2 -mfma, called only when the CPU has both).
 *
 * P pixels x nf filters accumulators of 8 lanes each (8x1, 6x2, 4x3, 2x4: at most 12 of
 * the 16 ymm registers), k in steps of 8 with a masked tail; per step nf weight loads
 * and P activation loads feed P*nf FMAs. The lanes are summed once per call, after every
 * tap, in the same tree as the portable twin. */
#include <immintrin.h>

#include "core/conv2dt_internal.h"

/* ((l0+l1) + (l2+l3)) + ((l4+l5) + (l6+l7)), the tree of the portable twin. */
static inline float hsum(__m256 v) {
  __m256 s = _mm256_hadd_ps(v, v);
  s = _mm256_hadd_ps(s, s);
  __m128 r = _mm_add_ss(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  return _mm_cvtss_f32(r);
}

/* The same tree for 8 accumulators at once: lane p of the result sums acc[p]. */
static inline __m256 hsum8(const __m256 *acc) {
  __m256 h01 = _mm256_hadd_ps(acc[0], acc[1]), h23 = _mm256_hadd_ps(acc[2], acc[3]);
  __m256 h45 = _mm256_hadd_ps(acc[4], acc[5]), h67 = _mm256_hadd_ps(acc[6], acc[7]);
  __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
  return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20),
                       _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

static inline __attribute__((always_inline)) void dot_tile(int nt, int kc,
                                                           const float *const *a,
                                                           const float *const *b, ptrdiff_t ldb,
                                                           float *const *y, int np, const int P,
                                                           const int NF) {
  __m256 acc[8][TC_DOT_MAXF];
#pragma GCC unroll 8
  for (int p = 0; p < P; p++)
#pragma GCC unroll 4
    for (int f = 0; f < NF; f++)
      acc[p][f] = _mm256_setzero_ps();
  const int kv = kc & ~7, rem = kc - kv;
  const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rem),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  for (int t = 0; t < nt; t++) {
    const float *const *at = a + (ptrdiff_t)t * P;
    const float *bt = b[t];
    for (int k = 0; k < kv; k += 8) {
      __m256 w[TC_DOT_MAXF];
#pragma GCC unroll 4
      for (int f = 0; f < NF; f++)
        w[f] = _mm256_loadu_ps(bt + f * ldb + k);
#pragma GCC unroll 8
      for (int p = 0; p < P; p++) {
        __m256 xv = _mm256_loadu_ps(at[p] + k);
#pragma GCC unroll 4
        for (int f = 0; f < NF; f++)
          acc[p][f] = _mm256_fmadd_ps(xv, w[f], acc[p][f]);
      }
    }
    if (rem) {
      __m256 w[TC_DOT_MAXF];
#pragma GCC unroll 4
      for (int f = 0; f < NF; f++)
        w[f] = _mm256_maskload_ps(bt + f * ldb + kv, mask);
#pragma GCC unroll 8
      for (int p = 0; p < P; p++) {
        __m256 xv = _mm256_maskload_ps(at[p] + kv, mask);
#pragma GCC unroll 4
        for (int f = 0; f < NF; f++)
          acc[p][f] = _mm256_fmadd_ps(xv, w[f], acc[p][f]);
      }
    }
  }
  if (P == 8 && NF == 1) {
    __m256 a8[8];
#pragma GCC unroll 8
    for (int p = 0; p < 8; p++)
      a8[p] = acc[p][0];
    float sums[8];
    _mm256_storeu_ps(sums, hsum8(a8));
    for (int p = 0; p < np; p++)
      y[p][0] += sums[p];
    return;
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; p++)
    if (p < np)
#pragma GCC unroll 4
      for (int f = 0; f < NF; f++)
        y[p][f] += hsum(acc[p][f]);
}

void tc_dot_ukr_avx2(int nt, int kc, const float *const *a, const float *const *b,
                     ptrdiff_t ldb, int nf, float *const *y, int np) {
  switch (nf) {
  case 1: dot_tile(nt, kc, a, b, ldb, y, np, 8, 1); break;
  case 2: dot_tile(nt, kc, a, b, ldb, y, np, 6, 2); break;
  case 3: dot_tile(nt, kc, a, b, ldb, y, np, 4, 3); break;
  default: dot_tile(nt, kc, a, b, ldb, y, np, 2, 4); break;
  }
}
