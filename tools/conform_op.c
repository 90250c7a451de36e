/* conform_op.c — `kind op` cases (docs/ops.md): one graph op, its output and the
 * gradients of L = sum(y · G) for every input but the labels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "core/ops_layout.h"
#include "core/ops_losses.h"
#include "core/ops_norm.h"
#include "core/ops_resize.h"
#include "tools/conform_compare.h"
#include "tools/conform_internal.h"

#define TC_OP_MAX_INPUTS 16

typedef struct tc_op_inputs {
  tc_tensor *t[TC_OP_MAX_INPUTS];
  const char *name[TC_OP_MAX_INPUTS];
  int n;
} tc_op_inputs;

static tc_tensor *tc_in(const tc_op_inputs *in, const char *name) {
  for (int i = 0; i < in->n; i++)
    if (strcmp(in->name[i], name) == 0)
      return in->t[i];
  return NULL;
}

/* A float attr value; TC_ERR_FORMAT naming the case when missing or malformed. */
static tc_status tc_case_float(const tc_case *c, const char *key, int index, float *out) {
  const tc_case_attr *a = tc_case_attr_find(c, key);
  if (a == NULL || index >= a->n_values)
    return tc_set_error(TC_ERR_FORMAT, "case '%s': attr '%s' is missing or has too few values",
                        c->name, key);
  char *end;
  *out = strtof(a->values[index], &end);
  if (*end != '\0' || end == a->values[index])
    return tc_set_error(TC_ERR_FORMAT, "case '%s': attr '%s' value '%s' is not a number",
                        c->name, key, a->values[index]);
  return TC_OK;
}

/* An optional 0/1 attr with a default. */
static tc_status tc_case_flag(const tc_case *c, const char *key, int dflt, int *out) {
  *out = dflt;
  return tc_case_attr_find(c, key) ? tc_case_int(c, key, 0, out) : TC_OK;
}

static tc_status tc_op_needs(const tc_tensor *t, const char *name, const tc_case *c) {
  return t ? TC_OK : tc_set_error(TC_ERR_FORMAT, "case '%s' has no tensor '%s'", c->name, name);
}

static tc_status tc_op_resize_case(const tc_case *c, tc_graph *g, tc_tensor *x, int bilinear,
                                   tc_tensor **y) {
  int oh, ow, ac, hp;
  TC_TRY(tc_case_int(c, "size", 0, &oh));
  TC_TRY(tc_case_int(c, "size", 1, &ow));
  TC_TRY(tc_case_flag(c, "align_corners", 0, &ac));
  TC_TRY(tc_case_flag(c, "half_pixel_centers", 0, &hp));
  if (ac && hp)
    return tc_set_error(TC_ERR_FORMAT, "case '%s': align_corners and half_pixel_centers are both "
                                       "1 (TF rejects that)", c->name);
  tc_resize_mode mode = hp ? TC_RESIZE_HALF_PIXEL : ac ? TC_RESIZE_ALIGN_CORNERS : TC_RESIZE_LEGACY;
  return tc_op_resize(g, x, oh, ow, bilinear ? TC_RESIZE_BILINEAR : TC_RESIZE_NEAREST, mode, 0, y);
}

static tc_status tc_op_pad_case(const tc_case *c, tc_graph *g, tc_tensor *x, tc_tensor **y) {
  const char *mode_s;
  tc_pad_mode mode;
  float cv = 0.0f;
  int64_t pads[2 * TC_MAX_RANK];
  TC_TRY(tc_case_str(c, "mode", &mode_s));
  TC_TRY(tc_pad_mode_parse(mode_s, &mode));
  if (tc_case_attr_find(c, "constant_value"))
    TC_TRY(tc_case_float(c, "constant_value", 0, &cv));
  for (int i = 0; i < 2 * x->rank; i++) {
    int v;
    TC_TRY(tc_case_int(c, "paddings", i, &v));
    pads[i] = v;
  }
  return tc_op_pad(g, x, pads, mode, cv, y);
}

static tc_status tc_op_crop_case(const tc_case *c, tc_graph *g, tc_tensor *x, tc_tensor **y) {
  int cr[4];
  for (int i = 0; i < 4; i++)
    TC_TRY(tc_case_int(c, "cropping", i, &cr[i]));
  return tc_op_crop2d(g, x, cr[0], cr[1], cr[2], cr[3], 0, y);
}

static tc_status tc_op_norm_case(const tc_case *c, const char *op, tc_graph *g,
                                 const tc_op_inputs *in, tc_tensor **y) {
  tc_tensor *x = tc_in(in, "x"), *gamma = tc_in(in, "gamma"), *beta = tc_in(in, "beta");
  TC_TRY(tc_op_needs(x, "x", c));
  float eps;
  int center, scale;
  TC_TRY(tc_case_float(c, "epsilon", 0, &eps));
  TC_TRY(tc_case_flag(c, "center", 1, &center));
  TC_TRY(tc_case_flag(c, "scale", 1, &scale));
  gamma = scale ? gamma : NULL;
  beta = center ? beta : NULL;
  if (strcmp(op, "instance_norm") == 0)
    return tc_op_instance_norm(g, x, gamma, beta, eps, 0, y);
  if (strcmp(op, "group_norm") == 0) {
    int groups;
    TC_TRY(tc_case_int(c, "groups", 0, &groups));
    return tc_op_group_norm(g, x, gamma, beta, groups, eps, 0, y);
  }
  const tc_case_attr *a = tc_case_attr_find(c, "axes");
  if (a == NULL)
    return tc_set_error(TC_ERR_FORMAT, "case '%s': attr 'axes' is missing", c->name);
  int axes[TC_MAX_RANK], n = a->n_values < TC_MAX_RANK ? a->n_values : TC_MAX_RANK;
  for (int i = 0; i < n; i++)
    TC_TRY(tc_case_int(c, "axes", i, &axes[i]));
  return tc_op_layer_norm(g, x, gamma, beta, n, axes, eps, y);
}

static tc_status tc_op_loss_case(const tc_case *c, const char *op, tc_graph *g,
                                 const tc_op_inputs *in, tc_tensor **y) {
  tc_tensor *l = tc_in(in, "labels"), *p = tc_in(in, "predictions"), *z = tc_in(in, "logits");
  TC_TRY(tc_op_needs(l, "labels", c));
  const char *red_s = "mean";
  if (tc_case_attr_find(c, "reduction"))
    TC_TRY(tc_case_str(c, "reduction", &red_s));
  if (strcmp(red_s, "mean") != 0 && strcmp(red_s, "sum") != 0)
    return tc_set_error(TC_ERR_FORMAT, "case '%s': reduction '%s' is not mean or sum", c->name,
                        red_s);
  tc_loss_reduction red = strcmp(red_s, "sum") == 0 ? TC_REDUCE_SUM : TC_REDUCE_MEAN;
  float v = 0.0f;
  if (strstr(op, "cross_entropy") != NULL) {
    TC_TRY(tc_op_needs(z, "logits", c));
    if (tc_case_attr_find(c, "label_smoothing"))
      TC_TRY(tc_case_float(c, "label_smoothing", 0, &v));
    if (op[1] == 'o')
      return tc_op_softmax_cross_entropy(g, z, l, v, red, y);
    return tc_op_sigmoid_cross_entropy(g, z, l, v, red, y);
  }
  TC_TRY(tc_op_needs(p, "predictions", c));
  if (strcmp(op, "mean_absolute_error") == 0)
    return tc_op_mae(g, p, l, red, y);
  if (strcmp(op, "huber") == 0) {
    TC_TRY(tc_case_float(c, "delta", 0, &v));
    return tc_op_huber(g, p, l, v, red, y);
  }
  const char *dom = "minus_one_one";
  if (tc_case_attr_find(c, "labels_domain"))
    TC_TRY(tc_case_str(c, "labels_domain", &dom));
  return tc_op_hinge(g, p, l, strcmp(dom, "zero_one") == 0, red, y);
}

static tc_status tc_op_elementwise_case(const tc_case *c, const char *op, tc_graph *g,
                                        tc_tensor *x, tc_tensor **y) {
  tc_activation act;
  TC_TRY(tc_activation_parse(op, &act));
  if (act.kind == TC_ACT_LEAKY_RELU)
    TC_TRY(tc_case_float(c, "alpha", 0, &act.alpha));
  return tc_op_activation(g, x, act, y);
}

/* Builds y from the inputs as the case's `op` attr says. */
static tc_status tc_op_build(const tc_case *c, tc_graph *g, const tc_op_inputs *in,
                             tc_tensor **y) {
  const char *op;
  TC_TRY(tc_case_str(c, "op", &op));
  tc_tensor *x = tc_in(in, "x");
  if (strcmp(op, "concat") == 0) {
    tc_tensor *xs[5];
    int n = 0, axis;
    char name[8];
    for (; n < 5; n++) {
      snprintf(name, sizeof name, "x%d", n);
      if ((xs[n] = tc_in(in, name)) == NULL)
        break;
    }
    TC_TRY(tc_case_int(c, "axis", 0, &axis));
    return tc_op_concat(g, n, xs, axis, y);
  }
  if (strstr(op, "_norm") != NULL)
    return tc_op_norm_case(c, op, g, in, y);
  if (tc_in(in, "labels") != NULL)
    return tc_op_loss_case(c, op, g, in, y);
  TC_TRY(tc_op_needs(x, "x", c));
  if (strncmp(op, "resize_", 7) == 0)
    return tc_op_resize_case(c, g, x, strcmp(op, "resize_bilinear") == 0, y);
  if (strcmp(op, "pad") == 0)
    return tc_op_pad_case(c, g, x, y);
  if (strcmp(op, "crop") == 0)
    return tc_op_crop_case(c, g, x, y);
  return tc_op_elementwise_case(c, op, g, x, y);
}

/* Every tensor of the case but y, G and the goldens is an input; all but the labels
 * require a gradient. */
static tc_status tc_op_load(const tc_case *c, tc_op_inputs *in) {
  for (int i = 0; i < c->n_tensors; i++) {
    const char *name = c->tensors[i].name;
    if (strcmp(name, "y") == 0 || strcmp(name, "G") == 0 || strncmp(name, "grad.", 5) == 0)
      continue;
    if (in->n == TC_OP_MAX_INPUTS)
      return tc_set_error(TC_ERR_FORMAT, "case '%s': more than %d inputs", c->name,
                          TC_OP_MAX_INPUTS);
    TC_TRY(tc_conform_input(c, name, strcmp(name, "labels") != 0, &in->t[in->n]));
    in->name[in->n++] = name;
  }
  return TC_OK;
}

/* An input the op did not read: its gradient buffer was never touched by backward. */
static int tc_op_unused(const tc_tensor *t) {
  for (int64_t i = 0; i < t->size; i++)
    if (t->grad[i] != 0.0f)
      return 0;
  return 1;
}

static tc_status tc_op_case(const tc_case *c, tc_graph *g, tc_op_inputs *in, tc_tensor **G,
                            tc_conform_outcome *out) {
  TC_TRY(tc_op_load(c, in));
  TC_TRY(tc_conform_input(c, "G", 0, G));
  tc_tensor *y, *prod, *loss;
  TC_TRY(tc_op_build(c, g, in, &y));
  const tc_case_tensor *gold = tc_case_tensor_find(c, "y");
  if (gold != NULL && (gold->rank != y->rank ||
                       memcmp(gold->shape, y->shape, (size_t)y->rank * sizeof(int64_t)) != 0)) {
    char sy[96];
    return tc_set_error(TC_ERR_SHAPE, "the output is %s, the golden 'y' has another shape",
                        tc_shape_str(y, sy, sizeof sy));
  }
  TC_TRY(tc_op_mul(g, y, *G, &prod));
  TC_TRY(tc_op_sum(g, prod, &loss));
  TC_TRY(tc_graph_backward(g, loss));
  const double tol = 1e-4; /* docs/conformance.md */
  tc_conform_compare(c, "y", y->data, y->rank, y->shape, tol, tol, out);
  for (int i = 0; i < in->n; i++) {
    char name[TC_CASE_NAME_MAX + 8];
    if (!in->t[i]->requires_grad)
      continue;
    snprintf(name, sizeof name, "grad.%s", in->name[i]);
    if (tc_case_tensor_find(c, name) == NULL && tc_op_unused(in->t[i]))
      continue; /* e.g. a beta that center 0 leaves out: TF has no gradient for it */
    tc_conform_compare(c, name, in->t[i]->grad, in->t[i]->rank, in->t[i]->shape, tol, tol,
                       out);
  }
  return TC_OK;
}

void tc_conform_op(const tc_case *c, tc_conform_outcome *out) {
  tc_graph *g = NULL;
  tc_op_inputs in;
  tc_tensor *G = NULL;
  memset(&in, 0, sizeof in);
  tc_status s = tc_graph_create(&g);
  if (s == TC_OK)
    s = tc_op_case(c, g, &in, &G, out);
  if (s != TC_OK)
    tc_conform_fail_run(out, "op");
  for (int i = 0; i < in.n; i++)
    tc_tensor_free(in.t[i]);
  tc_tensor_free(G);
  tc_graph_free(g);
}
