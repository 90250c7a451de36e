/* dense.c — the Dense layer: config, variables, forward. */
#include "layers/dense.h"

#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "core/ops_extra.h"
#include "layers/activity.h"
#include "layers/layer_util.h"

struct tc_dense {
  tc_dense_config cfg;
  char name[TC_NAME_MAX];
  int in_features;
  tc_param *kernel;
  tc_param *bias;
};

tc_dense_config tc_dense_config_default(int units) {
  tc_dense_config c;
  memset(&c, 0, sizeof c);
  c.units = units;
  c.activation = tc_activation_make(TC_ACT_LINEAR);
  c.use_bias = 1;
  c.kernel_initializer = tc_initializer_make(TC_INIT_GLOROT_UNIFORM);
  c.bias_initializer = tc_initializer_make(TC_INIT_ZEROS);
  c.trainable = 1;
  return c;
}

static tc_status check_config(const tc_dense_config *cfg, int in_features) {
  if (cfg->units <= 0)
    return tc_set_error(TC_ERR_SHAPE, "units must be positive, got %d", cfg->units);
  if (in_features <= 0)
    return tc_set_error(TC_ERR_SHAPE, "in_features must be positive, got %d", in_features);
  if ((int)cfg->activation.kind < 0 || cfg->activation.kind >= TC_ACT_COUNT)
    return tc_set_error(TC_ERR_INVALID_ARG, "unknown activation kind %d",
                        (int)cfg->activation.kind);
  return TC_OK;
}

static tc_status make_variables(tc_dense *l, tc_model *m) {
  const tc_dense_config *c = &l->cfg;
  tc_var_spec k = {"kernel", TC_PARAM_WEIGHT, c->kernel_initializer, TC_INIT_GLOROT_UNIFORM,
                   c->trainable, c->kernel_regularizer, c->kernel_constraint};
  int64_t ks[2] = {l->in_features, c->units};
  TC_TRY(tc_layer_add_variable(m, l->name, &k, 2, ks, &l->kernel));
  if (!c->use_bias)
    return TC_OK;
  tc_var_spec b = {"bias", TC_PARAM_WEIGHT, c->bias_initializer, TC_INIT_ZEROS,
                   c->trainable, c->bias_regularizer, c->bias_constraint};
  int64_t bs[1] = {c->units};
  return tc_layer_add_variable(m, l->name, &b, 1, bs, &l->bias);
}

tc_status tc_dense_create(tc_dense **out, tc_model *model, const tc_dense_config *cfg,
                          int in_features) {
  if (out == NULL || model == NULL || cfg == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_dense_create: NULL argument");
  *out = NULL;
  const char *shown = cfg->name ? cfg->name : "dense";
  tc_dense *l = calloc(1, sizeof *l);
  if (l == NULL)
    return tc_set_error(TC_ERR_NOMEM, "dense '%s': out of memory", shown);
  l->cfg = *cfg;
  l->in_features = in_features;
  tc_status s = check_config(cfg, in_features);
  if (s == TC_OK)
    s = tc_model_claim_name(model, "dense", cfg->name, l->name);
  if (s == TC_OK)
    s = make_variables(l, model);
  if (s != TC_OK) {
    tc_error_prefix("dense '%s'", l->name[0] ? l->name : shown);
    free(l);
    return s;
  }
  l->cfg.name = NULL; /* the caller's string may not outlive the layer; l->name holds it */
  *out = l;
  return TC_OK;
}

void tc_dense_free(tc_dense *layer) { free(layer); }

/* (..., in) → (rows, in) → matmul → (..., units): Keras' Dense on any rank >= 2. */
static tc_status dense_matmul(tc_dense *l, tc_graph *g, tc_tensor *x, tc_tensor **z) {
  if (x->rank == 2)
    return tc_op_matmul(g, x, l->kernel->value, z);
  int64_t rows[2] = {x->size / l->in_features, l->in_features}, shape[TC_MAX_RANK];
  tc_tensor *x2, *z2;
  TC_TRY(tc_op_reshape(g, x, 2, rows, &x2));
  TC_TRY(tc_op_matmul(g, x2, l->kernel->value, &z2));
  memcpy(shape, x->shape, (size_t)x->rank * sizeof(int64_t));
  shape[x->rank - 1] = l->cfg.units;
  return tc_op_reshape(g, z2, x->rank, shape, z);
}

tc_status tc_dense_forward(tc_dense *l, tc_graph *g, tc_tensor *x, tc_tensor **y) {
  if (l == NULL || g == NULL || x == NULL || y == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_dense_forward: NULL argument");
  if (x->rank < 2)
    return tc_set_error(TC_ERR_SHAPE, "dense '%s': input must be rank 2 or more, got rank %d",
                        l->name, x->rank);
  if (x->shape[x->rank - 1] != l->in_features)
    return tc_set_error(TC_ERR_SHAPE, "dense '%s': input has %lld features, kernel expects %d",
                        l->name, (long long)x->shape[x->rank - 1], l->in_features);
  /* A frozen layer needs no weight gradients; its input still gets one. */
  l->kernel->value->requires_grad = l->kernel->trainable;
  if (l->bias)
    l->bias->value->requires_grad = l->bias->trainable;
  tc_tensor *z, *a;
  TC_TRY(dense_matmul(l, g, x, &z));
  if (l->bias)
    TC_TRY(tc_op_bias_add(g, z, l->bias->value, -1, &z));
  if (l->cfg.activation.kind == TC_ACT_LINEAR)
    a = z;
  else
    TC_TRY(tc_op_activation(g, z, l->cfg.activation, &a));
  if (l->cfg.activity_regularizer.kind != TC_REG_NONE)
    TC_TRY(tc_activity_penalty(g, a, &l->cfg.activity_regularizer, l->name));
  *y = a;
  return TC_OK;
}

const char *tc_dense_name(const tc_dense *l) { return l->name; }
tc_param *tc_dense_kernel(const tc_dense *l) { return l->kernel; }
tc_param *tc_dense_bias(const tc_dense *l) { return l->bias; }
const tc_dense_config *tc_dense_config_of(const tc_dense *l) { return &l->cfg; }

void tc_dense_set_trainable(tc_dense *l, int trainable) {
  l->cfg.trainable = trainable != 0;
  l->kernel->trainable = trainable != 0;
  if (l->bias)
    l->bias->trainable = trainable != 0;
}
