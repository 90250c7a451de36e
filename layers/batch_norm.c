/* batch_norm.c — the BatchNormalization layer: config, variables, forward. */
#include "layers/batch_norm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ops_extra.h"
#include "layers/layer_base.h"

struct tc_batch_norm {
  tc_layer_base base; /* name; kernel = gamma, bias = beta (either may be NULL) */
  tc_batch_norm_config cfg;
  int channels;
  int axis; /* resolved from axis / data_format */
  tc_param *moving_mean, *moving_variance;
};

tc_batch_norm_config tc_batch_norm_config_default(void) {
  tc_batch_norm_config c;
  memset(&c, 0, sizeof c);
  c.axis = -1;
  c.momentum = 0.99f;
  c.epsilon = 1e-3f;
  c.center = c.scale = 1;
  c.beta_initializer = tc_initializer_make(TC_INIT_ZEROS);
  c.gamma_initializer = tc_initializer_make(TC_INIT_ONES);
  c.moving_mean_initializer = tc_initializer_make(TC_INIT_ZEROS);
  c.moving_variance_initializer = tc_initializer_make(TC_INIT_ONES);
  c.fused = -1;
  c.trainable = 1;
  return c;
}

static tc_status resolve_axis(const tc_batch_norm_config *c, int *axis) {
  *axis = c->axis;
  if (c->data_format == NULL)
    return TC_OK;
  if (strcasecmp(c->data_format, "channels_last") == 0 || strcasecmp(c->data_format, "NHWC") == 0)
    *axis = -1;
  else if (strcasecmp(c->data_format, "channels_first") == 0 ||
           strcasecmp(c->data_format, "NCHW") == 0)
    *axis = 1;
  else
    return tc_set_error(TC_ERR_INVALID_ARG, "unknown data_format '%s'; expected "
                        "'channels_last' or 'channels_first'", c->data_format);
  if (c->axis != -1 && c->axis != *axis)
    return tc_set_error(TC_ERR_INVALID_ARG, "axis %d contradicts data_format '%s' (axis %d)",
                        c->axis, c->data_format, *axis);
  return TC_OK;
}

static tc_status check_config(const tc_batch_norm_config *c, int channels, int *axis) {
  if (channels <= 0)
    return tc_set_error(TC_ERR_SHAPE, "channels must be positive, got %d", channels);
  if (!(c->momentum >= 0.0f && c->momentum <= 1.0f))
    return tc_set_error(TC_ERR_INVALID_ARG, "momentum must be in [0, 1], got %g",
                        (double)c->momentum);
  if (!(c->epsilon > 0.0f) || isinf(c->epsilon))
    return tc_set_error(TC_ERR_INVALID_ARG, "epsilon must be positive and finite, got %g",
                        (double)c->epsilon);
  if (c->fused < -1 || c->fused > 1)
    return tc_set_error(TC_ERR_INVALID_ARG, "fused must be -1 (auto), 0 or 1, got %d",
                        c->fused);
  if (c->renorm != 0 || c->virtual_batch_size != 0)
    return tc_set_error(TC_ERR_UNSUPPORTED,
                        "%s is not implemented (renorm %d, virtual_batch_size %d; docs/ops.md)",
                        c->renorm != 0 ? "renorm" : "virtual_batch_size", c->renorm,
                        c->virtual_batch_size);
  return resolve_axis(c, axis);
}

static tc_status make_variables(tc_batch_norm *l) {
  const tc_batch_norm_config *c = &l->cfg;
  int64_t s[1] = {l->channels};
  tc_regularizer none_r = {0};
  tc_constraint none_c = {0};
  tc_var_spec gamma = {"gamma", TC_PARAM_WEIGHT, c->gamma_initializer, TC_INIT_ONES,
                       c->trainable, c->gamma_regularizer, c->gamma_constraint};
  tc_var_spec beta = {"beta", TC_PARAM_WEIGHT, c->beta_initializer, TC_INIT_ZEROS,
                      c->trainable, c->beta_regularizer, c->beta_constraint};
  tc_var_spec mean = {"moving_mean", TC_PARAM_STATE, c->moving_mean_initializer,
                      TC_INIT_ZEROS, 0, none_r, none_c};
  tc_var_spec var = {"moving_variance", TC_PARAM_STATE, c->moving_variance_initializer,
                     TC_INIT_ONES, 0, none_r, none_c};
  if (c->scale)
    TC_TRY(tc_layer_add_variable(&l->base, &gamma, 1, s, &l->base.kernel));
  if (c->center)
    TC_TRY(tc_layer_add_variable(&l->base, &beta, 1, s, &l->base.bias));
  TC_TRY(tc_layer_add_variable(&l->base, &mean, 1, s, &l->moving_mean));
  return tc_layer_add_variable(&l->base, &var, 1, s, &l->moving_variance);
}

tc_status tc_batch_norm_create(tc_batch_norm **out, tc_model *model,
                               const tc_batch_norm_config *cfg, int channels) {
  if (out == NULL || model == NULL || cfg == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_batch_norm_create: NULL argument");
  *out = NULL;
  tc_batch_norm *l = calloc(1, sizeof *l);
  if (l == NULL)
    return tc_set_error(TC_ERR_NOMEM, "batch_normalization '%s': out of memory",
                        cfg->name ? cfg->name : "batch_normalization");
  l->cfg = *cfg;
  l->channels = channels;
  tc_status s = tc_layer_begin(&l->base, model, "batch_normalization", cfg->name);
  if (s == TC_OK)
    s = check_config(cfg, channels, &l->axis);
  if (s == TC_OK)
    s = make_variables(l);
  if (s != TC_OK) {
    tc_layer_fail(&l->base, s, cfg->name);
    free(l);
    return s;
  }
  l->cfg.name = NULL; /* the caller's string may not outlive the layer */
  l->cfg.data_format = NULL; /* resolved into axis */
  l->cfg.axis = l->axis;
  *out = l;
  return TC_OK;
}

void tc_batch_norm_free(tc_batch_norm *layer) { free(layer); }

/* The channel axis of x (checked) and whether TF would run its fused kernel on it. */
static tc_status check_input(const tc_batch_norm *l, const tc_tensor *x, int *ax, int *fused) {
  if (x->rank < 2)
    return tc_set_error(TC_ERR_SHAPE,
                        "batch_normalization '%s': input must be rank 2 or more, got rank %d",
                        l->base.name, x->rank);
  *ax = l->axis < 0 ? x->rank + l->axis : l->axis;
  if (*ax < 0 || *ax >= x->rank)
    return tc_set_error(TC_ERR_SHAPE, "batch_normalization '%s': axis %d is out of range for "
                        "rank %d", l->base.name, l->axis, x->rank);
  if (x->shape[*ax] != l->channels)
    return tc_set_error(TC_ERR_SHAPE, "batch_normalization '%s': input has %lld channels on "
                        "axis %d, the layer expects %d", l->base.name, (long long)x->shape[*ax],
                        *ax, l->channels);
  int can = x->rank == 4 && (*ax == 1 || *ax == 3);
  if (l->cfg.fused == 1 && !can)
    return tc_set_error(TC_ERR_SHAPE, "batch_normalization '%s': fused needs a rank-4 input "
                        "with the channel axis 1 or 3, got rank %d, axis %d", l->base.name,
                        x->rank, *ax);
  *fused = l->cfg.fused == 1 || (l->cfg.fused == -1 && can);
  return TC_OK;
}

tc_status tc_batch_norm_forward(tc_batch_norm *l, tc_graph *g, tc_tensor *x, int training,
                                tc_tensor **y) {
  if (l == NULL || g == NULL || x == NULL || y == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_batch_norm_forward: NULL argument");
  int ax = 0, fused = 0;
  TC_TRY(check_input(l, x, &ax, &fused));
  tc_layer_require_grads(&l->base);
  tc_param *gamma = l->base.kernel, *beta = l->base.bias;
  tc_batch_norm_args a = tc_batch_norm_args_default();
  a.axis = ax;
  a.epsilon = l->cfg.epsilon;
  a.momentum = l->cfg.momentum;
  a.training = training != 0;
  a.update_moving = training != 0;
  a.unbiased_moving_variance = fused;
  tc_status s = tc_op_batch_norm(g, x, gamma ? gamma->value : NULL,
                                 beta ? beta->value : NULL, l->moving_mean->value,
                                 l->moving_variance->value, &a, y);
  if (s != TC_OK)
    tc_error_prefix("batch_normalization '%s'", l->base.name);
  return s;
}

const char *tc_batch_norm_name(const tc_batch_norm *l) { return l->base.name; }
tc_param *tc_batch_norm_gamma(const tc_batch_norm *l) { return l->base.kernel; }
tc_param *tc_batch_norm_beta(const tc_batch_norm *l) { return l->base.bias; }
tc_param *tc_batch_norm_moving_mean(const tc_batch_norm *l) { return l->moving_mean; }
tc_param *tc_batch_norm_moving_variance(const tc_batch_norm *l) { return l->moving_variance; }
const tc_batch_norm_config *tc_batch_norm_config_of(const tc_batch_norm *l) { return &l->cfg; }

void tc_batch_norm_set_trainable(tc_batch_norm *l, int trainable) {
  l->cfg.trainable = trainable != 0;
  tc_layer_set_trainable(&l->base, trainable);
}
