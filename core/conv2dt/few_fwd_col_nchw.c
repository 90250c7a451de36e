/* few_fwd_col_nchw.c — the column form of few-filter forward (few_fwd_col.c) read and
 * written in NCHW, without transposes: an NCHW image is X^T (C x pixels, each channel's
 * pixels contiguous), so the band's columns come out transposed,
 *   colT[(a*kw + b)*F + f][p] = sum over c of k[a][b][f][c] * x[n][c][p],
 * one wide-kernel GEMM whose A rows are the weights in place (C contiguous) and whose B is
 * x in place (row c of B is channel c's plane, 64 pixels a call). Each colT element sums
 * c ascending from zero as col does in NHWC (a product's operands commute), and the output
 * sums the same values in the same order: the bits of NHWC. */
#include <omp.h>

#include "core/conv2dt/compose.h"

/* Pixels per colT row: the band's rows and the e rows above, whole rows, 16-aligned. */
static int64_t colt_ld(const fgeom *g, int rows) {
  return ceil_div((int64_t)(rows + (g->kh - 1) / g->sh) * g->w, TC_GEMM_NR) * TC_GEMM_NR;
}

size_t tc_ct_nchw_col_thread_bytes(const tc_conv2dt_plan *q) {
  fgeom g = fgeom_of(q);
  int rows = tc_ct_fwd_col_rows(&g);
  return rows ? align_up((size_t)tc_ct_small_k(&g) * (size_t)colt_ld(&g, rows) * sizeof(float))
              : 0;
}

int tc_ct_nchw_col(const tc_conv2dt_plan *q) {
  const tc_conv2dt_params *p = &q->p;
  fgeom g = fgeom_of(q);
  return p->data_format == TC_CHANNELS_FIRST && p->groups == 1 && p->dilation_h == 1 &&
         p->dilation_w == 1 && q->algo[TC_CONV2DT_FORWARD] == TC_CONV2DT_FEW_FILTERS &&
         q->ukr && tc_ct_fwd_col_rows(&g) > 0;
}

/* colT rows for input rows [r0, r1) of image n: K rows of npix pixels, ld apart, 64
 * pixels at a time (B's C x 64 block, read in place, serves all K/6 row groups; copying it
 * into one contiguous block first, against planes a power of two apart sharing L1 sets,
 * measured slower on dcgan4: 138-144 against 158 GFLOP/s). */
static void colt_rows(const fgeom *g, const float *x, int64_t n, int r0, int r1, const float *k,
                      float *colt, int64_t ld, tc_wide_ukr_fn wide) {
  const int K = tc_ct_small_k(g);
  const int64_t plane = (int64_t)g->h * g->w, npix = (int64_t)(r1 - r0) * g->w;
  const float *xb = x + n * g->c * plane + (int64_t)r0 * g->w;
  tc_wide_steps s = {1, g->c, 0, 1, xb, 0, plane, TC_GEMM_NR};
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int64_t p0 = 0; p0 < npix; p0 += TC_WIDE_NW) {
    int np = (int)(npix - p0 < TC_WIDE_NW ? npix - p0 : TC_WIDE_NW);
    s.b = xb + p0;
    for (int k0 = 0; k0 < K; k0 += TC_GEMM_MR) {
      int m = imin(TC_GEMM_MR, K - k0);
      for (int r = 0; r < TC_GEMM_MR; r++) {
        a6[r] = k + (int64_t)(k0 + (r < m ? r : m - 1)) * g->c;
        c6[r] = colt + (k0 + (r < m ? r : m - 1)) * ld + p0;
      }
      wide(&s, a6, c6, m, np, 0);
    }
  }
}

/* Outputs of one phase rw (oj + pl = q*sw + rw) are a step sw apart in y and, tap by tap,
 * read consecutive colT elements (j = q - m for tap b = rw + m*sw): OUT_V of them are
 * summed side by side, each in the order of the scalar loop (bias, taps a ascending, b
 * ascending), so the same bits. Where a tap of a block would read outside the row the
 * scalar loop sums the outputs instead. */
#define OUT_V 16
#define OUT_MAX_SW 32 /* phases with blocks; larger strides sum every output alone */

/* Phase rw's outputs in blocks: q in [*qa, *qa + the count returned), every tap inside,
 * at least OUT_V / 2 of them (rows of 14, fmnist2: 13 a phase) or none. */
static int phase_span(const fgeom *g, int rw, int *qa) {
  int taps = rw < g->kw ? (g->kw - rw + g->sw - 1) / g->sw : 0;
  int64_t last = (int64_t)g->ow - 1 + g->pl - rw; /* (last output of the phase) * sw */
  if (!taps || last < 0 || g->sw > OUT_MAX_SW)
    return 0;
  int64_t lo = g->pl - rw <= 0 ? 0 : ceil_div(g->pl - rw, g->sw);
  int64_t hi = last / g->sw < g->w - 1 ? last / g->sw : g->w - 1;
  lo = lo > taps - 1 ? lo : taps - 1;
  *qa = (int)lo;
  return hi - lo + 1 >= OUT_V / 2 ? (int)(hi - lo + 1) : 0;
}

/* V outputs of phase rw from q0 on, filter f. */
static inline __attribute__((always_inline)) void
phase_block(const fgeom *g, const float *const *src, const int *ka, int rows, int f, int64_t ld,
            int rw, int q0, float b0, float *yr, const int V) {
  float acc[OUT_V];
  for (int v = 0; v < V; v++)
    acc[v] = b0;
  for (int t = 0; t < rows; t++)
    for (int b = rw, m = 0; b < g->kw; b += g->sw, m++) {
      const float *s = src[t] + ((int64_t)(ka[t] * g->kw + b) * g->f + f) * ld + q0 - m;
      for (int v = 0; v < V; v++)
        acc[v] += s[v];
    }
  float *out = yr + (int64_t)q0 * g->sw + rw - g->pl;
  for (int v = 0; v < V; v++)
    out[(int64_t)v * g->sw] = acc[v];
}

/* Phase rw's outputs q in [q0, q1) (at least OUT_V / 2 of them): blocks of OUT_V, one of
 * OUT_V / 2, and the last few in a block of OUT_V / 2 ending at q1 (recomputing some
 * outputs: the same values). */
static void phase_blocks(const fgeom *g, const float *const *src, const int *ka, int rows, int f,
                         int64_t ld, int rw, int q0, int q1, float b0, float *yr) {
  for (; q1 - q0 >= OUT_V; q0 += OUT_V)
    phase_block(g, src, ka, rows, f, ld, rw, q0, b0, yr, OUT_V);
  if (q1 - q0 >= OUT_V / 2) {
    phase_block(g, src, ka, rows, f, ld, rw, q0, b0, yr, OUT_V / 2);
    q0 += OUT_V / 2;
  }
  if (q1 > q0)
    phase_block(g, src, ka, rows, f, ld, rw, q1 - OUT_V / 2, b0, yr, OUT_V / 2);
}

/* Output row oi of image n, filter plane by plane: bias, then taps a ascending, b
 * ascending, as out_row_f of few_fwd_col.c sums them; blocks of a phase side by side. */
static void out_row_nchw(const fgeom *g, int64_t n, int oi, int r0, const float *colt,
                         int64_t ld, const float *bias, float *y) {
  const float *src[64];
  int ka[64], qa[OUT_MAX_SW], qb[OUT_MAX_SW];
  int64_t ri[64];
  const int rows = tc_ct_col_taps(g, oi, ka, ri), nph = g->sw < OUT_MAX_SW ? g->sw : OUT_MAX_SW;
  for (int t = 0; t < rows; t++)
    src[t] = colt + (ri[t] - r0) * g->w;
  for (int rw = 0; rw < nph; rw++) {
    int span = phase_span(g, rw, &qa[rw]);
    qb[rw] = span ? qa[rw] + span : (qa[rw] = 0);
  }
  for (int f = 0; f < g->f; f++) {
    float *yr = y + ((n * g->f + f) * g->oh + oi) * g->ow, b0 = bias ? bias[f] : 0.0f;
    for (int rw = 0; rw < nph; rw++)
      phase_blocks(g, src, ka, rows, f, ld, rw, qa[rw], qb[rw], b0, yr);
    int q = g->pl / g->sw, rw = g->pl % g->sw; /* oj + pl = q*sw + rw */
    for (int oj = 0; oj < g->ow; oj++) {
      if (rw >= nph || q < qa[rw] || q >= qb[rw]) {
        float acc = b0;
        for (int t = 0; t < rows; t++)
          for (int b = rw, j = q; b < g->kw && j >= 0; b += g->sw, j--)
            if (j < g->w)
              acc += src[t][((int64_t)(ka[t] * g->kw + b) * g->f + f) * ld + j];
        yr[oj] = acc;
      }
      if (++rw == g->sw)
        rw = 0, q++;
    }
  }
}

void tc_ct_few_forward_col_nchw(const tc_conv2dt_plan *plan, const float *x, const float *k,
                                const float *bias, float *y, void *ws) {
  const fgeom gg = fgeom_of(plan), *g = &gg;
  const int R = tc_ct_fwd_col_rows(g), e = (g->kh - 1) / g->sh;
  const int64_t bands = ceil_div(g->h, R), units = g->n * bands, ld = colt_ld(g, R);
  const size_t per = tc_ct_nchw_col_thread_bytes(plan);
  tc_wide_ukr_fn wide = plan->ukr->wide;
#pragma omp parallel num_threads(tc_ct_team(plan))
  {
    float *colt = (float *)(void *)((unsigned char *)ws + (size_t)omp_get_thread_num() * per);
#pragma omp for schedule(dynamic, 1)
    for (int64_t u = 0; u < units; u++) {
      int64_t n = u / bands;
      int i0 = (int)(u % bands) * R, i1 = i0 + R < g->h ? i0 + R : g->h;
      int r0 = i0 - e > 0 ? i0 - e : 0;
      colt_rows(g, x, n, r0, i1, k, colt, ld, wide);
      int64_t lo = i0 == 0 ? 0 : (int64_t)i0 * g->sh - g->pt;
      int64_t hi = i1 == g->h ? g->oh : (int64_t)i1 * g->sh - g->pt;
      lo = lo < 0 ? 0 : lo;
      hi = hi > g->oh ? g->oh : hi;
      for (int64_t oi = lo; oi < hi; oi++)
        out_row_nchw(g, n, (int)oi, r0, colt, ld, bias, y);
    }
  }
}
