/* few_fwd_col_nchw.c — the column form of few-filter forward (few_fwd_col.c) read and
 * written in NCHW, without transposes: an NCHW image is X^T (C x pixels, each channel's
 * pixels contiguous), so the band's columns come out transposed,
 *   colT[(a*kw + b)*F + f][p] = sum over c of k[a][b][f][c] * x[n][c][p],
 * one wide-kernel GEMM whose A rows are the weights in place (C contiguous) and whose B is
 * x in place (row c of B is channel c's plane, 64 pixels a call). Each colT element sums
 * c ascending from zero as col does in NHWC (a product's operands commute), and the output
 * sums the same values in the same order (col_gather.c): the bits of NHWC. */
#include <omp.h>

#include "core/conv2dt/compose.h"

size_t tc_ct_nchw_col_thread_bytes(const tc_conv2dt_plan *q) {
  fgeom g = fgeom_of(q);
  int rows = tc_ct_fwd_col_rows(&g);
  size_t floats = rows ? (size_t)tc_ct_small_k(&g) * (size_t)tc_ct_colt_ld(&g, rows) : 0;
  return align_up(floats * sizeof(float));
}

int tc_ct_nchw_col(const tc_conv2dt_plan *q) {
  fgeom g = fgeom_of(q);
  return tc_ct_plain_nchw_few(q, TC_CONV2DT_FORWARD) && tc_ct_fwd_col_rows(&g) > 0;
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

void tc_ct_few_forward_col_nchw(const tc_conv2dt_plan *plan, const float *x, const float *k,
                                const float *bias, float *y, void *ws) {
  const fgeom gg = fgeom_of(plan), *g = &gg;
  const int R = tc_ct_fwd_col_rows(g), e = (g->kh - 1) / g->sh;
  const int64_t bands = ceil_div(g->h, R), units = g->n * bands, ld = tc_ct_colt_ld(g, R);
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
        tc_ct_col_out_row(g, n, (int)oi, r0, colt, ld, bias, y, 1);
    }
  }
}
