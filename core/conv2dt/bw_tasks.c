/* bw_tasks.c — backward weights by tasks: one task per (taps sharing an input range,
 * filter block, channel block) reduces over all P pixels, so no output is shared and no
 * partial sums are needed; x is packed once per pixel chunk for all of a task's taps. */
#include <omp.h>
#include <string.h>

#include "core/conv2dt/internal.h"

/* The task's dk tiles: each its tap's sum over the shared pixels, KP at a time in pixel
 * order (the order depends on the tap's pixel range only, not on the task split). */
static void weights_task(const fgeom *g, const wtask *T, const float *x, const float *dy,
                         float *dk, float *pa, float *pb, const tc_ukr_table *ukr) {
  int tb = T->b1 - T->b0;
  for (int t = T->t0; t < T->t1; t++) {
    float *tile = dk + (((int64_t)(T->a0 + t / tb) * g->kw + T->b0 + t % tb) * g->f + T->f0) *
                           g->c + T->c0;
    for (int f = 0; f < T->fb; f++)
      memset(tile + (int64_t)f * g->c, 0, sizeof(float) * (size_t)T->cb);
  }
  int64_t npix = g->n * (T->i1 - T->i0) * (T->j1 - T->j0);
  for (int64_t p0 = 0; p0 < npix; p0 += KP) {
    int kp = (int)(npix - p0 < KP ? npix - p0 : KP);
    tc_ct_pack_x(g, T, x, p0, kp, pb);
    for (int t = T->t0; t < T->t1; t++) {
      int a = T->a0 + t / tb, b = T->b0 + t % tb;
      float *tile = dk + (((int64_t)a * g->kw + b) * g->f + T->f0) * g->c + T->c0;
      tc_ct_pack_dy(g, T, a, b, dy, p0, kp, pa);
      tc_ct_packed_gemm(kp, pa, KP, T->fb, pb, T->cb, tile, g->c, ukr);
    }
  }
}

/* End of the run of kernel rows from a0 whose taps map the same input rows (the range
 * moves monotonically with a, so equal ranges are contiguous). */
static int range_run(int a0, int k, int pad, int s, int in, int out, int *lo, int *hi) {
  tap_range((int64_t)a0 - pad, s, in, out, lo, hi);
  int a1 = a0 + 1, l, h;
  for (; a1 < k; a1++) {
    tap_range((int64_t)a1 - pad, s, in, out, &l, &h);
    if (l != *lo || h != *hi)
      break;
  }
  return a1;
}

/* Blocks of backward weights: filters and channels split evenly (fb a multiple of MR, cb
 * of 16), and at most cap taps per task. */
typedef struct wplan {
  int nfb, fb, ncb, cb, cap;
} wplan;

static wplan wplan_of(const fgeom *g, int cap) {
  wplan w;
  w.nfb = (int)ceil_div(g->f, FB);
  w.fb = (int)(ceil_div(ceil_div(g->f, w.nfb), TC_GEMM_MR) * TC_GEMM_MR);
  w.nfb = (int)ceil_div(g->f, w.fb);
  w.ncb = (int)ceil_div(g->c, CB);
  w.cb = (int)(ceil_div(ceil_div(g->c, w.ncb), TC_GEMM_NR) * TC_GEMM_NR);
  w.ncb = (int)ceil_div(g->c, w.cb);
  w.cap = cap;
  return w;
}

/* Task t of the enumeration (range block, tap share, filter block, channel block); with
 * t < 0 returns the number of tasks in T->t0. */
static int task_of(const fgeom *g, const wplan *w, int64_t t, wtask *T) {
  int64_t k = 0;
  for (int a0 = 0, a1; a0 < g->kh; a0 = a1) {
    int i0, i1, j0, j1;
    a1 = range_run(a0, g->kh, g->pt, g->sh, g->h, g->oh, &i0, &i1);
    for (int b0 = 0, b1; b0 < g->kw; b0 = b1) {
      b1 = range_run(b0, g->kw, g->pl, g->sw, g->w, g->ow, &j0, &j1);
      int empty = i1 <= i0 || j1 <= j0; /* these taps reach no output: dk is zero */
      int taps = (a1 - a0) * (b1 - b0);
      int64_t shares = ceil_div(taps, w->cap), here = shares * w->nfb * w->ncb;
      if (t >= k && t < k + here) {
        int64_t r = t - k;
        int sh = (int)(r / ((int64_t)w->nfb * w->ncb)), fbi = (int)(r / w->ncb % w->nfb);
        int cbi = (int)(r % w->ncb);
        T->a0 = a0, T->a1 = a1, T->b0 = b0, T->b1 = b1;
        T->t0 = (int)(sh * taps / shares), T->t1 = (int)((sh + 1) * taps / shares);
        T->f0 = fbi * w->fb, T->fb = imin(w->fb, g->f - T->f0);
        T->c0 = cbi * w->cb, T->cb = imin(w->cb, g->c - T->c0);
        T->i0 = i0, T->i1 = empty ? i0 : i1, T->j0 = j0, T->j1 = empty ? j0 : j1;
        return 1;
      }
      k += here;
    }
  }
  T->t0 = (int)k;
  return 0;
}

void tc_ct_tasks_backward_weights(const tc_conv2dt_plan *plan, const float *x, const float *dy,
                                  float *dkernel, void *ws) {
  /* x: (N,H,W,C) NHWC; dy: (N,OH,OW,F); dkernel: (kh,kw,F,C) */
  fgeom g = fgeom_of(plan);
  const tc_ukr_table *ukr = plan->ukr;
  int nthr = tc_ct_team(plan);
  /* Up to 4 taps share a packed x; fewer where that leaves too few tasks for the team.
   * The split changes who computes a tile, not how it is summed. */
  wplan w = wplan_of(&g, 4);
  wtask T;
  for (; w.cap > 1; w.cap /= 2) {
    task_of(&g, &w, -1, &T);
    if (T.t0 >= 3 * nthr)
      break;
  }
  task_of(&g, &w, -1, &T);
  int64_t ntasks = T.t0;
#pragma omp parallel num_threads(nthr)
  {
    float *pa = (float *)(void *)tc_ct_thread_ws(plan, ws), *pb = pa + (size_t)KP * FB;
    wtask U;
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < ntasks; t++)
      if (task_of(&g, &w, t, &U))
        weights_task(&g, &U, x, dy, dkernel, pa, pb, ukr);
  }
}

