/* few_fwd.c — forward with few filters (F <= 4): C has too few columns for a 16-wide
 * tile, so the dot micro-kernel runs its vector lanes along the channels instead, every
 * tap of an output phase added before the lanes are summed in a fixed tree. */
#include <omp.h>
#include <string.h>

#include "core/conv2dt/internal.h"

#define DOT_PTRS 256 /* activation pointers per dot-kernel call; taps are batched to fit */

/* The dot-kernel calls of one batch of taps (x row xr[t] of tap t, column offset sc[t],
 * weights bk[t]) over every pixel of the row, P at a time. */
static void fwd_row_batch(const igemm *G, int nt, const float *const *xr, const int *sc,
                          const float *const *bk, float *yrow, const float *zero,
                          tc_dot_ukr_fn dot) {
  const fgeom *g = G->g;
  const int P = tc_dot_rows(g->f);
  const int64_t ystep = (int64_t)g->sw * g->f;
  const float *ap[DOT_PTRS];
  float *yp[8];
  for (int v = 0; v < G->qw; v += P) {
    int np = imin(P, G->qw - v);
    for (int p = 0; p < P; p++)
      yp[p] = yrow + (v + (p < np ? p : np - 1)) * ystep;
    for (int t = 0; t < nt; t++) {
      int64_t sj = (int64_t)G->v0 + v - sc[t];
      const float **at = ap + t * P;
      if (sj >= 0 && sj + P <= g->w) { /* every source inside the input row */
        const float *base = xr[t] + sj * g->c;
        for (int p = 0; p < P; p++)
          at[p] = base + (int64_t)p * g->c;
      } else {
        for (int p = 0; p < P; p++) {
          int64_t q = sj + (p < np ? p : np - 1);
          at[p] = q >= 0 && q < g->w ? xr[t] + q * g->c : zero;
        }
      }
    }
    dot(nt, g->c, ap, bk, g->c, g->f, yp, np);
  }
}

/* Output row u of phase G in image n: y = bias + every tap's dot products, taps in order,
 * in batches of DOT_PTRS / P (a fixed split: the sums depend on the shape only). A source
 * pixel outside the input reads the zero row. */
static void small_fwd_row(const igemm *G, int64_t n, int u, const float *zero,
                          tc_dot_ukr_fn dot) {
  const fgeom *g = G->g;
  const int tb = DOT_PTRS / tc_dot_rows(g->f);
  const float *xr[DOT_PTRS], *bk[DOT_PTRS];
  int sc[DOT_PTRS];
  int64_t oi = (int64_t)(G->u0 + u) * g->sh + G->rh - g->pt;
  int64_t oj0 = (int64_t)G->v0 * g->sw + G->rw - g->pl;
  float *yrow = G->c + ((n * g->oh + oi) * g->ow + oj0) * g->f;
  for (int v = 0; v < G->qw; v++)
    for (int f = 0; f < g->f; f++)
      yrow[(int64_t)v * g->sw * g->f + f] = G->bias ? G->bias[f] : 0.0f;
  int nt = 0;
  for (int t = 0; t < G->th; t++) {
    int64_t si = (int64_t)G->u0 + u - t;
    if (si < 0 || si >= g->h)
      continue;
    for (int s = 0; s < G->tw; s++) {
      int a, b;
      tap_ab(G, t, s, &a, &b);
      xr[nt] = G->a + (n * g->h + si) * g->w * g->c;
      sc[nt] = s;
      bk[nt] = G->k + ((int64_t)a * g->kw + b) * g->f * g->c;
      if (++nt == tb) {
        fwd_row_batch(G, nt, xr, sc, bk, yrow, zero, dot);
        nt = 0;
      }
    }
  }
  if (nt > 0)
    fwd_row_batch(G, nt, xr, sc, bk, yrow, zero, dot);
}

/* Forward with F <= TC_DOT_MAXF: rows (image n, phase row u) over the team, every phase
 * of a row in turn, so the few input rows they all read stay in cache. */
void tc_ct_few_forward(const tc_conv2dt_plan *plan, const float *x, const float *k,
                       const float *bias, float *y, void *ws) {
  if (plan->fcol) {
    tc_ct_few_forward_col(plan, x, k, bias, y, ws);
    return;
  }
  const fgeom gg = fgeom_of(plan), *g = &gg;
  float *zero = (float *)(void *)((unsigned char *)ws + plan->zero_row);
  tc_dot_ukr_fn dot = plan->ukr->dot;
  int64_t qh = 0; /* the most rows of any phase */
  for (int rh = 0; rh < g->sh; rh++) {
    igemm G = tc_ct_forward_phase(g, rh, 0, x, k, bias, y, NULL);
    qh = G.qh > qh ? G.qh : qh;
  }
  int64_t nrows = g->n * qh;
#pragma omp parallel num_threads(tc_ct_team(plan))
  {
#pragma omp single
    memset(zero, 0, sizeof(float) * (size_t)g->c);
#pragma omp for schedule(dynamic, 4)
    for (int64_t r = 0; r < nrows; r++)
      for (int rh = 0; rh < g->sh; rh++)
        for (int rw = 0; rw < g->sw; rw++) {
          igemm G = tc_ct_forward_phase(g, rh, rw, x, k, bias, y, NULL);
          if (r % qh < G.qh)
            small_fwd_row(&G, r / qh, (int)(r % qh), zero, dot);
        }
  }
}

