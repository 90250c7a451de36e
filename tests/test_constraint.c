/* test_constraint.c — norm constraints by hand and against tests/data/constraint.case,
 * axes (default, negative, errors), zero slices, Keras' radial constraint, callbacks,
 * parsing and errors. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/constraint.h"
#include "support/testutil.h"
#include "tools/casefile.h"
#include "tools/conform_compare.h"

static tc_tensor *make(int rank, const int64_t *shape, const float *v) {
  tc_tensor *t = NULL;
  ck_assert_int_eq(tc_tensor_create(&t, rank, shape), TC_OK);
  if (v)
    memcpy(t->data, v, (size_t)t->size * sizeof *v);
  return t;
}

static tc_constraint parsed(const char *s) {
  tc_constraint c;
  ck_assert_msg(tc_constraint_parse(s, &c) == TC_OK, "%s: %s", s, tc_last_error());
  return c;
}

START_TEST(max_norm_by_hand_with_a_zero_column) {
  /* (3, 3) columns: norms 5, 0, 1 — only the first exceeds M = 2 */
  const float w[9] = {3, 0, 1, 4, 0, 0, 0, 0, 0};
  int64_t shape[2] = {3, 3};
  tc_tensor *t = make(2, shape, w);
  tc_constraint c = parsed("max_norm:2"); /* default axis 0: one norm per column */
  ck_assert_int_eq(tc_constraint_apply(&c, t), TC_OK);
  const double eps = 1e-7;
  ck_assert_float_eq_tol(t->data[0], 3 * 2 / (eps + 5), 1e-7);
  ck_assert_float_eq_tol(t->data[3], 4 * 2 / (eps + 5), 1e-7);
  ck_assert_float_eq(t->data[1], 0.0f); /* the zero column stays zero */
  ck_assert_float_eq(t->data[4], 0.0f);
  ck_assert_float_eq_tol(t->data[2], 1 / (eps + 1), 1e-7); /* inside: scaled by n/(n+eps) */
  tc_tensor_free(t);
}
END_TEST

START_TEST(unit_norm_and_min_max_norm_by_hand) {
  const float w[4] = {3, 4, 0.3f, 0.4f}; /* rows of norm 5 and 0.5 */
  int64_t shape[2] = {2, 2};
  tc_tensor *t = make(2, shape, w);
  tc_constraint c = parsed("unit_norm:axis=1");
  ck_assert_int_eq(tc_constraint_apply(&c, t), TC_OK);
  ck_assert_float_eq_tol(t->data[0], 0.6, 1e-6);
  ck_assert_float_eq_tol(t->data[3], 0.8, 1e-6);
  memcpy(t->data, w, sizeof w);
  c = parsed("min_max_norm:1:2:0.5:axis=-1");
  ck_assert_int_eq(tc_constraint_apply(&c, t), TC_OK);
  /* row 0: desired 0.5*2 + 0.5*5 = 3.5; row 1: 0.5*1 + 0.5*0.5 = 0.75 */
  ck_assert_float_eq_tol(t->data[0], 3 * 3.5 / 5, 1e-6);
  ck_assert_float_eq_tol(t->data[3], 0.4 * 0.75 / 0.5, 1e-6);
  memcpy(t->data, w, sizeof w);
  c = parsed("non_neg");
  t->data[1] = -4;
  ck_assert_int_eq(tc_constraint_apply(&c, t), TC_OK);
  ck_assert_float_eq(t->data[1], 0.0f);
  ck_assert_float_eq(t->data[0], 3.0f);
  tc_tensor_free(t);
}
END_TEST

/* A plain reference: norms over the listed axes via full index decoding, in double. */
static void reference_max_norm(const tc_tensor *w, const int *red, double m, double *out) {
  for (int64_t i = 0; i < w->size; i++) {
    int64_t idx[TC_MAX_RANK], rem = i;
    for (int d = w->rank - 1; d >= 0; d--)
      idx[d] = rem % w->shape[d], rem /= w->shape[d];
    double ss = 0;
    for (int64_t j = 0; j < w->size; j++) {
      int64_t jdx[TC_MAX_RANK], rj = j, same = 1;
      for (int d = w->rank - 1; d >= 0; d--)
        jdx[d] = rj % w->shape[d], rj /= w->shape[d];
      for (int d = 0; d < w->rank; d++)
        same &= red[d] || jdx[d] == idx[d];
      if (same)
        ss += (double)w->data[j] * w->data[j];
    }
    double n = sqrt(ss);
    out[i] = w->data[i] * fmin(n, m) / (1e-7 + n);
  }
}

START_TEST(every_axis_set_matches_a_plain_reference) {
  tc_test_rng r;
  tc_test_rng_init(&r, 9);
  int64_t shape[4] = {2, 3, 4, 5};
  tc_tensor *w = tc_test_tensor(&r, 4, shape, -1, 1);
  double *want = malloc((size_t)w->size * sizeof *want);
  for (int mask = 1; mask < 16; mask++) {
    tc_constraint c = parsed("max_norm:1");
    int red[4];
    c.n_axes = 0;
    for (int d = 0; d < 4; d++) {
      red[d] = (mask >> d) & 1;
      if (red[d])
        c.axes[c.n_axes++] = d - 4 * (d % 2); /* odd axes written negative */
    }
    reference_max_norm(w, red, 1.0, want);
    tc_tensor *t = make(4, shape, w->data);
    ck_assert_int_eq(tc_constraint_apply(&c, t), TC_OK);
    ck_assert_msg(tc_test_excess(t->data, want, t->size, 1e-7, 1e-6, NULL) <= 0, "mask %d",
                  mask);
    tc_tensor_free(t);
  }
  free(want);
  tc_tensor_free(w);
}
END_TEST

/* ---- the conformance cases ----------------------------------------------------------- */

/* Every case of constraint.case, read with the toolkit's case-file reader and run directly
 * (tconv conform runs them too; here a failure names the element). */
START_TEST(conformance_cases) {
  tc_casefile *f;
  ck_assert_int_eq(tc_casefile_open(&f, TCONV_TEST_DATA "/constraint.case"), TC_OK);
  tc_case *c;
  int count = 0;
  while (tc_casefile_next(f, &c) == TC_OK && c != NULL) {
    char spec[256];
    tc_conform_spec(tc_case_attr_find(c, "constraint"), spec, sizeof spec);
    tc_constraint con = parsed(spec);
    const tc_case_tensor *w = tc_case_tensor_find(c, "w"), *want = tc_case_tensor_find(c, "w_out");
    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_nonnull(want);
    tc_tensor *t = make(w->rank, w->shape, w->data);
    ck_assert_msg(tc_constraint_apply(&con, t) == TC_OK, "%s: %s", c->name, tc_last_error());
    int64_t worst = 0;
    double ex = tc_test_excess_f(t->data, want->data, w->size, 1e-4, 1e-4, &worst);
    ck_assert_msg(ex <= 0, "%s (%s): element %lld is %g, want %g", c->name, spec,
                  (long long)worst, t->data[worst], want->data[worst]);
    tc_tensor_free(t);
    count++;
  }
  tc_casefile_close(f);
  ck_assert_int_ge(count, 14);
}
END_TEST

/* ---- radial -------------------------------------------------------------------------- */

/* K[a][b] of slice k = 3f + c of an (h, h, 2, 3) kernel holds 100a + 10b + k + 1, so
 * every tap is recognisable; after the constraint each tap of ring r must hold the
 * diagonal tap K[src][src] = 110 src + k + 1 with src = ring_src[r]. */
static void check_radial(int64_t h, const int *ring_src /* per ring: diagonal index */) {
  int64_t shape[4] = {h, h, 2, 3};
  tc_tensor *t = make(4, shape, NULL);
  for (int64_t a = 0; a < h; a++)
    for (int64_t b = 0; b < h; b++)
      for (int k = 0; k < 6; k++)
        t->data[(a * h + b) * 6 + k] = (float)(100 * a + 10 * b + k + 1);
  tc_constraint c = parsed("radial");
  ck_assert_int_eq(tc_constraint_apply(&c, t), TC_OK);
  int64_t s = h / 2;
  for (int64_t a = 0; a < h; a++)
    for (int64_t b = 0; b < h; b++) {
      /* Chebyshev ring around the centre (between taps s-1 and s when h is even). */
      int64_t da = h % 2 ? llabs(a - s) : (a < s ? s - a : a - s + 1);
      int64_t db = h % 2 ? llabs(b - s) : (b < s ? s - b : b - s + 1);
      int64_t ring = da > db ? da : db, src = ring_src[ring];
      for (int k = 0; k < 6; k++)
        ck_assert_msg(t->data[(a * h + b) * 6 + k] == (float)(110 * src + k + 1),
                      "h=%lld tap (%lld,%lld) slice %d: %g, want K[%lld][%lld]", (long long)h,
                      (long long)a, (long long)b, k, t->data[(a * h + b) * 6 + k],
                      (long long)src, (long long)src);
    }
  tc_tensor_free(t);
}

START_TEST(radial_follows_keras_code) {
  /* Traced from RadialConstraint._kernel_constraint: the centre is seeded with
   * K[s-1][s-1] and each padded ring i takes K[s+i][s+i]. */
  check_radial(2, (const int[]){-1, 0});
  check_radial(3, (const int[]){0, 1});
  check_radial(4, (const int[]){-1, 1, 3});
  check_radial(5, (const int[]){1, 2, 3});
  check_radial(6, (const int[]){-1, 2, 4, 5});
  /* Keras' own test: ceil(h/2) distinct values per slice. */
  int64_t shape[4] = {5, 5, 1, 1};
  tc_test_rng r;
  tc_test_rng_init(&r, 1);
  tc_tensor *t = tc_test_tensor(&r, 4, shape, -1, 1);
  tc_constraint c = parsed("radial");
  ck_assert_int_eq(tc_constraint_apply(&c, t), TC_OK);
  int distinct = 0;
  for (int i = 0; i < 25; i++) {
    int seen = 0;
    for (int j = 0; j < i; j++)
      seen |= t->data[j] == t->data[i];
    distinct += !seen;
  }
  ck_assert_int_eq(distinct, 3);
  tc_tensor_free(t);
}
END_TEST

START_TEST(radial_shapes) {
  int64_t one[4] = {1, 1, 2, 2};
  const float v[4] = {1, -2, 3, -4};
  tc_tensor *t = make(4, one, v);
  tc_constraint c = parsed("radial_constraint");
  ck_assert_int_eq(tc_constraint_apply(&c, t), TC_OK);
  ck_assert_mem_eq(t->data, v, sizeof v); /* 1x1: already radial */
  tc_tensor_free(t);
  int64_t rect[4] = {3, 2, 1, 1};
  t = make(4, rect, NULL);
  TC_CK_ERROR(tc_constraint_apply(&c, t), TC_ERR_SHAPE, "square");
  tc_tensor_free(t);
  int64_t r3[3] = {3, 3, 2};
  t = make(3, r3, NULL);
  TC_CK_ERROR(tc_constraint_apply(&c, t), TC_ERR_SHAPE, "rank 3");
  tc_tensor_free(t);
}
END_TEST

/* ---- callbacks, errors, parsing ------------------------------------------------------ */

static tc_status halve(tc_tensor *w, void *ctx) {
  (void)ctx;
  for (int64_t i = 0; i < w->size; i++)
    w->data[i] *= 0.5f;
  return TC_OK;
}

static void expect_apply_error(tc_constraint c, int rank, const int64_t *shape,
                               tc_status want, const char *fragment) {
  tc_tensor *t = make(rank, shape, NULL);
  t->data[0] = 5;
  ck_assert_int_eq(tc_constraint_apply(&c, t), want);
  ck_assert_msg(strstr(tc_last_error(), fragment) != NULL, "no '%s' in: %s", fragment,
                tc_last_error());
  ck_assert_float_eq(t->data[0], 5.0f); /* untouched */
  tc_tensor_free(t);
}

START_TEST(callbacks_and_bad_arguments) {
  int64_t s4[4] = {2, 2, 2, 2}, s1[1] = {3};
  tc_constraint c = tc_constraint_make(TC_CONSTRAINT_CALLBACK);
  c.fn = halve;
  tc_tensor *t = make(1, s1, (const float[]){2, 4, 6});
  ck_assert_int_eq(tc_constraint_apply(&c, t), TC_OK);
  ck_assert_float_eq(t->data[2], 3.0f);
  tc_tensor_free(t);
  c.fn = NULL;
  expect_apply_error(c, 1, s1, TC_ERR_INVALID_ARG, "no function");
  c = parsed("max_norm:2:axis=4");
  expect_apply_error(c, 4, s4, TC_ERR_SHAPE, "axis 4 is out of range for a tensor of rank 4");
  c = parsed("unit_norm:axis=-5");
  expect_apply_error(c, 4, s4, TC_ERR_SHAPE, "axis -5");
  c = parsed("max_norm:axis=1");
  expect_apply_error(c, 1, s1, TC_ERR_SHAPE, "rank 1");
  c = parsed("unit_norm:axis=3,-1");
  expect_apply_error(c, 4, s4, TC_ERR_INVALID_ARG, "listed twice");
  c = tc_constraint_make(TC_CONSTRAINT_MAX_NORM);
  c.max_value = -1;
  expect_apply_error(c, 1, s1, TC_ERR_INVALID_ARG, "max_value");
  c = tc_constraint_make(TC_CONSTRAINT_MIN_MAX_NORM);
  c.min_value = 2;
  expect_apply_error(c, 1, s1, TC_ERR_INVALID_ARG, "min_value");
  c = tc_constraint_make(TC_CONSTRAINT_MIN_MAX_NORM);
  c.rate = 1.5f;
  expect_apply_error(c, 1, s1, TC_ERR_INVALID_ARG, "rate");
  c.kind = (tc_constraint_kind)77;
  expect_apply_error(c, 1, s1, TC_ERR_INVALID_ARG, "77");
  c = tc_constraint_make(TC_CONSTRAINT_NONE);
  ck_assert_int_eq(tc_constraint_apply(&c, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_constraint_apply(NULL, NULL), TC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(parse_good_strings) {
  tc_constraint c = parsed("none");
  ck_assert_int_eq(c.kind, TC_CONSTRAINT_NONE);
  c = parsed("max_norm");
  ck_assert_float_eq(c.max_value, 2.0f);
  ck_assert_int_eq(c.n_axes, 0);
  c = parsed("Max_Norm:3");
  ck_assert_int_eq(c.kind, TC_CONSTRAINT_MAX_NORM);
  ck_assert_float_eq(c.max_value, 3.0f);
  c = parsed("max_norm:2:axis=0,1,2");
  ck_assert_int_eq(c.n_axes, 3);
  ck_assert_int_eq(c.axes[2], 2);
  c = parsed("unit_norm:axis=3");
  ck_assert_int_eq(c.kind, TC_CONSTRAINT_UNIT_NORM);
  ck_assert_int_eq(c.axes[0], 3);
  c = parsed("unit_norm:axis=-1");
  ck_assert_int_eq(c.axes[0], -1);
  c = parsed("min_max_norm:0.5:1.5:0.5:axis=0,1,2");
  ck_assert_float_eq(c.min_value, 0.5f);
  ck_assert_float_eq(c.max_value, 1.5f);
  ck_assert_float_eq(c.rate, 0.5f);
  ck_assert_int_eq(c.n_axes, 3);
  c = parsed("min_max_norm");
  ck_assert_float_eq(c.min_value, 0.0f);
  ck_assert_float_eq(c.max_value, 1.0f);
  ck_assert_float_eq(c.rate, 1.0f);
  c = parsed("min_max_norm:0.2");
  ck_assert_float_eq(c.min_value, 0.2f);
  ck_assert_float_eq(c.max_value, 1.0f);
  ck_assert_int_eq(parsed("non_neg").kind, TC_CONSTRAINT_NON_NEG);
  ck_assert_int_eq(parsed("nonneg").kind, TC_CONSTRAINT_NON_NEG);
  ck_assert_int_eq(parsed("radial").kind, TC_CONSTRAINT_RADIAL);
  ck_assert_str_eq(tc_constraint_name(TC_CONSTRAINT_MIN_MAX_NORM), "min_max_norm");
  ck_assert_str_eq(tc_constraint_name(TC_CONSTRAINT_COUNT), "unknown");
}
END_TEST

static void expect_bad(const char *s, const char *fragment) {
  tc_constraint c = tc_constraint_make(TC_CONSTRAINT_RADIAL);
  ck_assert_int_eq(tc_constraint_parse(s, &c), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(c.kind, TC_CONSTRAINT_RADIAL); /* untouched */
  char quoted[128];
  snprintf(quoted, sizeof quoted, "\"%s\"", s);
  ck_assert_msg(strstr(tc_last_error(), quoted) != NULL, "no %s in: %s", quoted,
                tc_last_error());
  ck_assert_msg(strstr(tc_last_error(), fragment) != NULL, "no '%s' in: %s", fragment,
                tc_last_error());
}

START_TEST(parse_bad_strings) {
  expect_bad("max_nrom:2", "unknown name");
  expect_bad("", "unknown name");
  expect_bad("callback", "unknown name");
  expect_bad("max_norm:two", "expected a number >= 0");
  expect_bad("max_norm:", "expected a number");
  expect_bad("max_norm:-2", "expected a number >= 0");
  expect_bad("max_norm:2:3", "at most 1");
  expect_bad("unit_norm:1", "at most 0");
  expect_bad("min_max_norm:1:2:0.5:9", "at most 3");
  expect_bad("min_max_norm:2:1", "exceeds MAX");
  expect_bad("min_max_norm:0:1:2", "RATE");
  expect_bad("max_norm:2:axis=", "bad axis list");
  expect_bad("max_norm:2:axis=0,,1", "bad axis list");
  expect_bad("max_norm:2:axis=0,x", "bad axis list");
  expect_bad("max_norm:2:axis=1,1", "bad axis list");
  expect_bad("max_norm:2:axis=9", "bad axis list");
  expect_bad("max_norm:2:axis=0, 1", "bad axis list");
  expect_bad("max_norm:axis=0:2", "must come last");
  expect_bad("non_neg:axis=0", "takes no axis");
  expect_bad("radial:3", "at most 0");
  expect_bad("none:1", "at most 0");
  expect_bad("max_norm:1:2:3:4:5:6:7", "too many fields");
  tc_constraint c;
  ck_assert_int_eq(tc_constraint_parse(NULL, &c), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_constraint_parse("none", NULL), TC_ERR_INVALID_ARG);
}
END_TEST

int main(void) {
  Suite *s = suite_create("constraint");
  TCase *tc = tcase_create("constraint");
  tcase_add_test(tc, max_norm_by_hand_with_a_zero_column);
  tcase_add_test(tc, unit_norm_and_min_max_norm_by_hand);
  tcase_add_test(tc, every_axis_set_matches_a_plain_reference);
  tcase_add_test(tc, conformance_cases);
  tcase_add_test(tc, radial_follows_keras_code);
  tcase_add_test(tc, radial_shapes);
  tcase_add_test(tc, callbacks_and_bad_arguments);
  tcase_add_test(tc, parse_good_strings);
  tcase_add_test(tc, parse_bad_strings);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
