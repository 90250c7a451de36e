/* regularizer.c — l1, l2, l1_l2, TF1's l2_regularizer and callbacks (docs/strings.md). */
#include "layers/regularizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/spec.h"

static const char *const tc_reg_names[TC_REG_COUNT] = {"none",  "l1",    "l2",
                                                       "l1_l2", "tf_l2", "callback"};

const char *tc_regularizer_name(tc_reg_kind kind) {
  if ((int)kind < 0 || kind >= TC_REG_COUNT)
    return "unknown";
  return tc_reg_names[kind];
}

/* penalty = a Σ|w| + b Σw²; grad += a sign(w) + 2b w. Sums in double so that a large
 * kernel's penalty does not depend on the summation order's rounding. */
static void tc_reg_l1_l2(const tc_tensor *w, double a, double b, double *penalty,
                         float *grad) {
  double s1 = 0, s2 = 0;
  const float *x = w->data;
  for (int64_t i = 0; i < w->size; i++) {
    s1 += fabs((double)x[i]);
    s2 += (double)x[i] * x[i];
  }
  *penalty = a * s1 + b * s2;
  if (grad == NULL)
    return;
  for (int64_t i = 0; i < w->size; i++) {
    double sign = (x[i] > 0) - (x[i] < 0); /* sign(0) = 0, as tf.sign */
    grad[i] += (float)(a * sign + 2.0 * b * x[i]);
  }
}

tc_status tc_regularizer_check(const tc_regularizer *r) {
  if (r == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_regularizer_check: the regularizer is NULL");
  if ((int)r->kind < 0 || r->kind >= TC_REG_COUNT)
    return tc_set_error(TC_ERR_INVALID_ARG, "unknown regularizer kind %d (valid: 0..%d)",
                        (int)r->kind, TC_REG_COUNT - 1);
  if (r->kind == TC_REG_CALLBACK)
    return r->fn != NULL ? TC_OK
                         : tc_set_error(TC_ERR_INVALID_ARG, "callback regularizer has no function");
  /* Keras refuses negative and non-finite factors too (validate_float_arg). */
  int uses_l1 = r->kind == TC_REG_L1 || r->kind == TC_REG_L1_L2;
  int uses_l2 = r->kind != TC_REG_NONE && r->kind != TC_REG_L1;
  if (uses_l1 && !(isfinite(r->l1) && r->l1 >= 0))
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: l1 must be a finite number >= 0, got %g",
                        tc_reg_names[r->kind], (double)r->l1);
  if (uses_l2 && !(isfinite(r->l2) && r->l2 >= 0))
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: %s must be a finite number >= 0, got %g",
                        tc_reg_names[r->kind], r->kind == TC_REG_TF_L2 ? "scale" : "l2",
                        (double)r->l2);
  return TC_OK;
}

tc_status tc_regularizer_apply(const tc_regularizer *r, const tc_tensor *w, double *penalty,
                               float *grad) {
  if (r == NULL || w == NULL || penalty == NULL || w->data == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_regularizer_apply: %s is NULL",
                        r == NULL ? "the regularizer" : w == NULL ? "w"
                                                    : penalty == NULL ? "penalty"
                                                                      : "w->data");
  switch (r->kind) {
  case TC_REG_NONE: *penalty = 0; return TC_OK;
  case TC_REG_L1: tc_reg_l1_l2(w, r->l1, 0, penalty, grad); return TC_OK;
  case TC_REG_L2: tc_reg_l1_l2(w, 0, r->l2, penalty, grad); return TC_OK;
  case TC_REG_L1_L2: tc_reg_l1_l2(w, r->l1, r->l2, penalty, grad); return TC_OK;
  case TC_REG_TF_L2: /* scale * tf.nn.l2_loss(w) = scale/2 * Σw² */
    tc_reg_l1_l2(w, 0, 0.5 * r->l2, penalty, grad);
    return TC_OK;
  case TC_REG_CALLBACK:
    if (r->fn == NULL)
      return tc_set_error(TC_ERR_INVALID_ARG, "callback regularizer has no function");
    *penalty = 0;
    return r->fn(w, penalty, grad, r->ctx);
  default:
    return tc_set_error(TC_ERR_INVALID_ARG, "unknown regularizer kind %d", (int)r->kind);
  }
}

/* ---- parsing ------------------------------------------------------------------------- */

#define TC_REG_GRAMMAR "none | l1[:A] | l2[:B] | l1_l2[:A:B] | tf_l2:SCALE"

static int tc_reg_arity(int kind) {
  return kind == TC_REG_L1_L2 ? 2 : kind == TC_REG_NONE ? 0 : 1;
}

tc_status tc_regularizer_parse(const char *s, tc_regularizer *out) {
  if (s == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_regularizer_parse: %s is NULL",
                        s == NULL ? "the string" : "out");
  tc_spec sp;
  TC_TRY(tc_spec_split(&sp, "regularizer", s, TC_SPEC_MAX_FIELDS, TC_REG_GRAMMAR));
  int kind = tc_spec_lookup(sp.f[0], tc_reg_names, TC_REG_CALLBACK); /* callback: not by name */
  if (kind < 0)
    return tc_spec_error(&sp, "unknown name \"%s\"", sp.f[0]);
  float v[2] = {0.01f, 0.01f}; /* Keras' default factors */
  int n = sp.n - 1;
  for (int i = 0; i < n && i < 2; i++)
    TC_TRY(tc_spec_number(&sp, sp.f[1 + i], "a coefficient (a number >= 0)", 0.0, &v[i]));
  int arity = tc_reg_arity(kind);
  /* l1, l2 and l1_l2 may leave their numbers out (Keras' 0.01); tf_l2 may not. */
  if (n != arity && !(n == 0 && kind != TC_REG_TF_L2))
    return tc_spec_error(&sp, "%s takes %d number(s), got %d", tc_reg_names[kind], arity, n);
  tc_regularizer r = {(tc_reg_kind)kind, 0.0f, 0.0f, NULL, NULL};
  if (kind == TC_REG_L1 || kind == TC_REG_L1_L2)
    r.l1 = v[0];
  if (kind == TC_REG_L2 || kind == TC_REG_TF_L2)
    r.l2 = v[0];
  if (kind == TC_REG_L1_L2)
    r.l2 = v[1];
  *out = r;
  return TC_OK;
}
