/* dense.c — the Dense layer: config, variables, forward. */
#include "layers/dense.h"

#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "core/ops_extra.h"
#include "layers/layer_base.h"

struct tc_dense {
  tc_layer_base base; /* name, kernel, bias, activation, activity regularizer */
  tc_dense_config cfg;
  int in_features;
};

tc_dense_config tc_dense_config_default(int units) {
  tc_dense_config c;
  memset(&c, 0, sizeof c);
  c.units = units;
  c.common = tc_layer_common_default();
  return c;
}

static tc_status check_config(const tc_dense_config *cfg, int in_features) {
  if (cfg->units <= 0)
    return tc_set_error(TC_ERR_SHAPE, "units must be positive, got %d", cfg->units);
  if (in_features <= 0)
    return tc_set_error(TC_ERR_SHAPE, "in_features must be positive, got %d", in_features);
  return TC_OK;
}

tc_status tc_dense_create(tc_dense **out, tc_model *model, const tc_dense_config *cfg,
                          int in_features) {
  if (out == NULL || model == NULL || cfg == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_dense_create: NULL argument");
  *out = NULL;
  tc_dense *l = calloc(1, sizeof *l);
  if (l == NULL)
    return tc_set_error(TC_ERR_NOMEM, "dense '%s': out of memory",
                        cfg->name ? cfg->name : "dense");
  l->cfg = *cfg;
  l->in_features = in_features;
  tc_status s = tc_layer_begin(&l->base, model, "dense", cfg->name);
  if (s == TC_OK)
    s = check_config(cfg, in_features);
  if (s == TC_OK)
    s = tc_layer_take_common(&l->base, &cfg->common);
  int64_t ks[2] = {in_features, cfg->units};
  if (s == TC_OK)
    s = tc_layer_add_kernel_bias(&l->base, &cfg->common, 2, ks, cfg->units);
  if (s != TC_OK) {
    tc_layer_fail(&l->base, s, cfg->name);
    free(l);
    return s;
  }
  l->cfg.name = NULL; /* the caller's string may not outlive the layer; base.name holds it */
  *out = l;
  return TC_OK;
}

void tc_dense_free(tc_dense *layer) { free(layer); }

/* (..., in) → (rows, in) → matmul → (..., units): Keras' Dense on any rank >= 2. */
static tc_status dense_matmul(tc_dense *l, tc_graph *g, tc_tensor *x, tc_tensor **z) {
  if (x->rank == 2)
    return tc_op_matmul(g, x, l->base.kernel->value, z);
  int64_t rows[2] = {x->size / l->in_features, l->in_features}, shape[TC_MAX_RANK];
  tc_tensor *x2, *z2;
  TC_TRY(tc_op_reshape(g, x, 2, rows, &x2));
  TC_TRY(tc_op_matmul(g, x2, l->base.kernel->value, &z2));
  memcpy(shape, x->shape, (size_t)x->rank * sizeof(int64_t));
  shape[x->rank - 1] = l->cfg.units;
  return tc_op_reshape(g, z2, x->rank, shape, z);
}

tc_status tc_dense_forward(tc_dense *l, tc_graph *g, tc_tensor *x, tc_tensor **y) {
  if (l == NULL || g == NULL || x == NULL || y == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_dense_forward: NULL argument");
  if (x->rank < 2)
    return tc_set_error(TC_ERR_SHAPE, "dense '%s': input must be rank 2 or more, got rank %d",
                        l->base.name, x->rank);
  if (x->shape[x->rank - 1] != l->in_features)
    return tc_set_error(TC_ERR_SHAPE, "dense '%s': input has %lld features, kernel expects %d",
                        l->base.name, (long long)x->shape[x->rank - 1], l->in_features);
  tc_layer_require_grads(&l->base);
  tc_tensor *z;
  TC_TRY(dense_matmul(l, g, x, &z));
  if (l->base.bias)
    TC_TRY(tc_op_bias_add(g, z, l->base.bias->value, -1, &z));
  return tc_layer_tail(&l->base, g, z, y);
}

const char *tc_dense_name(const tc_dense *l) { return l->base.name; }
tc_param *tc_dense_kernel(const tc_dense *l) { return l->base.kernel; }
tc_param *tc_dense_bias(const tc_dense *l) { return l->base.bias; }
const tc_dense_config *tc_dense_config_of(const tc_dense *l) { return &l->cfg; }

void tc_dense_set_trainable(tc_dense *l, int trainable) {
  l->cfg.trainable = trainable != 0;
  tc_layer_set_trainable(&l->base, trainable);
}
