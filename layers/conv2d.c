/* conv2d.c — the Conv2D layer: config, variables, forward. */
#include "layers/conv2d.h"

#include <stdlib.h>
#include <string.h>

#include "core/ops_extra.h"
#include "layers/layer_base.h"

struct tc_conv2d {
  tc_layer_base base; /* name, kernel, bias, activation, activity regularizer */
  tc_conv2d_config cfg;
  tc_conv2d_params params;
  int in_channels;
  tc_conv2d_plan plan; /* for the last input shape seen */
  int planned;
};

tc_conv2d_config tc_conv2d_config_default(int filters, int kernel_h, int kernel_w) {
  tc_conv2d_config c;
  memset(&c, 0, sizeof c);
  c.filters = filters;
  c.kernel_size[0] = kernel_h;
  c.kernel_size[1] = kernel_w;
  c.strides[0] = c.strides[1] = 1;
  c.padding = "valid";
  c.data_format = "channels_last";
  c.dilation_rate[0] = c.dilation_rate[1] = 1;
  c.groups = 1;
  c.common = tc_layer_common_default();
  return c;
}

static tc_status layer_params(const tc_conv2d_config *cfg, int in_channels,
                              tc_conv2d_params *p) {
  *p = tc_conv2d_params_default(cfg->filters, cfg->kernel_size[0], cfg->kernel_size[1]);
  p->stride_h = cfg->strides[0];
  p->stride_w = cfg->strides[1];
  p->dilation_h = cfg->dilation_rate[0];
  p->dilation_w = cfg->dilation_rate[1];
  p->groups = cfg->groups;
  TC_TRY(tc_padding_parse(cfg->padding ? cfg->padding : "valid", &p->padding));
  TC_TRY(tc_data_format_parse(cfg->data_format ? cfg->data_format : "channels_last",
                              &p->data_format));
  /* An input exactly the dilated kernel's size validates every size-related argument
   * once, at create time. */
  int64_t dh = (int64_t)(p->kernel_h - 1) * p->dilation_h + 1;
  int64_t dw = (int64_t)(p->kernel_w - 1) * p->dilation_w + 1;
  tc_conv2d_plan probe;
  return tc_conv2d_plan_create(&probe, p, 1, dh > 0 && dh < 65536 ? (int)dh : 1,
                               dw > 0 && dw < 65536 ? (int)dw : 1, in_channels);
}

tc_status tc_conv2d_create(tc_conv2d **out, tc_model *model, const tc_conv2d_config *cfg,
                           int in_channels) {
  if (out == NULL || model == NULL || cfg == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_conv2d_create: NULL argument");
  *out = NULL;
  tc_conv2d *l = calloc(1, sizeof *l);
  if (l == NULL)
    return tc_set_error(TC_ERR_NOMEM, "conv2d '%s': out of memory",
                        cfg->name ? cfg->name : "conv2d");
  l->cfg = *cfg;
  l->in_channels = in_channels;
  tc_status s = tc_layer_begin(&l->base, model, "conv2d", cfg->name);
  if (s == TC_OK && in_channels <= 0)
    s = tc_set_error(TC_ERR_SHAPE, "in_channels must be positive, got %d", in_channels);
  if (s == TC_OK)
    s = layer_params(cfg, in_channels, &l->params);
  if (s == TC_OK)
    s = tc_layer_take_common(&l->base, &cfg->common);
  int64_t ks[4] = {cfg->kernel_size[0], cfg->kernel_size[1],
                   cfg->groups > 0 ? in_channels / cfg->groups : 0, cfg->filters};
  if (s == TC_OK)
    s = tc_layer_add_kernel_bias(&l->base, &cfg->common, 4, ks, cfg->filters);
  if (s != TC_OK) {
    tc_layer_fail(&l->base, s, cfg->name);
    free(l);
    return s;
  }
  l->cfg.name = NULL; /* the caller's string may not outlive the layer; base.name holds it */
  *out = l;
  return TC_OK;
}

void tc_conv2d_free(tc_conv2d *layer) { free(layer); }

/* Plans for x's shape (cached while the shape stays) and returns a copy in the arena, so
 * that a layer applied twice on one tape keeps both plans alive until backward. */
static tc_status plan_for(tc_conv2d *l, tc_graph *g, const tc_tensor *x,
                          const tc_conv2d_plan **plan) {
  if (x->rank != 4)
    return tc_set_error(TC_ERR_SHAPE, "conv2d '%s': input must be rank 4, got rank %d",
                        l->base.name, x->rank);
  int cl = l->params.data_format == TC_CHANNELS_LAST;
  int64_t c = cl ? x->shape[3] : x->shape[1];
  if (c != l->in_channels)
    return tc_set_error(TC_ERR_SHAPE, "conv2d '%s': input has %lld channels, kernel expects %d",
                        l->base.name, (long long)c, l->in_channels);
  int h = (int)(cl ? x->shape[1] : x->shape[2]), w = (int)(cl ? x->shape[2] : x->shape[3]);
  if (!l->planned || l->plan.n != x->shape[0] || l->plan.h != h || l->plan.w != w) {
    tc_status s = tc_conv2d_plan_create(&l->plan, &l->params, x->shape[0], h, w, (int)c);
    l->planned = s == TC_OK;
    if (s != TC_OK) {
      tc_layer_prefix_error(&l->base);
      return s;
    }
  }
  tc_conv2d_plan *copy = tc_arena_alloc(tc_graph_arena(g), sizeof *copy);
  if (copy == NULL)
    return tc_set_error(TC_ERR_NOMEM, "conv2d '%s': out of memory", l->base.name);
  *copy = l->plan;
  *plan = copy;
  return TC_OK;
}

tc_status tc_conv2d_forward(tc_conv2d *l, tc_graph *g, tc_tensor *x, tc_tensor **y) {
  if (l == NULL || g == NULL || x == NULL || y == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_conv2d_forward: NULL argument");
  const tc_conv2d_plan *plan = NULL;
  TC_TRY(plan_for(l, g, x, &plan));
  tc_layer_require_grads(&l->base);
  tc_param *k = l->base.kernel, *b = l->base.bias;
  tc_tensor *z;
  TC_TRY(tc_op_conv2d(g, x, k->value, b ? b->value : NULL, plan, &z));
  return tc_layer_tail(&l->base, g, z, y);
}

const char *tc_conv2d_name(const tc_conv2d *l) { return l->base.name; }
tc_param *tc_conv2d_kernel(const tc_conv2d *l) { return l->base.kernel; }
tc_param *tc_conv2d_bias(const tc_conv2d *l) { return l->base.bias; }
const tc_conv2d_config *tc_conv2d_config_of(const tc_conv2d *l) { return &l->cfg; }

void tc_conv2d_set_trainable(tc_conv2d *l, int trainable) {
  l->cfg.trainable = trainable != 0;
  tc_layer_set_trainable(&l->base, trainable);
}
