/* regularizer.c — l1, l2, l1_l2, TF1's l2_regularizer and callbacks (FORMAT.md §4). */
#include "layers/regularizer.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* A coefficient field: a finite number >= 0 filling the whole field. */
static int tc_reg_number(const char *field, size_t len, float *out) {
  char tmp[64];
  if (len == 0 || len >= sizeof tmp)
    return -1;
  memcpy(tmp, field, len);
  tmp[len] = '\0';
  char *end = NULL;
  errno = 0;
  double v = strtod(tmp, &end);
  if (end != tmp + len || errno == ERANGE || !isfinite(v) || v < 0)
    return -1;
  *out = (float)v;
  return 0;
}

/* Case-insensitive match of the name part s[0..len) against the kinds; -1 if none. */
static int tc_reg_lookup(const char *s, size_t len) {
  for (int k = TC_REG_NONE; k < TC_REG_CALLBACK; k++) {
    const char *name = tc_reg_names[k];
    if (strlen(name) != len)
      continue;
    size_t i = 0;
    while (i < len && tolower((unsigned char)s[i]) == name[i])
      i++;
    if (i == len)
      return k;
  }
  return -1;
}

static int tc_reg_arity(int kind) {
  return kind == TC_REG_L1_L2 ? 2 : kind == TC_REG_NONE ? 0 : 1;
}

tc_status tc_regularizer_parse(const char *s, tc_regularizer *out) {
  if (s == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_regularizer_parse: %s is NULL",
                        s == NULL ? "the string" : "out");
  const char *colon = strchr(s, ':');
  size_t name_len = colon ? (size_t)(colon - s) : strlen(s);
  int kind = tc_reg_lookup(s, name_len);
  if (kind < 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "regularizer \"%s\": unknown name; expected "
                        TC_REG_GRAMMAR, s);
  /* Collect the numbers after the name. */
  float v[3];
  int n = 0;
  for (const char *p = colon; p != NULL && n <= 2;) {
    const char *next = strchr(p + 1, ':');
    size_t len = next ? (size_t)(next - p - 1) : strlen(p + 1);
    if (n < 2 && tc_reg_number(p + 1, len, &v[n]) != 0)
      return tc_set_error(TC_ERR_INVALID_ARG, "regularizer \"%s\": expected a coefficient "
                          "(a number >= 0), got \"%.*s\"; grammar: " TC_REG_GRAMMAR,
                          s, (int)len, p + 1);
    n++;
    p = next;
  }
  int arity = tc_reg_arity(kind);
  /* l1, l2 and l1_l2 may leave their numbers out (Keras' 0.01); tf_l2 may not. */
  int omitted_ok = (n == 0 && kind != TC_REG_TF_L2);
  if (n != arity && !omitted_ok)
    return tc_set_error(TC_ERR_INVALID_ARG, "regularizer \"%s\": %s takes %d number(s), got "
                        "%d%s; grammar: " TC_REG_GRAMMAR, s, tc_reg_names[kind], arity,
                        n, n > 2 ? " or more" : "");
  tc_regularizer r = {(tc_reg_kind)kind, 0.0f, 0.0f, NULL, NULL};
  if (kind == TC_REG_L1 || kind == TC_REG_L1_L2)
    r.l1 = n > 0 ? v[0] : 0.01f;
  if (kind == TC_REG_L2 || kind == TC_REG_TF_L2)
    r.l2 = n > 0 ? v[0] : 0.01f;
  if (kind == TC_REG_L1_L2)
    r.l2 = n > 1 ? v[1] : 0.01f;
  *out = r;
  return TC_OK;
}
