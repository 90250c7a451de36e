/* igemm_batched.c — igemm's short-K form (K per tap <= SHORT_K: few channels or filters
 * on the reduction side). One call per tap would add to the C tile every few k, so a
 * group of 6 C rows takes its taps in batches, summed in registers; a row whose source
 * pixel does not exist reads zeros, a tap none of the group's rows reaches is left out.
 *
 * Which taps of a row exist depends on its position only: a run of kernel rows set by u
 * and a run of kernel columns set by v, each the same along runs of u (of v). The chunk's
 * rows are walked class by class (a run of u crossed with a run of v, every image of the
 * chunk in turn), so the inner rows form whole groups without sorting, and each row's
 * source and C row are worked out as it joins a group: no per-row tables. Each row's sums
 * do not depend on its group (docs/kernels.md, determinism). */
#include <string.h>

#include "core/conv2dt/internal.h"

static const float zero_k[SHORT_K];

/* One axis of the rows' sources: position p reads source base + p*step, tap t of it
 * source + dir*t, inside [0, len) for taps [0, taps). */
typedef struct axis {
  int64_t base, step;
  int dir, len, taps;
} axis;

/* Taps [lo, hi) of position p whose source exists. */
static void span_at(const axis *x, int p, int *lo, int *hi) {
  int64_t s = x->base + (int64_t)p * x->step;
  int64_t a = x->dir > 0 ? -s : s - x->len + 1, b = x->dir > 0 ? x->len - s : s + 1;
  a = a < 0 ? 0 : a;
  b = b > x->taps ? x->taps : b;
  *lo = (int)(a < b ? a : 0), *hi = (int)(a < b ? b : 0);
}

/* The end of the run of positions from p on (before np) with p's span. */
static int run_end(const axis *x, int p, int np) {
  int lo, hi, l2, h2;
  span_at(x, p, &lo, &hi);
  int q = p + 1;
  for (; q < np; q++) {
    span_at(x, q, &l2, &h2);
    if (l2 != lo || h2 != hi)
      break;
  }
  return q;
}

/* Up to 6 rows on their way to the micro-kernel: each row's source of tap (0, 0) (outside
 * the image at times), its C row at column n0 and its taps [t0, t1) x [s0, s1). */
typedef struct group {
  int m;
  int64_t off[TC_GEMM_MR];
  float *crow[TC_GEMM_MR];
  int t0[TC_GEMM_MR], t1[TC_GEMM_MR], s0[TC_GEMM_MR], s1[TC_GEMM_MR];
} group;

/* What a chunk's walk needs beyond the igemm. */
typedef struct walk {
  const igemm *G;
  const float *bp;
  axis au, av;
  int n0, k0, kc, ncv, add, first;
  int64_t tstep, sstep; /* A floats from tap (t, s) to (t + 1, s) and to (t, s + 1) */
  group grp;
} walk;

static void batch_gemm(const walk *W, const float *const *a, const int *taps, int nt, int add) {
  const igemm *G = W->G;
  const float *bt[TAP_BATCH];
  float *c6[TC_GEMM_MR];
  int npan = (int)ceil_div(W->ncv, TC_GEMM_NR), m = W->grp.m;
  for (int j = 0; j < npan; j += 2) {
    for (int q = 0; q < nt; q++)
      bt[q] = b_at(G, W->bp, taps[q], j);
    for (int r = 0; r < TC_GEMM_MR; r++)
      c6[r] = W->grp.crow[imin(r, m - 1)] + j * TC_GEMM_NR;
    if (G->gemm64 && W->ncv - j * TC_GEMM_NR >= 2 * TC_GEMM_NC) { /* four whole panels */
      G->gemm64(nt, W->kc, a, 1, bt, TC_GEMM_NR, b_ps(G), c6, m, add);
      j += 2;
      continue;
    }
    G->ukr(nt, W->kc, a, 1, bt, TC_GEMM_NR, b_ps(G), c6, m,
           imin(TC_GEMM_NC, W->ncv - j * TC_GEMM_NR), add);
  }
}

/* A group whose rows all have every tap, with B by kernel rows: each kernel row is one
 * pair of kw*F contiguous values (stride 1 along w puts the kw taps' dy pixels side by
 * side), 64 columns per wide-kernel call. */
static void group_rows_wide(const walk *W) {
  const igemm *G = W->G;
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  int m = W->grp.m;
  for (int r = 0; r < TC_GEMM_MR; r++)
    a6[r] = G->a + W->grp.off[imin(r, m - 1)] + W->k0;
  for (int j = 0; j * TC_GEMM_NR < W->ncv; j += TC_WIDE_NV) {
    for (int r = 0; r < TC_GEMM_MR; r++)
      c6[r] = W->grp.crow[imin(r, m - 1)] + j * TC_GEMM_NR;
    const float *b0 = b_at(G, W->bp, 0, j);
    tc_wide_steps st = {G->th, G->tw * G->bl.kcg, W->tstep, 1, b0,
                        b_at(G, W->bp, G->tw, j) - b0, TC_GEMM_NR, b_ps(G)};
    G->wide(&st, a6, c6, m, imin(TC_WIDE_NW, W->ncv - j * TC_GEMM_NR), W->add);
  }
}

static int whole_group(const walk *W) {
  const group *q = &W->grp;
  for (int r = 0; r < q->m; r++)
    if (q->t0[r] != 0 || q->t1[r] != W->G->th || q->s0[r] != 0 || q->s1[r] != W->G->tw)
      return 0;
  return 1;
}

/* Whether the group's rows all have the same taps (the class walk makes most groups so). */
static int same_taps(const group *q) {
  for (int r = 1; r < q->m; r++)
    if (q->t0[r] != q->t0[0] || q->t1[r] != q->t1[0] || q->s0[r] != q->s0[0] ||
        q->s1[r] != q->s1[0])
      return 0;
  return 1;
}

/* The group's taps in order, in batches of taps [32b, 32b + 32); a tap none of its rows
 * reaches is left out. Backward data stores the first batch over C (no zeroing pass);
 * pixels no tap reaches are zeroed here. */
static void run_group(walk *W) {
  const igemm *G = W->G;
  const group *q = &W->grp;
  const float *a[TC_GEMM_MR * TAP_BATCH];
  int taps[TAP_BATCH], nt = 0, ran = 0;
  if (G->rowb && G->th > 1 && whole_group(W)) {
    group_rows_wide(W);
    return;
  }
  int same = same_taps(q);
  for (int t = 0; t < G->th; t++)
    for (int s = 0; s < G->tw; s++) {
      int any = 0, tap = t * G->tw + s;
      if (same) { /* every row has this tap or none has */
        any = t >= q->t0[0] && t < q->t1[0] && s >= q->s0[0] && s < q->s1[0];
        for (int r = 0; any && r < TC_GEMM_MR; r++)
          a[nt * TC_GEMM_MR + r] = G->a + (q->off[imin(r, q->m - 1)] + W->k0 +
                                           t * W->tstep + s * W->sstep);
      } else
        for (int r = 0; r < TC_GEMM_MR; r++) {
          int i = imin(r, q->m - 1);
          int ok = t >= q->t0[i] && t < q->t1[i] && s >= q->s0[i] && s < q->s1[i];
          a[nt * TC_GEMM_MR + r] =
              ok ? G->a + (q->off[i] + W->k0 + t * W->tstep + s * W->sstep) : zero_k;
          any |= ok;
        }
      if (any)
        taps[nt++] = tap;
      /* batches end at fixed taps, not after TAP_BATCH included ones: a pixel's partial
       * sums then do not depend on which rows share its group (a tap no row reaches, or
       * one that reads zeros, adds nothing) */
      if (nt > 0 && ((tap + 1) % TAP_BATCH == 0 || tap + 1 == G->th * G->tw)) {
        batch_gemm(W, a, taps, nt, W->add || ran);
        nt = 0, ran = 1;
      }
    }
  if (!ran && !W->add)
    for (int r = 0; r < q->m; r++)
      memset(q->crow[r], 0, sizeof(float) * (size_t)W->ncv);
}

/* Row (n, u, v) joins the group, with taps [t0, t1) x span of v; a full group runs. */
static void add_row(walk *W, int64_t n, int u, int v, int t0, int t1) {
  const igemm *G = W->G;
  const fgeom *g = G->g;
  group *q = &W->grp;
  int r = q->m++;
  int hh = G->fwd ? g->h : g->oh, ww = G->fwd ? g->w : g->ow;
  int64_t si = W->au.base + u * W->au.step, sj = W->av.base + v * W->av.step;
  q->off[r] = ((n * hh + si) * ww + sj) * G->arow_len;
  q->t0[r] = t0, q->t1[r] = t1;
  span_at(&W->av, v, &q->s0[r], &q->s1[r]);
  int64_t oi = G->fwd ? (int64_t)(G->u0 + u) * g->sh + G->rh - g->pt : u;
  int64_t oj = G->fwd ? (int64_t)(G->v0 + v) * g->sw + G->rw - g->pl : v;
  int64_t ch = G->fwd ? g->oh : g->h, cw = G->fwd ? g->ow : g->w;
  float *row = G->c + ((n * ch + oi) * cw + oj) * G->crow_len + W->n0;
  q->crow[r] = row;
  if (W->first && G->bias)
    memcpy(row, G->bias + W->n0, sizeof(float) * (size_t)W->ncv);
  else if (W->first)
    memset(row, 0, sizeof(float) * (size_t)W->ncv);
  if (q->m == TC_GEMM_MR) {
    run_group(W);
    q->m = 0;
  }
}

/* The sources of the igemm's rows along h and along w. */
static void axes_of(const igemm *G, axis *au, axis *av) {
  const fgeom *g = G->g;
  if (G->fwd) { /* output q of the phase reads input q - t */
    *au = (axis){G->u0, 1, -1, g->h, G->th};
    *av = (axis){G->v0, 1, -1, g->w, G->tw};
  } else { /* dx pixel i reads dy pixel i*s + t - pad */
    *au = (axis){-g->pt, g->sh, 1, g->oh, G->th};
    *av = (axis){-g->pl, g->sw, 1, g->ow, G->tw};
  }
}

/* The chunk's rows (n, u, v) in [r0, r1) with u in [ua, ub) and v in [va, vb), in order. */
static void walk_block(walk *W, int64_t r0, int64_t r1, int ua, int ub, int va, int vb) {
  const int qw = W->G->qw;
  const int64_t plane = (int64_t)W->G->qh * qw;
  for (int64_t n = r0 / plane; n * plane < r1; n++) {
    int64_t first = r0 > n * plane ? (r0 - n * plane) / qw : 0;
    int64_t last = r1 - n * plane < plane ? ceil_div(r1 - n * plane, qw) : W->G->qh;
    for (int u = first > ua ? (int)first : ua; u < ub && u < last; u++) {
      int64_t rb = (n * W->G->qh + u) * qw;
      int lo = r0 - rb > va ? (int)(r0 - rb) : va, hi = r1 - rb < vb ? (int)(r1 - rb) : vb;
      int t0, t1;
      span_at(&W->au, u, &t0, &t1);
      for (int v = lo; v < hi; v++)
        add_row(W, n, u, v, t0, t1);
    }
  }
}

/* Whether the rows go class by class: always where whole groups take the wide kernel
 * (rowb), else where that saves over 4 % of the taps the groups run (one image's rows
 * counted; the class order reads the image less in sequence: s1k3 measured 1-3 % slower
 * with it, fmnist1's backward data 5 % faster). */
int tc_ct_igemm_by_class(const igemm *G) {
  if (G->rowb)
    return 1;
  axis au, av;
  axes_of(G, &au, &av);
  int64_t by_class = 0, in_order = 0; /* taps run, times 6 rows */
  for (int ua = 0, ub; ua < G->qh; ua = ub) {
    int t0, t1, s0, s1;
    ub = run_end(&au, ua, G->qh);
    span_at(&au, ua, &t0, &t1);
    for (int va = 0, vb; va < G->qw; va = vb) {
      vb = run_end(&av, va, G->qw);
      span_at(&av, va, &s0, &s1);
      by_class += (int64_t)(ub - ua) * (vb - va) * (t1 - t0) * (s1 - s0);
    }
  }
  int lo[4] = {G->th, 0, G->tw, 0}, in_group = 0;
  for (int u = 0; u < G->qh; u++) {
    int t0, t1, s0, s1;
    span_at(&au, u, &t0, &t1);
    for (int v = 0; v < G->qw; v++) {
      span_at(&av, v, &s0, &s1);
      lo[0] = imin(lo[0], t0), lo[1] = t1 > lo[1] ? t1 : lo[1];
      lo[2] = imin(lo[2], s0), lo[3] = s1 > lo[3] ? s1 : lo[3];
      int last = u == G->qh - 1 && v == G->qw - 1;
      if (++in_group < TC_GEMM_MR && !last)
        continue;
      if (lo[1] > lo[0] && lo[3] > lo[2])
        in_order += (int64_t)TC_GEMM_MR * (lo[1] - lo[0]) * (lo[3] - lo[2]);
      lo[0] = G->th, lo[1] = 0, lo[2] = G->tw, lo[3] = 0, in_group = 0;
    }
  }
  return by_class * 25 <= in_order * 24;
}

void tc_ct_igemm_run_batched(const igemm *G, const float *bp, int64_t r0, int64_t r1, int n0,
                             int k0) {
  walk W;
  memset(&W, 0, sizeof W);
  W.G = G, W.bp = bp, W.n0 = n0, W.k0 = k0;
  W.ncv = imin(G->bl.nc, G->bl.ndim - n0), W.kc = imin(G->bl.kcg, G->bl.kdim - k0);
  W.add = G->fwd || k0 > 0, W.first = k0 == 0 && G->fwd;
  axes_of(G, &W.au, &W.av);
  int ww = G->fwd ? G->g->w : G->g->ow;
  W.sstep = (int64_t)W.au.dir * G->arow_len, W.tstep = W.sstep * ww;
  if (!G->by_class)
    walk_block(&W, r0, r1, 0, G->qh, 0, G->qw);
  else
    for (int ua = 0, ub; ua < G->qh; ua = ub) {
      ub = run_end(&W.au, ua, G->qh);
      for (int va = 0, vb; va < G->qw; va = vb) {
        vb = run_end(&W.av, va, G->qw);
        walk_block(&W, r0, r1, ua, ub, va, vb);
      }
    }
  if (W.grp.m > 0)
    run_group(&W);
}
