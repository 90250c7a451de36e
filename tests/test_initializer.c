/* test_initializer.c — fans, the distributions' bounds and moments over many draws,
 * orthogonality, reproducibility from the seed, callbacks, parsing and errors. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "layers/initializer.h"
#include "support/testutil.h"

#define TRUNC_STD 0.87962566103423978

static tc_tensor *make(int rank, const int64_t *shape) {
  tc_tensor *t = NULL;
  ck_assert_int_eq(tc_tensor_create(&t, rank, shape), TC_OK);
  return t;
}

static void moments(const tc_tensor *t, double *mean, double *var) {
  double s = 0, q = 0;
  for (int64_t i = 0; i < t->size; i++) {
    s += t->data[i];
    q += (double)t->data[i] * t->data[i];
  }
  *mean = s / (double)t->size;
  *var = q / (double)t->size - *mean * *mean;
}

static double max_abs(const tc_tensor *t) {
  double m = 0;
  for (int64_t i = 0; i < t->size; i++)
    m = fmax(m, fabs(t->data[i]));
  return m;
}

START_TEST(fans_follow_the_tf_rule) {
  double in, out;
  int64_t s4[4] = {3, 5, 16, 8};
  tc_compute_fans(4, s4, &in, &out);
  ck_assert_double_eq(in, 16 * 15);
  ck_assert_double_eq(out, 8 * 15);
  int64_t s2[2] = {7, 9};
  tc_compute_fans(2, s2, &in, &out);
  ck_assert_double_eq(in, 7);
  ck_assert_double_eq(out, 9);
  int64_t s1[1] = {12};
  tc_compute_fans(1, s1, &in, &out);
  ck_assert_double_eq(in, 12);
  ck_assert_double_eq(out, 12);
  int64_t s3[3] = {4, 6, 10};
  tc_compute_fans(3, s3, &in, &out);
  ck_assert_double_eq(in, 24);
  ck_assert_double_eq(out, 40);
  tc_compute_fans(0, NULL, &in, NULL);
  ck_assert_double_eq(in, 1);
}
END_TEST

START_TEST(defaults_are_keras_values) {
  tc_initializer u = tc_initializer_make(TC_INIT_RANDOM_UNIFORM);
  ck_assert_float_eq(u.minval, -0.05f);
  ck_assert_float_eq(u.maxval, 0.05f);
  tc_initializer n = tc_initializer_make(TC_INIT_TRUNCATED_NORMAL);
  ck_assert_float_eq(n.mean, 0.0f);
  ck_assert_float_eq(n.stddev, 0.05f);
  tc_initializer v = tc_initializer_make(TC_INIT_VARIANCE_SCALING);
  ck_assert_float_eq(v.scale, 1.0f);
  ck_assert_int_eq(v.mode, TC_FAN_IN);
  ck_assert_int_eq(v.distribution, TC_DIST_TRUNCATED_NORMAL);
  tc_initializer h = tc_initializer_make(TC_INIT_HE_UNIFORM);
  ck_assert_float_eq(h.scale, 2.0f);
  ck_assert_int_eq(h.distribution, TC_DIST_UNIFORM);
  ck_assert_float_eq(tc_initializer_make(TC_INIT_ORTHOGONAL).gain, 1.0f);
}
END_TEST

START_TEST(elements_are_sequential_draws_of_the_stream) {
  int64_t shape[2] = {10, 7};
  tc_tensor *t = make(2, shape);
  tc_initializer in = tc_initializer_make(TC_INIT_RANDOM_UNIFORM);
  ck_assert_int_eq(tc_initializer_apply(&in, t, 99, 4), TC_OK);
  tc_rng r;
  tc_rng_init(&r, 99, 4);
  for (int64_t i = 0; i < t->size; i++) {
    double u = tc_rng_uniform(&r);
    double lo = (double)-0.05f, hi = (double)0.05f; /* the float defaults, widened */
    ck_assert_float_eq(t->data[i], (float)(lo + (hi - lo) * u));
  }
  tc_tensor_free(t);
}
END_TEST

START_TEST(same_seed_same_tensor_other_stream_other_tensor) {
  int64_t shape[4] = {3, 3, 8, 4};
  tc_tensor *a = make(4, shape), *b = make(4, shape), *c = make(4, shape), *d = make(4, shape);
  for (int k = TC_INIT_RANDOM_UNIFORM; k <= TC_INIT_ORTHOGONAL; k++) {
    tc_initializer in = tc_initializer_make((tc_init_kind)k);
    ck_assert_int_eq(tc_initializer_apply(&in, a, 5, 1), TC_OK);
    ck_assert_int_eq(tc_initializer_apply(&in, b, 5, 1), TC_OK);
    ck_assert_int_eq(tc_initializer_apply(&in, c, 5, 2), TC_OK);
    ck_assert_int_eq(tc_initializer_apply(&in, d, 6, 1), TC_OK);
    ck_assert_mem_eq(a->data, b->data, (size_t)a->size * sizeof(float));
    ck_assert_msg(memcmp(a->data, c->data, (size_t)a->size * sizeof(float)) != 0, "%s",
                  tc_initializer_name((tc_init_kind)k));
    ck_assert(memcmp(a->data, d->data, (size_t)a->size * sizeof(float)) != 0);
  }
  tc_tensor_free(a);
  tc_tensor_free(b);
  tc_tensor_free(c);
  tc_tensor_free(d);
}
END_TEST

/* A uniform kind: every value within [-limit, limit], variance limit²/3. */
static void check_uniform(tc_init_kind kind, double limit) {
  int64_t shape[4] = {5, 5, 48, 32}; /* fan_in 1200, fan_out 800; 38400 draws */
  tc_tensor *t = make(4, shape);
  tc_initializer in = tc_initializer_make(kind);
  ck_assert_int_eq(tc_initializer_apply(&in, t, 1, 0), TC_OK);
  ck_assert_double_le(max_abs(t), limit * (1 + 1e-6));
  double mean, var, n = (double)t->size, l2 = limit * limit;
  moments(t, &mean, &var);
  ck_assert_double_le(fabs(mean), 5 * limit / sqrt(3 * n));
  ck_assert_double_le(fabs(var - l2 / 3), 5 * sqrt(4.0 / 45 / n) * l2);
  tc_tensor_free(t);
}

START_TEST(uniform_kinds_have_tf_limits) {
  double fan_in = 1200, fan_out = 800;
  check_uniform(TC_INIT_GLOROT_UNIFORM, sqrt(6 / (fan_in + fan_out)));
  check_uniform(TC_INIT_HE_UNIFORM, sqrt(6 / fan_in));
  check_uniform(TC_INIT_LECUN_UNIFORM, sqrt(3 / fan_in));
  check_uniform(TC_INIT_RANDOM_UNIFORM, 0.05);
}
END_TEST

/* A truncated kind: nothing beyond 2σ, variance scale' (the 0.8796 correction). */
static void check_truncated(tc_init_kind kind, double target_var) {
  int64_t shape[4] = {5, 5, 48, 32};
  tc_tensor *t = make(4, shape);
  tc_initializer in = tc_initializer_make(kind);
  ck_assert_int_eq(tc_initializer_apply(&in, t, 2, 0), TC_OK);
  double sigma = sqrt(target_var) / TRUNC_STD, mean, var, n = (double)t->size;
  ck_assert_double_le(max_abs(t), 2 * sigma * (1 + 1e-6));
  moments(t, &mean, &var);
  ck_assert_double_le(fabs(mean), 5 * sqrt(target_var / n));
  ck_assert_double_le(fabs(var - target_var), 5 * sqrt(2 / n) * target_var);
  tc_tensor_free(t);
}

START_TEST(truncated_kinds_have_tf_sigma_and_never_pass_two_sigma) {
  double fan_in = 1200, fan_out = 800;
  check_truncated(TC_INIT_GLOROT_NORMAL, 2 / (fan_in + fan_out));
  check_truncated(TC_INIT_HE_NORMAL, 2 / fan_in);
  check_truncated(TC_INIT_LECUN_NORMAL, 1 / fan_in);
}
END_TEST

START_TEST(variance_scaling_modes_and_distributions) {
  int64_t shape[2] = {400, 100}; /* fan_in 400, fan_out 100, avg 250 */
  tc_tensor *t = make(2, shape);
  tc_initializer in = tc_initializer_make(TC_INIT_VARIANCE_SCALING);
  in.scale = 3.0f;
  in.mode = TC_FAN_OUT;
  in.distribution = TC_DIST_UNTRUNCATED_NORMAL;
  ck_assert_int_eq(tc_initializer_apply(&in, t, 3, 0), TC_OK);
  double mean, var, n = (double)t->size, want = 3.0 / 100;
  moments(t, &mean, &var);
  ck_assert_double_le(fabs(var - want), 5 * sqrt(2 / n) * want);
  ck_assert_double_gt(max_abs(t), 2.5 * sqrt(want)); /* untruncated: tails exist */
  in.mode = TC_FAN_AVG;
  in.distribution = TC_DIST_UNIFORM;
  ck_assert_int_eq(tc_initializer_apply(&in, t, 3, 0), TC_OK);
  double limit = sqrt(3 * 3.0 / 250);
  moments(t, &mean, &var);
  ck_assert_double_le(fabs(var - limit * limit / 3), 5 * sqrt(4.0 / 45 / n) * limit * limit);
  ck_assert_double_le(max_abs(t), limit * (1 + 1e-6));
  tc_tensor_free(t);
}
END_TEST

START_TEST(normal_and_truncated_normal_use_mean_and_stddev) {
  int64_t shape[1] = {50000};
  tc_tensor *t = make(1, shape);
  tc_initializer in = tc_initializer_make(TC_INIT_RANDOM_NORMAL);
  in.mean = 1.5f;
  in.stddev = 0.2f;
  ck_assert_int_eq(tc_initializer_apply(&in, t, 4, 0), TC_OK);
  double mean, var, n = 50000;
  moments(t, &mean, &var);
  ck_assert_double_le(fabs(mean - 1.5), 5 * 0.2 / sqrt(n));
  ck_assert_double_le(fabs(var - 0.04), 5 * sqrt(2 / n) * 0.04);
  in.kind = TC_INIT_TRUNCATED_NORMAL;
  ck_assert_int_eq(tc_initializer_apply(&in, t, 4, 0), TC_OK);
  double dev = 0;
  for (int64_t i = 0; i < t->size; i++)
    dev = fmax(dev, fabs(t->data[i] - 1.5));
  ck_assert_double_le(dev, 0.4 * (1 + 1e-6));
  moments(t, &mean, &var);
  double want = 0.04 * TRUNC_STD * TRUNC_STD;
  ck_assert_double_le(fabs(mean - 1.5), 5 * 0.2 / sqrt(n));
  ck_assert_double_le(fabs(var - want), 5 * sqrt(2 / n) * want);
  tc_tensor_free(t);
}
END_TEST

START_TEST(constants) {
  int64_t shape[2] = {3, 4};
  tc_tensor *t = make(2, shape);
  tc_initializer in = tc_initializer_make(TC_INIT_ONES);
  ck_assert_int_eq(tc_initializer_apply(&in, t, 0, 0), TC_OK);
  ck_assert_float_eq(t->data[11], 1.0f);
  in = tc_initializer_make(TC_INIT_CONSTANT);
  in.value = -0.25f;
  ck_assert_int_eq(tc_initializer_apply(&in, t, 0, 0), TC_OK);
  ck_assert_float_eq(t->data[5], -0.25f);
  in = tc_initializer_make(TC_INIT_ZEROS);
  ck_assert_int_eq(tc_initializer_apply(&in, t, 0, 0), TC_OK);
  ck_assert_float_eq(t->data[0], 0.0f);
  tc_tensor_free(t);
}
END_TEST

/* Gram matrix of the r x c reshaping, over columns (rows = 0) or rows (rows = 1). */
static void check_orthogonal(int rank, const int64_t *shape, float gain) {
  tc_tensor *t = make(rank, shape);
  tc_initializer in = tc_initializer_make(TC_INIT_ORTHOGONAL);
  in.gain = gain;
  ck_assert_int_eq(tc_initializer_apply(&in, t, 8, 0), TC_OK);
  int64_t c = shape[rank - 1], r = t->size / c;
  int by_rows = r < c;
  int64_t k = by_rows ? r : c, len = by_rows ? c : r;
  for (int64_t i = 0; i < k; i++)
    for (int64_t j = 0; j < k; j++) {
      double dot = 0;
      for (int64_t e = 0; e < len; e++) {
        double x = by_rows ? t->data[i * c + e] : t->data[e * c + i];
        double y = by_rows ? t->data[j * c + e] : t->data[e * c + j];
        dot += x * y;
      }
      double want = i == j ? (double)gain * gain : 0;
      ck_assert_msg(fabs(dot - want) <= 1e-5 * (1 + gain * gain), "(%lld,%lld): %g vs %g",
                    (long long)i, (long long)j, dot, want);
    }
  tc_tensor_free(t);
}

START_TEST(orthogonal_gives_gain_squared_identity) {
  int64_t tall[4] = {3, 3, 4, 8}; /* 36 x 8: orthonormal columns */
  check_orthogonal(4, tall, 1.0f);
  check_orthogonal(4, tall, 1.5f);
  int64_t wide[2] = {5, 20}; /* 5 x 20: orthonormal rows */
  check_orthogonal(2, wide, 2.0f);
  int64_t square[2] = {16, 16};
  check_orthogonal(2, square, 1.0f);
  int64_t vec[1] = {8};
  tc_tensor *t = make(1, vec);
  tc_initializer in = tc_initializer_make(TC_INIT_ORTHOGONAL);
  TC_CK_ERROR(tc_initializer_apply(&in, t, 0, 0), TC_ERR_SHAPE, "rank 1");
  tc_tensor_free(t);
}
END_TEST

static tc_status fill_with_stream(tc_tensor *t, tc_rng *rng, void *ctx) {
  int *calls = ctx;
  (*calls)++;
  for (int64_t i = 0; i < t->size; i++)
    t->data[i] = tc_rng_uniform(rng);
  return TC_OK;
}

static tc_status refuse(tc_tensor *t, tc_rng *rng, void *ctx) {
  (void)t, (void)rng, (void)ctx;
  return tc_set_error(TC_ERR_UNSUPPORTED, "my init refuses");
}

START_TEST(callbacks_get_the_tensor_stream) {
  int64_t shape[1] = {6};
  tc_tensor *t = make(1, shape);
  int calls = 0;
  tc_initializer in = tc_initializer_make(TC_INIT_CALLBACK);
  in.fn = fill_with_stream;
  in.ctx = &calls;
  ck_assert_int_eq(tc_initializer_apply(&in, t, 10, 2), TC_OK);
  ck_assert_int_eq(calls, 1);
  tc_rng r;
  tc_rng_init(&r, 10, 2);
  ck_assert_float_eq(t->data[0], tc_rng_uniform(&r));
  in.fn = refuse;
  ck_assert_int_eq(tc_initializer_apply(&in, t, 10, 2), TC_ERR_UNSUPPORTED);
  ck_assert_str_eq(tc_last_error(), "my init refuses");
  tc_tensor_free(t);
}
END_TEST

static void expect_apply_error(tc_initializer in, const char *fragment) {
  int64_t shape[2] = {4, 4};
  tc_tensor *t = make(2, shape);
  ck_assert_int_eq(tc_initializer_apply(&in, t, 0, 0), TC_ERR_INVALID_ARG);
  ck_assert_msg(strstr(tc_last_error(), fragment) != NULL, "no '%s' in: %s", fragment,
                tc_last_error());
  tc_tensor_free(t);
}

START_TEST(bad_arguments_are_refused) {
  expect_apply_error(tc_initializer_make(TC_INIT_DEFAULT), "resolved by the layer");
  expect_apply_error(tc_initializer_make(TC_INIT_CALLBACK), "no function");
  tc_initializer in = tc_initializer_make(TC_INIT_RANDOM_NORMAL);
  in.stddev = -1;
  expect_apply_error(in, "stddev");
  in = tc_initializer_make(TC_INIT_RANDOM_UNIFORM);
  in.minval = 1, in.maxval = 0;
  expect_apply_error(in, "minval <= maxval");
  in = tc_initializer_make(TC_INIT_VARIANCE_SCALING);
  in.scale = 0;
  expect_apply_error(in, "scale must be a positive");
  in = tc_initializer_make(TC_INIT_VARIANCE_SCALING);
  in.distribution = (tc_distribution)9;
  expect_apply_error(in, "distribution");
  in = tc_initializer_make(TC_INIT_ZEROS);
  ck_assert_int_eq(tc_initializer_apply(&in, NULL, 0, 0), TC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(parse_good_strings) {
  tc_initializer in;
  for (int k = TC_INIT_ZEROS; k < TC_INIT_CALLBACK; k++) {
    ck_assert_int_eq(tc_initializer_parse(tc_initializer_name((tc_init_kind)k), &in), TC_OK);
    ck_assert_int_eq(in.kind, k);
  }
  ck_assert_int_eq(tc_initializer_parse("He_Normal", &in), TC_OK);
  ck_assert_int_eq(in.kind, TC_INIT_HE_NORMAL);
  ck_assert_int_eq(tc_initializer_parse("constant:0.1", &in), TC_OK);
  ck_assert_float_eq(in.value, 0.1f);
  ck_assert_int_eq(tc_initializer_parse("random_uniform:-1:2", &in), TC_OK);
  ck_assert_float_eq(in.minval, -1.0f);
  ck_assert_float_eq(in.maxval, 2.0f);
  ck_assert_int_eq(tc_initializer_parse("random_normal:0:0.02", &in), TC_OK);
  ck_assert_float_eq(in.stddev, 0.02f);
  ck_assert_int_eq(tc_initializer_parse("truncated_normal:0.5", &in), TC_OK);
  ck_assert_float_eq(in.mean, 0.5f);
  ck_assert_float_eq(in.stddev, 0.05f);
  ck_assert_int_eq(tc_initializer_parse("variance_scaling:2:fan_out:uniform", &in), TC_OK);
  ck_assert_float_eq(in.scale, 2.0f);
  ck_assert_int_eq(in.mode, TC_FAN_OUT);
  ck_assert_int_eq(in.distribution, TC_DIST_UNIFORM);
  ck_assert_int_eq(tc_initializer_parse("variance_scaling:1:fan_avg:normal", &in), TC_OK);
  ck_assert_int_eq(in.distribution, TC_DIST_TRUNCATED_NORMAL);
  ck_assert_int_eq(tc_initializer_parse("variance_scaling:0.5:fan_in:untruncated_normal", &in),
                   TC_OK);
  ck_assert_int_eq(in.distribution, TC_DIST_UNTRUNCATED_NORMAL);
  ck_assert_int_eq(tc_initializer_parse("orthogonal:1.5", &in), TC_OK);
  ck_assert_float_eq(in.gain, 1.5f);
}
END_TEST

static void expect_bad(const char *s, const char *fragment) {
  tc_initializer in = tc_initializer_make(TC_INIT_ONES);
  ck_assert_int_eq(tc_initializer_parse(s, &in), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(in.kind, TC_INIT_ONES);
  char quoted[300];
  snprintf(quoted, sizeof quoted, "\"%s\"", s);
  ck_assert_msg(strstr(tc_last_error(), quoted) != NULL, "no %s in: %s", quoted,
                tc_last_error());
  ck_assert_msg(strstr(tc_last_error(), fragment) != NULL, "no '%s' in: %s", fragment,
                tc_last_error());
}

START_TEST(parse_bad_strings) {
  expect_bad("he_normall", "unknown name");
  expect_bad("", "expected one of");
  expect_bad("default", "unknown name");
  expect_bad("callback", "unknown name");
  expect_bad("zeros:1", "at most 0");
  expect_bad("constant:abc", "expected a number");
  expect_bad("constant:", "expected a number");
  expect_bad("random_uniform:1:2:3", "at most 2");
  expect_bad("random_uniform:2:1", "MIN must not exceed MAX");
  expect_bad("random_normal:0:-1", "STDDEV");
  expect_bad("variance_scaling:0", "SCALE must be a positive");
  expect_bad("variance_scaling:2:fan_sideways", "MODE");
  expect_bad("variance_scaling:2:fan_in:cauchy", "DISTRIBUTION");
  expect_bad("variance_scaling:2:fan_in:uniform:9", "too many fields");
  expect_bad("orthogonal:1:2", "at most 1");
  expect_bad("orthogonal:inf", "expected a number");
  tc_initializer in;
  ck_assert_int_eq(tc_initializer_parse(NULL, &in), TC_ERR_INVALID_ARG);
  ck_assert_str_eq(tc_initializer_name(TC_INIT_COUNT), "unknown");
}
END_TEST

int main(void) {
  Suite *s = suite_create("initializer");
  TCase *tc = tcase_create("initializer");
  tcase_add_test(tc, fans_follow_the_tf_rule);
  tcase_add_test(tc, defaults_are_keras_values);
  tcase_add_test(tc, elements_are_sequential_draws_of_the_stream);
  tcase_add_test(tc, same_seed_same_tensor_other_stream_other_tensor);
  tcase_add_test(tc, uniform_kinds_have_tf_limits);
  tcase_add_test(tc, truncated_kinds_have_tf_sigma_and_never_pass_two_sigma);
  tcase_add_test(tc, variance_scaling_modes_and_distributions);
  tcase_add_test(tc, normal_and_truncated_normal_use_mean_and_stddev);
  tcase_add_test(tc, constants);
  tcase_add_test(tc, orthogonal_gives_gain_squared_identity);
  tcase_add_test(tc, callbacks_get_the_tensor_stream);
  tcase_add_test(tc, bad_arguments_are_refused);
  tcase_add_test(tc, parse_good_strings);
  tcase_add_test(tc, parse_bad_strings);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
