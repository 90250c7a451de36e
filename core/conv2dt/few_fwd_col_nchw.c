/* few_fwd_col_nchw.c — the column form of few-filter forward (few_fwd_col.c) read and
 * written in NCHW, without transposes: an NCHW image is X^T (C x pixels, each channel's
 * pixels contiguous), so the band's columns come out transposed,
 *   colT[(a*kw + b)*F + f][p] = sum over c of k[a][b][f][c] * x[n][c][p],
 * one wide-kernel GEMM whose A rows are the weights in place (C contiguous) and whose B is
 * x in place (row c of B is channel c's plane, 16 or 64 pixels a call). Each colT element sums
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

/* A unit's input rows [r0, r1) of image n in every plane. */
typedef struct band_rows {
  const float *x; /* channel 0's first pixel; NULL: no band */
  int64_t npix;   /* pixels per plane */
} band_rows;

/* Units whose C rows take at most this many bytes are run with the next unit's rows
 * prefetched (spread over the current unit's panels) and 16 pixels a wide call. Their rows
 * come from L3 or DRAM as C separate short runs, too many streams for the hardware
 * prefetchers: half the wide kernel's time went to waiting on B, and fmnist2's NCHW forward
 * (a 50 KiB unit) ran at 0.57-0.67 of NHWC's, 0.84-1.00 with both (Zen 3, paired in one
 * process, 1 and 2 threads). Larger units are left as they were: fsrcnn's (300 KiB) would
 * push its own rows out of L2, and there 64-pixel calls (the call's cost shared by four
 * panels) and dynamic scheduling measured 5-10 % faster. Prefetching changes no bits. */
#define PREFETCH_UNIT_BYTES (128 << 10)

static int small_units(const fgeom *g, int R) {
  const int e = (g->kh - 1) / g->sh;
  return (int64_t)g->c * (R + e) * g->w * (int64_t)sizeof(float) <= PREFETCH_UNIT_BYTES;
}

/* Slice `part` of `parts` of the next unit's cache lines (channel after channel) into L2.
 * Always inlined: a function that only prefetches has no effect GCC can see, so as a
 * function of its own it was found const and its calls deleted (gcc 12, -O1 and up). */
static inline __attribute__((always_inline)) void
prefetch_slice(const fgeom *g, band_rows next, int64_t part, int64_t parts) {
  if (!next.x)
    return;
  const int64_t plane = (int64_t)g->h * g->w;
  const int64_t head = (int64_t)((uintptr_t)next.x & 63) / (int64_t)sizeof(float);
  const int64_t per_row = ceil_div(head + next.npix, 16), lines = g->c * per_row;
  const int64_t share = ceil_div(lines, parts);
  for (int64_t l = part * share; l < (part + 1) * share && l < lines; l++)
    __builtin_prefetch(next.x - head + (l / per_row) * plane + (l % per_row) * 16, 0, 2);
}

/* colT rows for a unit's band: K rows of npix pixels, ld apart, `width` pixels a call (B's
 * C x width block read in place serves all K/6 row groups; copying it contiguous first,
 * against planes a power of two apart sharing L1 sets, measured slower on dcgan4: 138-144
 * against 158 GFLOP/s), slices of the next band prefetched on the way where there is one. */
static void colt_rows(const fgeom *g, const band_rows *band, band_rows next, int64_t width,
                      const float *k, float *colt, int64_t ld, tc_wide_ukr_fn wide) {
  const int K = tc_ct_small_k(g);
  const int64_t plane = (int64_t)g->h * g->w, npix = band->npix;
  const int64_t calls = ceil_div(npix, width);
  tc_wide_steps s = {1, g->c, 0, 1, band->x, 0, plane, TC_GEMM_NR};
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int64_t p = 0; p < calls; p++) {
    const int64_t p0 = p * width;
    const int np = (int)(npix - p0 < width ? npix - p0 : width);
    prefetch_slice(g, next, p, calls);
    s.b = band->x + p0;
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

/* Unit u: input rows [i0, i1) of image u / bands, read from r0 (the rows above that its
 * outputs also read). */
typedef struct unit_rows {
  int64_t n;
  int i0, i1, r0;
} unit_rows;

static unit_rows unit_at(const fgeom *g, int R, int64_t u) {
  const int64_t bands = ceil_div(g->h, R);
  const int e = (g->kh - 1) / g->sh;
  unit_rows r = {u / bands, (int)(u % bands) * R, 0, 0};
  r.i1 = r.i0 + R < g->h ? r.i0 + R : g->h;
  r.r0 = r.i0 - e > 0 ? r.i0 - e : 0;
  return r;
}

static band_rows band_of(const fgeom *g, const float *x, unit_rows r) {
  const int64_t plane = (int64_t)g->h * g->w;
  band_rows b = {x + r.n * g->c * plane + (int64_t)r.r0 * g->w, (int64_t)(r.i1 - r.r0) * g->w};
  return b;
}

/* A unit's colT (with the next band prefetched when next.x is set) and its output rows. */
static void run_unit(const fgeom *g, const float *x, int R, int64_t u, band_rows next,
                     int64_t width, const float *k, const float *bias, float *y, float *colt,
                     tc_wide_ukr_fn wide) {
  const unit_rows r = unit_at(g, R, u);
  const int64_t ld = tc_ct_colt_ld(g, R);
  const band_rows band = band_of(g, x, r);
  colt_rows(g, &band, next, width, k, colt, ld, wide);
  int64_t lo = r.i0 == 0 ? 0 : (int64_t)r.i0 * g->sh - g->pt;
  int64_t hi = r.i1 == g->h ? g->oh : (int64_t)r.i1 * g->sh - g->pt;
  lo = lo < 0 ? 0 : lo;
  hi = hi > g->oh ? g->oh : hi;
  for (int64_t oi = lo; oi < hi; oi++)
    tc_ct_col_out_row(g, r.n, (int)oi, r.r0, colt, ld, bias, y, 1);
}

/* Small units: each thread runs a contiguous range, so it knows the band it reads next.
 * Others: one unit at a time to whichever thread is free. */
void tc_ct_few_forward_col_nchw(const tc_conv2dt_plan *plan, const float *x, const float *k,
                                const float *bias, float *y, void *ws) {
  const fgeom gg = fgeom_of(plan), *g = &gg;
  const int R = tc_ct_fwd_col_rows(g), ahead = small_units(g, R);
  const int64_t units = g->n * ceil_div(g->h, R), width = ahead ? TC_GEMM_NR : TC_WIDE_NW;
  const size_t per = tc_ct_nchw_col_thread_bytes(plan);
  tc_wide_ukr_fn wide = plan->ukr->wide;
#pragma omp parallel num_threads(tc_ct_team(plan))
  {
    float *colt = (float *)(void *)((unsigned char *)ws + (size_t)omp_get_thread_num() * per);
    const band_rows none = {0, 0};
    if (ahead) {
      const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t u1 = units * (t + 1) / nt;
      for (int64_t u = units * t / nt; u < u1; u++)
        run_unit(g, x, R, u, u + 1 < u1 ? band_of(g, x, unit_at(g, R, u + 1)) : none, width, k,
                 bias, y, colt, wide);
    } else {
#pragma omp for schedule(dynamic, 1)
      for (int64_t u = 0; u < units; u++)
        run_unit(g, x, R, u, none, width, k, bias, y, colt, wide);
    }
  }
}
