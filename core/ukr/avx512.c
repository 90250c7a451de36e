/* gemm_avx512.c — the GEMM micro-kernel with AVX-512 (compiled with -mavx512f and called
 * only when the CPU and the OS support it; see tc_gemm_ukr in gemm.c).
 *
 * A row of a panel is one zmm. With two panels the tile is 6x32: 12 accumulators, and per
 * k two B loads and six broadcasts feed twelve FMAs, enough independent chains for the two
 * FMA pipes times the FMA latency. With one panel (the last of an odd count) six rows
 * give only six chains, so even and odd k accumulate into separate registers that are
 * added once at the end. Either way the tile is summed from zero and added to C once, and
 * the order depends on nt, kc and the panel count only. Pairs t after the first reload the
 * six row pointers: a batch-reduce GEMM, so short k per pair (a kernel row of few
 * filters) still sums long in registers. */
#include <immintrin.h>

#include "core/conv2dt_internal.h"

static inline void add_row(float *c, __m512 v, __mmask16 mask, int add) {
  if (add)
    v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, c), v);
  _mm512_mask_storeu_ps(c, mask, v);
}

static inline __mmask16 cols_mask(int n) {
  return (__mmask16)(n >= TC_GEMM_NR ? 0xffff : n <= 0 ? 0 : (1u << n) - 1u);
}

#define STEP(acc, bv, o)                                                                     \
  acc##0 = _mm512_fmadd_ps(_mm512_set1_ps(a0[o]), bv, acc##0);                               \
  acc##1 = _mm512_fmadd_ps(_mm512_set1_ps(a1[o]), bv, acc##1);                               \
  acc##2 = _mm512_fmadd_ps(_mm512_set1_ps(a2[o]), bv, acc##2);                               \
  acc##3 = _mm512_fmadd_ps(_mm512_set1_ps(a3[o]), bv, acc##3);                               \
  acc##4 = _mm512_fmadd_ps(_mm512_set1_ps(a4[o]), bv, acc##4);                               \
  acc##5 = _mm512_fmadd_ps(_mm512_set1_ps(a5[o]), bv, acc##5)

/* Rows past m were computed from repeated A rows; they are simply not stored. */
#define STORE(x, c0, mask)                                                                   \
  add_row(c[0] + c0, x##0, mask, add);                                                       \
  if (m > 1) add_row(c[1] + c0, x##1, mask, add);                                            \
  if (m > 2) add_row(c[2] + c0, x##2, mask, add);                                            \
  if (m > 3) add_row(c[3] + c0, x##3, mask, add);                                            \
  if (m > 4) add_row(c[4] + c0, x##4, mask, add);                                            \
  if (m > 5) add_row(c[5] + c0, x##5, mask, add)

/* B row k of pair t: bt + k*bs, the high panel ps further; columns >= n are never read
 * (masked loads), so B may be an activation read in place up to the end of its buffer. */
static inline __m512 load_b(const float *p, __mmask16 mask, const int partial) {
  return partial ? _mm512_maskz_loadu_ps(mask, p) : _mm512_loadu_ps(p);
}

/* One panel: even k into e, odd k into d (k counted within each pair t). */
static inline __attribute__((always_inline)) void
tile_6x16(int nt, int kc, const float *const *a, ptrdiff_t ks, const float *const *b,
          ptrdiff_t bs, float *const *c, int m, int n, int add, const int partial) {
  const __mmask16 mask = cols_mask(n);
  __m512 e0 = _mm512_setzero_ps(), e1 = e0, e2 = e0, e3 = e0, e4 = e0, e5 = e0;
  __m512 d0 = e0, d1 = e0, d2 = e0, d3 = e0, d4 = e0, d5 = e0;
  for (int t = 0; t < nt; t++, a += TC_GEMM_MR) {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    const float *bt = b[t];
    ptrdiff_t o = 0, k = 0;
    for (; k + 2 <= kc; k += 2, bt += 2 * bs) {
      __m512 bv = load_b(bt, mask, partial);
      STEP(e, bv, o);
      o += ks;
      bv = load_b(bt + bs, mask, partial);
      STEP(d, bv, o);
      o += ks;
    }
    if (k < kc) {
      __m512 bv = load_b(bt, mask, partial);
      STEP(e, bv, o);
    }
  }
  e0 = _mm512_add_ps(e0, d0), e1 = _mm512_add_ps(e1, d1), e2 = _mm512_add_ps(e2, d2);
  e3 = _mm512_add_ps(e3, d3), e4 = _mm512_add_ps(e4, d4), e5 = _mm512_add_ps(e5, d5);
  STORE(e, 0, mask);
}

/* Two panels, b[t] and b[t] + ps: columns [0, 16) into l, [16, 32) into h. */
static inline __attribute__((always_inline)) void
tile_6x32(int nt, int kc, const float *const *a, ptrdiff_t ks, const float *const *b,
          ptrdiff_t bs, ptrdiff_t ps, float *const *c, int m, int n, int add,
          const int partial) {
  const __mmask16 full = 0xffff, high = cols_mask(n - TC_GEMM_NR);
  __m512 l0 = _mm512_setzero_ps(), l1 = l0, l2 = l0, l3 = l0, l4 = l0, l5 = l0;
  __m512 h0 = l0, h1 = l0, h2 = l0, h3 = l0, h4 = l0, h5 = l0;
  for (int t = 0; t < nt; t++, a += TC_GEMM_MR) {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    const float *bl = b[t], *bh = b[t] + ps;
    for (ptrdiff_t k = 0, o = 0; k < kc; k++, o += ks, bl += bs, bh += bs) {
      __m512 vl = _mm512_loadu_ps(bl), vh = load_b(bh, high, partial), v;
      v = _mm512_set1_ps(a0[o]), l0 = _mm512_fmadd_ps(v, vl, l0), h0 = _mm512_fmadd_ps(v, vh, h0);
      v = _mm512_set1_ps(a1[o]), l1 = _mm512_fmadd_ps(v, vl, l1), h1 = _mm512_fmadd_ps(v, vh, h1);
      v = _mm512_set1_ps(a2[o]), l2 = _mm512_fmadd_ps(v, vl, l2), h2 = _mm512_fmadd_ps(v, vh, h2);
      v = _mm512_set1_ps(a3[o]), l3 = _mm512_fmadd_ps(v, vl, l3), h3 = _mm512_fmadd_ps(v, vh, h3);
      v = _mm512_set1_ps(a4[o]), l4 = _mm512_fmadd_ps(v, vl, l4), h4 = _mm512_fmadd_ps(v, vh, h4);
      v = _mm512_set1_ps(a5[o]), l5 = _mm512_fmadd_ps(v, vl, l5), h5 = _mm512_fmadd_ps(v, vh, h5);
    }
  }
  STORE(l, 0, full);
  STORE(h, TC_GEMM_NR, high);
}

void tc_gemm_ukr_avx512(int nt, int kc, const float *const *a, ptrdiff_t ks,
                        const float *const *b, ptrdiff_t bs, ptrdiff_t ps, float *const *c,
                        int m, int n, int add) {
  if (n >= TC_GEMM_NC)
    tile_6x32(nt, kc, a, ks, b, bs, ps, c, m, n, add, 0);
  else if (n > TC_GEMM_NR)
    tile_6x32(nt, kc, a, ks, b, bs, ps, c, m, n, add, 1);
  else if (n == TC_GEMM_NR)
    tile_6x16(nt, kc, a, ks, b, bs, c, m, n, add, 0);
  else
    tile_6x16(nt, kc, a, ks, b, bs, c, m, n, add, 1);
}
