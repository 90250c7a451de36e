/* test_layer_create.c — a layer create validates every initializer, regularizer and
 * constraint against its variable's shape, and is all-or-nothing: a failed create leaves
 * no variable, no claimed name and no used Philox stream behind (issue 11). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/conv2d_transpose.h"
#include "layers/dense.h"
#include "support/testutil.h"

static tc_model *model(void) {
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, 7), TC_OK);
  return m;
}

#define EXPECT_MSG(needle)                                                                   \
  ck_assert_msg(strstr(tc_last_error(), (needle)) != NULL, "message '%s' lacks '%s'",       \
                tc_last_error(), (needle))

/* conv2d_transpose "dec1" (4 filters, 3x3, 2 input channels) with cfg changed by the
 * caller must fail with want, leave the model empty and name what the needles say. */
static void dect_refused(tc_conv2d_transpose_config c, tc_status want, const char *n1,
                         const char *n2) {
  tc_model *m = model();
  tc_conv2d_transpose *l = NULL;
  c.name = "dec1";
  ck_assert_int_eq(tc_conv2d_transpose_create(&l, m, &c, 2), want);
  ck_assert_ptr_null(l);
  EXPECT_MSG("conv2d_transpose 'dec1'");
  EXPECT_MSG(n1);
  EXPECT_MSG(n2);
  ck_assert_int_eq(tc_model_param_count(m), 0);
  tc_model_free(m);
}

START_TEST(constraints_are_checked_against_the_shape_at_create) {
  tc_conv2d_transpose_config ok = tc_conv2d_transpose_config_default(4, 3, 3), c;
  c = ok;
  ck_assert_int_eq(tc_constraint_parse("max_norm:2:axis=5", &c.kernel_constraint), TC_OK);
  dect_refused(c, TC_ERR_SHAPE, "kernel_constraint: max_norm: axis 5", "rank 4 (axes -4..3)");
  c = ok;
  ck_assert_int_eq(tc_constraint_parse("unit_norm:axis=-2", &c.bias_constraint), TC_OK);
  dect_refused(c, TC_ERR_SHAPE, "bias_constraint: unit_norm: axis -2", "rank 1");
  c = ok;
  c.kernel_constraint.kind = (tc_constraint_kind)99;
  dect_refused(c, TC_ERR_INVALID_ARG, "kernel_constraint", "unknown constraint kind 99");
  c = ok;
  c.kernel_constraint = tc_constraint_make(TC_CONSTRAINT_MAX_NORM);
  c.kernel_constraint.max_value = -1;
  dect_refused(c, TC_ERR_INVALID_ARG, "kernel_constraint: max_norm", "-1");
  c = ok;
  c.bias_constraint = tc_constraint_make(TC_CONSTRAINT_RADIAL);
  dect_refused(c, TC_ERR_SHAPE, "bias_constraint: radial", "rank 1");
  c = ok;
  c.kernel_constraint = tc_constraint_make(TC_CONSTRAINT_CALLBACK);
  dect_refused(c, TC_ERR_INVALID_ARG, "kernel_constraint", "no function");
}
END_TEST

START_TEST(initializers_and_regularizers_are_checked_at_create) {
  tc_conv2d_transpose_config ok = tc_conv2d_transpose_config_default(4, 3, 3), c;
  c = ok;
  ck_assert_int_eq(tc_initializer_parse("orthogonal", &c.bias_initializer), TC_OK);
  dect_refused(c, TC_ERR_SHAPE, "bias_initializer: orthogonal", "rank 1");
  c = ok;
  c.kernel_initializer.kind = (tc_init_kind)77;
  dect_refused(c, TC_ERR_INVALID_ARG, "kernel_initializer", "unknown initializer kind 77");
  c = ok;
  c.kernel_initializer = tc_initializer_make(TC_INIT_CONSTANT);
  c.kernel_initializer.value = INFINITY;
  dect_refused(c, TC_ERR_INVALID_ARG, "kernel_initializer: constant", "finite");
  c = ok;
  c.kernel_regularizer.kind = (tc_reg_kind)42;
  dect_refused(c, TC_ERR_INVALID_ARG, "kernel_regularizer", "unknown regularizer kind 42");
  c = ok;
  c.bias_regularizer.kind = TC_REG_L2;
  c.bias_regularizer.l2 = -0.5f;
  dect_refused(c, TC_ERR_INVALID_ARG, "bias_regularizer: l2", "-0.5");
  c = ok;
  c.kernel_regularizer.kind = TC_REG_L1;
  c.kernel_regularizer.l1 = NAN;
  dect_refused(c, TC_ERR_INVALID_ARG, "kernel_regularizer: l1", "finite");
  c = ok;
  c.activity_regularizer.kind = (tc_reg_kind)9;
  dect_refused(c, TC_ERR_INVALID_ARG, "activity_regularizer", "unknown regularizer kind 9");
  c = ok;
  c.activation = tc_activation_make(TC_ACT_ELU);
  c.activation.alpha = INFINITY;
  dect_refused(c, TC_ERR_INVALID_ARG, "activation elu", "alpha must be finite");
}
END_TEST

/* The first value of the next dense layer's kernel drawn in m. */
static float next_dense_draw(tc_model *m, const char *name) {
  tc_dense_config d = tc_dense_config_default(3);
  d.name = name;
  tc_dense *l;
  ck_assert_int_eq(tc_dense_create(&l, m, &d, 5), TC_OK);
  float v = tc_dense_kernel(l)->value->data[0];
  tc_dense_free(l);
  return v;
}

/* A model holding one dense layer "first" (2 variables, 2 Philox streams). */
static tc_model *model_with_one_layer(void) {
  tc_model *m = model();
  (void)next_dense_draw(m, "first");
  return m;
}

/* After a failed create in model_with_one_layer(): nothing more in the model, the name
 * free again, and the next layer drawn exactly as in a model that never saw the failure. */
static void expect_nothing_left(tc_model *m, const char *name) {
  ck_assert_int_eq(tc_model_param_count(m), 2);
  tc_model *fresh = model_with_one_layer();
  ck_assert_float_eq(next_dense_draw(m, name), next_dense_draw(fresh, "other"));
  tc_model_free(fresh);
  tc_model_free(m);
}

START_TEST(failed_creates_leave_nothing_for_each_kind) {
  tc_initializer ortho;
  ck_assert_int_eq(tc_initializer_parse("orthogonal", &ortho), TC_OK);

  tc_model *m = model_with_one_layer();
  tc_conv2d_transpose_config t = tc_conv2d_transpose_config_default(4, 3, 3);
  t.name = "up";
  t.bias_initializer = ortho; /* fails after the kernel was made */
  tc_conv2d_transpose *tl = NULL;
  ck_assert_int_eq(tc_conv2d_transpose_create(&tl, m, &t, 2), TC_ERR_SHAPE);
  ck_assert_ptr_null(tc_model_find_param(m, "up/kernel"));
  expect_nothing_left(m, "up");

  m = model_with_one_layer();
  tc_conv2d_config c = tc_conv2d_config_default(4, 3, 3);
  c.name = "enc";
  c.bias_initializer = ortho;
  tc_conv2d *cl = NULL;
  ck_assert_int_eq(tc_conv2d_create(&cl, m, &c, 2), TC_ERR_SHAPE);
  ck_assert_ptr_null(tc_model_find_param(m, "enc/kernel"));
  expect_nothing_left(m, "enc");

  m = model_with_one_layer();
  tc_dense_config d = tc_dense_config_default(3);
  d.name = "fc";
  d.bias_initializer = ortho;
  tc_dense *dl = NULL;
  ck_assert_int_eq(tc_dense_create(&dl, m, &d, 5), TC_ERR_SHAPE);
  ck_assert_ptr_null(tc_model_find_param(m, "fc/kernel"));
  expect_nothing_left(m, "fc");

  m = model_with_one_layer();
  tc_batch_norm_config b = tc_batch_norm_config_default();
  b.name = "bn";
  b.moving_variance_initializer = ortho; /* the last of four variables */
  tc_batch_norm *bl = NULL;
  ck_assert_int_eq(tc_batch_norm_create(&bl, m, &b, 3), TC_ERR_SHAPE);
  EXPECT_MSG("batch_normalization 'bn': moving_variance_initializer: orthogonal");
  ck_assert_ptr_null(tc_model_find_param(m, "bn/gamma"));
  ck_assert_ptr_null(tc_model_find_param(m, "bn/moving_mean"));
  expect_nothing_left(m, "bn");
}
END_TEST

START_TEST(a_failed_create_does_not_use_up_the_automatic_name) {
  tc_model *m = model();
  tc_dense_config d = tc_dense_config_default(3);
  d.kernel_constraint = tc_constraint_make(TC_CONSTRAINT_RADIAL); /* rank 2: refused */
  tc_dense *l = NULL;
  ck_assert_int_eq(tc_dense_create(&l, m, &d, 5), TC_ERR_SHAPE);
  EXPECT_MSG("dense 'dense': kernel_constraint: radial");
  d = tc_dense_config_default(3);
  ck_assert_int_eq(tc_dense_create(&l, m, &d, 5), TC_OK);
  ck_assert_str_eq(tc_dense_name(l), "dense");
  ck_assert_ptr_nonnull(tc_model_find_param(m, "dense/kernel"));
  tc_dense_free(l);
  tc_model_free(m);
}
END_TEST

START_TEST(common_config_is_the_loose_fields) {
  /* cfg.common and the loose fields are the same bytes: tools copy the one, users set
   * the other. */
  tc_conv2d_config c = tc_conv2d_config_default(2, 3, 3);
  tc_layer_common com = tc_layer_common_default();
  com.activation = tc_activation_make(TC_ACT_TANH);
  com.name = "x";
  c.common = com;
  ck_assert_int_eq(c.activation.kind, TC_ACT_TANH);
  ck_assert_str_eq(c.name, "x");
  c.use_bias = 0;
  ck_assert_int_eq(c.common.use_bias, 0);
  ck_assert_int_eq(c.filters, 2);
}
END_TEST

int main(void) {
  Suite *s = suite_create("layer_create");
  TCase *tc = tcase_create("create");
  tcase_add_test(tc, constraints_are_checked_against_the_shape_at_create);
  tcase_add_test(tc, initializers_and_regularizers_are_checked_at_create);
  tcase_add_test(tc, failed_creates_leave_nothing_for_each_kind);
  tcase_add_test(tc, a_failed_create_does_not_use_up_the_automatic_name);
  tcase_add_test(tc, common_config_is_the_loose_fields);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
