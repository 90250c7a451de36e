/* wide_avx512.c — the wide micro-kernel with AVX-512 (contract in conv2dt_internal.h;
 * compiled with -mavx512f, called only when the CPU has it).
 *
 * Six rows by four panels: 24 accumulators, and per k four B loads and six broadcasts
 * feed 24 FMAs, against two and six for twelve in the 6x32 GEMM tile. Few-filter backward
 * data has K = kh*kw*F as short as 16, and there the 6x32 tile spent about as long on
 * calls, pointer lists and stores as on FMAs; here a row needs one pointer and every pair
 * is a fixed step from the last. Few-filter backward weights reads x in place as B, and
 * the wider tile halves those loads per FMA. Each element sums t outer, k inner, from
 * zero, and C is stored over or added to once; streamed (non-temporal stores) where asked
 * and a row is 64-byte aligned. */
#include <immintrin.h>
#include <stdint.h>

#include "core/conv2dt_internal.h"

static inline __mmask16 cols_mask(int n) {
  return (__mmask16)(n >= TC_GEMM_NR ? 0xffff : n <= 0 ? 0 : (1u << n) - 1u);
}

/* Columns [0, 16*NV): the last panel masked to n (B read and C written). */
static inline __attribute__((always_inline)) void
wide_tile(const tc_wide_steps *s, const float *const *a, float *const *c, int m, int n, int add,
          const int NV, const int unit_steps, const int partial) {
  const __mmask16 last = cols_mask(n - (NV - 1) * TC_GEMM_NR);
  const ptrdiff_t ks = unit_steps ? 1 : s->ks, bs = unit_steps ? TC_GEMM_NR : s->bs, ps = s->ps;
  __m512 acc[TC_GEMM_MR][TC_WIDE_NV];
#pragma GCC unroll 6
  for (int r = 0; r < TC_GEMM_MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      acc[r][v] = _mm512_setzero_ps();
  for (int t = 0; t < s->nt; t++) {
    const ptrdiff_t at = (ptrdiff_t)t * s->as;
    const float *a0 = a[0] + at, *a1 = a[1] + at, *a2 = a[2] + at, *a3 = a[3] + at,
                *a4 = a[4] + at, *a5 = a[5] + at;
    const float *bt = s->b + (ptrdiff_t)t * s->bt;
    for (ptrdiff_t k = 0, o = 0; k < s->kc; k++, o += ks, bt += bs) {
      __m512 w[TC_WIDE_NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV - 1; v++)
        w[v] = _mm512_loadu_ps(bt + v * ps);
      w[NV - 1] = partial ? _mm512_maskz_loadu_ps(last, bt + (NV - 1) * ps)
                          : _mm512_loadu_ps(bt + (NV - 1) * ps);
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
#pragma GCC unroll 6
  for (int r = 0; r < TC_GEMM_MR; r++) {
    if (r >= m)
      break;
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      __mmask16 mk = v == NV - 1 ? last : 0xffff;
      __m512 sum = acc[r][v];
      if (add == 1)
        sum = _mm512_add_ps(_mm512_maskz_loadu_ps(mk, c[r] + v * TC_GEMM_NR), sum);
      if (add == TC_WIDE_STREAM && !partial && ((uintptr_t)c[r] & 63) == 0)
        _mm512_stream_ps(c[r] + v * TC_GEMM_NR, sum);
      else
        _mm512_mask_storeu_ps(c[r] + v * TC_GEMM_NR, mk, sum);
    }
  }
}

/* NV panels; unit steps (A in place along k, B packed: the few-filter backward data form)
 * as constants; the last panel masked only when n ends inside it. */
static inline __attribute__((always_inline)) void
wide_nv(const tc_wide_steps *s, const float *const *a, float *const *c, int m, int n, int add,
        const int NV) {
  const int unit = s->ks == 1 && s->bs == TC_GEMM_NR, partial = n % TC_GEMM_NR != 0;
  if (unit && partial)
    wide_tile(s, a, c, m, n, add, NV, 1, 1);
  else if (unit)
    wide_tile(s, a, c, m, n, add, NV, 1, 0);
  else if (partial)
    wide_tile(s, a, c, m, n, add, NV, 0, 1);
  else
    wide_tile(s, a, c, m, n, add, NV, 0, 0);
}

void tc_wide_ukr_avx512(const tc_wide_steps *s, const float *const *a, float *const *c, int m,
                        int n, int add) {
  if (n > 3 * TC_GEMM_NR)
    wide_nv(s, a, c, m, n, add, 4);
  else if (n > 2 * TC_GEMM_NR)
    wide_nv(s, a, c, m, n, add, 3);
  else if (n > TC_GEMM_NR)
    wide_nv(s, a, c, m, n, add, 2);
  else
    wide_nv(s, a, c, m, n, add, 1);
}
