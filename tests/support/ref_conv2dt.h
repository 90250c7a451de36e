/* ref_conv2dt.h — the plain reference for transposed 2-D convolution, for the tests.
 *
 *   double *y = malloc(...);
 *   tc_ref_conv2dt_forward(&p, n, h, w, c, x, kernel, bias, y);
 *
 * Straight from docs/semantics.md and core/conv2dt.h: one scatter-add loop over every
 * (input pixel, input channel, tap, filter) that lands inside the output, accumulated and
 * returned in double. It derives the output size and the crop itself (Keras
 * deconv_output_length and TF's SAME rule), independently of tc_conv2dt_plan_create, and
 * handles both layouts, groups, dilation and output_padding. It trusts its arguments
 * (sizes already valid); it is slow on purpose and meant only for small shapes.
 * Outputs are overwritten; the caller owns every buffer. */
#ifndef TC_REF_CONV2DT_H
#define TC_REF_CONV2DT_H

#include <stdint.h>

#include "core/conv2dt.h"

/* Output length and leading crop along one axis: in, kernel, stride, dilation,
 * output_padding (-1 = none), padding. */
void tc_ref_conv2dt_out_dim(int in, int k, int s, int d, int op, tc_padding pad, int *out,
                            int *lead);

/* y (shape of the output, p->data_format) = conv2d_transpose(x) + bias (bias may be NULL). */
void tc_ref_conv2dt_forward(const tc_conv2dt_params *p, int64_t n, int h, int w, int c,
                            const float *x, const float *kernel, const float *bias, double *y);

/* dx (shape of x) = gradient of sum(y * dy) with respect to x. */
void tc_ref_conv2dt_backward_data(const tc_conv2dt_params *p, int64_t n, int h, int w, int c,
                                  const float *dy, const float *kernel, double *dx);

/* dkernel (kh,kw,F/groups,C) and dbias (F; may be NULL) = gradients of sum(y * dy). */
void tc_ref_conv2dt_backward_weights(const tc_conv2dt_params *p, int64_t n, int h, int w,
                                     int c, const float *x, const float *dy, double *dkernel,
                                     double *dbias);

#endif
