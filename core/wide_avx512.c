/* wide_avx512.c — the wide-tile micro-kernel of few-filter backward data with AVX-512
 * (contract in conv2dt_internal.h; compiled with -mavx512f, called only when the CPU has
 * it).
 *
 * Six pixels by four panels: 24 accumulators, and per k four B loads and six broadcasts
 * feed 24 FMAs, against two and six for twelve in the 6x32 GEMM tile. With K of only
 * kh*kw*F (16 for a 4x4 kernel and one filter) that tile spent as long on its calls, its
 * pointer lists and its stores as on its FMAs; here a pixel needs one pointer and every
 * kernel row is a fixed step len from the last. Each element sums its k in order (kernel
 * rows outer), from zero, and is stored over C. */
#include <immintrin.h>

#include "core/conv2dt_internal.h"

static inline __mmask16 cols_mask(int n) {
  return (__mmask16)(n >= TC_GEMM_NR ? 0xffff : n <= 0 ? 0 : (1u << n) - 1u);
}

/* Columns [0, 16*NV) of the tile; the last panel's store is masked to n. */
static inline __attribute__((always_inline)) void
wide_tile(int kh, int kwf, const float *const *a, ptrdiff_t len, const float *b, ptrdiff_t ps,
          float *const *c, int m, int n, const int NV) {
  __m512 acc[TC_GEMM_MR][TC_WIDE_NV];
#pragma GCC unroll 6
  for (int r = 0; r < TC_GEMM_MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      acc[r][v] = _mm512_setzero_ps();
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
  for (int t = 0; t < kh; t++) {
    const ptrdiff_t row = (ptrdiff_t)t * len;
    const float *bt = b + (ptrdiff_t)t * kwf * TC_GEMM_NR;
    for (int k = 0; k < kwf; k++, bt += TC_GEMM_NR) {
      __m512 w[TC_WIDE_NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++)
        w[v] = _mm512_loadu_ps(bt + v * ps);
      const ptrdiff_t o = row + k;
      const float *ar[TC_GEMM_MR] = {a0 + o, a1 + o, a2 + o, a3 + o, a4 + o, a5 + o};
#pragma GCC unroll 6
      for (int r = 0; r < TC_GEMM_MR; r++) {
        __m512 x = _mm512_set1_ps(*ar[r]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
          acc[r][v] = _mm512_fmadd_ps(x, w[v], acc[r][v]);
      }
    }
  }
  const __mmask16 last = cols_mask(n - (NV - 1) * TC_GEMM_NR);
#pragma GCC unroll 6
  for (int r = 0; r < TC_GEMM_MR; r++) {
    if (r >= m)
      break;
#pragma GCC unroll 4
    for (int v = 0; v < NV - 1; v++)
      _mm512_storeu_ps(c[r] + v * TC_GEMM_NR, acc[r][v]);
    _mm512_mask_storeu_ps(c[r] + (NV - 1) * TC_GEMM_NR, last, acc[r][NV - 1]);
  }
}

void tc_wide_ukr_avx512(int kh, int kwf, const float *const *a, ptrdiff_t len, const float *b,
                        ptrdiff_t ps, float *const *c, int m, int n) {
  if (n > 3 * TC_GEMM_NR)
    wide_tile(kh, kwf, a, len, b, ps, c, m, n, 4);
  else if (n > 2 * TC_GEMM_NR)
    wide_tile(kh, kwf, a, len, b, ps, c, m, n, 3);
  else if (n > TC_GEMM_NR)
    wide_tile(kh, kwf, a, len, b, ps, c, m, n, 2);
  else
    wide_tile(kh, kwf, a, len, b, ps, c, m, n, 1);
}
