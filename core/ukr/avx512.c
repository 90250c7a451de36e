/* avx512.c — the AVX-512 micro-kernels and their table (compiled with -mavx512f -mavx2
 * -mfma; chosen only when the CPU and the OS support AVX-512F, see core/ukr/select.c).
 * Contracts in core/ukr/ukr.h. */
#include <immintrin.h>
#include <stdint.h>

#include "core/ukr/ukr.h"

/* ---- GEMM ---- */

/* The GEMM micro-kernel.
 * A row of a panel is one zmm. With two panels the tile is 6x32: 12 accumulators, and per
 * k two B loads and six broadcasts feed twelve FMAs, enough independent chains for the two
 * FMA pipes times the FMA latency. With one panel (the last of an odd count) six rows
 * give only six chains, so even and odd k accumulate into separate registers that are
 * added once at the end. Either way the tile is summed from zero and added to C once, and
 * the order depends on nt, kc and the panel count only. Pairs t after the first reload the
 * six row pointers: a batch-reduce GEMM, so short k per pair (a kernel row of few
 * filters) still sums long in registers. */

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

/* One k of a 6-row tile over NV panels (64 columns at most): B row bt's panels, ps apart,
 * the last masked to `last` when partial; each row's A value at ar[r] broadcast into its
 * NV chains. The 6 x 64 tiles (gemm64 and the wide kernel) share it. */
static inline __attribute__((always_inline)) void
six_rows_step(__m512 acc[TC_GEMM_MR][TC_WIDE_NV], const float *const ar[TC_GEMM_MR],
              const float *bt, ptrdiff_t ps, const int NV, __mmask16 last, const int partial) {
  __m512 w[TC_WIDE_NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV - 1; v++)
    w[v] = _mm512_loadu_ps(bt + v * ps);
  w[NV - 1] = partial ? _mm512_maskz_loadu_ps(last, bt + (NV - 1) * ps)
                      : _mm512_loadu_ps(bt + (NV - 1) * ps);
#pragma GCC unroll 6
  for (int r = 0; r < TC_GEMM_MR; r++) {
    __m512 x = _mm512_set1_ps(*ar[r]);
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      acc[r][v] = _mm512_fmadd_ps(x, w[v], acc[r][v]);
  }
}

/* The 6 x 16*NV accumulators of a 6-row tile, zeroed. */
static inline __attribute__((always_inline)) void zero_six_rows(__m512 acc[TC_GEMM_MR][TC_WIDE_NV],
                                                                const int NV) {
#pragma GCC unroll 6
  for (int r = 0; r < TC_GEMM_MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      acc[r][v] = _mm512_setzero_ps();
}

/* The GEMM contract over four whole panels (64 columns: b[t], + ps, + 2 ps, + 3 ps): the
 * wide kernel's 6x64 tile, 24 accumulators fed by six broadcasts and four B loads per k,
 * against six and two for twelve in tile_6x32. Each element sums pairs outer, k inner,
 * from zero, and is added to C (or stored over it) once, as tile_6x32 sums it. */
static void tc_gemm64_ukr_avx512(int nt, int kc, const float *const *a, ptrdiff_t ks,
                                 const float *const *b, ptrdiff_t bs, ptrdiff_t ps,
                                 float *const *c, int m, int add) {
  __m512 acc[TC_GEMM_MR][TC_WIDE_NV];
  zero_six_rows(acc, TC_WIDE_NV);
  for (int t = 0; t < nt; t++, a += TC_GEMM_MR) {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    const float *bt = b[t];
    for (ptrdiff_t k = 0, o = 0; k < kc; k++, o += ks, bt += bs) {
      const float *ar[TC_GEMM_MR] = {a0 + o, a1 + o, a2 + o, a3 + o, a4 + o, a5 + o};
      six_rows_step(acc, ar, bt, ps, TC_WIDE_NV, 0xffff, 0);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < TC_GEMM_MR; r++) {
    if (r >= m)
      break;
#pragma GCC unroll 4
    for (int v = 0; v < TC_WIDE_NV; v++)
      add_row(c[r] + v * TC_GEMM_NR, acc[r][v], 0xffff, add);
  }
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

/* ---- wide ---- */

/* The wide micro-kernel.
 * Six rows by four panels: 24 accumulators, and per k four B loads and six broadcasts
 * feed 24 FMAs, against two and six for twelve in the 6x32 GEMM tile. Few-filter backward
 * data has K = kh*kw*F as short as 16, and there the 6x32 tile spent about as long on
 * calls, pointer lists and stores as on FMAs; here a row needs one pointer and every pair
 * is a fixed step from the last. Few-filter backward weights reads x in place as B, and
 * the wider tile halves those loads per FMA. Each element sums t outer, k inner, from
 * zero, and C is stored over or added to once; streamed (non-temporal stores) where asked
 * and a row is 64-byte aligned. */

/* Columns [0, 16*NV): the last panel masked to n (B read and C written). */
static inline __attribute__((always_inline)) void
wide_tile(const tc_wide_steps *s, const float *const *a, float *const *c, int m, int n, int add,
          const int NV, const int unit_steps, const int partial) {
  const __mmask16 last = cols_mask(n - (NV - 1) * TC_GEMM_NR);
  const ptrdiff_t ks = unit_steps ? 1 : s->ks, bs = unit_steps ? TC_GEMM_NR : s->bs, ps = s->ps;
  __m512 acc[TC_GEMM_MR][TC_WIDE_NV];
  zero_six_rows(acc, NV);
  for (int t = 0; t < s->nt; t++) {
    const ptrdiff_t at = (ptrdiff_t)t * s->as;
    const float *a0 = a[0] + at, *a1 = a[1] + at, *a2 = a[2] + at, *a3 = a[3] + at,
                *a4 = a[4] + at, *a5 = a[5] + at;
    const float *bt = s->b + (ptrdiff_t)t * s->bt;
    for (ptrdiff_t k = 0, o = 0; k < s->kc; k++, o += ks, bt += bs) {
      const float *ar[TC_GEMM_MR] = {a0 + o, a1 + o, a2 + o, a3 + o, a4 + o, a5 + o};
      six_rows_step(acc, ar, bt, ps, NV, last, partial);
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

/* ---- dot ---- */

/* The dot-product micro-kernel for few filters.
 * The AVX2 kernel's tiles (8x1, 6x2, 4x3, 2x4 pixels x filters) with 16 lanes along k and
 * a masked tail, so a channel count such as 56 or 64 needs no scalar remainder. The lanes
 * are summed once per call, after every tap: halves first (16 -> 8), then the AVX2
 * kernel's tree. */

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

const tc_ukr_table tc_ukr_avx512 = {TC_ISA_AVX512, "avx512", tc_gemm_ukr_avx512,
                                    tc_wide_ukr_avx512, tc_dot_ukr_avx512, &tc_mm_avx512,
                                    tc_gemm64_ukr_avx512, tc_colsum_avx512,
    tc_sigmoid_avx512, tc_tanh_avx512};
