/* test_optim.c — the optimizer step: update formulas (docs/semantics.md), regularization,
 * constraints, frozen variables, clipping, slots and the string parser. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ukr/ukr.h"
#include "optim/optim_internal.h"
#include "optim/optimizer.h"
#include "support/testutil.h"

/* A model with one variable "l/w" of n elements, values v, gradient g. */
static tc_model *one_var(const float *v, const float *g, int n, tc_param **out) {
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  int64_t s[1] = {n};
  ck_assert_int_eq(tc_model_add_param(m, "l", "w", TC_PARAM_WEIGHT, 1, s, out), TC_OK);
  memcpy((*out)->value->data, v, (size_t)n * sizeof(float));
  memcpy((*out)->value->grad, g, (size_t)n * sizeof(float));
  return m;
}

/* Runs `steps` steps with a constant gradient and returns w[0]. */
static float run_steps(const char *spec, float w0, float g0, int steps) {
  tc_param *p;
  tc_model *m = one_var(&w0, &g0, 1, &p);
  tc_optim_config c;
  ck_assert_int_eq(tc_optim_config_parse(spec, &c), TC_OK);
  tc_optim *o;
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_OK);
  for (int t = 0; t < steps; t++)
    ck_assert_int_eq(tc_optim_step(o, NULL), TC_OK);
  float w = p->value->data[0];
  tc_optim_free(o);
  tc_model_free(m);
  return w;
}

START_TEST(sgd_and_momentum) {
  ck_assert_double_eq_tol(run_steps("sgd:lr=0.1", 1.0f, 2.0f, 3), 1.0 - 3 * 0.2, 1e-6);
  /* a_t = 1 + μ a_{t-1}: 2, 2+0.9*2=3.8 → w = 1 - 0.1*(2 + 3.8) */
  ck_assert_double_eq_tol(run_steps("momentum:lr=0.1:momentum=0.9", 1.0f, 2.0f, 2),
                          1.0 - 0.1 * (2.0 + 3.8), 1e-6);
  /* nesterov: w -= lr (g + μ a_new): (2 + 0.9*2) + (2 + 0.9*3.8) */
  ck_assert_double_eq_tol(run_steps("momentum:lr=0.1:momentum=0.9:nesterov=1", 1.0f, 2.0f, 2),
                          1.0 - 0.1 * (3.8 + 5.42), 1e-6);
}
END_TEST

static double adam_ref(int steps, int corrected, double eps) {
  double w = 1.0, m = 0, v = 0, b1 = 0.9, b2 = 0.999, lr = 0.01, g = 0.5;
  for (int t = 1; t <= steps; t++) {
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    double bc1 = 1 - pow(b1, t), bc2 = 1 - pow(b2, t);
    if (corrected)
      w -= lr * (m / bc1) / (sqrt(v / bc2) + eps);
    else
      w -= lr * sqrt(bc2) / bc1 * m / (sqrt(v) + eps);
  }
  return w;
}

START_TEST(adam_both_epsilon_placements) {
  /* A large epsilon makes the two placements differ measurably. */
  float hat = run_steps("adam:lr=0.01:epsilon=0.1", 1.0f, 0.5f, 4);
  float cor = run_steps("adam:lr=0.01:epsilon=0.1:epsilon_mode=corrected", 1.0f, 0.5f, 4);
  ck_assert_double_eq_tol(hat, adam_ref(4, 0, 0.1), 1e-6);
  ck_assert_double_eq_tol(cor, adam_ref(4, 1, 0.1), 1e-6);
  ck_assert(fabs(hat - cor) > 1e-4);
  /* AMSGrad with a constant gradient equals Adam (v grows monotonically). */
  ck_assert_double_eq_tol(run_steps("adam:lr=0.01:epsilon=0.1:amsgrad=1", 1.0f, 0.5f, 4), hat,
                          1e-7);
}
END_TEST

START_TEST(rmsprop_and_adagrad) {
  /* TF1 rmsprop, initial ms 1: ms = 0.9 + 0.1 g²; mom = lr g / sqrt(ms + eps). */
  double ms = 0.9 * 1.0 + 0.1 * 4.0, w = 1.0 - 0.01 * 2.0 / sqrt(ms + 1e-10);
  ck_assert_double_eq_tol(run_steps("rmsprop:lr=0.01", 1.0f, 2.0f, 1), w, 1e-6);
  /* centered: denominator ms - mg², mg = 0.1 g. */
  double ms0 = 0.1 * 4.0, mg = 0.1 * 2.0;
  double wc = 1.0 - 0.01 * 2.0 / sqrt(ms0 - mg * mg + 1e-7);
  ck_assert_double_eq_tol(
      run_steps("rmsprop:lr=0.01:initial_ms=0:centered=1:epsilon=1e-7", 1.0f, 2.0f, 1), wc, 1e-6);
  /* adagrad: acc = 0.1 + g² per step. */
  double acc1 = 0.1 + 4.0, acc2 = acc1 + 4.0;
  double wa = 1.0 - 0.1 * 2.0 / sqrt(acc1 + 1e-7) - 0.1 * 2.0 / sqrt(acc2 + 1e-7);
  ck_assert_double_eq_tol(run_steps("adagrad:lr=0.1", 1.0f, 2.0f, 2), wa, 1e-6);
}
END_TEST

START_TEST(regularization_is_folded_in_and_reported) {
  float v[3] = {0.5f, -2.0f, 1.0f}, g[3] = {0, 0, 0};
  tc_param *p;
  tc_model *m = one_var(v, g, 3, &p);
  ck_assert_int_eq(tc_regularizer_parse("l1_l2:0.1:0.2", &p->regularizer), TC_OK);
  tc_optim_config c = tc_optim_config_default(TC_OPTIM_SGD);
  c.lr = 1.0f;
  tc_optim *o;
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_OK);
  double reg = -1;
  ck_assert_int_eq(tc_optim_step(o, &reg), TC_OK);
  /* 0.1*(0.5+2+1) + 0.2*(0.25+4+1) */
  ck_assert_double_eq_tol(reg, 0.35 + 1.05, 1e-6);
  for (int i = 0; i < 3; i++) {
    double sign = v[i] > 0 ? 1 : -1;
    ck_assert_double_eq_tol(p->value->data[i], v[i] - (0.1 * sign + 0.4 * v[i]), 1e-6);
  }
  tc_optim_free(o);
  tc_model_free(m);
}
END_TEST

START_TEST(constraint_holds_after_every_step) {
  float v[4] = {1, 1, 1, 1}, g[4] = {-3, -1, 2, -5};
  tc_param *p;
  tc_model *m = one_var(v, g, 4, &p);
  ck_assert_int_eq(tc_constraint_parse("max_norm:1:axis=0", &p->constraint), TC_OK);
  tc_optim *o;
  tc_optim_config c = tc_optim_config_default(TC_OPTIM_ADAM);
  c.lr = 0.3f;
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_OK);
  for (int t = 0; t < 10; t++) {
    ck_assert_int_eq(tc_optim_step(o, NULL), TC_OK);
    double n2 = 0;
    for (int i = 0; i < 4; i++)
      n2 += (double)p->value->data[i] * p->value->data[i];
    ck_assert_double_le(sqrt(n2), 1.0 + 1e-6);
  }
  tc_optim_free(o);
  tc_model_free(m);
}
END_TEST

START_TEST(frozen_variable_stays_bit_identical) {
  float v[2] = {0.3f, -0.7f}, g[2] = {1, 1};
  tc_param *p;
  tc_model *m = one_var(v, g, 2, &p);
  ck_assert_int_eq(tc_constraint_parse("non_neg", &p->constraint), TC_OK);
  ck_assert_int_eq(tc_regularizer_parse("l2:0.5", &p->regularizer), TC_OK);
  ck_assert_int_eq(tc_model_set_trainable(m, "l", 0), TC_OK);
  tc_optim *o;
  tc_optim_config c = tc_optim_config_default(TC_OPTIM_ADAM);
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_OK);
  for (int t = 0; t < 5; t++) {
    double reg;
    ck_assert_int_eq(tc_optim_step(o, &reg), TC_OK);
    ck_assert_double_eq_tol(reg, 0.5 * (0.09 + 0.49), 1e-6); /* still counted */
    ck_assert_int_eq(memcmp(p->value->data, v, sizeof v), 0);
  }
  ck_assert_int_eq(tc_optim_slot_count(o), 0); /* no slots for a frozen variable */
  ck_assert_int_eq(tc_model_set_trainable(m, "l", 1), TC_OK);
  ck_assert_int_eq(tc_optim_step(o, NULL), TC_OK);
  ck_assert_int_eq(tc_optim_slot_count(o), 2);
  ck_assert_float_eq(p->value->data[1], 0.0f); /* unfrozen: the constraint applies */
  const char *name;
  ck_assert_ptr_nonnull(tc_optim_slot_at(o, 0, &name));
  ck_assert_str_eq(name, "l/w/m");
  ck_assert_ptr_nonnull(tc_optim_find_slot(o, "l/w", "v"));
  ck_assert_ptr_null(tc_optim_find_slot(o, "l/w", "nope"));
  ck_assert_int_eq(tc_model_set_trainable(m, "nope", 0), TC_ERR_NOT_FOUND);
  tc_optim_free(o);
  tc_model_free(m);
}
END_TEST

START_TEST(clipping) {
  float v[2] = {0, 0}, g[2] = {3, 4};
  tc_param *p;
  tc_model *m = one_var(v, g, 2, &p);
  tc_optim *o;
  tc_optim_config c = tc_optim_config_default(TC_OPTIM_SGD);
  c.lr = 1.0f;
  c.clip_norm = 1.0f; /* |g| = 5 → g/5 */
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_OK);
  ck_assert_int_eq(tc_optim_step(o, NULL), TC_OK);
  ck_assert_float_eq_tol(p->value->data[0], -0.6f, 1e-6f);
  ck_assert_float_eq_tol(p->value->data[1], -0.8f, 1e-6f);
  tc_optim_free(o);
  c.clip_norm = 0.0f;
  c.clip_value = 3.5f;
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_OK);
  tc_optim_set_lr(o, 0.5f);
  ck_assert_float_eq(tc_optim_lr(o), 0.5f);
  ck_assert_int_eq(tc_optim_step(o, NULL), TC_OK);
  ck_assert_float_eq_tol(p->value->data[0], -0.6f - 1.5f, 1e-6f);
  ck_assert_float_eq_tol(p->value->data[1], -0.8f - 1.75f, 1e-6f);
  tc_optim_free(o);
  tc_model_free(m);
}
END_TEST

START_TEST(global_norm_clipping_spans_variables) {
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  int64_t s[1] = {1};
  tc_param *a, *b;
  ck_assert_int_eq(tc_model_add_param(m, "l", "a", TC_PARAM_WEIGHT, 1, s, &a), TC_OK);
  ck_assert_int_eq(tc_model_add_param(m, "l", "b", TC_PARAM_WEIGHT, 1, s, &b), TC_OK);
  a->value->grad[0] = 6;
  b->value->grad[0] = 8;
  tc_optim_config c = tc_optim_config_default(TC_OPTIM_SGD);
  c.lr = 1.0f;
  c.clip_global_norm = 5.0f; /* global norm 10 → halve */
  tc_optim *o;
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_OK);
  ck_assert_int_eq(tc_optim_step(o, NULL), TC_OK);
  ck_assert_float_eq_tol(a->value->data[0], -3.0f, 1e-6f);
  ck_assert_float_eq_tol(b->value->data[0], -4.0f, 1e-6f);
  tc_optim_free(o);
  tc_model_free(m);
}
END_TEST

START_TEST(bad_strings_and_arguments) {
  tc_optim_config c;
  const char *bad[] = {"adamx", "adam:lr", "adam:lr=abc", "adam:foo=1", "", "adam:epsilon_mode=x"};
  const char *want[] = {"unknown optimizer", "lacks '='", "not a number", "unknown option",
                        "empty", "hat or corrected"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_int_eq(tc_optim_config_parse(bad[i], &c), TC_ERR_INVALID_ARG);
    ck_assert_msg(strstr(tc_last_error(), want[i]) != NULL, "'%s': %s", bad[i], tc_last_error());
    ck_assert_ptr_nonnull(strstr(tc_last_error(), bad[i]));
  }
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  tc_optim *o;
  c = tc_optim_config_default(TC_OPTIM_ADAM);
  c.beta1 = 1.5f;
  TC_CK_ERROR(tc_optim_create(&o, &c, m, NULL), TC_ERR_INVALID_ARG, "beta1 1.5");
  c = tc_optim_config_default(TC_OPTIM_SGD);
  c.lr = -1.0f;
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_optim_create(NULL, &c, m, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_optim_step(NULL, NULL), TC_ERR_INVALID_ARG);
  c = tc_optim_config_default(TC_OPTIM_SGD);
  ck_assert_int_eq(tc_optim_create(&o, NULL, m, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_optim_create(&o, &c, NULL, NULL), TC_ERR_INVALID_ARG);
  double reg;
  ck_assert_int_eq(tc_optim_regularization(NULL, &reg), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_optim_ensure_slots(NULL), TC_ERR_INVALID_ARG);
  /* The accessors have no status: NULL does nothing, or answers 0 / NULL. */
  tc_optim_set_lr(NULL, 1.0f);
  tc_optim_set_steps(NULL, 3);
  ck_assert_float_eq(tc_optim_lr(NULL), 0.0f);
  ck_assert_int_eq(tc_optim_steps(NULL), 0);
  ck_assert_int_eq(tc_optim_slot_count(NULL), 0);
  ck_assert_ptr_null(tc_optim_slot_at(NULL, 0, NULL));
  ck_assert_ptr_null(tc_optim_find_slot(NULL, "l/w", "m"));
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_OK);
  ck_assert_int_eq(tc_optim_regularization(o, NULL), TC_ERR_INVALID_ARG);
  ck_assert_ptr_null(tc_optim_find_slot(o, NULL, "m"));
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "variable name"));
  tc_optim_free(o);
  tc_optim_free(NULL);
  tc_model_free(m);
}
END_TEST

/* Plain Adam's loop on every ISA the CPU runs gives the bits of its expressions evaluated
 * one element at a time here (baseline build): m, v and the new value, for lengths around
 * the vector widths, on gradients from 1e-20 to 1e3 and zeros (sqrt(0) + eps), and values
 * small enough that a rounding of the step changes them. */
START_TEST(adam_loop_gives_the_same_bits_on_every_isa) {
  enum { N = 203 };
  float w[N], g[N], m[N], v[N], want[3][N], got[3][N];
  tc_test_rng rng;
  tc_test_rng_init(&rng, 21);
  tc_test_fill(&rng, w, N, -1.0f, 1.0f);
  tc_test_fill(&rng, g, N, -1.0f, 1.0f);
  tc_test_fill(&rng, m, N, -0.1f, 0.1f);
  tc_test_fill(&rng, v, N, 0.0f, 0.01f);
  for (int i = 0; i < N; i++) { /* values down to the step's size, so its last bits show */
    g[i] = i % 11 == 0 ? 0.0f : ldexpf(g[i], i % 77 - 66);
    w[i] = ldexpf(w[i], -(i % 19));
  }
  v[0] = 0.0f;
  const float b1 = 0.9f, b2 = 0.999f, lr = 0.0137f, eps = 1e-7f;
  for (int i = 0; i < N; i++) {
    want[1][i] = b1 * m[i] + (1.0f - b1) * g[i];
    want[2][i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    want[0][i] = w[i] - lr * want[1][i] / (sqrtf(want[2][i]) + eps);
  }
  static void (*const loops[TC_ISA_COUNT])(const tc_adam_args *, int64_t) = {
      tc_adam_plain_portable, tc_adam_plain_avx2, tc_adam_plain_avx512};
  static const int lengths[] = {1, 7, 8, 9, 16, 17, 31, N};
  int ran = 0;
  for (tc_isa isa = TC_ISA_PORTABLE; isa < TC_ISA_COUNT; isa++) {
    if (tc_ukr_for(isa) == NULL)
      continue;
    ran++;
    for (int li = 0; li < 8; li++) {
      int n = lengths[li];
      tc_adam_args a = {b1, b2, lr, eps, w, g, m, v, got[0], got[1], got[2]};
      loops[isa](&a, n);
      for (int k = 0; k < 3; k++)
        ck_assert_msg(memcmp(got[k], want[k], sizeof(float) * (size_t)n) == 0,
                      "isa %d, n %d: output %d differs", (int)isa, n, k);
    }
  }
  ck_assert_int_gt(ran, 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("optim");
  TCase *tc = tcase_create("step");
  tcase_add_test(tc, sgd_and_momentum);
  tcase_add_test(tc, adam_both_epsilon_placements);
  tcase_add_test(tc, adam_loop_gives_the_same_bits_on_every_isa);
  tcase_add_test(tc, rmsprop_and_adagrad);
  tcase_add_test(tc, regularization_is_folded_in_and_reported);
  tcase_add_test(tc, constraint_holds_after_every_step);
  tcase_add_test(tc, frozen_variable_stays_bit_identical);
  tcase_add_test(tc, clipping);
  tcase_add_test(tc, global_norm_clipping_spans_variables);
  tcase_add_test(tc, bad_strings_and_arguments);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
