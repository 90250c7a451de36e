/* conv2d.h — ordinary 2-D convolution (tf.nn.conv2d / Keras Conv2D), built on the three
 * transposed-convolution kernels of core/conv2dt.h.
 *
 *   tc_conv2d_params p = tc_conv2d_params_default(32, 3, 3);   // 32 filters, 3x3 kernel
 *   p.stride_h = p.stride_w = 2; p.padding = TC_PADDING_SAME;
 *   tc_conv2d_plan plan;
 *   if (tc_conv2d_plan_create(&plan, &p, n, h, w, c) != TC_OK) ...;   // validates once
 *   void *ws = tc_aligned_alloc(plan.workspace_bytes);
 *   tc_conv2d_fwd(&plan, x, kernel, bias, y, ws);
 *   tc_conv2d_bwd_data(&plan, dy, kernel, dx, ws);
 *   tc_conv2d_bwd_weights(&plan, x, dy, dkernel, dbias, ws);
 *
 * Why it reuses conv2dt: a convolution's forward is a transposed convolution's input
 * gradient and vice versa. A conv2d from (H, W, Cin) to (OH, OW, Cout) is the transposed
 * convolution from (OH, OW, C = Cout) to (H, W, F = Cin) with the same kernel (kh, kw,
 * Cin/groups, Cout) — Keras' Conv2D layout is exactly conv2dt's (kh, kw, F/groups, C) — and
 * the same strides, dilation, groups and leading crop (pad_top, pad_left). So
 *   conv2d forward          = conv2dt backward_data(dy := x)
 *   conv2d input gradient   = conv2dt forward(x := dy, bias = NULL)
 *   conv2d kernel gradient  = conv2dt backward_weights(x := dy, dy := x)
 * and the bias gradient is dy summed per output channel. One optimized kernel set serves
 * both layers.
 *
 * Layouts: x is (N,H,W,Cin) for channels_last, (N,Cin,H,W) for channels_first; y and dy
 * are (N,OH,OW,Cout) or (N,Cout,OH,OW); the kernel is (kh, kw, Cin/groups, Cout); bias
 * is (Cout). Semantics are TF's (docs/layers.md):
 *   dk  = (k-1)*d + 1                                   (dilated kernel extent)
 *   OH  = valid: floor((H - dk)/s) + 1 (needs H >= dk);  same: ceil(H/s)
 *   pad_total = max((OH-1)*s + dk - H, 0), pad_top = pad_total/2 (valid: 0)
 *   y[n][i][j][co] = bias[co] + Σ x[n][i*s + a*d - pad_top][j*s + b*d - pad_left][ci]
 *                                   * k[a][b][ci'][co]   (taps outside x count as 0)
 * with groups g: output channel co belongs to group co/(Cout/g), ci = group*(Cin/g)+ci'.
 *
 * The kernels are tc_conv2d_fwd/_bwd_* because tc_conv2d_* is the Conv2D layer's prefix
 * (layers/conv2d.h). They overwrite their outputs, never allocate, never print and give
 * bit-identical results for any number of OpenMP threads; they check only for NULL
 * pointers. */
#ifndef TC_CONV2D_H
#define TC_CONV2D_H

#include "core/conv2dt.h"

typedef struct tc_conv2d_params {
  int filters;                /* Cout */
  int kernel_h, kernel_w;
  int stride_h, stride_w;     /* default 1 */
  tc_padding padding;         /* default valid */
  tc_data_format data_format; /* default channels_last */
  int dilation_h, dilation_w; /* default 1; Keras forbids dilation > 1 with stride > 1 */
  int groups;                 /* default 1; divides Cin and Cout */
} tc_conv2d_params;

typedef struct tc_conv2d_plan {
  tc_conv2d_params p;
  int64_t n;             /* batch */
  int h, w, c;           /* input height, width, channels (Cin) */
  int oh, ow;            /* output height, width */
  int pad_top, pad_left; /* leading padding; the trailing rest is pad_total - pad_top */
  int64_t x_size, y_size, kernel_size; /* element counts */
  size_t workspace_bytes;
  tc_conv2dt_plan t;     /* the transposed convolution read backwards */
} tc_conv2d_plan;

/* TF defaults: strides 1, valid, channels_last, dilation 1, groups 1. */
tc_conv2d_params tc_conv2d_params_default(int filters, int kernel_h, int kernel_w);

/* Validates params against an input of n x h x w x c and fills the plan. Errors, each
 * naming "conv2d" and the numbers: TC_ERR_INVALID_ARG (NULL, bad enum, dilation > 1 with
 * stride > 1, as Keras), TC_ERR_SHAPE (non-positive sizes, groups that do not divide Cin
 * and Cout, a valid convolution whose input is smaller than the dilated kernel). */
tc_status tc_conv2d_plan_create(tc_conv2d_plan *plan, const tc_conv2d_params *p, int64_t n,
                                int h, int w, int c);

/* FLOPs of one kernel call: 2*N*OH*OW*Cout*(Cin/groups)*kh*kw. */
double tc_conv2d_flops(const tc_conv2d_plan *plan);

/* y = conv2d(x, kernel) + bias (bias may be NULL). */
tc_status tc_conv2d_fwd(const tc_conv2d_plan *plan, const float *x, const float *kernel,
                        const float *bias, float *y, void *workspace);

/* dx = d(sum(y*dy))/dx. */
tc_status tc_conv2d_bwd_data(const tc_conv2d_plan *plan, const float *dy,
                             const float *kernel, float *dx, void *workspace);

/* dkernel = d(sum(y*dy))/dkernel (may be NULL); dbias (may be NULL) = dy summed over all
 * but the channel axis. */
tc_status tc_conv2d_bwd_weights(const tc_conv2d_plan *plan, const float *x,
                                const float *dy, float *dkernel, float *dbias,
                                void *workspace);

#endif
