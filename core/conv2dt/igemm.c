/* igemm.c — forward and backward data as implicit GEMMs on the batch-reduce micro-kernel.
 *
 * Forward: output pixel (oi, oj) with oi + pt = q*sh + rh only receives taps a = rh + t*sh
 * from input row i = q - t, so each of the sh*sw output phases (rh, rw) is an ordinary
 * convolution: y_phase[pix][:] = bias + sum over its taps (t, u) of x[q-t][p-u][:] (1 x C)
 * times k[a][b] transposed (C x F). No zero insertion, no scatter: every output row is
 * owned by one thread. Backward data is a plain strided convolution: dx[i][j][:] = sum over
 * all taps of dy[i*sh+a-pt][j*sw+b-pl][:] (1 x F) times k[a][b] (F x C).
 * Both are driven by run_igemm: C rows (output pixels) in chunks, one thread per chunk;
 * per tap the (A row, C row) pairs whose source pixel exists are listed (or, for short
 * K, a group's taps batched into one call), and the micro-kernel reads A rows straight
 * from the activation (contiguous channels) against weights packed once per call block
 * into the shared part of the workspace. The blocking is the plan's (layout.c). */
#include <omp.h>
#include <string.h>

#include "core/conv2dt/internal.h"

/* Per-thread lists for one chunk (the per-tap form; the batched form keeps none). */
typedef struct rows {
  int64_t *n;
  int *u, *v;
  float **crow;       /* C row of every chunk row, at column n0 */
  const float **ap;   /* the current tap's A rows, at k0 */
  float **cp;         /* and their C rows */
} rows;

static rows rows_at(unsigned char *ws, int mc) {
  rows r;
  r.n = (int64_t *)ws;
  r.u = (int *)(r.n + mc);
  r.v = r.u + mc;
  r.crow = (float **)(void *)(r.v + mc);
  r.ap = (const float **)(r.crow + mc);
  r.cp = (float **)(r.ap + mc);
  return r;
}

/* B block for taps x [k0, k0+kcg) x [n0, n0+nc): panel j of tap holds (kcg, 16).
 * Forward: B[c][f] = k[a][b][f][c]; backward data: B[f][c] = k[a][b][f][c]. */
static void pack_b_panel(const igemm *G, int tap, int j, int k0, int n0, float *bp) {
  const fgeom *g = G->g;
  int a, b, kc = imin(G->bl.kcg, G->bl.kdim - k0);
  tap_ab(G, tap / G->tw, tap % G->tw, &a, &b);
  const float *kt = G->k + ((int64_t)a * g->kw + b) * g->f * g->c;
  float *dst = (float *)b_at(G, bp, tap, j);
  int col0 = n0 + j * TC_GEMM_NR, ncol = imin(TC_GEMM_NR, G->bl.ndim - col0);
  if (!G->fwd) { /* B rows are rows of k: copy them, zero past the last column */
    for (int kk = 0; kk < kc; kk++)
      copy_pad(dst + kk * TC_GEMM_NR, kt + (int64_t)(k0 + kk) * g->c + col0, ncol, TC_GEMM_NR);
    return;
  }
  for (int jj = 0; jj < TC_GEMM_NR; jj++)
    for (int kk = 0; kk < kc; kk++)
      dst[kk * TC_GEMM_NR + jj] = jj < ncol ? kt[(int64_t)(col0 + jj) * g->c + k0 + kk] : 0.0f;
}

/* Chunk rows [r0, r1): their coordinates and C rows; on the first k-group the C columns
 * [n0, n0+ncv) start as the bias (forward) or zero. */
static void chunk_rows(const igemm *G, int64_t r0, int64_t r1, int n0, int ncv, int first,
                       rows *R) {
  const fgeom *g = G->g;
  int64_t per_img = (int64_t)G->qh * G->qw, n = r0 / per_img;
  int u = (int)(r0 % per_img / G->qw), v = (int)(r0 % G->qw);
  for (int64_t r = r0; r < r1; r++, v++) { /* (n, u, v) of row r, stepped, not divided */
    if (v == G->qw)
      v = 0, u++;
    if (u == G->qh)
      u = 0, n++;
    int64_t i = r - r0;
    R->n[i] = n, R->u[i] = u, R->v[i] = v;
    int64_t oi = G->fwd ? (int64_t)(G->u0 + u) * g->sh + G->rh - g->pt : u;
    int64_t oj = G->fwd ? (int64_t)(G->v0 + v) * g->sw + G->rw - g->pl : v;
    int64_t hh = G->fwd ? g->oh : g->h, ww = G->fwd ? g->ow : g->w;
    float *row = G->c + ((n * hh + oi) * ww + oj) * G->crow_len + n0;
    R->crow[i] = row;
    if (first)
      for (int f = 0; f < ncv; f++)
        row[f] = G->bias ? G->bias[n0 + f] : 0.0f;
  }
}

/* tap_source's mark for a row whose source pixel does not exist (tap_pairs skips it). */
static const float zero_k[SHORT_K];

/* The A row of chunk row i for tap (t, s) at column k0, or zeros. */
static const float *tap_source(const igemm *G, const rows *R, int i, int t, int s, int k0) {
  const fgeom *g = G->g;
  int hh = G->fwd ? g->h : g->oh, ww = G->fwd ? g->w : g->ow;
  int64_t si, sj;
  if (G->fwd)
    si = (int64_t)G->u0 + R->u[i] - t, sj = (int64_t)G->v0 + R->v[i] - s;
  else
    si = (int64_t)R->u[i] * g->sh + t - g->pt, sj = (int64_t)R->v[i] * g->sw + s - g->pl;
  if (si < 0 || si >= hh || sj < 0 || sj >= ww)
    return zero_k;
  return G->a + ((R->n[i] * hh + si) * ww + sj) * G->arow_len + k0;
}

/* The (A row, C row) pairs of tap (t, s) among the chunk's cnt rows; returns how many. */
static int tap_pairs(const igemm *G, int t, int s, int cnt, int k0, rows *R) {
  int m = 0;
  for (int i = 0; i < cnt; i++) {
    const float *src = tap_source(G, R, i, t, s, k0);
    if (src == zero_k)
      continue;
    R->ap[m] = src;
    R->cp[m++] = R->crow[i];
  }
  return m;
}

/* All micro-kernel calls of one tap's pairs against its packed panels. */
static void tap_gemm(const igemm *G, const float *bt, int kc, int cnt, int ncv, rows *R) {
  int npan = (int)ceil_div(ncv, TC_GEMM_NR);
  for (int kb = 0; kb < kc; kb += KC) {
    int kk = imin(KC, kc - kb);
    for (int i = 0; i < cnt; i += TC_GEMM_MR) {
      int m = imin(TC_GEMM_MR, cnt - i);
      const float *a6[TC_GEMM_MR];
      float *c6[TC_GEMM_MR];
      for (int r = 0; r < TC_GEMM_MR; r++)
        a6[r] = R->ap[i + (r < m ? r : 0)] + kb;
      /* the next group's A rows are read in place from the activation: fetch them now */
      for (int r = i + TC_GEMM_MR; r < cnt && r < i + 2 * TC_GEMM_MR; r++)
        for (int e = 0; e < kk; e += 16)
          __builtin_prefetch(R->ap[r] + kb + e);
      for (int j = 0; j < npan; j += 2) {
        for (int r = 0; r < TC_GEMM_MR; r++)
          c6[r] = R->cp[i + (r < m ? r : 0)] + j * TC_GEMM_NR;
        const float *bj = bt + ((int64_t)j * G->bl.kcg + kb) * TC_GEMM_NR;
        if (G->gemm64 && ncv - j * TC_GEMM_NR >= 2 * TC_GEMM_NC) { /* four whole panels */
          G->gemm64(1, kk, a6, 1, &bj, TC_GEMM_NR, (ptrdiff_t)G->bl.kcg * TC_GEMM_NR, c6, m, 1);
          j += 2;
          continue;
        }
        G->ukr(1, kk, a6, 1, &bj, TC_GEMM_NR, (ptrdiff_t)G->bl.kcg * TC_GEMM_NR, c6, m,
               imin(TC_GEMM_NC, ncv - j * TC_GEMM_NR), 1);
      }
    }
  }
}

/* One chunk for the block (n0, k0): every tap in order, so each C element sums its taps
 * in the same order whatever the chunking. */
static void run_chunk(const igemm *G, const float *bp, int64_t r0, int64_t r1, int n0, int k0,
                      rows *R) {
  int ncv = imin(G->bl.nc, G->bl.ndim - n0), kc = imin(G->bl.kcg, G->bl.kdim - k0);
  int cnt = (int)(r1 - r0), npan = G->bl.nc / TC_GEMM_NR;
  chunk_rows(G, r0, r1, n0, ncv, k0 == 0, R);
  for (int t = 0; t < G->th; t++)
    for (int s = 0; s < G->tw; s++) {
      int m = tap_pairs(G, t, s, cnt, k0, R);
      const float *bt = bp + (int64_t)(t * G->tw + s) * npan * G->bl.kcg * TC_GEMM_NR;
      if (m > 0)
        tap_gemm(G, bt, kc, m, ncv, R);
    }
}

/* The whole GEMM, called by every thread of the team (worksharing inside). */
static void run_igemm(const igemm *G, float *bp, rows *R) {
  int nthr = omp_get_num_threads();
  int64_t nch = ceil_div(G->m, G->mc);
  nch = ceil_div(nch, nthr) * nthr; /* balance the team; the sums do not depend on it */
  int64_t chunk = ceil_div(ceil_div(G->m, nch), TC_GEMM_MR) * TC_GEMM_MR;
  nch = ceil_div(G->m, chunk);
  int taps = G->th * G->tw, npan = G->bl.nc / TC_GEMM_NR;
  int kgroups = taps > 0 ? (int)ceil_div(G->bl.kdim, G->bl.kcg) : 1;
  for (int n0 = 0; n0 < G->bl.ndim; n0 += G->bl.nc)
    for (int kg = 0; kg < kgroups; kg++) {
      int k0 = kg * G->bl.kcg;
#pragma omp for schedule(dynamic, 1)
      for (int64_t t = 0; t < (int64_t)taps * npan; t++)
        pack_b_panel(G, (int)(t / npan), (int)(t % npan), k0, n0, bp);
#pragma omp for schedule(dynamic, 1)
      for (int64_t ch = 0; ch < nch; ch++) {
        int64_t r1 = ch * chunk + chunk < G->m ? ch * chunk + chunk : G->m;
        if (G->batched)
          tc_ct_igemm_run_batched(G, bp, ch * chunk, r1, n0, k0);
        else
          run_chunk(G, bp, ch * chunk, r1, n0, k0, R);
      }
    }
}

/* ---- forward and backward data ---- */

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* The GEMM of output phase (rh, rw): q = u0.. with oi = q*sh + rh - pt inside [0, OH). */
igemm tc_ct_forward_phase(const fgeom *g, int rh, int rw, const float *x, const float *k,
                          const float *bias, float *y, tc_gemm_ukr_fn ukr) {
  igemm G;
  memset(&G, 0, sizeof G);
  G.g = g, G.fwd = 1, G.rh = rh, G.rw = rw, G.ukr = ukr;
  G.th = rh < g->kh ? (int)ceil_div(g->kh - rh, g->sh) : 0;
  G.tw = rw < g->kw ? (int)ceil_div(g->kw - rw, g->sw) : 0;
  G.u0 = (int)floor_div(g->pt - rh + g->sh - 1, g->sh);
  G.v0 = (int)floor_div(g->pl - rw + g->sw - 1, g->sw);
  int64_t uh = floor_div((int64_t)g->oh - 1 + g->pt - rh, g->sh);
  int64_t vw = floor_div((int64_t)g->ow - 1 + g->pl - rw, g->sw);
  G.qh = uh >= G.u0 ? (int)(uh - G.u0 + 1) : 0;
  G.qw = vw >= G.v0 ? (int)(vw - G.v0 + 1) : 0;
  G.m = g->n * G.qh * G.qw;
  G.arow_len = g->c, G.crow_len = g->f;
  G.a = x, G.k = k, G.bias = bias, G.c = y;
  return G;
}

/* The plan's blocking of direction d (0 forward, 1 backward data). */
static blocking plan_blocking(const tc_conv2dt_plan *plan, int d, int kdim, int ndim) {
  blocking b = {plan->btaps[d], kdim, ndim, plan->nc[d], plan->kcg[d]};
  return b;
}

void tc_ct_igemm_forward(const tc_conv2dt_plan *plan, const float *x, const float *kernel,
                         const float *bias, float *y, void *ws) {
  /* x: (N,H,W,C) NHWC; kernel: (kh,kw,F,C); bias: (F) or NULL; y: (N,OH,OW,F) */
  fgeom g = fgeom_of(plan);
  blocking bl = plan_blocking(plan, 0, g.c, g.f);
  tc_gemm_ukr_fn ukr = plan->ukr->gemm;
#pragma omp parallel num_threads(tc_ct_team(plan))
  {
    rows R = rows_at(tc_ct_thread_ws(plan, ws), plan->mc);
    for (int rh = 0; rh < g.sh; rh++)
      for (int rw = 0; rw < g.sw; rw++) {
        igemm G = tc_ct_forward_phase(&g, rh, rw, x, kernel, bias, y, ukr);
        G.bl = bl, G.batched = bl.kcg <= SHORT_K, G.mc = plan->mc;
        G.gemm64 = plan->ukr->gemm64;
        int by_class = 0; /* one thread reads the phase's geometry (O(qh*qw)) for all */
#pragma omp single copyprivate(by_class)
        by_class = G.batched && G.m > 0 && tc_ct_igemm_by_class(&G);
        G.by_class = by_class;
        if (G.m > 0)
          run_igemm(&G, (float *)ws, &R);
      }
  }
}

void tc_ct_igemm_backward_data(const tc_conv2dt_plan *plan, const float *dy,
                               const float *kernel, float *dx, void *ws) {
  /* dy: (N,OH,OW,F) NHWC; kernel: (kh,kw,F,C); dx: (N,H,W,C) */
  fgeom g = fgeom_of(plan);
  igemm G;
  memset(&G, 0, sizeof G);
  G.g = &g, G.fwd = 0, G.th = g.kh, G.tw = g.kw, G.qh = g.h, G.qw = g.w;
  G.m = g.n * g.h * g.w;
  G.arow_len = g.f, G.crow_len = g.c;
  G.a = dy, G.k = kernel, G.c = dx, G.ukr = plan->ukr->gemm, G.wide = plan->ukr->wide;
  G.bl = plan_blocking(plan, 1, g.f, g.c);
  G.batched = G.bl.kcg <= SHORT_K;
  G.rowb = plan->rowb; /* kernel rows as wide pairs (tc_ct_rowb) */
  G.gemm64 = plan->ukr->gemm64;
  G.mc = plan->mc;
  G.by_class = G.batched && G.m > 0 && tc_ct_igemm_by_class(&G);
#pragma omp parallel num_threads(tc_ct_team(plan))
  {
    rows R = rows_at(tc_ct_thread_ws(plan, ws), plan->mc);
    run_igemm(&G, (float *)ws, &R);
  }
}
