/* few_fwd_col.c — forward with few filters, the column form (chosen by layout.c where the
 * shape allows, on every ISA, see tc_ct_fwd_col_rows): every input pixel's products
 * with every tap and filter, col[i][j][(a*kw + b)*F + f] = x[n][i][j][:] . k[a][b][f][:],
 * are one GEMM whose K = kh*kw*F columns fill the 16-wide tile (fmnist2: 16), then each
 * output element is the bias plus the col values of its taps, a ascending then b. Each
 * 6-pixel tile of col is transposed into colT (a row per tap and filter, pixels along it)
 * so that col_gather.c sums 16 outputs of a phase side by side: the scalar gather over col
 * took half of fsrcnn's and fmnist2's forward (same bits either way). The dot
 * form (few_fwd.c) puts 8 lanes along C and sums them in a tree per pixel: with AVX2 that
 * tree and a pointer per pixel and tap cost about as much as the FMAs.
 *
 * Work is (image, band of input rows); output row oi belongs to the band of its last
 * source row min(floor((oi + pt) / sh), H - 1), so a band computes col for its rows and the
 * e = floor((kh - 1) / sh) rows above (its outputs' other sources; bands recompute them).
 * A col element does not depend on the band or the 6-pixel group it is computed in, and
 * the output sums in a fixed order: the same bits for any thread count. */
#include <omp.h>
#include <string.h>

#include "core/conv2dt/internal.h"

/* The weights as B of the wide kernel: panel p holds (C x 16), column j = tap*F + f of
 * row c is k[j*C + c]; columns past K are zero. */
static void pack_col_b(const fgeom *g, const float *k, float *b) {
  const int K = tc_ct_small_k(g);
  const int64_t np = panels(K);
#pragma omp for schedule(static)
  for (int64_t p = 0; p < np; p++)
    for (int c = 0; c < g->c; c++) {
      float *row = b + (p * g->c + c) * TC_GEMM_NR;
      for (int jj = 0; jj < TC_GEMM_NR; jj++) {
        int64_t j = p * TC_GEMM_NR + jj;
        row[jj] = j < K ? k[j * g->c + c] : 0.0f;
      }
    }
}

/* colT for rows [r0, r1) of image n (pixel p of the band at column p of colT, rows ld
 * apart): each 6-pixel group's products into the tile (6 rows of Kp), then transposed. */
static void colt_rows(const fgeom *g, const float *x, int64_t n, int r0, int r1, const float *b,
                      float *colt, int64_t ld, float *tile, tc_wide_ukr_fn wide) {
  const int K = tc_ct_small_k(g), Kp = (int)panels(K) * TC_GEMM_NR;
  const int64_t npix = (int64_t)(r1 - r0) * g->w;
  const float *xb = x + (n * g->h + r0) * g->w * g->c;
  tc_wide_steps s = {1, g->c, 0, 1, b, 0, TC_GEMM_NR, (ptrdiff_t)g->c * TC_GEMM_NR};
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int64_t p0 = 0; p0 < npix; p0 += TC_GEMM_MR) {
    int m = (int)(npix - p0 < TC_GEMM_MR ? npix - p0 : TC_GEMM_MR);
    for (int r = 0; r < TC_GEMM_MR; r++) {
      a6[r] = xb + (p0 + (r < m ? r : m - 1)) * g->c;
      c6[r] = tile + r * Kp;
    }
    for (int j0 = 0; j0 < K; j0 += TC_WIDE_NW) {
      s.b = b + (ptrdiff_t)(j0 / TC_GEMM_NR) * s.ps;
      wide(&s, a6, c6, TC_GEMM_MR, imin(TC_WIDE_NW, K - j0), 0);
      for (int r = 0; r < TC_GEMM_MR; r++)
        c6[r] += TC_WIDE_NW;
    }
    tc_ct_transpose(tile, Kp, m, K, colt + p0, ld, 0);
  }
}

/* The band of input rows [i0, i1) of image n: its col rows and its output rows. */
static void col_band(const fgeom *g, const float *x, int64_t n, int i0, int i1, const float *b,
                     const float *bias, float *y, float *colt, int64_t ld, tc_wide_ukr_fn wide) {
  const int e = (g->kh - 1) / g->sh, r0 = i0 - e > 0 ? i0 - e : 0;
  colt_rows(g, x, n, r0, i1, b, colt, ld, colt + tc_ct_small_k(g) * ld, wide);
  int64_t lo = i0 == 0 ? 0 : (int64_t)i0 * g->sh - g->pt;
  int64_t hi = i1 == g->h ? g->oh : (int64_t)i1 * g->sh - g->pt;
  lo = lo < 0 ? 0 : lo;
  hi = hi > g->oh ? g->oh : hi;
  for (int64_t oi = lo; oi < hi; oi++)
    tc_ct_col_out_row(g, n, (int)oi, r0, colt, ld, bias, y, 0);
}

void tc_ct_few_forward_col(const tc_conv2dt_plan *plan, const float *x, const float *k,
                           const float *bias, float *y, void *ws) {
  const fgeom gg = fgeom_of(plan), *g = &gg;
  float *b = (float *)ws; /* the packed weights, at the start of the shared part */
  const int R = plan->fcol;
  const int64_t bands = ceil_div(g->h, R), units = g->n * bands, ld = tc_ct_colt_ld(g, R);
  tc_wide_ukr_fn wide = plan->ukr->wide;
#pragma omp parallel num_threads(tc_ct_team(plan))
  {
    pack_col_b(g, k, b); /* ends in the loop's barrier */
    float *colt = (float *)(void *)tc_ct_thread_ws(plan, ws);
#pragma omp for schedule(dynamic, 1)
    for (int64_t u = 0; u < units; u++) {
      int i0 = (int)(u % bands) * R, i1 = i0 + R < g->h ? i0 + R : g->h;
      col_band(g, x, u / bands, i0, i1, b, bias, y, colt, ld, wide);
    }
  }
}
