/* ref_conv2d.c — direct conv2d and its two adjoints, in double. */
#include "support/ref_conv2d.h"

#include <string.h>

void tc_ref_conv2d_out_dim(int in, int k, int s, int d, tc_padding pad, int *out, int *lead) {
  int dk = (k - 1) * d + 1;
  if (pad == TC_PADDING_VALID) {
    *out = (in - dk + 1 + s - 1) / s;
    *lead = 0;
    return;
  }
  *out = (in + s - 1) / s;
  int total = (*out - 1) * s + dk - in;
  *lead = total > 0 ? total / 2 : 0;
}

typedef struct ref_geom {
  int64_t n;
  int h, w, c, f, kh, kw, s_h, s_w, d_h, d_w, oh, ow, pt, pl, cg, fg, cl;
} ref_geom;

static ref_geom geom(const tc_conv2d_params *p, int64_t n, int h, int w, int c) {
  ref_geom g = {n, h, w, c, p->filters, p->kernel_h, p->kernel_w, p->stride_h, p->stride_w,
                p->dilation_h, p->dilation_w, 0, 0, 0, 0, c / p->groups, p->filters / p->groups,
                p->data_format == TC_CHANNELS_LAST};
  tc_ref_conv2d_out_dim(h, p->kernel_h, p->stride_h, p->dilation_h, p->padding, &g.oh, &g.pt);
  tc_ref_conv2d_out_dim(w, p->kernel_w, p->stride_w, p->dilation_w, p->padding, &g.ow, &g.pl);
  return g;
}

static int64_t at(int cl, int64_t n, int64_t i, int64_t j, int64_t ch, int64_t H, int64_t W,
                  int64_t C) {
  return cl ? ((n * H + i) * W + j) * C + ch : ((n * C + ch) * H + i) * W + j;
}

/* Runs BODY with the flat indices yi, xi, ki of every (output, input, kernel) triple
 * that meets; taps that fall outside x (padding) are skipped. */
#define REF_FOR_EACH_TAP(g, BODY)                                                          \
  for (int64_t b = 0; b < (g).n; b++)                                                      \
    for (int oi = 0; oi < (g).oh; oi++)                                                    \
      for (int oj = 0; oj < (g).ow; oj++)                                                  \
        for (int co = 0; co < (g).f; co++)                                                 \
          for (int a = 0; a < (g).kh; a++)                                                 \
            for (int e = 0; e < (g).kw; e++) {                                             \
              int ii = oi * (g).s_h + a * (g).d_h - (g).pt;                                \
              int jj = oj * (g).s_w + e * (g).d_w - (g).pl;                                \
              if (ii < 0 || ii >= (g).h || jj < 0 || jj >= (g).w)                          \
                continue;                                                                  \
              int grp = co / (g).fg;                                                       \
              for (int cc = 0; cc < (g).cg; cc++) {                                        \
                int64_t yi = at((g).cl, b, oi, oj, co, (g).oh, (g).ow, (g).f);             \
                int64_t xi = at((g).cl, b, ii, jj, grp * (g).cg + cc, (g).h, (g).w, (g).c); \
                int64_t ki = (((int64_t)a * (g).kw + e) * (g).cg + cc) * (g).f + co;       \
                BODY;                                                                      \
              }                                                                            \
            }

void tc_ref_conv2d_forward(const tc_conv2d_params *p, int64_t n, int h, int w, int c,
                           const float *x, const float *kernel, const float *bias, double *y) {
  ref_geom g = geom(p, n, h, w, c);
  for (int64_t b = 0; b < n; b++)
    for (int oi = 0; oi < g.oh; oi++)
      for (int oj = 0; oj < g.ow; oj++)
        for (int co = 0; co < g.f; co++)
          y[at(g.cl, b, oi, oj, co, g.oh, g.ow, g.f)] = bias ? bias[co] : 0.0;
  REF_FOR_EACH_TAP(g, y[yi] += (double)x[xi] * kernel[ki])
}

void tc_ref_conv2d_backward_data(const tc_conv2d_params *p, int64_t n, int h, int w, int c,
                                 const float *dy, const float *kernel, double *dx) {
  ref_geom g = geom(p, n, h, w, c);
  memset(dx, 0, (size_t)(n * h * w * c) * sizeof(double));
  REF_FOR_EACH_TAP(g, dx[xi] += (double)dy[yi] * kernel[ki])
}

void tc_ref_conv2d_backward_weights(const tc_conv2d_params *p, int64_t n, int h, int w, int c,
                                    const float *x, const float *dy, double *dkernel,
                                    double *dbias) {
  ref_geom g = geom(p, n, h, w, c);
  memset(dkernel, 0, (size_t)(g.kh * g.kw * g.cg * g.f) * sizeof(double));
  REF_FOR_EACH_TAP(g, dkernel[ki] += (double)dy[yi] * x[xi])
  if (dbias == NULL)
    return;
  memset(dbias, 0, (size_t)g.f * sizeof(double));
  for (int64_t b = 0; b < n; b++)
    for (int oi = 0; oi < g.oh; oi++)
      for (int oj = 0; oj < g.ow; oj++)
        for (int co = 0; co < g.f; co++)
          dbias[co] += dy[at(g.cl, b, oi, oj, co, g.oh, g.ow, g.f)];
}
