/* test_regularizer.c — penalties and gradients by hand and against the conformance cases
 * (tests/data/regularizer.case), double sums, callbacks, parsing and errors. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/regularizer.h"
#include "support/testutil.h"
#include "tools/casefile.h"
#include "tools/conform_compare.h"

static tc_tensor *vec(int64_t n, const float *v) {
  tc_tensor *t = NULL;
  ck_assert_int_eq(tc_tensor_create(&t, 1, &n), TC_OK);
  if (v)
    memcpy(t->data, v, (size_t)n * sizeof *v);
  return t;
}

START_TEST(values_and_gradients_by_hand) {
  const float w[4] = {-2, 0, 1, 3}; /* Σ|w| = 6, Σw² = 14, and a zero: sign(0) = 0 */
  tc_tensor *t = vec(4, w);
  float g[4];
  double p;
  struct {
    tc_regularizer r;
    double penalty;
    float grad[4];
  } cases[] = {
      {{TC_REG_L1, 0.1f, 0, NULL, NULL}, 0.6, {-0.1f, 0, 0.1f, 0.1f}},
      {{TC_REG_L2, 0, 0.5f, NULL, NULL}, 7.0, {-2, 0, 1, 3}},
      {{TC_REG_L1_L2, 0.1f, 0.5f, NULL, NULL}, 7.6, {-2.1f, 0, 1.1f, 3.1f}},
      {{TC_REG_TF_L2, 0, 0.1f, NULL, NULL}, 0.7, {-0.2f, 0, 0.1f, 0.3f}},
      {{TC_REG_NONE, 0.1f, 0.5f, NULL, NULL}, 0.0, {0, 0, 0, 0}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    for (int i = 0; i < 4; i++)
      g[i] = 1.0f; /* the gradient is added, not stored */
    p = -1;
    ck_assert_int_eq(tc_regularizer_apply(&cases[c].r, t, &p, g), TC_OK);
    ck_assert_double_eq_tol(p, cases[c].penalty, 1e-6);
    for (int i = 0; i < 4; i++)
      ck_assert_float_eq_tol(g[i], 1.0f + cases[c].grad[i], 1e-6);
    ck_assert_int_eq(tc_regularizer_apply(&cases[c].r, t, &p, NULL), TC_OK);
    ck_assert_double_eq_tol(p, cases[c].penalty, 1e-6);
  }
  tc_tensor_free(t);
}
END_TEST

/* Central differences of the penalty (quadratic and piecewise linear: exact up to
 * rounding away from 0), with the float step that was really taken. */
START_TEST(gradient_matches_finite_differences) {
  tc_test_rng r;
  tc_test_rng_init(&r, 3);
  int64_t shape[4] = {3, 3, 4, 2};
  tc_tensor *t = tc_test_tensor(&r, 4, shape, -1, 1);
  float *g = calloc((size_t)t->size, sizeof *g);
  tc_regularizer reg = {TC_REG_L1_L2, 0.03f, 0.07f, NULL, NULL};
  double p;
  ck_assert_int_eq(tc_regularizer_apply(&reg, t, &p, g), TC_OK);
  for (int64_t i = 0; i < t->size; i++) {
    float w0 = t->data[i];
    if (fabsf(w0) < 2e-3f)
      continue;
    double pp, pm;
    float wp = w0 + 1e-3f, wm = w0 - 1e-3f;
    t->data[i] = wp;
    tc_regularizer_apply(&reg, t, &pp, NULL);
    t->data[i] = wm;
    tc_regularizer_apply(&reg, t, &pm, NULL);
    t->data[i] = w0;
    double d = (pp - pm) / ((double)wp - wm);
    ck_assert_double_le(fabs(g[i] - d), 1e-6 + 1e-5 * fabs(d));
  }
  free(g);
  tc_tensor_free(t);
}
END_TEST

START_TEST(sums_are_taken_in_double) {
  int64_t n = 1 << 22; /* a float accumulator drifts by percents here */
  tc_tensor *t = vec(n, NULL);
  tc_tensor_fill(t, 0.1f);
  tc_regularizer l1 = {TC_REG_L1, 1.0f, 0, NULL, NULL};
  double p;
  ck_assert_int_eq(tc_regularizer_apply(&l1, t, &p, NULL), TC_OK);
  ck_assert_double_le(fabs(p - (double)n * 0.1f), 1e-9 * p);
  tc_tensor_free(t);
}
END_TEST

/* ---- the conformance cases ----------------------------------------------------------- */

/* Every case of regularizer.case, read with the toolkit's case-file reader. */
START_TEST(conformance_cases) {
  tc_casefile *f;
  ck_assert_int_eq(tc_casefile_open(&f, TCONV_TEST_DATA "/regularizer.case"), TC_OK);
  tc_case *c;
  int count = 0;
  while (tc_casefile_next(f, &c) == TC_OK && c != NULL) {
    char spec[256];
    tc_regularizer reg;
    tc_conform_spec(tc_case_attr_find(c, "regularizer"), spec, sizeof spec);
    ck_assert_msg(tc_regularizer_parse(spec, &reg) == TC_OK, "%s: %s", c->name, tc_last_error());
    const tc_case_tensor *w = tc_case_tensor_find(c, "w"), *loss = tc_case_tensor_find(c, "loss");
    const tc_case_tensor *dw = tc_case_tensor_find(c, "dw");
    ck_assert(w && loss && dw);
    tc_tensor *t = NULL;
    ck_assert_int_eq(tc_tensor_create(&t, w->rank, w->shape), TC_OK);
    memcpy(t->data, w->data, (size_t)w->size * sizeof(float));
    float *g = calloc((size_t)w->size, sizeof *g);
    double p;
    ck_assert_int_eq(tc_regularizer_apply(&reg, t, &p, g), TC_OK);
    /* docs/conformance.md: |a - b| <= 1e-4 + 1e-4 |b| */
    ck_assert_msg(fabs(p - loss->data[0]) <= 1e-4 + 1e-4 * fabs(loss->data[0]),
                  "%s: loss %g vs %g", c->name, p, loss->data[0]);
    ck_assert_msg(tc_test_excess_f(g, dw->data, w->size, 1e-4, 1e-4, NULL) <= 0, "%s: dw", c->name);
    free(g);
    tc_tensor_free(t);
    count++;
  }
  tc_casefile_close(f);
  ck_assert_int_ge(count, 12);
}
END_TEST

/* ---- callbacks, errors, parsing ------------------------------------------------------ */

static tc_status sum_penalty(const tc_tensor *w, double *penalty, float *grad, void *ctx) {
  double scale = *(double *)ctx;
  for (int64_t i = 0; i < w->size; i++) {
    *penalty += scale * w->data[i];
    if (grad)
      grad[i] += (float)scale;
  }
  return TC_OK;
}

START_TEST(callbacks_and_bad_arguments) {
  const float w[3] = {1, 2, 3};
  tc_tensor *t = vec(3, w);
  double scale = 0.5, p = 99;
  float g[3] = {0, 0, 0};
  tc_regularizer r = {TC_REG_CALLBACK, 0, 0, sum_penalty, &scale};
  ck_assert_int_eq(tc_regularizer_apply(&r, t, &p, g), TC_OK);
  ck_assert_double_eq(p, 3.0);
  ck_assert_float_eq(g[2], 0.5f);
  r.fn = NULL;
  TC_CK_ERROR(tc_regularizer_apply(&r, t, &p, g), TC_ERR_INVALID_ARG, "no function");
  r.kind = (tc_reg_kind)42;
  TC_CK_ERROR(tc_regularizer_apply(&r, t, &p, g), TC_ERR_INVALID_ARG, "42");
  r.kind = TC_REG_L2;
  ck_assert_int_eq(tc_regularizer_apply(&r, NULL, &p, g), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_regularizer_apply(&r, t, NULL, g), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_regularizer_apply(NULL, t, &p, g), TC_ERR_INVALID_ARG);
  tc_tensor_free(t);
}
END_TEST

START_TEST(parse_good_strings) {
  tc_regularizer r;
  ck_assert_int_eq(tc_regularizer_parse("none", &r), TC_OK);
  ck_assert_int_eq(r.kind, TC_REG_NONE);
  ck_assert_int_eq(tc_regularizer_parse("l2:1e-4", &r), TC_OK);
  ck_assert_int_eq(r.kind, TC_REG_L2);
  ck_assert_float_eq(r.l2, 1e-4f);
  ck_assert_float_eq(r.l1, 0.0f);
  ck_assert_int_eq(tc_regularizer_parse("L1:0.5", &r), TC_OK);
  ck_assert_int_eq(r.kind, TC_REG_L1);
  ck_assert_float_eq(r.l1, 0.5f);
  ck_assert_float_eq(r.l2, 0.0f);
  ck_assert_int_eq(tc_regularizer_parse("l1_l2:0.01:0.02", &r), TC_OK);
  ck_assert_float_eq(r.l1, 0.01f);
  ck_assert_float_eq(r.l2, 0.02f);
  ck_assert_int_eq(tc_regularizer_parse("l1_l2", &r), TC_OK);
  ck_assert_float_eq(r.l1, 0.01f);
  ck_assert_float_eq(r.l2, 0.01f);
  ck_assert_int_eq(tc_regularizer_parse("l2", &r), TC_OK);
  ck_assert_float_eq(r.l2, 0.01f);
  ck_assert_int_eq(tc_regularizer_parse("tf_l2:0.001", &r), TC_OK);
  ck_assert_int_eq(r.kind, TC_REG_TF_L2);
  ck_assert_float_eq(r.l2, 0.001f);
  ck_assert_int_eq(tc_regularizer_parse("l1:0", &r), TC_OK);
  static const char *const names[] = {"none", "l1", "l2", "l1_l2", "tf_l2"};
  for (int k = 0; k < TC_REG_CALLBACK; k++)
    ck_assert_str_eq(tc_regularizer_name((tc_reg_kind)k), names[k]);
  ck_assert_str_eq(tc_regularizer_name(TC_REG_COUNT), "unknown");
}
END_TEST

static void expect_bad(const char *s, const char *fragment) {
  tc_regularizer r = {TC_REG_L1, 9, 9, NULL, NULL};
  ck_assert_int_eq(tc_regularizer_parse(s, &r), TC_ERR_INVALID_ARG);
  ck_assert_float_eq(r.l1, 9.0f); /* untouched */
  char quoted[128];
  snprintf(quoted, sizeof quoted, "\"%s\"", s);
  ck_assert_msg(strstr(tc_last_error(), quoted) != NULL, "no %s in: %s", quoted,
                tc_last_error());
  ck_assert_msg(strstr(tc_last_error(), fragment) != NULL, "no '%s' in: %s", fragment,
                tc_last_error());
}

START_TEST(parse_bad_strings) {
  expect_bad("l3:0.1", "unknown name");
  expect_bad("", "unknown name");
  expect_bad("callback", "unknown name");
  expect_bad("l2:abc", "expected a coefficient");
  expect_bad("l2:", "expected a coefficient");
  expect_bad("l2:0.1x", "expected a coefficient");
  expect_bad("l2:-0.1", "number >= 0");
  expect_bad("l1:inf", "expected a coefficient");
  expect_bad("l2:0.1:0.2", "takes 1 number(s), got 2");
  expect_bad("l1_l2:0.01", "takes 2 number(s), got 1");
  expect_bad("l1_l2:0.01:0.02:0.03", "takes 2 number(s), got 3");
  expect_bad("tf_l2", "takes 1 number(s), got 0");
  expect_bad("none:0.1", "takes 0 number(s)");
  tc_regularizer r;
  ck_assert_int_eq(tc_regularizer_parse(NULL, &r), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_regularizer_parse("l2", NULL), TC_ERR_INVALID_ARG);
}
END_TEST

int main(void) {
  Suite *s = suite_create("regularizer");
  TCase *tc = tcase_create("regularizer");
  tcase_add_test(tc, values_and_gradients_by_hand);
  tcase_add_test(tc, gradient_matches_finite_differences);
  tcase_add_test(tc, sums_are_taken_in_double);
  tcase_add_test(tc, conformance_cases);
  tcase_add_test(tc, callbacks_and_bad_arguments);
  tcase_add_test(tc, parse_good_strings);
  tcase_add_test(tc, parse_bad_strings);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
