/* gemm_avx512.c — the 6x16 GEMM micro-kernel with AVX-512 (compiled with -mavx512f and
 * called only when the CPU and the OS support it; see tc_gemm_ukr in gemm.c).
 *
 * Same tile and packing as the AVX2 kernel: a row of the tile is one zmm. Six rows give
 * only six FMA chains, fewer than the two FMA pipes times the FMA latency hide, so even
 * and odd k accumulate into separate registers (12 chains) that are added once at the
 * end. The summation order depends on kc only, never on the caller's blocking. */
#include <immintrin.h>

#include "core/conv2dt_internal.h"

static inline void add_row(float *c, __m512 v, __mmask16 mask) {
  _mm512_mask_storeu_ps(c, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, c), v));
}

#define STEP(acc, o)                                                                         \
  acc##0 = _mm512_fmadd_ps(_mm512_set1_ps(a0[o]), bv, acc##0);                               \
  acc##1 = _mm512_fmadd_ps(_mm512_set1_ps(a1[o]), bv, acc##1);                               \
  acc##2 = _mm512_fmadd_ps(_mm512_set1_ps(a2[o]), bv, acc##2);                               \
  acc##3 = _mm512_fmadd_ps(_mm512_set1_ps(a3[o]), bv, acc##3);                               \
  acc##4 = _mm512_fmadd_ps(_mm512_set1_ps(a4[o]), bv, acc##4);                               \
  acc##5 = _mm512_fmadd_ps(_mm512_set1_ps(a5[o]), bv, acc##5)

/* a: 6 row pointers, step ks; b: (kc, 16) packed; c: 6 row pointers (first m used). */
void tc_gemm_ukr_avx512(int kc, const float *const *a, ptrdiff_t ks, const float *b,
                        float *const *c, int m, int n) {
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
  __m512 e0 = _mm512_setzero_ps(), e1 = e0, e2 = e0, e3 = e0, e4 = e0, e5 = e0;
  __m512 d0 = e0, d1 = e0, d2 = e0, d3 = e0, d4 = e0, d5 = e0;
  ptrdiff_t o = 0, k = 0;
  for (; k + 2 <= kc; k += 2, b += 2 * TC_GEMM_NR) {
    __m512 bv = _mm512_loadu_ps(b);
    STEP(e, o);
    o += ks;
    bv = _mm512_loadu_ps(b + TC_GEMM_NR);
    STEP(d, o);
    o += ks;
  }
  if (k < kc) {
    __m512 bv = _mm512_loadu_ps(b);
    STEP(e, o);
  }
  /* Rows past m were computed from repeated A rows; they are simply not stored. */
  const __mmask16 mask = (__mmask16)(n >= TC_GEMM_NR ? 0xffff : (1u << n) - 1u);
  add_row(c[0], _mm512_add_ps(e0, d0), mask);
  if (m > 1) add_row(c[1], _mm512_add_ps(e1, d1), mask);
  if (m > 2) add_row(c[2], _mm512_add_ps(e2, d2), mask);
  if (m > 3) add_row(c[3], _mm512_add_ps(e3, d3), mask);
  if (m > 4) add_row(c[4], _mm512_add_ps(e4, d4), mask);
  if (m > 5) add_row(c[5], _mm512_add_ps(e5, d5), mask);
}
