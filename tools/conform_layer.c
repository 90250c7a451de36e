/* conform_layer.c — `kind layer` cases, and the layer-from-attrs builder that the train
 * cases share. */
#include <stdio.h>
#include <string.h>

#include "core/ops.h"
#include "tools/conform_compare.h"
#include "tools/conform_internal.h"

static void tc_attr_key(const char *prefix, const char *key, char *out, size_t cap) {
  snprintf(out, cap, "%s%s", prefix, key);
}

/* Reads the §3 layer attrs (with a prefix such as "l0.") into cfg. */
static tc_status tc_layer_attrs(const tc_case *c, const char *prefix,
                                tc_conv2d_transpose_config *cfg) {
  char key[TC_CASE_NAME_MAX];
  int filters, kh, kw, sh, sw, use_bias;
  tc_attr_key(prefix, "filters", key, sizeof key);
  TC_TRY(tc_case_int(c, key, 0, &filters));
  tc_attr_key(prefix, "kernel_size", key, sizeof key);
  TC_TRY(tc_case_int(c, key, 0, &kh));
  TC_TRY(tc_case_int(c, key, 1, &kw));
  *cfg = tc_conv2d_transpose_config_default(filters, kh, kw);
  tc_attr_key(prefix, "strides", key, sizeof key);
  TC_TRY(tc_case_int(c, key, 0, &sh));
  TC_TRY(tc_case_int(c, key, 1, &sw));
  cfg->strides[0] = sh;
  cfg->strides[1] = sw;
  tc_attr_key(prefix, "padding", key, sizeof key);
  TC_TRY(tc_case_str(c, key, &cfg->padding));
  tc_attr_key(prefix, "data_format", key, sizeof key);
  TC_TRY(tc_case_str(c, key, &cfg->data_format));
  const char *act;
  tc_attr_key(prefix, "activation", key, sizeof key);
  TC_TRY(tc_case_str(c, key, &act));
  TC_TRY(tc_activation_parse(act, &cfg->activation));
  tc_attr_key(prefix, "use_bias", key, sizeof key);
  TC_TRY(tc_case_int(c, key, 0, &use_bias));
  cfg->use_bias = use_bias;
  return TC_OK;
}

/* The optional training attrs: regularizers, constraints, trainable. */
static tc_status tc_training_attrs(const tc_case *c, const char *prefix,
                                   tc_conv2d_transpose_config *cfg) {
  char key[TC_CASE_NAME_MAX], spec[256];
  const tc_case_attr *a;
  static const char *const regs[3] = {"kernel_regularizer", "bias_regularizer",
                                      "activity_regularizer"};
  tc_regularizer *reg_fields[3] = {&cfg->kernel_regularizer, &cfg->bias_regularizer,
                                   &cfg->activity_regularizer};
  for (int i = 0; i < 3; i++) {
    tc_attr_key(prefix, regs[i], key, sizeof key);
    if ((a = tc_case_attr_find(c, key)) != NULL) {
      tc_conform_spec(a, spec, sizeof spec);
      TC_TRY(tc_regularizer_parse(spec, reg_fields[i]));
    }
  }
  static const char *const cons[2] = {"kernel_constraint", "bias_constraint"};
  tc_constraint *con_fields[2] = {&cfg->kernel_constraint, &cfg->bias_constraint};
  for (int i = 0; i < 2; i++) {
    tc_attr_key(prefix, cons[i], key, sizeof key);
    if ((a = tc_case_attr_find(c, key)) != NULL) {
      tc_conform_spec(a, spec, sizeof spec);
      TC_TRY(tc_constraint_parse(spec, con_fields[i]));
    }
  }
  tc_attr_key(prefix, "trainable", key, sizeof key);
  if (tc_case_attr_find(c, key) != NULL)
    TC_TRY(tc_case_int(c, key, 0, &cfg->trainable));
  return TC_OK;
}

tc_status tc_conform_build_layer(const tc_case *c, const char *prefix, tc_model *m,
                                 int in_channels, const char *kernel_name,
                                 const char *bias_name, tc_conv2d_transpose **out) {
  tc_conv2d_transpose_config cfg;
  TC_TRY(tc_layer_attrs(c, prefix, &cfg));
  TC_TRY(tc_training_attrs(c, prefix, &cfg));
  TC_TRY(tc_conv2d_transpose_create(out, m, &cfg, in_channels));
  const tc_case_tensor *k = tc_case_tensor_find(c, kernel_name);
  tc_param *kp = tc_conv2d_transpose_kernel(*out), *bp = tc_conv2d_transpose_bias(*out);
  if (k == NULL || k->size != kp->value->size)
    return tc_set_error(TC_ERR_FORMAT, "tensor '%s' is missing or does not fit the kernel",
                        kernel_name);
  memcpy(kp->value->data, k->data, (size_t)k->size * sizeof(float));
  if (bp != NULL) {
    const tc_case_tensor *b = tc_case_tensor_find(c, bias_name);
    if (b == NULL || b->size != bp->value->size)
      return tc_set_error(TC_ERR_FORMAT, "tensor '%s' is missing or does not fit the bias",
                          bias_name);
    memcpy(bp->value->data, b->data, (size_t)b->size * sizeof(float));
  }
  return TC_OK;
}

tc_status tc_conform_input(const tc_case *c, const char *name, int grad, tc_tensor **out) {
  const tc_case_tensor *t = tc_case_tensor_find(c, name);
  if (t == NULL)
    return tc_set_error(TC_ERR_FORMAT, "case '%s' has no tensor '%s'", c->name, name);
  TC_TRY(tc_tensor_create(out, t->rank, t->shape));
  memcpy((*out)->data, t->data, (size_t)t->size * sizeof(float));
  return grad ? tc_tensor_require_grad(*out) : TC_OK;
}

int tc_conform_channels(const tc_tensor *x, const char *data_format) {
  return (int)(strcmp(data_format, "channels_first") == 0 ? x->shape[1] : x->shape[3]);
}

/* L = sum(y * dy); backward gives dx, dkernel, dbias. */
static tc_status tc_layer_case(const tc_case *c, tc_model *m, tc_graph *g, tc_tensor **x,
                               tc_tensor **dy, tc_conv2d_transpose **layer, tc_conform_outcome *out) {
  const char *fmt;
  TC_TRY(tc_case_str(c, "data_format", &fmt));
  TC_TRY(tc_conform_input(c, "x", 1, x));
  TC_TRY(tc_conform_input(c, "dy", 0, dy));
  TC_TRY(tc_conform_build_layer(c, "", m, tc_conform_channels(*x, fmt), "kernel", "bias", layer));
  tc_tensor *y, *prod, *loss;
  TC_TRY(tc_conv2d_transpose_forward(*layer, g, *x, &y));
  TC_TRY(tc_op_mul(g, y, *dy, &prod));
  TC_TRY(tc_op_sum(g, prod, &loss));
  TC_TRY(tc_graph_backward(g, loss));
  const double tol = 1e-4; /* docs/conformance.md */
  tc_conform_compare(c, "y", y->data, y->rank, y->shape, tol, tol, out);
  tc_conform_compare(c, "dx", (*x)->grad, (*x)->rank, (*x)->shape, tol, tol, out);
  tc_param *kp = tc_conv2d_transpose_kernel(*layer), *bp = tc_conv2d_transpose_bias(*layer);
  tc_conform_compare(c, "dkernel", kp->value->grad, kp->value->rank, kp->value->shape, tol, tol,
                     out);
  if (bp)
    tc_conform_compare(c, "dbias", bp->value->grad, bp->value->rank, bp->value->shape, tol,
                       tol, out);
  return TC_OK;
}

void tc_conform_layer(const tc_case *c, tc_conform_outcome *out) {
  tc_model *m = NULL;
  tc_graph *g = NULL;
  tc_tensor *x = NULL, *dy = NULL;
  tc_conv2d_transpose *layer = NULL;
  tc_status s = tc_model_create(&m, 0);
  if (s == TC_OK)
    s = tc_graph_create(&g);
  if (s == TC_OK)
    s = tc_layer_case(c, m, g, &x, &dy, &layer, out);
  if (s != TC_OK)
    tc_conform_fail_run(out, "layer");
  tc_conv2d_transpose_free(layer);
  tc_tensor_free(x);
  tc_tensor_free(dy);
  tc_graph_free(g);
  tc_model_free(m);
}
