/* few_bw_nchw.c — few-filter backward weights (few_bw.c) on NCHW x and dy in place. The
 * slabs, segments and batches are those of NHWC; each batch's product is taken transposed,
 *   dk^T (C x K) += X (C x the batch's pixels) . G (the batch's pixels x K),  K = kh*kw*F,
 * with A the channels' planes read in place (a pixel step of 1) and B the batch's dy rows
 * gathered per pixel, G[p][(a*kw + b)*F + f], kh runs of kw*F values out of the padded
 * rows. A dk element sums the NHWC batch's products in the NHWC order (segments outer,
 * pixels inner, from zero, then added to the slab's partial; a product's operands
 * commute) and the partials are added in slab order: the bits of NHWC, without copying x
 * and dy into NHWC first (those whole-batch transposes cost several times the kernel:
 * fmnist2 ran at 0.30 of NHWC's rate). A batch's segments lie in one image (few_bw.c),
 * one pixel run: A reads them at a step of one segment. */
#include <omp.h>
#include <string.h>

#include "core/conv2dt/compose.h"

/* The gather copies runs of kw*F floats RUN at a time (a fixed-size copy the compiler
 * turns into vector moves), reading and writing up to RUN - 1 floats past a run: the next
 * run or pixel overwrites them, and the buffers carry RUN floats of slack. */
#define RUN 8

int tc_ct_nchw_few_bw(const tc_conv2dt_plan *q) {
  return tc_ct_plain_nchw_few(q, TC_CONV2DT_BACKWARD_WEIGHTS) && q->slabs > 0;
}

static size_t pad_bytes(const fgeom *g) {
  return align_up(sizeof(float) * ((size_t)g->kh * (size_t)tc_ct_pad_row_len(g) *
                                       (size_t)tc_ct_bw_batch(g) + RUN));
}

static int64_t row_floats(const fgeom *g) { return panels(tc_ct_small_k(g)) * TC_GEMM_NR; }

static size_t rows_bytes(const fgeom *g) {
  return align_up(sizeof(float) * ((size_t)tc_ct_bw_batch(g) * (size_t)tc_ct_row_seg(g) *
                                       (size_t)row_floats(g) + RUN));
}

static size_t slot_bytes(const fgeom *g) { return pad_bytes(g) + rows_bytes(g); }

static size_t parts_bytes(const tc_conv2dt_plan *q, const fgeom *g) {
  return align_up(sizeof(float) * (size_t)q->slabs * (size_t)tc_ct_small_k(g) * (size_t)g->c);
}

size_t tc_ct_few_bw_nchw_bytes(const tc_conv2dt_plan *q) {
  fgeom g = fgeom_of(q);
  return parts_bytes(q, &g) + (size_t)q->threads * slot_bytes(&g);
}

float *tc_ct_few_bw_nchw_slot(const tc_conv2dt_plan *q, void *ws) {
  fgeom g = fgeom_of(q);
  unsigned char *slot = (unsigned char *)ws + parts_bytes(q, &g) +
                        (size_t)omp_get_thread_num() * slot_bytes(&g);
  memset(slot + pad_bytes(&g) - sizeof(float) * RUN, 0, sizeof(float) * RUN); /* read slack */
  return (float *)(void *)slot;
}

/* G of a batch of nb segments of wn pixels: pixel row k of segment t, Kp floats, holds for
 * each kernel row a the kw*F values that pixel's taps read from padded row a; copied RUN
 * (or, for runs of up to 4, 4: fmnist2) floats at a time. */
static inline __attribute__((always_inline)) void
gather_runs(const fgeom *g, const float *pad, int nb, int wn, float *rows, const int run) {
  const int kwf = g->kw * g->f;
  const int64_t len = tc_ct_pad_row_len(g), unit = (int64_t)g->kh * len, kp = row_floats(g);
  const int64_t step = (int64_t)g->sw * g->f;
  for (int t = 0; t < nb; t++)
    for (int k = 0; k < wn; k++) {
      float *dst = rows + ((int64_t)t * wn + k) * kp;
      const float *src = pad + t * unit + k * step;
      for (int a = 0; a < g->kh; a++)
        for (int e = 0; e < kwf; e += run)
          memcpy(dst + a * kwf + e, src + a * len + e, sizeof(float) * (size_t)run);
    }
}

static void gather_rows(const fgeom *g, const float *pad, int nb, int wn, float *rows) {
  if (g->kw * g->f <= 4)
    gather_runs(g, pad, nb, wn, rows, 4);
  else
    gather_runs(g, pad, nb, wn, rows, RUN);
}

/* Channel c0's plane at the batch's first pixel (its segments are one image's, one pixel
 * run: few_bw.c). */
static const float *batch_x(const fgeom *g, const float *x, int64_t u, int c0) {
  const int wseg = tc_ct_row_seg(g), nseg = (int)ceil_div(g->w, wseg);
  const int64_t plane = (int64_t)g->h * g->w, per_image = (int64_t)g->h * nseg;
  return x + (u / per_image * g->c + c0) * plane + u / nseg % g->h * g->w + u % nseg * wseg;
}

void tc_ct_few_bw_batch_nchw(const fgeom *g, const float *pad, const float *x, int64_t u, int nb,
                             int wn, int c0, int c1, float *part, tc_wide_ukr_fn wide) {
  const int K = tc_ct_small_k(g);
  const int64_t kp = row_floats(g);
  float *rows = (float *)(void *)((unsigned char *)pad + pad_bytes(g));
  const int64_t ld = (int64_t)g->h * g->w;
  const ptrdiff_t as = tc_ct_row_seg(g); /* segments one after another */
  gather_rows(g, pad, nb, wn, rows);
  const float *xa = batch_x(g, x, u, c0);
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int c = c0; c < c1; c += TC_GEMM_MR) {
    int m = imin(TC_GEMM_MR, c1 - c);
    for (int r = 0; r < TC_GEMM_MR; r++)
      a6[r] = xa + (c - c0 + imin(r, m - 1)) * ld;
    for (int j0 = 0; j0 < K; j0 += TC_WIDE_NW) {
      for (int r = 0; r < TC_GEMM_MR; r++)
        c6[r] = part + (int64_t)(c + imin(r, m - 1)) * K + j0;
      tc_wide_steps st = {nb, wn, as, 1, rows + j0, (ptrdiff_t)(wn * kp), kp, TC_GEMM_NR};
      wide(&st, a6, c6, m, imin(TC_WIDE_NW, K - j0), 1);
    }
  }
}

void tc_ct_add_slabs_transposed(const float *part, int S, int K, int C, float *dk) {
  const int64_t kc = (int64_t)K * C;
#pragma omp for schedule(static)
  for (int r = 0; r < K; r++) {
    float *d = dk + (int64_t)r * C;
    for (int c = 0; c < C; c++)
      d[c] = part[(int64_t)c * K + r];
    for (int s = 1; s < S; s++) {
      const float *ps = part + s * kc + r;
      for (int c = 0; c < C; c++)
        d[c] += ps[(int64_t)c * K];
    }
  }
}
