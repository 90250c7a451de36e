/* avx2.c — the AVX2+FMA micro-kernels and their table (compiled with -mavx2 -mfma; chosen
 * only when the CPU has both, see core/ukr/select.c). Contracts in core/ukr/ukr.h. */
#include <immintrin.h>
#include <stdint.h>

#include "core/ukr/ukr.h"

/* ---- GEMM ---- */

/* The 6x16 GEMM micro-kernel.
 * 12 ymm accumulators (6 rows x 2 vectors of 8) + 2 for the B row + 1 broadcast = 15 of
 * the 16 ymm registers; 12 independent FMA chains cover the 2 FMA pipes x 4-5 cycle
 * latency of Zen. The tile is summed from zero and added to C once at the end, so C is
 * read and written once per call whatever kc is. */

/* c[0:n] += v for one vector of 8 (n >= 8: all of it), masked below 8 (the row may end). */
static inline void add_vec(float *c, __m256 v, int n, int add) {
  if (n >= 8) {
    _mm256_storeu_ps(c, add ? _mm256_add_ps(_mm256_loadu_ps(c), v) : v);
    return;
  }
  if (n <= 0) /* a masked store of nothing still costs: vmaskmovps is microcoded on AMD */
    return;
  __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  _mm256_maskstore_ps(c, m, add ? _mm256_add_ps(_mm256_maskload_ps(c, m), v) : v);
}

/* c[r][0:n] += lo, hi: plain access for the whole vectors, masked only where the C row
 * ends inside one. */
static inline void add_row(float *c, __m256 lo, __m256 hi, int n, int add) {
  add_vec(c, lo, n, add);
  add_vec(c + 8, hi, n - 8, add);
}

/* B row k of a pair: 16 columns, masked beyond n when partial (never read there). */
static inline void load_b(const float *p, int n, const int partial, __m256 *lo, __m256 *hi) {
  if (!partial) {
    *lo = _mm256_loadu_ps(p), *hi = _mm256_loadu_ps(p + 8);
    return;
  }
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  *lo = _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), iota));
  *hi = _mm256_maskload_ps(p + 8, _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), iota));
}

/* a: nt x 6 row pointers, step ks; b[t] + off: rows of 16 columns bs apart; c: 6 row
 * pointers (first m used), at column c0. */
static inline __attribute__((always_inline)) void
panel_6x16(int nt, int kc, const float *const *a, ptrdiff_t ks, const float *const *b,
           ptrdiff_t bs, ptrdiff_t off, float *const *c, int c0, int m, int n, int add,
           const int partial) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int t = 0; t < nt; t++, a += TC_GEMM_MR) {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    const float *bt = b[t] + off;
    for (ptrdiff_t k = 0, o = 0; k < kc; k++, o += ks, bt += bs) {
      __m256 b0, b1, v;
      load_b(bt, n, partial, &b0, &b1);
      v = _mm256_broadcast_ss(a0 + o);
      c00 = _mm256_fmadd_ps(v, b0, c00), c01 = _mm256_fmadd_ps(v, b1, c01);
      v = _mm256_broadcast_ss(a1 + o);
      c10 = _mm256_fmadd_ps(v, b0, c10), c11 = _mm256_fmadd_ps(v, b1, c11);
      v = _mm256_broadcast_ss(a2 + o);
      c20 = _mm256_fmadd_ps(v, b0, c20), c21 = _mm256_fmadd_ps(v, b1, c21);
      v = _mm256_broadcast_ss(a3 + o);
      c30 = _mm256_fmadd_ps(v, b0, c30), c31 = _mm256_fmadd_ps(v, b1, c31);
      v = _mm256_broadcast_ss(a4 + o);
      c40 = _mm256_fmadd_ps(v, b0, c40), c41 = _mm256_fmadd_ps(v, b1, c41);
      v = _mm256_broadcast_ss(a5 + o);
      c50 = _mm256_fmadd_ps(v, b0, c50), c51 = _mm256_fmadd_ps(v, b1, c51);
    }
  }
  /* Rows past m were computed from repeated A rows; they are simply not stored. */
  add_row(c[0] + c0, c00, c01, n, add);
  if (m > 1) add_row(c[1] + c0, c10, c11, n, add);
  if (m > 2) add_row(c[2] + c0, c20, c21, n, add);
  if (m > 3) add_row(c[3] + c0, c30, c31, n, add);
  if (m > 4) add_row(c[4] + c0, c40, c41, n, add);
  if (m > 5) add_row(c[5] + c0, c50, c51, n, add);
}

/* Two panels are two 6x16 passes: 16 ymm registers hold no wider tile. */
static void panel(int nt, int kc, const float *const *a, ptrdiff_t ks, const float *const *b,
                  ptrdiff_t bs, ptrdiff_t off, float *const *c, int c0, int m, int n, int add) {
  if (n >= TC_GEMM_NR)
    panel_6x16(nt, kc, a, ks, b, bs, off, c, c0, m, TC_GEMM_NR, add, 0);
  else
    panel_6x16(nt, kc, a, ks, b, bs, off, c, c0, m, n, add, 1);
}

void tc_gemm_ukr_avx2(int nt, int kc, const float *const *a, ptrdiff_t ks,
                      const float *const *b, ptrdiff_t bs, ptrdiff_t ps, float *const *c,
                      int m, int n, int add) {
  panel(nt, kc, a, ks, b, bs, 0, c, 0, m, n, add);
  if (n > TC_GEMM_NR)
    panel(nt, kc, a, ks, b, bs, ps, c, TC_GEMM_NR, m, n - TC_GEMM_NR, add);
}

/* ---- wide ---- */

/* The wide micro-kernel: the 6x16 tile of the GEMM kernel (12 ymm accumulators), one
 * 16-column panel after another, with the steps of the wide contract: one pointer per
 * row, every pair and k a fixed step from the last, so a call needs no pointer lists
 * (through tc_wide_by_gemm they were rebuilt for every 32 columns, which cost about as
 * much as the FMAs where K = kh*kw*F is 16). Each element sums t outer, k inner, from
 * zero, as the GEMM kernel does: the same bits as tc_wide_by_gemm(tc_gemm_ukr_avx2).
 * Streamed (TC_WIDE_STREAM): full panels of rows that are 32-byte aligned go around the
 * caches, as in the AVX-512 kernel (few-filter backward data is bound by writing dx). */
static inline void store_row(float *c, __m256 lo, __m256 hi, int n, int add) {
  if (add == TC_WIDE_STREAM && n == TC_GEMM_NR && ((uintptr_t)c & 31) == 0) {
    _mm256_stream_ps(c, lo);
    _mm256_stream_ps(c + 8, hi);
    return;
  }
  add_row(c, lo, hi, n, add == 1);
}

/* The first m rows of a 6x16 tile (row r in tile[2r], tile[2r+1]) at column c0 of c. */
static inline __attribute__((always_inline)) void
store_tile(float *const *c, int c0, const __m256 *tile, int m, int n, int add) {
#pragma GCC unroll 6
  for (int r = 0; r < TC_GEMM_MR; r++)
    if (r < m)
      store_row(c[r] + c0, tile[2 * r], tile[2 * r + 1], n, add);
}

static inline __attribute__((always_inline)) void
wide_panel(const tc_wide_steps *s, const float *const *a, float *const *c, int c0, int m, int n,
           int add, const int partial) {
  const ptrdiff_t ks = s->ks, bs = s->bs;
  const ptrdiff_t off = (ptrdiff_t)(c0 / TC_GEMM_NR) * s->ps;
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int t = 0; t < s->nt; t++) {
    const ptrdiff_t at = (ptrdiff_t)t * s->as;
    const float *a0 = a[0] + at, *a1 = a[1] + at, *a2 = a[2] + at, *a3 = a[3] + at,
                *a4 = a[4] + at, *a5 = a[5] + at;
    const float *bt = s->b + (ptrdiff_t)t * s->bt + off;
    for (ptrdiff_t k = 0, o = 0; k < s->kc; k++, o += ks, bt += bs) {
      __m256 b0, b1, v;
      load_b(bt, n, partial, &b0, &b1);
      v = _mm256_broadcast_ss(a0 + o);
      c00 = _mm256_fmadd_ps(v, b0, c00), c01 = _mm256_fmadd_ps(v, b1, c01);
      v = _mm256_broadcast_ss(a1 + o);
      c10 = _mm256_fmadd_ps(v, b0, c10), c11 = _mm256_fmadd_ps(v, b1, c11);
      v = _mm256_broadcast_ss(a2 + o);
      c20 = _mm256_fmadd_ps(v, b0, c20), c21 = _mm256_fmadd_ps(v, b1, c21);
      v = _mm256_broadcast_ss(a3 + o);
      c30 = _mm256_fmadd_ps(v, b0, c30), c31 = _mm256_fmadd_ps(v, b1, c31);
      v = _mm256_broadcast_ss(a4 + o);
      c40 = _mm256_fmadd_ps(v, b0, c40), c41 = _mm256_fmadd_ps(v, b1, c41);
      v = _mm256_broadcast_ss(a5 + o);
      c50 = _mm256_fmadd_ps(v, b0, c50), c51 = _mm256_fmadd_ps(v, b1, c51);
    }
  }
  const __m256 tile[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  store_tile(c, c0, tile, m, n, add);
}

/* One full panel with A in place along k (unit steps; B rows any step apart: packed in
 * the few-filter backward data form, gathered rows in its NCHW form): the six A rows and
 * B walked by running pointers, so the pair loop (kc is
 * often 4-15 here) costs a few additions where rebuilding the row pointers from a[] each
 * pair spilled registers (fmnist2: K = 16 in four pairs of four; +9 % on its backward data
 * at 1 thread). The same sums in the same order as wide_panel. */
static inline __attribute__((always_inline)) void
wide_panel_unit(const tc_wide_steps *s, const float *const *a, float *const *c, int c0, int m,
                int add) {
  const int nt = s->nt, kc = s->kc;
  const ptrdiff_t as = s->as, bs = s->bs, bskip = s->bt - (ptrdiff_t)kc * bs;
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
  const float *bt = s->b + (ptrdiff_t)(c0 / TC_GEMM_NR) * s->ps;
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int t = 0; t < nt; t++) {
    for (int k = 0; k < kc; k++, bt += bs) {
      __m256 b0 = _mm256_loadu_ps(bt), b1 = _mm256_loadu_ps(bt + 8), v;
      v = _mm256_broadcast_ss(a0 + k);
      c00 = _mm256_fmadd_ps(v, b0, c00), c01 = _mm256_fmadd_ps(v, b1, c01);
      v = _mm256_broadcast_ss(a1 + k);
      c10 = _mm256_fmadd_ps(v, b0, c10), c11 = _mm256_fmadd_ps(v, b1, c11);
      v = _mm256_broadcast_ss(a2 + k);
      c20 = _mm256_fmadd_ps(v, b0, c20), c21 = _mm256_fmadd_ps(v, b1, c21);
      v = _mm256_broadcast_ss(a3 + k);
      c30 = _mm256_fmadd_ps(v, b0, c30), c31 = _mm256_fmadd_ps(v, b1, c31);
      v = _mm256_broadcast_ss(a4 + k);
      c40 = _mm256_fmadd_ps(v, b0, c40), c41 = _mm256_fmadd_ps(v, b1, c41);
      v = _mm256_broadcast_ss(a5 + k);
      c50 = _mm256_fmadd_ps(v, b0, c50), c51 = _mm256_fmadd_ps(v, b1, c51);
    }
    a0 += as, a1 += as, a2 += as, a3 += as, a4 += as, a5 += as, bt += bskip;
  }
  const __m256 tile[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  store_tile(c, c0, tile, m, TC_GEMM_NR, add);
}

/* Full panels with unit steps by wide_panel_unit; the last panel masked only when n ends
 * inside it. */
static void wide_ukr_avx2(const tc_wide_steps *s, const float *const *a, float *const *c, int m,
                          int n, int add) {
  const int unit = s->ks == 1;
  int j = 0;
  for (; j + TC_GEMM_NR <= n; j += TC_GEMM_NR)
    if (unit)
      wide_panel_unit(s, a, c, j, m, add);
    else
      wide_panel(s, a, c, j, m, TC_GEMM_NR, add, 0);
  if (j < n)
    wide_panel(s, a, c, j, m, n - j, add, 1);
}

/* ---- dot ---- */

/* The dot-product micro-kernel for few filters.
 * P pixels x nf filters accumulators of 8 lanes each (8x1, 6x2, 4x3, 2x4: at most 12 of
 * the 16 ymm registers), k in steps of 8 with a masked tail; per step nf weight loads
 * and P activation loads feed P*nf FMAs. The lanes are summed once per call, after every
 * tap, in the same tree as the portable twin. */

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

const tc_ukr_table tc_ukr_avx2 = {TC_ISA_AVX2, "avx2", tc_gemm_ukr_avx2, wide_ukr_avx2,
                                  tc_dot_ukr_avx2, &tc_mm_avx2, NULL,
                                  tc_colsum_avx2,
    tc_sigmoid_avx2, tc_tanh_avx2};
