/* direct.c — the direct transposed-convolution kernels: any layout, groups and dilation
 * (the fallback where no fast algorithm applies, and a twin of the fast ones).
 *
 * The kernels use the gather form of the definition in conv2dt.h: each output element is
 * computed whole by one thread, by a fixed loop order, so the result does not depend on
 * the number of threads and no atomics are needed. Accumulation is in float. */
#include <string.h>

#include "core/conv2dt/internal.h"

/* The plan unpacked into named locals shared by every kernel. */
typedef struct geom {
  int64_t n;
  int h, w, c, f, kh, kw, sh, sw, dh, dw, oh, ow, pt, pl;
  int cg, fg; /* channels and filters per group */
  int par;    /* 1 when the call is big enough to be worth waking an OpenMP team */
} geom;

static geom geom_of(const tc_conv2dt_plan *q) {
  const tc_conv2dt_params *p = &q->p;
  geom g = {q->n,        q->h,        q->w,        q->c,        p->filters,
            p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->dilation_h,
            p->dilation_w, q->oh,     q->ow,       q->pad_top,  q->pad_left,
            q->c / p->groups, p->filters / p->groups,
            tc_conv2dt_flops(q) >= TC_CONV2DT_PARALLEL_FLOPS};
  return g;
}

/* Input index i with i*s + off == o inside [0, in), or -1 when no input reaches o. */
static inline int64_t tap_source(int64_t o, int64_t off, int s, int in) {
  int64_t t = o - off;
  if (t < 0 || t % s != 0 || t / s >= in)
    return -1;
  return t / s;
}

static float dot(const float *a, const float *b, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static void axpy(float *y, float alpha, const float *x, int n) {
  for (int i = 0; i < n; i++)
    y[i] += alpha * x[i];
}

/* ---- forward ---- */

/* One output pixel of NHWC: every tap (a, b) that reaches (oi, oj) adds a dot product
 * over the input channels of the filter's group. */
static void fwd_nhwc_pixel(const geom *g, const float *x, const float *k, int64_t n, int oi,
                           int oj, float *yv) {
  for (int a = 0; a < g->kh; a++) {
    int64_t i = tap_source(oi, (int64_t)a * g->dh - g->pt, g->sh, g->h);
    if (i < 0)
      continue;
    for (int b = 0; b < g->kw; b++) {
      int64_t j = tap_source(oj, (int64_t)b * g->dw - g->pl, g->sw, g->w);
      if (j < 0)
        continue;
      const float *xv = x + ((n * g->h + i) * g->w + j) * g->c;
      const float *kt = k + ((int64_t)a * g->kw + b) * g->fg * g->c;
      for (int f = 0; f < g->f; f++) {
        int grp = f / g->fg;
        const float *kv = kt + (int64_t)(f - grp * g->fg) * g->c + grp * g->cg;
        yv[f] += dot(xv + grp * g->cg, kv, g->cg);
      }
    }
  }
}

static void fwd_nhwc(const geom *g, const float *x, const float *k, const float *bias, float *y) {
  /* x: (N,H,W,C) NHWC; k: (kh,kw,F/g,C); y: (N,OH,OW,F) */
  const int64_t rows = g->n * g->oh;
#pragma omp parallel for schedule(static) if (g->par)
  for (int64_t r = 0; r < rows; r++) {
    for (int oj = 0; oj < g->ow; oj++) {
      float *yv = y + (r * g->ow + oj) * g->f;
      for (int f = 0; f < g->f; f++)
        yv[f] = bias ? bias[f] : 0.0f;
      fwd_nhwc_pixel(g, x, k, r / g->oh, (int)(r % g->oh), oj, yv);
    }
  }
}

/* Output row oi of filter f (NCHW): each input channel of the group and each tap row a
 * reaching oi adds its input row, strided by sw, once per tap column b. */
static void fwd_nchw_row(const geom *g, const float *x, const float *k, int64_t n, int oi, int f,
                         float *yrow) {
  int grp = f / g->fg, fp = f - grp * g->fg;
  for (int a = 0; a < g->kh; a++) {
    int64_t i = tap_source(oi, (int64_t)a * g->dh - g->pt, g->sh, g->h);
    if (i < 0)
      continue;
    for (int c = grp * g->cg; c < (grp + 1) * g->cg; c++) {
      const float *xrow = x + ((n * g->c + c) * g->h + i) * g->w;
      for (int b = 0; b < g->kw; b++) {
        float kv = k[(((int64_t)a * g->kw + b) * g->fg + fp) * g->c + c];
        int64_t off = (int64_t)b * g->dw - g->pl;
        int j0, j1;
        tap_range(off, g->sw, g->w, g->ow, &j0, &j1);
        for (int j = j0; j < j1; j++)
          yrow[(int64_t)j * g->sw + off] += kv * xrow[j];
      }
    }
  }
}

static void fwd_nchw(const geom *g, const float *x, const float *k, const float *bias, float *y) {
  /* x: (N,C,H,W) NCHW; k: (kh,kw,F/g,C); y: (N,F,OH,OW) */
  const int64_t rows = g->n * g->oh;
#pragma omp parallel for schedule(static) if (g->par)
  for (int64_t r = 0; r < rows; r++) {
    int64_t n = r / g->oh;
    int oi = (int)(r % g->oh);
    for (int f = 0; f < g->f; f++) {
      float *yrow = y + ((n * g->f + f) * g->oh + oi) * g->ow;
      for (int oj = 0; oj < g->ow; oj++)
        yrow[oj] = bias ? bias[f] : 0.0f;
      fwd_nchw_row(g, x, k, n, oi, f, yrow);
    }
  }
}

void tc_ct_direct_forward(const tc_conv2dt_plan *plan, const float *x, const float *k,
                          const float *bias, float *y) {
  geom g = geom_of(plan);
  if (plan->p.data_format == TC_CHANNELS_LAST)
    fwd_nhwc(&g, x, k, bias, y);
  else
    fwd_nchw(&g, x, k, bias, y);
}

/* ---- backward data ---- */

/* One input pixel of NHWC: every output pixel it reached sends back dy . kernel. */
static void bwd_data_nhwc_pixel(const geom *g, const float *dy, const float *k, int64_t n,
                                int i, int j, float *dxv) {
  for (int a = 0; a < g->kh; a++) {
    int64_t oi = (int64_t)i * g->sh + (int64_t)a * g->dh - g->pt;
    if (oi < 0 || oi >= g->oh)
      continue;
    for (int b = 0; b < g->kw; b++) {
      int64_t oj = (int64_t)j * g->sw + (int64_t)b * g->dw - g->pl;
      if (oj < 0 || oj >= g->ow)
        continue;
      const float *dyv = dy + ((n * g->oh + oi) * g->ow + oj) * g->f;
      const float *kt = k + ((int64_t)a * g->kw + b) * g->fg * g->c;
      for (int f = 0; f < g->f; f++) {
        int grp = f / g->fg;
        const float *kv = kt + (int64_t)(f - grp * g->fg) * g->c + grp * g->cg;
        axpy(dxv + grp * g->cg, dyv[f], kv, g->cg);
      }
    }
  }
}

static void bwd_data_nhwc(const geom *g, const float *dy, const float *k, float *dx) {
  /* dy: (N,OH,OW,F) NHWC; k: (kh,kw,F/g,C); dx: (N,H,W,C) */
  const int64_t rows = g->n * g->h;
#pragma omp parallel for schedule(static) if (g->par)
  for (int64_t r = 0; r < rows; r++) {
    for (int j = 0; j < g->w; j++) {
      float *dxv = dx + (r * g->w + j) * g->c;
      memset(dxv, 0, sizeof(float) * (size_t)g->c);
      bwd_data_nhwc_pixel(g, dy, k, r / g->h, (int)(r % g->h), j, dxv);
    }
  }
}

/* Input row i of channel c (NCHW): gathers the dy rows its taps reached, strided by sw. */
static void bwd_data_nchw_row(const geom *g, const float *dy, const float *k, int64_t n, int i,
                              int c, float *dxrow) {
  int grp = c / g->cg;
  for (int a = 0; a < g->kh; a++) {
    int64_t oi = (int64_t)i * g->sh + (int64_t)a * g->dh - g->pt;
    if (oi < 0 || oi >= g->oh)
      continue;
    for (int fp = 0; fp < g->fg; fp++) {
      const float *dyrow = dy + ((n * g->f + grp * g->fg + fp) * g->oh + oi) * g->ow;
      for (int b = 0; b < g->kw; b++) {
        float kv = k[(((int64_t)a * g->kw + b) * g->fg + fp) * g->c + c];
        int64_t off = (int64_t)b * g->dw - g->pl;
        int j0, j1;
        tap_range(off, g->sw, g->w, g->ow, &j0, &j1);
        for (int j = j0; j < j1; j++)
          dxrow[j] += kv * dyrow[(int64_t)j * g->sw + off];
      }
    }
  }
}

static void bwd_data_nchw(const geom *g, const float *dy, const float *k, float *dx) {
  /* dy: (N,F,OH,OW) NCHW; k: (kh,kw,F/g,C); dx: (N,C,H,W) */
  const int64_t rows = g->n * g->h;
#pragma omp parallel for schedule(static) if (g->par)
  for (int64_t r = 0; r < rows; r++) {
    int64_t n = r / g->h;
    int i = (int)(r % g->h);
    for (int c = 0; c < g->c; c++) {
      float *dxrow = dx + ((n * g->c + c) * g->h + i) * g->w;
      memset(dxrow, 0, sizeof(float) * (size_t)g->w);
      bwd_data_nchw_row(g, dy, k, n, i, c, dxrow);
    }
  }
}

void tc_ct_direct_backward_data(const tc_conv2dt_plan *plan, const float *dy, const float *k,
                                float *dx) {
  geom g = geom_of(plan);
  if (plan->p.data_format == TC_CHANNELS_LAST)
    bwd_data_nhwc(&g, dy, k, dx);
  else
    bwd_data_nchw(&g, dy, k, dx);
}

/* ---- backward weights ---- */

/* dk[a][b][fp][:] for NHWC: over every input pixel that tap (a, b) maps inside the output,
 * x's channels scaled by dy of the filter fp of each group. */
static void bwd_w_nhwc_tap(const geom *g, const float *x, const float *dy, int a, int b, int fp,
                           float *dkrow) {
  int64_t offi = (int64_t)a * g->dh - g->pt, offj = (int64_t)b * g->dw - g->pl;
  int i0, i1, j0, j1;
  tap_range(offi, g->sh, g->h, g->oh, &i0, &i1);
  tap_range(offj, g->sw, g->w, g->ow, &j0, &j1);
  for (int64_t n = 0; n < g->n; n++)
    for (int i = i0; i < i1; i++)
      for (int j = j0; j < j1; j++) {
        const float *xv = x + ((n * g->h + i) * g->w + j) * g->c;
        int64_t oi = (int64_t)i * g->sh + offi, oj = (int64_t)j * g->sw + offj;
        const float *dyv = dy + ((n * g->oh + oi) * g->ow + oj) * g->f;
        for (int grp = 0; grp * g->cg < g->c; grp++)
          axpy(dkrow + grp * g->cg, dyv[grp * g->fg + fp], xv + grp * g->cg, g->cg);
      }
}

/* dk[a][b][fp][c] for NCHW: a dot product of x rows with strided dy rows. */
static float bwd_w_nchw_elem(const geom *g, const float *x, const float *dy, int a, int b,
                             int fp, int c) {
  int64_t offi = (int64_t)a * g->dh - g->pt, offj = (int64_t)b * g->dw - g->pl;
  int64_t f = (int64_t)(c / g->cg) * g->fg + fp;
  int i0, i1, j0, j1;
  tap_range(offi, g->sh, g->h, g->oh, &i0, &i1);
  tap_range(offj, g->sw, g->w, g->ow, &j0, &j1);
  float s = 0.0f;
  for (int64_t n = 0; n < g->n; n++)
    for (int i = i0; i < i1; i++) {
      const float *xrow = x + ((n * g->c + c) * g->h + i) * g->w;
      const float *dyrow = dy + ((n * g->f + f) * g->oh + (int64_t)i * g->sh + offi) * g->ow + offj;
      for (int j = j0; j < j1; j++)
        s += xrow[j] * dyrow[(int64_t)j * g->sw];
    }
  return s;
}

static void bwd_weights(const geom *g, int nchw, const float *x, const float *dy, float *dk) {
  /* x: (N,H,W,C) or (N,C,H,W); dy: (N,OH,OW,F) or (N,F,OH,OW); dk: (kh,kw,F/g,C) */
  const int64_t rows = (int64_t)g->kh * g->kw * g->fg; /* one dk row (all C) per (a,b,fp) */
#pragma omp parallel for schedule(dynamic, 1) if (g->par)
  for (int64_t t = 0; t < rows; t++) {
    int a = (int)(t / ((int64_t)g->kw * g->fg)), b = (int)(t / g->fg % g->kw);
    int fp = (int)(t % g->fg);
    float *dkrow = dk + t * g->c;
    if (nchw) {
      for (int c = 0; c < g->c; c++)
        dkrow[c] = bwd_w_nchw_elem(g, x, dy, a, b, fp, c);
    } else {
      memset(dkrow, 0, sizeof(float) * (size_t)g->c);
      bwd_w_nhwc_tap(g, x, dy, a, b, fp, dkrow);
    }
  }
}

/* The bias gradient sums N*OH*OW terms, far more than any other reduction here, so it
 * accumulates in double: in float its error would grow with the image size. */
void tc_ct_direct_backward_weights(const tc_conv2dt_plan *plan, const float *x, const float *dy,
                                   float *dk) {
  geom g = geom_of(plan);
  bwd_weights(&g, plan->p.data_format == TC_CHANNELS_FIRST, x, dy, dk);
}
