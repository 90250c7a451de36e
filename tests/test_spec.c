/* test_spec.c — the option-string tokenizer (core/spec.h) under the five grammars: the
 * float32 rule for every numeric field, and the optimizer's per-optimizer keys. */
#include <check.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/activation.h"
#include "core/spec.h"
#include "layers/constraint.h"
#include "layers/initializer.h"
#include "layers/regularizer.h"
#include "optim/optimizer.h"
#include "support/testutil.h"

typedef enum { ACT, INIT, REG, CON, OPT } grammar;

/* Parses s with the grammar's parser into scratch storage. */
static tc_status parse(grammar g, const char *s) {
  tc_activation a;
  tc_initializer i;
  tc_regularizer r;
  tc_constraint c;
  tc_optim_config o;
  switch (g) {
  case ACT: return tc_activation_parse(s, &a);
  case INIT: return tc_initializer_parse(s, &i);
  case REG: return tc_regularizer_parse(s, &r);
  case CON: return tc_constraint_parse(s, &c);
  default: return tc_optim_config_parse(s, &o);
  }
}

static void expect_refused(grammar g, const char *s, const char *needle) {
  ck_assert_msg(parse(g, s) == TC_ERR_INVALID_ARG, "\"%s\" was accepted", s);
  char quoted[600];
  snprintf(quoted, sizeof quoted, "\"%s\"", s);
  ck_assert_msg(strstr(tc_last_error(), quoted) != NULL, "no %s in: %s", quoted,
                tc_last_error());
  ck_assert_msg(strstr(tc_last_error(), needle) != NULL, "\"%s\": no '%s' in: %s", s, needle,
                tc_last_error());
}

/* Every numeric field of every grammar, with a value that is finite in double but not in
 * float32. Before, each became inf and trained to NaN. */
static const struct {
  grammar g;
  const char *s;
} too_big[] = {
    {ACT, "leaky_relu:1e39"}, {ACT, "elu:1e39"},
    {INIT, "constant:1e39"}, {INIT, "constant:-1e39"}, {INIT, "random_uniform:-1e39"},
    {INIT, "random_uniform:0:1e39"}, {INIT, "random_normal:1e39"},
    {INIT, "random_normal:0:1e39"}, {INIT, "truncated_normal:1e39"},
    {INIT, "truncated_normal:0:1e39"}, {INIT, "variance_scaling:1e39"},
    {INIT, "orthogonal:1e39"},
    {REG, "l1:1e39"}, {REG, "l2:1e39"}, {REG, "l1_l2:1e39:0"}, {REG, "l1_l2:0:1e39"},
    {REG, "tf_l2:1e39"},
    {CON, "max_norm:1e39"}, {CON, "min_max_norm:1e39"}, {CON, "min_max_norm:0:1e39"},
    {CON, "min_max_norm:0:1:1e39"}, {CON, "max_norm:1e39:axis=0"},
    {OPT, "sgd:lr=1e39"}, {OPT, "sgd:learning_rate=1e39"}, {OPT, "momentum:momentum=1e39"},
    {OPT, "adam:beta1=1e39"}, {OPT, "adam:beta2=1e39"}, {OPT, "adam:epsilon=1e39"},
    {OPT, "rmsprop:rho=1e39"}, {OPT, "rmsprop:momentum=1e39"}, {OPT, "rmsprop:epsilon=1e39"},
    {OPT, "rmsprop:initial_ms=1e39"}, {OPT, "adagrad:initial_accumulator_value=1e39"},
    {OPT, "adagrad:initial_accumulator=1e39"}, {OPT, "adagrad:epsilon=1e39"},
    {OPT, "adam:clip_value=1e39"}, {OPT, "adam:clip_norm=1e39"},
    {OPT, "adam:clip_global_norm=1e39"},
};

START_TEST(numbers_beyond_float32_are_refused_in_every_field) {
  for (size_t i = 0; i < sizeof too_big / sizeof too_big[0]; i++)
    expect_refused(too_big[i].g, too_big[i].s, "not finite in float32");
}
END_TEST

START_TEST(inf_nan_hex_spaces_and_underflow_are_refused) {
  expect_refused(REG, "l2:inf", "not a number");
  expect_refused(REG, "l2:nan", "not a number");
  expect_refused(REG, "l2:infinity", "not a number");
  expect_refused(REG, "l2:0x1p-3", "no hex-floats");
  expect_refused(REG, "l2: 0.1", "not a number");
  expect_refused(REG, "l2:1e", "not a number");
  expect_refused(REG, "l2:.", "not a number");
  expect_refused(ACT, "elu:1e-50", "rounds to 0 in float32");
  expect_refused(INIT, "constant:1e-400", "rounds to 0 in float32");
  expect_refused(OPT, "adam:lr=1e999", "not finite in float32");
  expect_refused(CON, "max_norm:-0.5", "below 0");
}
END_TEST

START_TEST(numbers_at_the_float32_limits_are_kept) {
  tc_initializer in;
  ck_assert_int_eq(tc_initializer_parse("constant:3.4e38", &in), TC_OK);
  ck_assert_float_eq(in.value, 3.4e38f);
  ck_assert_int_eq(tc_initializer_parse("constant:-3.4e38", &in), TC_OK);
  ck_assert_int_eq(tc_initializer_parse("constant:1e-45", &in), TC_OK); /* subnormal */
  ck_assert(in.value > 0.0f);
  ck_assert_int_eq(tc_initializer_parse("CONSTANT:1E-4", &in), TC_OK); /* any case */
  ck_assert_float_eq(in.value, 1e-4f);
  ck_assert_int_eq(tc_initializer_parse("constant:+.5", &in), TC_OK);
  ck_assert_float_eq(in.value, 0.5f);
  ck_assert_int_eq(tc_initializer_parse("constant:0", &in), TC_OK);
}
END_TEST

START_TEST(optimizer_keys_belong_to_their_optimizer) {
  expect_refused(OPT, "sgd:beta1=0.5", "beta1 does not apply to sgd");
  expect_refused(OPT, "momentum:rho=0.9", "rho does not apply to momentum");
  expect_refused(OPT, "adam:momentum=0.9", "momentum does not apply to adam");
  expect_refused(OPT, "adam:nesterov=1", "nesterov does not apply to adam");
  expect_refused(OPT, "rmsprop:beta2=0.9", "beta2 does not apply to rmsprop");
  expect_refused(OPT, "adagrad:centered=1", "centered does not apply to adagrad");
  expect_refused(OPT, "sgd:epsilon_mode=hat", "epsilon_mode does not apply to sgd");
  expect_refused(OPT, "adam:lr=0.1:learning_rate=0.2", "learning_rate is given twice");
  expect_refused(OPT, "adam:beta1=0.5:beta1=0.6", "beta1 is given twice");
  expect_refused(OPT, "momentum:nesterov=2", "nesterov must be 0, 1, false or true");
  expect_refused(OPT, "momentum:0.9", "lacks '='");
  expect_refused(OPT, "adam::lr=0.1", "lacks '='");
  expect_refused(OPT, "adam:lr=", "not a number");
  tc_optim_config c;
  ck_assert_int_eq(tc_optim_config_parse("momentum", &c), TC_OK);
  ck_assert_int_eq(c.kind, TC_OPTIM_SGD);
  ck_assert_float_eq(c.momentum, 0.9f);
  ck_assert_int_eq(tc_optim_config_parse("momentum:momentum=0.5:nesterov=true", &c), TC_OK);
  ck_assert_float_eq(c.momentum, 0.5f);
  ck_assert_int_eq(c.nesterov, 1);
  ck_assert_int_eq(tc_optim_config_parse("ADAM:LR=2e-4:Beta1=0.5:epsilon_mode=Corrected", &c),
                   TC_OK);
  ck_assert_int_eq(c.kind, TC_OPTIM_ADAM);
  ck_assert_float_eq(c.lr, 2e-4f);
  ck_assert_float_eq(c.beta1, 0.5f);
  ck_assert_int_eq(c.epsilon_mode, TC_ADAM_EPSILON_CORRECTED);
  ck_assert_int_eq(tc_optim_config_parse("adagrad:initial_accumulator_value=0.2:clip_norm=1",
                                         &c), TC_OK);
  ck_assert_float_eq(c.initial_accumulator, 0.2f);
  ck_assert_float_eq(c.clip_norm, 1.0f);
}
END_TEST

START_TEST(tokenizer_splits_looks_up_and_words_errors) {
  tc_spec sp;
  ck_assert_int_eq(tc_spec_split(&sp, "thing", "A:Bc:", 4, "A:B"), TC_OK);
  ck_assert_int_eq(sp.n, 3);
  ck_assert_str_eq(sp.f[0], "a");
  ck_assert_str_eq(sp.f[1], "bc");
  ck_assert_str_eq(sp.f[2], "");
  ck_assert_int_eq(tc_spec_split(&sp, "thing", "a:b:c", 2, "A:B"), TC_ERR_INVALID_ARG);
  ck_assert_str_eq(tc_last_error(),
                   "thing \"a:b:c\": too many fields (at most 2); expected one of: A:B");
  char longer[TC_SPEC_MAX_LEN + 2];
  memset(longer, 'x', sizeof longer - 1);
  longer[sizeof longer - 1] = '\0';
  TC_CK_ERROR(tc_spec_split(&sp, "thing", longer, 4, "A"), TC_ERR_INVALID_ARG, "at most 511");
  ck_assert_int_eq(tc_spec_split(&sp, "thing", NULL, 4, "A"), TC_ERR_INVALID_ARG);
  static const char *const names[] = {"one", NULL, "three"};
  ck_assert_int_eq(tc_spec_lookup("three", names, 3), 2);
  ck_assert_int_eq(tc_spec_lookup("two", names, 3), -1);
  float v = 7.0f;
  ck_assert_int_eq(tc_spec_split(&sp, "thing", "x:1e39", 4, "A"), TC_OK);
  ck_assert_int_eq(tc_spec_number(&sp, sp.f[1], "a number", 0.0, &v), TC_ERR_INVALID_ARG);
  ck_assert_float_eq(v, 7.0f); /* unchanged */
}
END_TEST

int main(void) {
  Suite *s = suite_create("spec");
  TCase *tc = tcase_create("spec");
  tcase_add_test(tc, numbers_beyond_float32_are_refused_in_every_field);
  tcase_add_test(tc, inf_nan_hex_spaces_and_underflow_are_refused);
  tcase_add_test(tc, numbers_at_the_float32_limits_are_kept);
  tcase_add_test(tc, optimizer_keys_belong_to_their_optimizer);
  tcase_add_test(tc, tokenizer_splits_looks_up_and_words_errors);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
