/* test_activation.c — activations vs their formulas (docs/semantics.md), derivatives vs central
 * differences in double, TF's kink values, stability at extreme inputs, and parsing. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/activation.h"
#include "support/testutil.h"

#define LAMBDA 1.0507009873554805
#define ALPHA 1.6732632423543772

/* The table of docs/semantics.md, in double, written independently of the library. */
static double ref(tc_activation a, double z) {
  double s = 1 / (1 + exp(-z));
  switch (a.kind) {
  case TC_ACT_LINEAR: return z;
  case TC_ACT_RELU: return z > 0 ? z : 0;
  case TC_ACT_RELU6: return fmin(fmax(z, 0), 6);
  case TC_ACT_LEAKY_RELU: return z > 0 ? z : a.alpha * z;
  case TC_ACT_ELU: return z > 0 ? z : a.alpha * (exp(z) - 1);
  case TC_ACT_SELU: return z > 0 ? LAMBDA * z : LAMBDA * ALPHA * (exp(z) - 1);
  case TC_ACT_SIGMOID: return s;
  case TC_ACT_HARD_SIGMOID: return fmin(fmax(0.2 * z + 0.5, 0), 1);
  case TC_ACT_TANH: return tanh(z);
  case TC_ACT_SOFTPLUS: return log(1 + exp(z));
  case TC_ACT_SOFTSIGN: return z / (1 + fabs(z));
  case TC_ACT_SWISH: return z * s;
  case TC_ACT_GELU: return 0.5 * z * (1 + erf(z / sqrt(2.0)));
  case TC_ACT_EXPONENTIAL: return exp(z);
  default: ck_abort_msg("no reference for kind %d", a.kind); return 0;
  }
}

/* Distance from z to the nearest kink of the kind; central differences need room. */
static int near_kink(tc_activation a, double z) {
  static const double kinks[] = {0, 6, -2.5, 2.5};
  for (int i = 0; i < 4; i++)
    if (fabs(z - kinks[i]) < 1e-3)
      return a.kind != TC_ACT_LINEAR;
  return 0;
}

static void check_elementwise(tc_activation a) {
  enum { N = 400 };
  float z[N], y[N], dy[N], dz[N];
  tc_test_rng r;
  tc_test_rng_init(&r, 11 + a.kind);
  tc_test_fill(&r, z, N, -8.0f, 8.0f);
  tc_test_fill(&r, dy, N, -1.0f, 1.0f);
  tc_activation_forward(a, z, y, N, 1);
  tc_activation_backward(a, z, y, dy, dz, N, 1);
  const double h = 1e-5;
  for (int i = 0; i < N; i++) {
    double want = ref(a, z[i]);
    ck_assert_msg(fabs(y[i] - want) <= 1e-6 + 1e-6 * fabs(want), "%s(%g) = %.9g, want %.9g",
                  tc_activation_name(a.kind), z[i], y[i], want);
    if (near_kink(a, z[i]))
      continue;
    double d = (ref(a, z[i] + h) - ref(a, z[i] - h)) / (2 * h) * dy[i];
    /* FD error ~ h² f''' + eps/h ~ 1e-10; the float backward carries ~1e-7 relative. */
    ck_assert_msg(fabs(dz[i] - d) <= 1e-5 + 1e-5 * fabs(d), "%s'(%g)*%g = %.9g, want %.9g",
                  tc_activation_name(a.kind), z[i], dy[i], dz[i], d);
  }
}

START_TEST(elementwise_forward_and_backward_match_the_formulas) {
  for (int k = 0; k < TC_ACT_COUNT; k++) {
    if (k == TC_ACT_SOFTMAX)
      continue;
    check_elementwise(tc_activation_make((tc_activation_kind)k));
  }
  tc_activation leaky = {TC_ACT_LEAKY_RELU, 0.2f}, elu = {TC_ACT_ELU, 0.5f};
  check_elementwise(leaky);
  check_elementwise(elu);
}
END_TEST

static float deriv_at(tc_activation a, float z) {
  float y, one = 1.0f, dz;
  tc_activation_forward(a, &z, &y, 1, 1);
  tc_activation_backward(a, &z, &y, &one, &dz, 1, 1);
  return dz;
}

START_TEST(kinks_follow_tf) {
  tc_activation m = tc_activation_make(TC_ACT_RELU);
  ck_assert_float_eq(deriv_at(m, 0.0f), 0.0f);
  m = tc_activation_make(TC_ACT_RELU6);
  ck_assert_float_eq(deriv_at(m, 0.0f), 0.0f);
  ck_assert_float_eq(deriv_at(m, 6.0f), 0.0f);
  ck_assert_float_eq(deriv_at(m, 5.999f), 1.0f);
  m = tc_activation_make(TC_ACT_LEAKY_RELU);
  ck_assert_float_eq(m.alpha, 0.3f);
  ck_assert_float_eq(deriv_at(m, 0.0f), 0.3f);
  m = tc_activation_make(TC_ACT_HARD_SIGMOID);
  ck_assert_float_eq(deriv_at(m, -2.5f), 0.2f);
  ck_assert_float_eq(deriv_at(m, 2.5f), 0.2f);
  ck_assert_float_eq(deriv_at(m, 2.5001f), 0.0f);
  m = tc_activation_make(TC_ACT_ELU);
  ck_assert_float_eq(m.alpha, 1.0f);
  ck_assert_float_eq(deriv_at(m, 0.0f), 1.0f);
  m = tc_activation_make(TC_ACT_SELU);
  ck_assert_float_eq_tol(deriv_at(m, 0.0f), 1.7580993408473766, 1e-6);
  ck_assert_float_eq_tol(deriv_at(m, 1e-6f), 1.0507009873554805, 1e-6);
  m = tc_activation_make(TC_ACT_LINEAR);
  ck_assert_float_eq(deriv_at(m, 0.0f), 1.0f);
}
END_TEST

/* Every point where an activation or its first two derivatives jump is in
 * tc_activation_piece: on a grid through all the break points (step 1/64, so 0, ±2.5 and
 * 6 are on it), a central difference with h = 1/32 whose two points share a piece matches
 * the analytic derivative to 2e-3 relative (the O(h²) truncation, h²/6 times the third
 * derivative, stays near 1e-3 here). Softsign's jump in act'' at 0 alone misses that by
 * 0.03: it had been left out and made `tconv gradcheck --seed 7` report false failures. */
START_TEST(every_break_point_is_a_piece_boundary) {
  const double h = 1.0 / 32;
  for (int k = 0; k < TC_ACT_COUNT; k++) {
    if (k == TC_ACT_SOFTMAX)
      continue;
    tc_activation a = tc_activation_make((tc_activation_kind)k);
    for (int i = -448; i <= 448; i++) {
      float z = (float)i / 64.0f, zs[2] = {z - (float)h, z + (float)h}, ys[2];
      tc_activation_forward(a, zs, ys, 2, 2);
      if (tc_activation_piece(a, zs[0]) != tc_activation_piece(a, zs[1]))
        continue;
      double numeric = ((double)ys[1] - ys[0]) / (2 * h), analytic = deriv_at(a, z);
      ck_assert_msg(fabs(numeric - analytic) <= 2e-3 * fmax(1.0, fabs(analytic)),
                    "%s at %g: numeric %.6g, analytic %.6g", tc_activation_name(a.kind),
                    (double)z, numeric, analytic);
    }
  }
}
END_TEST

START_TEST(extreme_inputs_stay_finite) {
  float z[6] = {-1000.0f, -100.0f, -30.0f, 30.0f, 100.0f, 1000.0f}, y[6], dz[6], dy[6];
  for (int i = 0; i < 6; i++)
    dy[i] = 1.0f;
  tc_activation_kind kinds[] = {TC_ACT_SIGMOID, TC_ACT_SOFTPLUS, TC_ACT_SWISH, TC_ACT_TANH,
                                TC_ACT_GELU,    TC_ACT_SELU,     TC_ACT_ELU,   TC_ACT_SOFTSIGN};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    tc_activation a = tc_activation_make(kinds[k]);
    tc_activation_forward(a, z, y, 6, 1);
    tc_activation_backward(a, z, y, dy, dz, 6, 1);
    for (int i = 0; i < 6; i++)
      ck_assert_msg(isfinite(y[i]) && isfinite(dz[i]), "%s(%g): y %g dz %g",
                    tc_activation_name(kinds[k]), z[i], y[i], dz[i]);
  }
  tc_activation sp = tc_activation_make(TC_ACT_SOFTPLUS);
  tc_activation_forward(sp, z, y, 6, 1);
  ck_assert_float_eq(y[5], 1000.0f);
  ck_assert_float_eq_tol(y[2], 9.357623e-14, 1e-18); /* log1p(e^-30), not 0 */
  tc_activation sg = tc_activation_make(TC_ACT_SIGMOID);
  tc_activation_forward(sg, z, y, 6, 1);
  ck_assert_float_eq_tol(y[2], 9.357623e-14, 1e-18);
  ck_assert_float_eq(y[5], 1.0f);
}
END_TEST

/* |y - want| in units of the last place of want as a float; below FLT_MIN, where act_math.h
 * flushes to 0 (as TF's threads do, with denormals off), in units of FLT_MIN. */
static double ulps(float y, double want) {
  double unit = nextafterf((float)fabs(want), INFINITY) - (float)fabs(want);
  if (fabs(want) < FLT_MIN)
    unit = FLT_MIN;
  return fabs(y - want) / unit;
}

/* tanh and sigmoid are computed by core/act_math.h, not libm: within 3 ulp of the exact
 * value over a sweep of every binade from 2^-30 to 2^7, both signs, through the vector
 * loop (below FLT_MIN, within FLT_MIN); NaN passes through and the infinities give the limits. */
START_TEST(tanh_and_sigmoid_stay_within_three_ulp) {
  enum { PER = 4096, BINADES = 37, N = 2 * PER * BINADES };
  float *z = malloc(N * sizeof *z), *y = malloc(N * sizeof *y);
  ck_assert_ptr_nonnull(z);
  ck_assert_ptr_nonnull(y);
  for (int b = 0; b < BINADES; b++)
    for (int i = 0; i < PER; i++) {
      float v = ldexpf(1.0f + (float)i / PER, b - 30);
      z[2 * (b * PER + i)] = v;
      z[2 * (b * PER + i) + 1] = -v;
    }
  tc_activation_kind kinds[] = {TC_ACT_TANH, TC_ACT_SIGMOID};
  for (int k = 0; k < 2; k++) {
    tc_activation a = tc_activation_make(kinds[k]);
    tc_activation_forward(a, z, y, N, 1);
    double worst = 0;
    for (int i = 0; i < N; i++) {
      double e = ulps(y[i], ref(a, z[i]));
      ck_assert_msg(e <= 3.0, "%s(%.9g) = %.9g, want %.9g (%.2f ulp)", tc_activation_name(kinds[k]),
                    z[i], y[i], ref(a, z[i]), e);
      worst = e > worst ? e : worst;
    }
    ck_assert(worst > 0.0); /* the sweep reached rounded values */
    float sp[4] = {NAN, INFINITY, -INFINITY, -0.0f}, out[4];
    tc_activation_forward(a, sp, out, 4, 1);
    ck_assert(isnan(out[0]));
    ck_assert_float_eq(out[1], 1.0f);
    ck_assert_float_eq(out[2], kinds[k] == TC_ACT_TANH ? -1.0f : 0.0f);
    ck_assert_float_eq(out[3], kinds[k] == TC_ACT_TANH ? 0.0f : 0.5f);
    if (kinds[k] == TC_ACT_TANH)
      ck_assert(signbit(out[3]));
  }
  free(z);
  free(y);
}
END_TEST

/* Softmax over rows of 5: forward vs the formula, backward vs central differences of
 * L = Σ dy ⊙ softmax(z), in double. */
START_TEST(softmax_rows_and_jacobian) {
  enum { ROWS = 6, LEN = 5, N = ROWS * LEN };
  float z[N], y[N], dy[N], dz[N];
  tc_test_rng r;
  tc_test_rng_init(&r, 5);
  tc_test_fill(&r, z, N, -4.0f, 4.0f);
  tc_test_fill(&r, dy, N, -1.0f, 1.0f);
  z[0] = 1000.0f; /* stability: the max is subtracted */
  tc_activation a = tc_activation_make(TC_ACT_SOFTMAX);
  tc_activation_forward(a, z, y, N, LEN);
  tc_activation_backward(a, z, y, dy, dz, N, LEN);
  for (int row = 0; row < ROWS; row++) {
    const float *zr = z + row * LEN;
    double m = zr[0], sum = 0, ysum = 0;
    for (int i = 1; i < LEN; i++)
      m = fmax(m, zr[i]);
    for (int i = 0; i < LEN; i++)
      sum += exp(zr[i] - m);
    for (int i = 0; i < LEN; i++) {
      double want = exp(zr[i] - m) / sum;
      ck_assert_double_le(fabs(y[row * LEN + i] - want), 1e-6);
      ysum += y[row * LEN + i];
    }
    ck_assert_double_le(fabs(ysum - 1), 1e-6);
    if (row == 0)
      continue; /* saturated: all derivatives ~0, checked below */
    for (int j = 0; j < LEN; j++) {
      double l[2];
      for (int sgn = 0; sgn < 2; sgn++) {
        double zz[LEN], s = 0, mm = -INFINITY;
        for (int i = 0; i < LEN; i++)
          zz[i] = zr[i] + (i == j ? (sgn ? 1e-5 : -1e-5) : 0), mm = fmax(mm, zz[i]);
        for (int i = 0; i < LEN; i++)
          s += exp(zz[i] - mm);
        l[sgn] = 0;
        for (int i = 0; i < LEN; i++)
          l[sgn] += dy[row * LEN + i] * exp(zz[i] - mm) / s;
      }
      double d = (l[1] - l[0]) / 2e-5;
      ck_assert_double_le(fabs(dz[row * LEN + j] - d), 1e-5 + 1e-5 * fabs(d));
    }
  }
  for (int i = 0; i < LEN; i++)
    ck_assert_double_le(fabs(dz[i]), 1e-6);
}
END_TEST

/* The fused backward (dx += act'(z)*dy, no dz buffer) gives the bits of the two passes, for
 * every kind, over a tensor big enough for the thread team, with NaN, ±0 and ±inf inputs;
 * the vectorized relu / leaky_relu forwards keep tc_act_point's NaN and -0 handling (leaky
 * relu bit for bit, over the whole tensor). */
START_TEST(fused_backward_add_matches_two_passes) {
  enum { N = 33000 }; /* above TC_ACT_PARALLEL_MIN: the thread team runs */
  float *z = malloc(N * sizeof *z), *y = malloc(N * sizeof *y), *dy = malloc(N * sizeof *dy);
  float *dz = malloc(N * sizeof *dz), *dx1 = malloc(N * sizeof *dx1);
  float *dx2 = malloc(N * sizeof *dx2);
  ck_assert(z && y && dy && dz && dx1 && dx2);
  tc_test_rng r;
  tc_test_rng_init(&r, 5);
  tc_test_fill(&r, z, N, -8.0f, 8.0f);
  tc_test_fill(&r, dy, N, -1.0f, 1.0f);
  tc_test_fill(&r, dx1, N, -1.0f, 1.0f);
  z[0] = NAN, z[1] = -0.0f, z[2] = 0.0f, z[3] = INFINITY, z[4] = -INFINITY;
  dy[5] = NAN, dy[6] = INFINITY;
  for (int k = 0; k < TC_ACT_COUNT; k++) {
    tc_activation a = tc_activation_make((tc_activation_kind)k);
    if (k == TC_ACT_LEAKY_RELU)
      a.alpha = 0.2f;
    tc_activation_forward(a, z, y, N, 1);
    if (k == TC_ACT_RELU) {
      ck_assert(isnan(y[0]));
      ck_assert(y[1] == 0.0f && !signbit(y[1])); /* -0 -> +0, as z > 0 ? z : 0 */
    }
    if (k == TC_ACT_LEAKY_RELU) /* the masked select: the bits of z > 0 ? z : alpha * z */
      for (int i = 0; i < N; i++) {
        float want = z[i] > 0.0f ? z[i] : 0.2f * z[i];
        ck_assert_msg(memcmp(&want, &y[i], sizeof want) == 0 || (isnan(want) && isnan(y[i])),
                      "leaky_relu: element %d: %a, want %a", i, y[i], want);
      }
    if (k == TC_ACT_SOFTMAX) {
      TC_CK_ERROR(tc_activation_backward_add(a, z, y, dy, dx2, N), TC_ERR_INVALID_ARG, "softmax");
      continue;
    }
    memcpy(dx2, dx1, N * sizeof *dx2);
    tc_activation_backward(a, z, y, dy, dz, N, 1);
    ck_assert_int_eq(tc_activation_backward_add(a, z, y, dy, dx2, N), TC_OK);
    for (int i = 0; i < N; i++) {
      float want = dx1[i] + dz[i];
      ck_assert_msg(memcmp(&want, &dx2[i], sizeof want) == 0 || (isnan(want) && isnan(dx2[i])),
                    "%s: element %d: %a, want %a", tc_activation_name(a.kind), i, dx2[i], want);
    }
  }
  free(z), free(y), free(dy), free(dz), free(dx1), free(dx2);
}
END_TEST

START_TEST(in_place_aliasing_is_allowed) {
  float z[8] = {-2, -1, 0.5f, 1, 2, 3, -0.25f, 0.75f}, y[8], dy[8], dz[8], buf[8];
  for (int i = 0; i < 8; i++)
    dy[i] = 0.1f * (float)(i + 1);
  tc_activation kinds[2] = {tc_activation_make(TC_ACT_SOFTMAX),
                            tc_activation_make(TC_ACT_GELU)};
  for (int k = 0; k < 2; k++) {
    tc_activation_forward(kinds[k], z, y, 8, 4);
    tc_activation_backward(kinds[k], z, y, dy, dz, 8, 4);
    memcpy(buf, z, sizeof buf);
    tc_activation_forward(kinds[k], buf, buf, 8, 4);
    ck_assert_mem_eq(buf, y, sizeof buf);
    memcpy(buf, dy, sizeof buf);
    tc_activation_backward(kinds[k], z, y, buf, buf, 8, 4);
    ck_assert_mem_eq(buf, dz, sizeof buf);
  }
}
END_TEST

START_TEST(parse_names_and_arguments) {
  tc_activation a;
  for (int k = 0; k < TC_ACT_COUNT; k++) {
    ck_assert_int_eq(tc_activation_parse(tc_activation_name((tc_activation_kind)k), &a), TC_OK);
    ck_assert_int_eq(a.kind, k);
  }
  ck_assert_int_eq(tc_activation_parse("none", &a), TC_OK);
  ck_assert_int_eq(a.kind, TC_ACT_LINEAR);
  ck_assert_int_eq(tc_activation_parse("ReLU", &a), TC_OK);
  ck_assert_int_eq(a.kind, TC_ACT_RELU);
  ck_assert_int_eq(tc_activation_parse("silu", &a), TC_OK);
  ck_assert_int_eq(a.kind, TC_ACT_SWISH);
  ck_assert_int_eq(tc_activation_parse("leaky_relu", &a), TC_OK);
  ck_assert_float_eq(a.alpha, 0.3f);
  ck_assert_int_eq(tc_activation_parse("LEAKY_RELU:0.2", &a), TC_OK);
  ck_assert_int_eq(a.kind, TC_ACT_LEAKY_RELU);
  ck_assert_float_eq(a.alpha, 0.2f);
  ck_assert_int_eq(tc_activation_parse("elu:0.5", &a), TC_OK);
  ck_assert_float_eq(a.alpha, 0.5f);
  ck_assert_str_eq(tc_activation_name(TC_ACT_HARD_SIGMOID), "hard_sigmoid");
  ck_assert_str_eq(tc_activation_name(TC_ACT_COUNT), "unknown");
}
END_TEST

static void expect_bad(const char *s, const char *fragment) {
  tc_activation a = {TC_ACT_TANH, 7.0f};
  ck_assert_int_eq(tc_activation_parse(s, &a), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(a.kind, TC_ACT_TANH); /* untouched */
  char quoted[128];
  snprintf(quoted, sizeof quoted, "\"%s\"", s);
  ck_assert_msg(strstr(tc_last_error(), quoted) != NULL, "no %s in: %s", quoted,
                tc_last_error());
  ck_assert_msg(strstr(tc_last_error(), fragment) != NULL, "no '%s' in: %s", fragment,
                tc_last_error());
}

START_TEST(bad_strings_are_refused_with_a_message) {
  expect_bad("foo", "leaky_relu");
  expect_bad("", "expected one of");
  expect_bad("relu:0.2", "takes no argument");
  expect_bad("leaky_relu:", "ALPHA");
  expect_bad("leaky_relu:abc", "ALPHA");
  expect_bad("leaky_relu:0.2x", "ALPHA");
  expect_bad("elu:-1", ">= 0");
  expect_bad("elu:nan", "finite");
  expect_bad("leaky_relu:0.2:3", "ALPHA");
  expect_bad("relu6x", "unknown name");
  tc_activation a;
  ck_assert_int_eq(tc_activation_parse(NULL, &a), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_activation_parse("relu", NULL), TC_ERR_INVALID_ARG);
}
END_TEST

int main(void) {
  Suite *s = suite_create("activation");
  TCase *tc = tcase_create("activation");
  tcase_set_timeout(tc, 120); /* a thread team on a busy 2-core machine waits its turn */
  tcase_add_test(tc, elementwise_forward_and_backward_match_the_formulas);
  tcase_add_test(tc, kinks_follow_tf);
  tcase_add_test(tc, every_break_point_is_a_piece_boundary);
  tcase_add_test(tc, extreme_inputs_stay_finite);
  tcase_add_test(tc, tanh_and_sigmoid_stay_within_three_ulp);
  tcase_add_test(tc, softmax_rows_and_jacobian);
  tcase_add_test(tc, in_place_aliasing_is_allowed);
  tcase_add_test(tc, fused_backward_add_matches_two_passes);
  tcase_add_test(tc, parse_names_and_arguments);
  tcase_add_test(tc, bad_strings_are_refused_with_a_message);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
