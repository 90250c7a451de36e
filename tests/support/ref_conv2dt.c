/* ref_conv2dt.c — direct scatter-add reference (see ref_conv2dt.h). */
#include "support/ref_conv2dt.h"

void tc_ref_conv2dt_out_dim(int in, int k, int s, int d, int op, tc_padding pad, int *out,
                            int *lead) {
  int64_t dk = (int64_t)(k - 1) * d + 1;
  int64_t len;
  if (op < 0 && pad == TC_PADDING_VALID)
    len = (int64_t)in * s + (dk - s > 0 ? dk - s : 0);
  else if (op < 0)
    len = (int64_t)in * s;
  else if (pad == TC_PADDING_VALID)
    len = (int64_t)(in - 1) * s + dk + op;
  else
    len = (int64_t)(in - 1) * s + dk - 2 * (dk / 2) + op;
  int64_t pad_total = (int64_t)(in - 1) * s + dk - len;
  *out = (int)len;
  *lead = pad == TC_PADDING_SAME && pad_total > 0 ? (int)(pad_total / 2) : 0;
}

typedef enum { REF_FORWARD, REF_BACKWARD_DATA, REF_BACKWARD_WEIGHTS } ref_mode;

/* Offset of element (n, row, col, ch) of a tensor with the given sizes in p's layout. */
static int64_t at(const tc_conv2dt_params *p, int64_t n, int64_t row, int64_t col, int64_t ch,
                  int64_t rows, int64_t cols, int64_t chans) {
  if (p->data_format == TC_CHANNELS_LAST)
    return ((n * rows + row) * cols + col) * chans + ch;
  return ((n * chans + ch) * rows + row) * cols + col;
}

/* Visits every term x[n][i][j][c] * k[a][b][fp][c] -> y[n][oi][oj][f] of the definition
 * and applies it in the direction `mode` asks for. */
static void ref_scatter(ref_mode mode, const tc_conv2dt_params *p, int64_t n_, int h, int w,
                        int c_, const float *x, const float *k, const float *dy, double *out) {
  int oh, ow, pt, pl;
  tc_ref_conv2dt_out_dim(h, p->kernel_h, p->stride_h, p->dilation_h, p->output_padding_h,
                         p->padding, &oh, &pt);
  tc_ref_conv2dt_out_dim(w, p->kernel_w, p->stride_w, p->dilation_w, p->output_padding_w,
                         p->padding, &ow, &pl);
  int F = p->filters, cg = c_ / p->groups, fg = F / p->groups;
  for (int64_t n = 0; n < n_; n++)
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++)
        for (int c = 0; c < c_; c++)
          for (int a = 0; a < p->kernel_h; a++)
            for (int b = 0; b < p->kernel_w; b++)
              for (int fp = 0; fp < fg; fp++) {
                int f = (c / cg) * fg + fp;
                int oi = i * p->stride_h + a * p->dilation_h - pt;
                int oj = j * p->stride_w + b * p->dilation_w - pl;
                if (oi < 0 || oi >= oh || oj < 0 || oj >= ow)
                  continue;
                int64_t xo = at(p, n, i, j, c, h, w, c_);
                int64_t yo = at(p, n, oi, oj, f, oh, ow, F);
                int64_t ko = (((int64_t)a * p->kernel_w + b) * fg + fp) * c_ + c;
                if (mode == REF_FORWARD)
                  out[yo] += (double)x[xo] * k[ko];
                else if (mode == REF_BACKWARD_DATA)
                  out[xo] += (double)dy[yo] * k[ko];
                else
                  out[ko] += (double)x[xo] * dy[yo];
              }
}

/* Number of output pixels per image, for the bias terms. */
static int64_t out_plane(const tc_conv2dt_params *p, int h, int w) {
  int oh, ow, pt, pl;
  tc_ref_conv2dt_out_dim(h, p->kernel_h, p->stride_h, p->dilation_h, p->output_padding_h,
                         p->padding, &oh, &pt);
  tc_ref_conv2dt_out_dim(w, p->kernel_w, p->stride_w, p->dilation_w, p->output_padding_w,
                         p->padding, &ow, &pl);
  return (int64_t)oh * ow;
}

static void zero(double *v, int64_t count) {
  for (int64_t i = 0; i < count; i++)
    v[i] = 0.0;
}

void tc_ref_conv2dt_forward(const tc_conv2dt_params *p, int64_t n, int h, int w, int c,
                            const float *x, const float *kernel, const float *bias, double *y) {
  int64_t plane = out_plane(p, h, w), F = p->filters;
  zero(y, n * plane * F);
  ref_scatter(REF_FORWARD, p, n, h, w, c, x, kernel, NULL, y);
  if (!bias)
    return;
  for (int64_t e = 0; e < n * plane * F; e++) {
    /* channel of flat element e: innermost for NHWC, second dim for NCHW */
    int64_t f = p->data_format == TC_CHANNELS_LAST ? e % F : e / plane % F;
    y[e] += bias[f];
  }
}

void tc_ref_conv2dt_backward_data(const tc_conv2dt_params *p, int64_t n, int h, int w, int c,
                                  const float *dy, const float *kernel, double *dx) {
  zero(dx, n * h * w * c);
  ref_scatter(REF_BACKWARD_DATA, p, n, h, w, c, NULL, kernel, dy, dx);
}

void tc_ref_conv2dt_backward_weights(const tc_conv2dt_params *p, int64_t n, int h, int w,
                                     int c, const float *x, const float *dy, double *dkernel,
                                     double *dbias) {
  int64_t plane = out_plane(p, h, w), F = p->filters;
  zero(dkernel, (int64_t)p->kernel_h * p->kernel_w * (F / p->groups) * c);
  ref_scatter(REF_BACKWARD_WEIGHTS, p, n, h, w, c, x, NULL, dy, dkernel);
  if (!dbias)
    return;
  zero(dbias, F);
  for (int64_t e = 0; e < n * plane * F; e++) {
    int64_t f = p->data_format == TC_CHANNELS_LAST ? e % F : e / plane % F;
    dbias[f] += dy[e];
  }
}
