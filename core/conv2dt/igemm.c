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

/* Per-thread lists for one chunk. */
typedef struct rows {
  int64_t *n;
  int *u, *v;
  float **crow;       /* C row of every chunk row, at column n0 */
  const float **ap;   /* the current tap's A rows, at k0 */
  float **cp;         /* and their C rows */
  int64_t *key;       /* tap batches: the rows' tap sets as numbers, */
  int *order;         /* the rows in the order of those sets, */
  int64_t *off;       /* each row's first source (tap 0, 0; outside the image at times) */
  int (*span)[4];     /* and its existing taps [t0, t1) x [s0, s1) */
} rows;

static rows rows_at(unsigned char *ws, int mc) {
  rows r;
  r.n = (int64_t *)ws;
  r.u = (int *)(r.n + mc);
  r.v = r.u + mc;
  r.crow = (float **)(void *)(r.v + mc);
  r.ap = (const float **)(r.crow + mc);
  r.cp = (float **)(r.ap + mc);
  r.key = (int64_t *)(void *)(r.cp + mc);
  r.off = r.key + mc;
  r.order = (int *)(r.off + mc);
  r.span = (int(*)[4])(r.order + mc);
  return r;
}

/* Panel j of tap's packed B (kcg x 16), and the step between two panels of a tap. With
 * rowb the taps of a kernel row follow each other inside each panel (panel j of row t:
 * tw blocks of kcg x 16), so a whole kernel row is one (tw*kcg x 16) panel. */
static const float *b_at(const igemm *G, const float *bp, int tap, int j) {
  int64_t npb = G->bl.nc / TC_GEMM_NR, blk = (int64_t)G->bl.kcg * TC_GEMM_NR;
  if (G->rowb)
    return bp + ((tap / G->tw * npb + j) * G->tw + tap % G->tw) * blk;
  return bp + (tap * npb + j) * blk;
}

static ptrdiff_t b_ps(const igemm *G) {
  return (ptrdiff_t)(G->rowb ? G->tw : 1) * G->bl.kcg * TC_GEMM_NR;
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

/* Short K per tap (<= SHORT_K: few filters or channels on the reduction side): one call
 * per tap would add the C tile for every few k, so a 6-row group's taps go to the
 * micro-kernel in batches instead, summed in registers; a row whose source pixel does not
 * exist reads zeros, a tap none of the group's rows reaches is left out. */
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

static void batch_gemm(const igemm *G, const float *bp, const float *const *a, const int *taps,
                       int nt, int i, int m, int kc, int ncv, int add, rows *R) {
  const float *bt[TAP_BATCH];
  float *c6[TC_GEMM_MR];
  int npan = (int)ceil_div(ncv, TC_GEMM_NR);
  for (int j = 0; j < npan; j += 2) {
    for (int q = 0; q < nt; q++)
      bt[q] = b_at(G, bp, taps[q], j);
    for (int r = 0; r < TC_GEMM_MR; r++)
      c6[r] = R->crow[R->order[i + imin(r, m - 1)]] + j * TC_GEMM_NR;
    if (G->gemm64 && ncv - j * TC_GEMM_NR >= 2 * TC_GEMM_NC) { /* four whole panels */
      G->gemm64(nt, kc, a, 1, bt, TC_GEMM_NR, b_ps(G), c6, m, add);
      j += 2;
      continue;
    }
    G->ukr(nt, kc, a, 1, bt, TC_GEMM_NR, b_ps(G), c6, m, imin(TC_GEMM_NC, ncv - j * TC_GEMM_NR),
           add);
  }
}

/* Where a 6-row group's taps read: row r's tap (t, s) is at off[r] + t*tstep + s*sstep
 * floats from A when t is in [t0[r], t1[r]) and s in [s0[r], s1[r]), else outside. */
typedef struct group_src {
  int64_t off[TC_GEMM_MR], tstep, sstep;
  int t0[TC_GEMM_MR], t1[TC_GEMM_MR], s0[TC_GEMM_MR], s1[TC_GEMM_MR];
} group_src;

/* Taps [lo, hi) of range [0, taps) whose source base + dir*t lies in [0, len). */
static void valid_taps(int64_t base, int dir, int len, int taps, int *lo, int *hi) {
  int64_t a = dir > 0 ? -base : base - len + 1, b = dir > 0 ? len - base : base + 1;
  a = a < 0 ? 0 : a;
  b = b > taps ? taps : b;
  *lo = (int)(a < b ? a : 0), *hi = (int)(a < b ? b : 0);
}

static void group_sources(const igemm *G, const rows *R, int i, int m, int k0, group_src *S) {
  int ww = G->fwd ? G->g->w : G->g->ow;
  S->sstep = (int64_t)(G->fwd ? -1 : 1) * G->arow_len, S->tstep = S->sstep * ww;
  for (int r = 0; r < TC_GEMM_MR; r++) {
    int q = R->order[i + imin(r, m - 1)];
    S->off[r] = R->off[q] + k0;
    S->t0[r] = R->span[q][0], S->t1[r] = R->span[q][1];
    S->s0[r] = R->span[q][2], S->s1[r] = R->span[q][3];
  }
}

/* Taps a group of rows order[i..i+m) runs: the box around their sets of existing taps. */
static int64_t group_taps(const rows *R, const int *order, int i, int m) {
  int t0 = INT32_MAX, t1 = 0, s0 = INT32_MAX, s1 = 0;
  for (int r = i; r < i + m; r++) {
    const int *sp = R->span[order ? order[r] : r];
    t0 = imin(t0, sp[0]), t1 = sp[1] > t1 ? sp[1] : t1;
    s0 = imin(s0, sp[2]), s1 = sp[3] > s1 ? sp[3] : s1;
  }
  return t1 > t0 && s1 > s0 ? (int64_t)(t1 - t0) * (s1 - s0) : 0;
}

/* Taps all 6-row groups of the chunk run, in the given order (NULL: the chunk's). */
static int64_t chunk_taps(const rows *R, const int *order, int cnt) {
  int64_t sum = 0;
  for (int i = 0; i < cnt; i += TC_GEMM_MR)
    sum += group_taps(R, order, i, imin(TC_GEMM_MR, cnt - i));
  return sum;
}

/* Each row's first source and existing taps, and the order the chunk's rows go to the
 * micro-kernel in. A 6-row group runs every tap any of its rows has, so where border and
 * inner pixels mix (7x7 images, 4x4 kernels: 12 % of the products are zeros) the rows are
 * gathered by their tap set, stably, smallest key first. That order costs locality (the
 * sets scatter over the image), so it is taken only where it saves over 4 % of the taps.
 * Each row's sums do not depend on its group. */
#define MAX_SETS 16
static void order_by_taps(const igemm *G, int cnt, rows *R) {
  const fgeom *g = G->g;
  int hh = G->fwd ? g->h : g->oh, ww = G->fwd ? g->w : g->ow, dir = G->fwd ? -1 : 1;
  int64_t sets[MAX_SETS];
  int nsets = 0;
  for (int i = 0; i < cnt; i++) {
    int64_t si = G->fwd ? (int64_t)G->u0 + R->u[i] : (int64_t)R->u[i] * g->sh - g->pt;
    int64_t sj = G->fwd ? (int64_t)G->v0 + R->v[i] : (int64_t)R->v[i] * g->sw - g->pl;
    int *sp = R->span[i];
    valid_taps(si, dir, hh, G->th, &sp[0], &sp[1]);
    valid_taps(sj, dir, ww, G->tw, &sp[2], &sp[3]);
    R->off[i] = ((R->n[i] * hh + si) * ww + sj) * G->arow_len;
    int64_t key = ((int64_t)sp[0] * (G->th + 1) + sp[1]) * (G->tw + 1) + sp[2];
    R->key[i] = key = key * (G->tw + 1) + sp[3];
    int j = 0;
    while (j < nsets && sets[j] < key)
      j++;
    if (nsets < 0 || (j < nsets && sets[j] == key))
      continue;
    if (nsets == MAX_SETS) { /* too many sets: keep the chunk's order */
      nsets = -1;
      continue;
    }
    memmove(sets + j + 1, sets + j, sizeof(int64_t) * (size_t)(nsets - j));
    sets[j] = key, nsets++;
  }
  if (nsets > 0) { /* stably by set: each row's set index, then a counting sort */
    int start[MAX_SETS + 1] = {0};
    for (int i = 0; i < cnt; i++) {
      int k = 0;
      while (sets[k] != R->key[i])
        k++;
      R->key[i] = k;
      start[k + 1]++;
    }
    for (int k = 0; k < nsets; k++)
      start[k + 1] += start[k];
    for (int i = 0; i < cnt; i++)
      R->order[start[R->key[i]]++] = i;
  }
  if (nsets <= 0 || (!G->rowb && chunk_taps(R, R->order, cnt) * 25 > chunk_taps(R, NULL, cnt) * 24))
    for (int i = 0; i < cnt; i++)
      R->order[i] = i;
}

/* A group whose rows all have every tap, with B by kernel rows: each kernel row is one
 * pair of kw*F contiguous values (stride 1 along w puts the kw taps' dy pixels side by
 * side), 64 columns per wide-kernel call. */
static void group_rows_wide(const igemm *G, const float *bp, const group_src *S, int i, int m,
                            int ncv, int add, rows *R) {
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int r = 0; r < TC_GEMM_MR; r++)
    a6[r] = G->a + S->off[r];
  for (int j = 0; j * TC_GEMM_NR < ncv; j += TC_WIDE_NV) {
    for (int r = 0; r < TC_GEMM_MR; r++)
      c6[r] = R->crow[R->order[i + imin(r, m - 1)]] + j * TC_GEMM_NR;
    const float *b0 = b_at(G, bp, 0, j);
    tc_wide_steps st = {G->th, G->tw * G->bl.kcg, S->tstep, 1, b0,
                        b_at(G, bp, G->tw, j) - b0, TC_GEMM_NR, b_ps(G)};
    G->wide(&st, a6, c6, m, imin(TC_WIDE_NW, ncv - j * TC_GEMM_NR), add);
  }
}

static int whole_group(const igemm *G, const group_src *S) {
  for (int r = 0; r < TC_GEMM_MR; r++)
    if (S->t0[r] != 0 || S->t1[r] != G->th || S->s0[r] != 0 || S->s1[r] != G->tw)
      return 0;
  return 1;
}

/* A group's taps in order, in batches of taps [32b, 32b + 32); a tap none of its rows
 * reaches is left out. Backward data stores the first batch over C (no zeroing pass);
 * returns whether any batch ran. */
static int group_gemm(const igemm *G, const float *bp, int i, int m, int k0, int kc, int ncv,
                      int add, rows *R) {
  const float *a[TC_GEMM_MR * TAP_BATCH];
  int taps[TAP_BATCH], nt = 0, ran = 0;
  group_src S;
  group_sources(G, R, i, m, k0, &S);
  if (G->rowb && G->th > 1 && whole_group(G, &S)) {
    group_rows_wide(G, bp, &S, i, m, ncv, add, R);
    return 1;
  }
  for (int t = 0; t < G->th; t++)
    for (int s = 0; s < G->tw; s++) {
      int any = 0, tap = t * G->tw + s;
      for (int r = 0; r < TC_GEMM_MR; r++) {
        int ok = t >= S.t0[r] && t < S.t1[r] && s >= S.s0[r] && s < S.s1[r];
        a[nt * TC_GEMM_MR + r] = ok ? G->a + (S.off[r] + t * S.tstep + s * S.sstep) : zero_k;
        any |= ok;
      }
      if (any)
        taps[nt++] = tap;
      /* batches end at fixed taps, not after TAP_BATCH included ones: a pixel's partial
       * sums then do not depend on which rows share its group (a tap no row reaches, or
       * one that reads zeros, adds nothing) */
      if (nt > 0 && ((tap + 1) % TAP_BATCH == 0 || tap + 1 == G->th * G->tw)) {
        batch_gemm(G, bp, a, taps, nt, i, m, kc, ncv, add || ran, R);
        nt = 0, ran = 1;
      }
    }
  return ran;
}

static void run_chunk_batched(const igemm *G, const float *bp, int64_t r0, int64_t r1, int n0,
                              int k0, rows *R) {
  int ncv = imin(G->bl.nc, G->bl.ndim - n0), kc = imin(G->bl.kcg, G->bl.kdim - k0);
  int cnt = (int)(r1 - r0), add = G->fwd || k0 > 0;
  chunk_rows(G, r0, r1, n0, ncv, k0 == 0 && G->fwd, R);
  order_by_taps(G, cnt, R);
  for (int i = 0; i < cnt; i += TC_GEMM_MR) {
    int m = imin(TC_GEMM_MR, cnt - i);
    if (!group_gemm(G, bp, i, m, k0, kc, ncv, add, R) && !add)
      for (int r = i; r < i + m; r++) /* no tap reaches these pixels */
        memset(R->crow[R->order[r]], 0, sizeof(float) * (size_t)ncv);
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
          run_chunk_batched(G, bp, ch * chunk, r1, n0, k0, R);
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
#pragma omp parallel num_threads(tc_ct_team(plan))
  {
    rows R = rows_at(tc_ct_thread_ws(plan, ws), plan->mc);
    run_igemm(&G, (float *)ws, &R);
  }
}
