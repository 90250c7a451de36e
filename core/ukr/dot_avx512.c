/* dot_avx512.c — the dot-product micro-kernel for few filters with AVX-512 (contract in
 * conv2dt_internal.h; compiled with -mavx512f, called only when the CPU has it).
 *
 * The AVX2 kernel's tiles (8x1, 6x2, 4x3, 2x4 pixels x filters) with 16 lanes along k and
 * a masked tail, so a channel count such as 56 or 64 needs no scalar remainder. The lanes
 * are summed once per call, after every tap: halves first (16 -> 8), then the AVX2
 * kernel's tree. */
#include <immintrin.h>

#include "core/conv2dt_internal.h"

static inline __m256 fold16(__m512 v) {
  return _mm256_add_ps(_mm512_castps512_ps256(v),
                       _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

static inline float hsum(__m512 v) {
  __m256 s = fold16(v);
  s = _mm256_hadd_ps(s, s);
  s = _mm256_hadd_ps(s, s);
  __m128 r = _mm_add_ss(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  return _mm_cvtss_f32(r);
}

static inline __attribute__((always_inline)) void dot_tile(int nt, int kc,
                                                           const float *const *a,
                                                           const float *const *b, ptrdiff_t ldb,
                                                           float *const *y, int np, const int P,
                                                           const int NF) {
  __m512 acc[8][TC_DOT_MAXF];
#pragma GCC unroll 8
  for (int p = 0; p < P; p++)
#pragma GCC unroll 4
    for (int f = 0; f < NF; f++)
      acc[p][f] = _mm512_setzero_ps();
  const int kv = kc & ~15, rem = kc - kv;
  const __mmask16 mask = (__mmask16)((1u << rem) - 1u);
  for (int t = 0; t < nt; t++) {
    const float *const *at = a + (ptrdiff_t)t * P;
    const float *bt = b[t];
    for (int k = 0; k < kv; k += 16) {
      __m512 w[TC_DOT_MAXF];
#pragma GCC unroll 4
      for (int f = 0; f < NF; f++)
        w[f] = _mm512_loadu_ps(bt + f * ldb + k);
#pragma GCC unroll 8
      for (int p = 0; p < P; p++) {
        __m512 xv = _mm512_loadu_ps(at[p] + k);
#pragma GCC unroll 4
        for (int f = 0; f < NF; f++)
          acc[p][f] = _mm512_fmadd_ps(xv, w[f], acc[p][f]);
      }
    }
    if (rem) {
      __m512 w[TC_DOT_MAXF];
#pragma GCC unroll 4
      for (int f = 0; f < NF; f++)
        w[f] = _mm512_maskz_loadu_ps(mask, bt + f * ldb + kv);
#pragma GCC unroll 8
      for (int p = 0; p < P; p++) {
        __m512 xv = _mm512_maskz_loadu_ps(mask, at[p] + kv);
#pragma GCC unroll 4
        for (int f = 0; f < NF; f++)
          acc[p][f] = _mm512_fmadd_ps(xv, w[f], acc[p][f]);
      }
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; p++)
    if (p < np)
#pragma GCC unroll 4
      for (int f = 0; f < NF; f++)
        y[p][f] += hsum(acc[p][f]);
}

void tc_dot_ukr_avx512(int nt, int kc, const float *const *a, const float *const *b,
                       ptrdiff_t ldb, int nf, float *const *y, int np) {
  switch (nf) {
  case 1: dot_tile(nt, kc, a, b, ldb, y, np, 8, 1); break;
  case 2: dot_tile(nt, kc, a, b, ldb, y, np, 6, 2); break;
  case 3: dot_tile(nt, kc, a, b, ldb, y, np, 4, 3); break;
  default: dot_tile(nt, kc, a, b, ldb, y, np, 2, 4); break;
  }
}
