/* bias.c — the bias gradient of every algorithm: dy summed over all but the channels, in
 * double, in an order fixed by the shape. */
#include <string.h>

#include "core/conv2dt/internal.h"

/* What the sums read of the plan. */
typedef struct geom {
  int64_t n;
  int f, oh, ow;
  int par; /* 1 when the call is big enough to be worth waking an OpenMP team */
  tc_colsum_fn colsum; /* the plan's ISA: the same bits on each */
} geom;

/* The bias gradient sums N*OH*OW terms, far more than any other reduction here, so it
 * accumulates in double: in float its error would grow with the image size. */
static void bwd_bias_nchw(const geom *g, const float *dy, float *dbias) {
  /* dy: (N,F,OH,OW); dbias: (F) */
  const int64_t plane = (int64_t)g->oh * g->ow;
#pragma omp parallel for schedule(static) if (g->par)
  for (int f = 0; f < g->f; f++) {
    double s = 0.0;
    for (int64_t n = 0; n < g->n; n++)
      for (int64_t q = 0; q < plane; q++)
        s += dy[(n * g->f + f) * plane + q];
    dbias[f] = (float)s;
  }
}

/* NHWC: the pixels in a fixed number of slabs (a function of the shape only), each read
 * once, whole rows at a time, into 4 double chains by pixel mod 4 (so few filters do not
 * wait on one chain of dependent additions); the chains and then the slabs are added in
 * a fixed order. Filters in blocks of TC_BIAS_FB keep the partial sums on the stack. The
 * rows are summed by the plan's ISA (tc_colsum_fn, core/ukr/ukr.h: the same bits on
 * each; with AVX2 2.7x faster than the baseline build on 16 filters in L1). */
#define TC_BIAS_SLABS 8
#define TC_BIAS_FB TC_COLSUM_MAXN

/* Few filters (F <= TC_BIAS_FLAT): a pixel row is too short to vectorise, so the slab is
 * summed as one flat run of floats into L lanes, L a multiple of F (lane l holds filter
 * l mod F), and the lanes of each filter are added in order. */
#define TC_BIAS_FLAT 8
#define TC_BIAS_LANES 112 /* flat_lanes(7), the most for F <= 8 */
static int flat_lanes(int f) {
  int l = f;
  while (l < 64 || l % 16 != 0)
    l += f;
  return l;
}

/* out[k] = filter k's lanes added in order. */
static void lanes_to_filters(const double *acc, int f, double *out) {
  const int lanes = flat_lanes(f);
  for (int k = 0; k < f; k++) {
    double v = 0.0;
    for (int l = k; l < lanes; l += f)
      v += acc[l];
    out[k] = v;
  }
}

static void bias_slab_flat(const float *dy, int f, int64_t p0, int64_t p1, double *out) {
  const int lanes = flat_lanes(f);
  double acc[TC_BIAS_LANES];
  memset(acc, 0, sizeof acc);
  const float *src = dy + p0 * f;
  int64_t count = (p1 - p0) * f, e = 0;
  for (; e + lanes <= count; e += lanes)
    for (int l = 0; l < lanes; l++)
      acc[l] += src[e + l];
  for (int l = 0; e + l < count; l++)
    acc[l] += src[e + l];
  lanes_to_filters(acc, f, out);
}

/* bias_slab_flat on NCHW dy (plane pixels per image): the element of pixel p and filter k
 * is element (p - p0)*f + k of the NHWC run, so it goes to lane ((p - p0) % per)*f + k
 * (per = lanes / f pixels fill the lanes once), added in the same order. Summed per
 * filter plane (acc[k][i] is lane i*f + k), each image's run of the slab in turn. */
static void bias_slab_flat_nchw(const float *dy, int f, int64_t plane, int64_t p0, int64_t p1,
                                double *out) {
  const int lanes = flat_lanes(f), per = lanes / f;
  double acc[TC_BIAS_LANES], lane[TC_BIAS_LANES];
  memset(acc, 0, sizeof acc);
  for (int64_t p = p0; p < p1;) {
    int64_t n = p / plane, end = (n + 1) * plane < p1 ? (n + 1) * plane : p1;
    for (int k = 0; k < f; k++) {
      const float *src = dy + (n * f + k) * plane - n * plane; /* src[e]: pixel e */
      double *a = acc + k * per;
      int64_t e = p;
      for (int i = (int)((p - p0) % per); i && e < end; e++) /* to the next sweep */
        a[i] += src[e], i = i + 1 == per ? 0 : i + 1;
      for (; e + per <= end; e += per)
        for (int i = 0; i < per; i++)
          a[i] += src[e + i];
      for (int i = 0; e < end; e++, i++)
        a[i] += src[e];
    }
    p = end;
  }
  for (int k = 0; k < f; k++)
    for (int i = 0; i < per; i++)
      lane[i * f + k] = acc[k * per + i];
  lanes_to_filters(lane, f, out);
}

/* bias_slab on NCHW dy: the same pixels in the same chains. */
static void bias_slab_nchw(const float *dy, int f, int64_t plane, int64_t f0, int64_t p0,
                           int64_t p1, int nf, double *out) {
  double s[4][TC_BIAS_FB];
  memset(s, 0, sizeof(double) * 4 * TC_BIAS_FB);
  for (int64_t p = p0; p < p1; p++) {
    const float *px = dy + (p / plane * f + f0) * plane + p % plane;
    double *acc = s[p & 3];
    for (int k = 0; k < nf; k++)
      acc[k] += px[k * plane];
  }
  for (int k = 0; k < nf; k++)
    out[k] = (s[0][k] + s[1][k]) + (s[2][k] + s[3][k]);
}

/* plane: 0 for NHWC dy, else NCHW dy with planes of that many pixels (the NHWC sums). */
static void bwd_bias_nhwc(const geom *g, const float *dy, int64_t plane, float *dbias) {
  /* dy: (N,OH,OW,F); dbias: (F) */
  const int64_t npix = g->n * g->oh * g->ow;
  double part[TC_BIAS_SLABS][TC_BIAS_FB];
  for (int f0 = 0; f0 < g->f; f0 += TC_BIAS_FB) {
    int nf = g->f - f0 < TC_BIAS_FB ? g->f - f0 : TC_BIAS_FB;
#pragma omp parallel for schedule(static) if (g->par)
    for (int sl = 0; sl < TC_BIAS_SLABS; sl++) {
      int64_t p0 = npix * sl / TC_BIAS_SLABS, p1 = npix * (sl + 1) / TC_BIAS_SLABS;
      if (g->f <= TC_BIAS_FLAT && plane)
        bias_slab_flat_nchw(dy, g->f, plane, p0, p1, part[sl]);
      else if (g->f <= TC_BIAS_FLAT)
        bias_slab_flat(dy, g->f, p0, p1, part[sl]);
      else if (plane)
        bias_slab_nchw(dy, g->f, plane, f0, p0, p1, nf, part[sl]);
      else
        g->colsum(dy + f0, g->f, p0, p1, nf, part[sl]);
    }
    for (int k = 0; k < nf; k++) {
      double v = part[0][k];
      for (int sl = 1; sl < TC_BIAS_SLABS; sl++)
        v += part[sl][k];
      dbias[f0 + k] = (float)v;
    }
  }
}

void tc_ct_bias_grad(const tc_conv2dt_plan *plan, const float *dy, float *dbias) {
  geom g = {plan->n, plan->p.filters, plan->oh, plan->ow,
            tc_conv2dt_flops(plan) >= TC_CONV2DT_PARALLEL_FLOPS, plan->ukr->colsum};
  if (plan->p.data_format == TC_CHANNELS_FIRST)
    bwd_bias_nchw(&g, dy, dbias);
  else
    bwd_bias_nhwc(&g, dy, 0, dbias);
}

void tc_ct_bias_grad_nhwc_order(const tc_conv2dt_plan *plan, const float *dy, float *dbias) {
  geom g = {plan->n, plan->p.filters, plan->oh, plan->ow,
            tc_conv2dt_flops(plan) >= TC_CONV2DT_PARALLEL_FLOPS, plan->ukr->colsum};
  bwd_bias_nhwc(&g, dy, (int64_t)plan->oh * plan->ow, dbias);
}

tc_status tc_conv2dt_input_sums(const tc_conv2dt_plan *plan, const float *x, float *sums) {
  if (plan == NULL || x == NULL || sums == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2dt input sums: NULL argument");
  geom g = {plan->n, plan->c, plan->h, plan->w,
            tc_conv2dt_flops(plan) >= TC_CONV2DT_PARALLEL_FLOPS, plan->ukr->colsum};
  if (plan->p.data_format == TC_CHANNELS_FIRST)
    bwd_bias_nchw(&g, x, sums);
  else
    bwd_bias_nhwc(&g, x, 0, sums);
  return TC_OK;
}
