/* conv2d.c — convolution as the transposed convolution read backwards: the plan and the
 * three kernels (thin wrappers over core/conv2dt.h). The op is in ops_conv2d.c. */
#include "core/conv2d.h"

tc_conv2d_params tc_conv2d_params_default(int filters, int kernel_h, int kernel_w) {
  tc_conv2d_params p = {filters, kernel_h, kernel_w, 1, 1, TC_PADDING_VALID,
                        TC_CHANNELS_LAST, 1, 1, 1};
  return p;
}

static tc_status check_params(const tc_conv2d_params *p) {
  if (p->padding != TC_PADDING_VALID && p->padding != TC_PADDING_SAME)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d: unknown padding %d", (int)p->padding);
  if (p->data_format != TC_CHANNELS_LAST && p->data_format != TC_CHANNELS_FIRST)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d: unknown data_format %d",
                        (int)p->data_format);
  if (p->filters <= 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d: filters must be positive, got %d", p->filters);
  if (p->kernel_h <= 0 || p->kernel_w <= 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d: kernel_size must be positive, got %dx%d",
                        p->kernel_h, p->kernel_w);
  if (p->stride_h <= 0 || p->stride_w <= 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d: strides must be positive, got %dx%d",
                        p->stride_h, p->stride_w);
  if (p->dilation_h <= 0 || p->dilation_w <= 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d: dilation_rate must be positive, got %dx%d",
                        p->dilation_h, p->dilation_w);
  if ((p->dilation_h > 1 || p->dilation_w > 1) && (p->stride_h > 1 || p->stride_w > 1))
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "conv2d: dilation_rate %dx%d with strides %dx%d; Keras allows "
                        "dilation > 1 only with stride 1",
                        p->dilation_h, p->dilation_w, p->stride_h, p->stride_w);
  if (p->groups <= 0 || p->filters % p->groups != 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d: groups %d does not divide filters %d",
                        p->groups, p->filters);
  return TC_OK;
}

/* Output length and leading pad along one axis, TF's rules. */
static tc_status out_dim(const char *axis, int in, int k, int s, int d, tc_padding pad,
                         int *out, int *lead) {
  int64_t dk = (int64_t)(k - 1) * d + 1;
  if (pad == TC_PADDING_VALID && in < dk)
    return tc_set_error(TC_ERR_SHAPE,
                        "conv2d: input %s %d is smaller than the dilated kernel %lld "
                        "(valid padding)",
                        axis, in, (long long)dk);
  int64_t len = pad == TC_PADDING_SAME ? ((int64_t)in + s - 1) / s : (in - dk) / s + 1;
  int64_t total = (len - 1) * s + dk - in;
  *out = (int)len;
  *lead = pad == TC_PADDING_SAME && total > 0 ? (int)(total / 2) : 0;
  return TC_OK;
}

static tc_status check_input(const tc_conv2d_params *p, int64_t n, int h, int w, int c) {
  if (n <= 0 || h <= 0 || w <= 0 || c <= 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d: input %lld x %d x %d x %d has a size <= 0",
                        (long long)n, h, w, c);
  if (c % p->groups != 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d: groups %d does not divide input channels %d",
                        p->groups, c);
  return TC_OK;
}

tc_status tc_conv2d_plan_create(tc_conv2d_plan *plan, const tc_conv2d_params *p, int64_t n,
                                int h, int w, int c) {
  if (plan == NULL || p == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d: plan or params is NULL");
  TC_TRY(check_params(p));
  TC_TRY(check_input(p, n, h, w, c));
  tc_conv2d_plan q = {.p = *p, .n = n, .h = h, .w = w, .c = c};
  TC_TRY(out_dim("height", h, p->kernel_h, p->stride_h, p->dilation_h, p->padding, &q.oh,
                 &q.pad_top));
  TC_TRY(out_dim("width", w, p->kernel_w, p->stride_w, p->dilation_w, p->padding, &q.ow,
                 &q.pad_left));
  /* The transposed convolution maps (OH, OW, Cout) back onto (H, W, Cin). */
  tc_conv2dt_params tp = tc_conv2dt_params_default(c, p->kernel_h, p->kernel_w);
  tp.stride_h = p->stride_h;
  tp.stride_w = p->stride_w;
  tp.data_format = p->data_format;
  tp.dilation_h = p->dilation_h;
  tp.dilation_w = p->dilation_w;
  tp.groups = p->groups;
  tc_status s = tc_conv2dt_plan_create_explicit(&q.t, &tp, n, q.oh, q.ow, p->filters, h, w,
                                                q.pad_top, q.pad_left);
  if (s != TC_OK) {
    tc_error_prefix("conv2d");
    return s;
  }
  q.x_size = q.t.y_size;
  q.y_size = q.t.x_size;
  q.kernel_size = q.t.kernel_size;
  q.workspace_bytes = q.t.workspace_bytes;
  *plan = q;
  return TC_OK;
}

double tc_conv2d_flops(const tc_conv2d_plan *plan) {
  return plan ? tc_conv2dt_flops(&plan->t) : 0.0;
}

/* y[.., co, ..] += bias[co] in either layout, one loop each so that they vectorize;
 * parallel over the batch (each image owns its slice of y). */
static void add_bias(const tc_conv2d_plan *q, const float *bias, float *y) {
  int64_t hw = (int64_t)q->oh * q->ow, f = q->p.filters;
  int cl = q->p.data_format == TC_CHANNELS_LAST;
#pragma omp parallel for if (q->y_size > 65536) schedule(static)
  for (int64_t n = 0; n < q->n; n++) {
    float *yn = y + n * hw * f;
    for (int64_t p = 0; cl && p < hw; p++)
      for (int64_t co = 0; co < f; co++)
        yn[p * f + co] += bias[co];
    for (int64_t co = 0; !cl && co < f; co++)
      for (int64_t p = 0; p < hw; p++)
        yn[co * hw + p] += bias[co];
  }
}

tc_status tc_conv2d_fwd(const tc_conv2d_plan *plan, const float *x, const float *kernel,
                        const float *bias, float *y, void *workspace) {
  if (plan == NULL || x == NULL || kernel == NULL || y == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d fwd: NULL argument");
  TC_TRY(tc_conv2dt_backward_data(&plan->t, x, kernel, y, workspace));
  if (bias != NULL)
    add_bias(plan, bias, y);
  return TC_OK;
}

tc_status tc_conv2d_bwd_data(const tc_conv2d_plan *plan, const float *dy,
                             const float *kernel, float *dx, void *workspace) {
  if (plan == NULL || dy == NULL || kernel == NULL || dx == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d bwd_data: NULL argument");
  return tc_conv2dt_forward(&plan->t, dy, kernel, NULL, dx, workspace);
}

tc_status tc_conv2d_bwd_weights(const tc_conv2d_plan *plan, const float *x,
                                const float *dy, float *dkernel, float *dbias,
                                void *workspace) {
  if (plan == NULL || x == NULL || dy == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d bwd_weights: NULL argument");
  /* In the transposed view dy is the input and x the output gradient; conv2dt's own bias
   * gradient would sum x, so the bias gradient is taken here. */
  if (dkernel != NULL)
    TC_TRY(tc_conv2dt_backward_weights(&plan->t, dy, x, dkernel, NULL, workspace));
  if (dbias != NULL) /* dy is the transposed view's input */
    TC_TRY(tc_conv2dt_input_sums(&plan->t, dy, dbias));
  return TC_OK;
}
