/* ref_conv2d.h — the plain reference for ordinary 2-D convolution, for the tests.
 *
 * A direct gather loop over (image, output pixel, output channel, tap, input channel),
 * in double, straight from TF's definition: the output size comes from tf.nn.conv2d's
 * rules written independently of tc_conv2d_plan_create (valid: ceil((in - dk + 1)/s);
 * same: ceil(in/s), pad_total = max((out-1)*s + dk - in, 0), pad_top = pad_total/2).
 * Handles both layouts, groups and dilation; trusts its arguments; slow on purpose. */
#ifndef TC_REF_CONV2D_H
#define TC_REF_CONV2D_H

#include <stdint.h>

#include "core/conv2d.h"

void tc_ref_conv2d_out_dim(int in, int k, int s, int d, tc_padding pad, int *out, int *lead);

/* y = conv2d(x, kernel) + bias (bias may be NULL); kernel (kh, kw, c/groups, filters). */
void tc_ref_conv2d_forward(const tc_conv2d_params *p, int64_t n, int h, int w, int c,
                           const float *x, const float *kernel, const float *bias, double *y);

/* dx = gradient of sum(y * dy) with respect to x. */
void tc_ref_conv2d_backward_data(const tc_conv2d_params *p, int64_t n, int h, int w, int c,
                                 const float *dy, const float *kernel, double *dx);

/* dkernel and dbias (may be NULL) = gradients of sum(y * dy). */
void tc_ref_conv2d_backward_weights(const tc_conv2d_params *p, int64_t n, int h, int w, int c,
                                    const float *x, const float *dy, double *dkernel,
                                    double *dbias);

#endif
