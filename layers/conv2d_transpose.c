/* conv2d_transpose.c — the Conv2DTranspose layer: config, variables, forward. */
#include "layers/conv2d_transpose.h"

#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "layers/layer_base.h"

struct tc_conv2d_transpose {
  tc_layer_base base; /* name, kernel, bias, activation, activity regularizer */
  tc_conv2d_transpose_config cfg;
  tc_conv2dt_params params;
  int in_channels;
  tc_conv2dt_plan plan; /* for the last input shape seen */
  int planned;
};

tc_conv2d_transpose_config tc_conv2d_transpose_config_default(int filters, int kernel_h,
                                                              int kernel_w) {
  tc_conv2d_transpose_config c;
  memset(&c, 0, sizeof c);
  c.filters = filters;
  c.kernel_size[0] = kernel_h;
  c.kernel_size[1] = kernel_w;
  c.strides[0] = c.strides[1] = 1;
  c.padding = "valid";
  c.data_format = "channels_last";
  c.common = tc_layer_common_default();
  c.output_padding[0] = c.output_padding[1] = -1;
  c.dilation_rate[0] = c.dilation_rate[1] = 1;
  c.groups = 1;
  return c;
}

static tc_status tc_layer_params(const tc_conv2d_transpose_config *cfg, tc_conv2dt_params *p) {
  *p = tc_conv2dt_params_default(cfg->filters, cfg->kernel_size[0], cfg->kernel_size[1]);
  p->stride_h = cfg->strides[0];
  p->stride_w = cfg->strides[1];
  TC_TRY(tc_padding_parse(cfg->padding ? cfg->padding : "valid", &p->padding));
  TC_TRY(tc_data_format_parse(cfg->data_format ? cfg->data_format : "channels_last",
                              &p->data_format));
  p->output_padding_h = cfg->output_padding[0];
  p->output_padding_w = cfg->output_padding[1];
  p->dilation_h = cfg->dilation_rate[0];
  p->dilation_w = cfg->dilation_rate[1];
  p->groups = cfg->groups;
  /* A 1x1 input plan validates every size-related argument once, at create time. */
  tc_conv2dt_plan probe;
  return tc_conv2dt_plan_create(&probe, p, 1, 1, 1, cfg->groups > 0 ? cfg->groups : 1);
}

tc_status tc_conv2d_transpose_create(tc_conv2d_transpose **out, tc_model *model,
                                     const tc_conv2d_transpose_config *cfg, int in_channels) {
  if (out == NULL || model == NULL || cfg == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_conv2d_transpose_create: NULL argument");
  *out = NULL;
  tc_conv2d_transpose *l = calloc(1, sizeof *l);
  if (l == NULL)
    return tc_set_error(TC_ERR_NOMEM, "conv2d_transpose '%s': out of memory",
                        cfg->name ? cfg->name : "conv2d_transpose");
  l->cfg = *cfg;
  l->in_channels = in_channels;
  tc_status s = tc_layer_begin(&l->base, model, "conv2d_transpose", cfg->name);
  if (s == TC_OK && in_channels <= 0)
    s = tc_set_error(TC_ERR_SHAPE, "in_channels must be positive, got %d", in_channels);
  if (s == TC_OK)
    s = tc_layer_params(cfg, &l->params);
  if (s == TC_OK && in_channels % cfg->groups != 0)
    s = tc_set_error(TC_ERR_SHAPE, "groups %d does not divide in_channels %d", cfg->groups,
                     in_channels);
  if (s == TC_OK)
    s = tc_layer_take_common(&l->base, &cfg->common);
  int64_t ks[4] = {cfg->kernel_size[0], cfg->kernel_size[1],
                   cfg->groups > 0 ? cfg->filters / cfg->groups : 0, in_channels};
  /* icnr draws one sub-kernel per output phase: it needs the strides */
  l->cfg.common.kernel_initializer.icnr_stride[0] = cfg->strides[0];
  l->cfg.common.kernel_initializer.icnr_stride[1] = cfg->strides[1];
  if (s == TC_OK)
    s = tc_layer_add_kernel_bias(&l->base, &l->cfg.common, 4, ks, cfg->filters);
  if (s != TC_OK) {
    tc_layer_fail(&l->base, s, cfg->name);
    free(l);
    return s;
  }
  l->cfg.name = NULL; /* the caller's string may not outlive the layer; base.name holds it */
  *out = l;
  return TC_OK;
}

void tc_conv2d_transpose_free(tc_conv2d_transpose *layer) { free(layer); }

/* Plans for x's shape (cached while the shape stays) and returns a copy in the arena, so
 * that a layer applied twice on one tape keeps both plans alive until backward. */
static tc_status tc_plan_for(tc_conv2d_transpose *l, tc_graph *g, const tc_tensor *x,
                             const tc_conv2dt_plan **plan) {
  if (x->rank != 4)
    return tc_set_error(TC_ERR_SHAPE, "conv2d_transpose '%s': input must be rank 4, got rank %d",
                        l->base.name, x->rank);
  int cl = l->params.data_format == TC_CHANNELS_LAST;
  int64_t c = cl ? x->shape[3] : x->shape[1];
  if (c != l->in_channels)
    return tc_set_error(TC_ERR_SHAPE,
                        "conv2d_transpose '%s': input has %lld channels, kernel expects %d",
                        l->base.name, (long long)c, l->in_channels);
  int h = (int)(cl ? x->shape[1] : x->shape[2]), w = (int)(cl ? x->shape[2] : x->shape[3]);
  if (!l->planned || l->plan.n != x->shape[0] || l->plan.h != h || l->plan.w != w) {
    tc_status s = tc_conv2dt_plan_create(&l->plan, &l->params, x->shape[0], h, w, (int)c);
    l->planned = s == TC_OK;
    if (s != TC_OK) {
      tc_layer_prefix_error(&l->base);
      return s;
    }
  }
  tc_conv2dt_plan *copy = tc_arena_alloc(tc_graph_arena(g), sizeof *copy);
  if (copy == NULL)
    return tc_set_error(TC_ERR_NOMEM, "conv2d_transpose '%s': out of memory", l->base.name);
  *copy = l->plan;
  *plan = copy;
  return TC_OK;
}

tc_status tc_conv2d_transpose_forward(tc_conv2d_transpose *l, tc_graph *g, tc_tensor *x,
                                      tc_tensor **y) {
  if (l == NULL || g == NULL || x == NULL || y == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_conv2d_transpose_forward: NULL argument");
  const tc_conv2dt_plan *plan = NULL;
  TC_TRY(tc_plan_for(l, g, x, &plan));
  tc_layer_require_grads(&l->base);
  tc_param *k = l->base.kernel, *b = l->base.bias;
  tc_tensor *z;
  TC_TRY(tc_op_conv2d_transpose(g, x, k->value, b ? b->value : NULL, plan, &z));
  return tc_layer_tail(&l->base, g, z, y);
}

const char *tc_conv2d_transpose_name(const tc_conv2d_transpose *l) { return l->base.name; }
tc_param *tc_conv2d_transpose_kernel(const tc_conv2d_transpose *l) { return l->base.kernel; }
tc_param *tc_conv2d_transpose_bias(const tc_conv2d_transpose *l) { return l->base.bias; }
const tc_conv2d_transpose_config *tc_conv2d_transpose_config_of(const tc_conv2d_transpose *l) {
  return &l->cfg;
}

void tc_conv2d_transpose_set_trainable(tc_conv2d_transpose *l, int trainable) {
  l->cfg.trainable = trainable != 0;
  tc_layer_set_trainable(&l->base, trainable);
}
