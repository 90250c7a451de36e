/* few_bw.c — backward weights with few filters (F <= 8, kh*kw*F <= 384): dk as one
 * (kh*kw*F x C) matrix summed over input-row segments, both operands read in place from
 * the segments' padded dy rows (few_bd.c) and x, in a fixed number of slabs of segments
 * (plan->slabs) whose partials are added in slab order. */
#include <omp.h>
#include <string.h>

#include "core/conv2dt/compose.h"

/* Backward weights, few filters: with the segments' padded dy rows, dk row (a*kw + b)*F
 * + f is, over the segment's pixels j, the dy values pad_a[(j*sw + b)*F + f] (step sw*F)
 * times the x rows of those pixels (step C): both operands read in place, no gather. */

/* One batch of nb segments of wn pixels (padded rows kh * len apart, x rows of segment t
 * at x0 + t*xs): part (K x C) rows [0, K), columns [c0, c1) += their products. */
static void bw_batch_gemm(const fgeom *g, const float *pad, const float *x0, int64_t xs, int nb,
                          int wn, int c0, int c1, float *part, tc_wide_ukr_fn wide) {
  const int K = tc_ct_small_k(g), F = g->f, kwf = g->kw * F;
  const int64_t len = tc_ct_pad_row_len(g), unit = (int64_t)g->kh * len;
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int r0 = 0; r0 < K; r0 += TC_GEMM_MR) {
    int m = imin(TC_GEMM_MR, K - r0);
    for (int r = 0; r < TC_GEMM_MR; r++) {
      int rr = r0 + imin(r, m - 1), a = rr / kwf, off = rr % kwf; /* off = b*F + f */
      a6[r] = pad + a * len + off;
    }
    for (int j = c0; j < c1; j += TC_WIDE_NW) {
      for (int r = 0; r < TC_GEMM_MR; r++)
        c6[r] = part + (int64_t)(r0 + imin(r, m - 1)) * g->c + j;
      tc_wide_steps st = {nb, wn, unit, (ptrdiff_t)g->sw * F, x0 + j, xs, g->c, TC_GEMM_NR};
      wide(&st, a6, c6, m, imin(TC_WIDE_NW, c1 - j), 1);
    }
  }
}

/* What a thread's slabs read: x and dy (NHWC, or NCHW: few_bw_nchw.c runs the batches),
 * and its padded dy rows (the start of its part of the workspace). */
typedef struct bw_job {
  const fgeom *g;
  const float *x, *dy;
  int nchw;
  float *pad;
  tc_wide_ukr_fn wide;
} bw_job;

/* The batch of nb segments of wn pixels from segment u on: its products into part. */
static void bw_flush(const bw_job *j, int64_t u, int nb, int wn, int c0, int c1, float *part) {
  const fgeom *g = j->g;
  if (j->nchw) {
    tc_ct_few_bw_batch_nchw(g, j->pad, j->x, u, nb, wn, c0, c1, part, j->wide);
    return;
  }
  const int wseg = tc_ct_row_seg(g), nseg = (int)ceil_div(g->w, wseg);
  const float *x0 = j->x + ((u / nseg) * g->w + (u % nseg) * wseg) * g->c; /* u / nseg: n*h + i */
  bw_batch_gemm(g, j->pad, x0, (int64_t)wseg * g->c, nb, wn, c0, c1, part, j->wide);
}

/* Segments [u0, u1) (segment u: image, row, column block) into part, columns [c0, c1):
 * consecutive segments of one image and the same width in batches of up to
 * tc_ct_bw_batch(). Their x rows are wseg*C apart: a row's segments follow each other, and
 * a row's last segment has the same width as the next row's first only when it ends the
 * row. A batch stays in one image so that NCHW reads its x in place too (one pixel step
 * between segments; across images the planes of the other channels lie between). */
static void bw_slab(const bw_job *j, int64_t u0, int64_t u1, int c0, int c1, float *part) {
  const fgeom *g = j->g;
  const int wseg = tc_ct_row_seg(g), nseg = (int)ceil_div(g->w, wseg), nbmax = tc_ct_bw_batch(g);
  const int64_t unit = (int64_t)g->kh * tc_ct_pad_row_len(g);
  int64_t first = u0, nfirst = -1;
  int nb = 0, wb = 0;
  for (int64_t u = u0; u < u1; u++) {
    int64_t n = u / ((int64_t)g->h * nseg);
    int i = (int)(u / nseg % g->h), j0 = (int)(u % nseg) * wseg, wn = imin(wseg, g->w - j0);
    if (nb > 0 && (nb == nbmax || wn != wb || n != nfirst)) {
      bw_flush(j, first, nb, wb, c0, c1, part);
      nb = 0;
    }
    if (nb == 0)
      first = u, nfirst = n;
    tc_ct_pad_dy_rows(g, j->dy, j->nchw, n, i * g->sh - g->pt, g->kh, j0, wn, j->pad + nb * unit);
    nb++;
    wb = wn;
  }
  if (nb > 0)
    bw_flush(j, first, nb, wb, c0, c1, part);
}

/* Backward weights, few filters: dk (kh*kw*F x C) summed per slab of segments into the
 * slab's partial, the partials then added in slab order: the same sums for any number of
 * threads, and every dy row copied once per segment. NCHW plans keep their partials
 * transposed (C x kh*kw*F, few_bw_nchw.c) with the same sums. */
void tc_ct_few_backward_weights(const tc_conv2dt_plan *plan, const float *x, const float *dy,
                                float *dk, void *ws) {
  const fgeom gg = fgeom_of(plan), *g = &gg;
  const int K = tc_ct_small_k(g), S = plan->slabs;
  const int nchw = plan->p.data_format == TC_CHANNELS_FIRST;
  const int64_t units = tc_ct_row_units(g), kc = (int64_t)K * g->c;
  float *part = (float *)ws;
  int nthr = tc_ct_team(plan), npairs = (int)ceil_div(g->c, TC_GEMM_NC);
  /* column blocks only where the slabs alone leave threads idle */
  int ncb = S >= 2 * nthr ? 1 : imin(npairs, (int)ceil_div(2 * nthr, S));
  int ppb = (int)ceil_div(npairs, ncb);
  ncb = (int)ceil_div(npairs, ppb);
#pragma omp parallel num_threads(nthr)
  {
    bw_job j = {g, x, dy, nchw,
                nchw ? tc_ct_few_bw_nchw_slot(plan, ws)
                     : (float *)(void *)tc_ct_thread_ws(plan, ws),
                plan->ukr->wide};
#pragma omp for schedule(dynamic, 1)
    for (int t = 0; t < S * ncb; t++) {
      int s = t / ncb, c0 = t % ncb * ppb * TC_GEMM_NC, c1 = imin(g->c, c0 + ppb * TC_GEMM_NC);
      float *ps = part + (int64_t)s * kc;
      if (nchw)
        memset(ps + (int64_t)c0 * K, 0, sizeof(float) * (size_t)(c1 - c0) * (size_t)K);
      else
        for (int r = 0; r < K; r++)
          memset(ps + (int64_t)r * g->c + c0, 0, sizeof(float) * (size_t)(c1 - c0));
      bw_slab(&j, units * s / S, units * (s + 1) / S, c0, c1, ps);
    }
    if (nchw)
      tc_ct_add_slabs_transposed(part, S, K, g->c, dk);
    else
      tc_ct_add_slabs(part, S, kc, dk);
  }
}
