/* test_layer.c — the Conv2DTranspose layer: defaults, names, initialization, trainable,
 * activity regularization and every rejected argument. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "layers/conv2d_transpose.h"
#include "optim/optimizer.h"
#include "support/testutil.h"

static tc_model *model(uint64_t seed) {
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, seed), TC_OK);
  return m;
}

START_TEST(defaults_are_tf_defaults) {
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(8, 3, 5);
  ck_assert_int_eq(c.strides[0], 1);
  ck_assert_int_eq(c.strides[1], 1);
  ck_assert_str_eq(c.padding, "valid");
  ck_assert_str_eq(c.data_format, "channels_last");
  ck_assert_int_eq(c.activation.kind, TC_ACT_LINEAR);
  ck_assert_int_eq(c.use_bias, 1);
  ck_assert_int_eq(c.kernel_initializer.kind, TC_INIT_GLOROT_UNIFORM);
  ck_assert_int_eq(c.bias_initializer.kind, TC_INIT_ZEROS);
  ck_assert_int_eq(c.kernel_regularizer.kind, TC_REG_NONE);
  ck_assert_int_eq(c.kernel_constraint.kind, TC_CONSTRAINT_NONE);
  ck_assert_int_eq(c.trainable, 1);
  ck_assert_ptr_null(c.name);
  ck_assert_int_eq(c.output_padding[0], -1);
  ck_assert_int_eq(c.dilation_rate[1], 1);
  ck_assert_int_eq(c.groups, 1);
}
END_TEST

START_TEST(names_are_unique_and_checked) {
  tc_model *m = model(1);
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(2, 2, 2);
  tc_conv2d_transpose *a, *b, *d, *e;
  ck_assert_int_eq(tc_conv2d_transpose_create(&a, m, &c, 3), TC_OK);
  ck_assert_int_eq(tc_conv2d_transpose_create(&b, m, &c, 3), TC_OK);
  ck_assert_str_eq(tc_conv2d_transpose_name(a), "conv2d_transpose");
  ck_assert_str_eq(tc_conv2d_transpose_name(b), "conv2d_transpose_1");
  ck_assert_str_eq(tc_conv2d_transpose_kernel(b)->name, "conv2d_transpose_1/kernel");
  ck_assert_str_eq(tc_conv2d_transpose_bias(b)->name, "conv2d_transpose_1/bias");
  c.name = "dec1";
  ck_assert_int_eq(tc_conv2d_transpose_create(&d, m, &c, 3), TC_OK);
  TC_CK_ERROR(tc_conv2d_transpose_create(&e, m, &c, 3), TC_ERR_EXISTS, "'dec1' is already used");
  c.name = "bad name";
  TC_CK_ERROR(tc_conv2d_transpose_create(&e, m, &c, 3), TC_ERR_INVALID_ARG, "' '");
  ck_assert_ptr_nonnull(tc_model_find_param(m, "dec1/kernel"));
  ck_assert_ptr_null(tc_model_find_param(m, "dec2/kernel"));
  tc_conv2d_transpose_free(a);
  tc_conv2d_transpose_free(b);
  tc_conv2d_transpose_free(d);
  tc_model_free(m);
}
END_TEST

START_TEST(initialization_is_reproducible_and_glorot_bounded) {
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(6, 3, 3);
  tc_model *m1 = model(7), *m2 = model(7), *m3 = model(8);
  tc_conv2d_transpose *l1, *l2, *l3;
  ck_assert_int_eq(tc_conv2d_transpose_create(&l1, m1, &c, 4), TC_OK);
  ck_assert_int_eq(tc_conv2d_transpose_create(&l2, m2, &c, 4), TC_OK);
  ck_assert_int_eq(tc_conv2d_transpose_create(&l3, m3, &c, 4), TC_OK);
  tc_tensor *k1 = tc_conv2d_transpose_kernel(l1)->value, *k2 = tc_conv2d_transpose_kernel(l2)->value;
  tc_tensor *k3 = tc_conv2d_transpose_kernel(l3)->value;
  ck_assert_int_eq(memcmp(k1->data, k2->data, (size_t)k1->size * sizeof(float)), 0);
  ck_assert_int_ne(memcmp(k1->data, k3->data, (size_t)k1->size * sizeof(float)), 0);
  /* TF fan rule on (3,3,6,4): fan_in = 6*9, fan_out = 4*9. */
  double limit = sqrt(6.0 / (54 + 36));
  for (int64_t i = 0; i < k1->size; i++)
    ck_assert_double_le(fabs(k1->data[i]), limit);
  tc_tensor *b = tc_conv2d_transpose_bias(l1)->value;
  for (int64_t i = 0; i < b->size; i++)
    ck_assert_float_eq(b->data[i], 0.0f);
  tc_conv2d_transpose_free(l1);
  tc_conv2d_transpose_free(l2);
  tc_conv2d_transpose_free(l3);
  tc_model_free(m1);
  tc_model_free(m2);
  tc_model_free(m3);
}
END_TEST

static tc_status forward_sum(tc_conv2d_transpose *l, tc_graph *g, tc_tensor *x, tc_tensor **loss) {
  tc_tensor *y;
  TC_TRY(tc_conv2d_transpose_forward(l, g, x, &y));
  return tc_op_sum(g, y, loss);
}

START_TEST(frozen_layer_passes_gradient_to_its_input) {
  tc_model *m = model(3);
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(2, 2, 2);
  c.trainable = 0;
  tc_conv2d_transpose *l;
  ck_assert_int_eq(tc_conv2d_transpose_create(&l, m, &c, 3), TC_OK);
  tc_test_rng r;
  tc_test_rng_init(&r, 1);
  int64_t xs[4] = {1, 2, 2, 3};
  tc_tensor *x = tc_test_tensor(&r, 4, xs, -1, 1), *loss;
  ck_assert_int_eq(tc_tensor_require_grad(x), TC_OK);
  ck_assert_int_eq(forward_sum(l, g, x, &loss), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  double norm = 0;
  for (int64_t i = 0; i < x->size; i++)
    norm += fabs(x->grad[i]);
  ck_assert_double_gt(norm, 0.0);
  ck_assert_int_eq(tc_conv2d_transpose_kernel(l)->trainable, 0);
  tc_conv2d_transpose_set_trainable(l, 1);
  ck_assert_int_eq(tc_conv2d_transpose_bias(l)->trainable, 1);
  tc_tensor_free(x);
  tc_conv2d_transpose_free(l);
  tc_graph_free(g);
  tc_model_free(m);
}
END_TEST

/* Two layers trained with Adam: the frozen one keeps its weights bit for bit (and gets no
 * slots) while the gradient still reaches the layer below it; unfrozen, it trains again. */
START_TEST(frozen_layer_is_bit_identical_over_steps) {
  tc_model *m = model(5);
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(3, 2, 2);
  c.strides[0] = c.strides[1] = 2;
  ck_assert_int_eq(tc_constraint_parse("max_norm:0.01:axis=0,1,2", &c.kernel_constraint), TC_OK);
  tc_conv2d_transpose *low, *top;
  ck_assert_int_eq(tc_conv2d_transpose_create(&low, m, &c, 2), TC_OK);
  ck_assert_int_eq(tc_conv2d_transpose_create(&top, m, &c, 3), TC_OK);
  tc_conv2d_transpose_set_trainable(top, 0);
  tc_optim_config oc = tc_optim_config_default(TC_OPTIM_ADAM);
  oc.lr = 0.1f;
  tc_optim *opt;
  ck_assert_int_eq(tc_optim_create(&opt, &oc, m, NULL), TC_OK);
  tc_tensor *tk = tc_conv2d_transpose_kernel(top)->value, *lk = tc_conv2d_transpose_kernel(low)->value;
  float *saved = malloc((size_t)tk->size * sizeof(float)), *low0 = malloc((size_t)lk->size * sizeof(float));
  memcpy(saved, tk->data, (size_t)tk->size * sizeof(float));
  memcpy(low0, lk->data, (size_t)lk->size * sizeof(float));
  tc_test_rng r;
  tc_test_rng_init(&r, 4);
  int64_t xs[4] = {2, 2, 2, 2};
  tc_tensor *x = tc_test_tensor(&r, 4, xs, -1, 1);
  for (int step = 0; step < 6; step++) {
    tc_tensor *h, *y, *loss;
    tc_graph_reset(g);
    ck_assert_int_eq(tc_conv2d_transpose_forward(low, g, x, &h), TC_OK);
    ck_assert_int_eq(tc_conv2d_transpose_forward(top, g, h, &y), TC_OK);
    ck_assert_int_eq(tc_op_mean(g, y, &loss), TC_OK);
    ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
    ck_assert_int_eq(tc_optim_step(opt, NULL), TC_OK);
    /* The frozen kernel violates its max_norm and is still untouched: no constraint either. */
    ck_assert_int_eq(memcmp(tk->data, saved, (size_t)tk->size * sizeof(float)), 0);
  }
  ck_assert_int_ne(memcmp(lk->data, low0, (size_t)lk->size * sizeof(float)), 0);
  ck_assert_ptr_null(tc_optim_find_slot(opt, tc_conv2d_transpose_kernel(top)->name, "m"));
  tc_conv2d_transpose_set_trainable(top, 1);
  tc_tensor *h, *y, *loss;
  tc_graph_reset(g);
  ck_assert_int_eq(tc_conv2d_transpose_forward(low, g, x, &h), TC_OK);
  ck_assert_int_eq(tc_conv2d_transpose_forward(top, g, h, &y), TC_OK);
  ck_assert_int_eq(tc_op_mean(g, y, &loss), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  ck_assert_int_eq(tc_optim_step(opt, NULL), TC_OK);
  ck_assert_int_ne(memcmp(tk->data, saved, (size_t)tk->size * sizeof(float)), 0);
  free(saved);
  free(low0);
  tc_tensor_free(x);
  tc_optim_free(opt);
  tc_conv2d_transpose_free(low);
  tc_conv2d_transpose_free(top);
  tc_graph_free(g);
  tc_model_free(m);
}
END_TEST

START_TEST(activity_regularizer_is_divided_by_batch) {
  tc_model *m = model(3);
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(2, 1, 1);
  ck_assert_int_eq(tc_regularizer_parse("l2:0.5", &c.activity_regularizer), TC_OK);
  tc_conv2d_transpose *l;
  ck_assert_int_eq(tc_conv2d_transpose_create(&l, m, &c, 1), TC_OK);
  int64_t xs[4] = {4, 1, 1, 1};
  tc_tensor *x, *y;
  ck_assert_int_eq(tc_tensor_create(&x, 4, xs), TC_OK);
  tc_tensor_fill(x, 1.0f);
  ck_assert_int_eq(tc_conv2d_transpose_forward(l, g, x, &y), TC_OK);
  ck_assert_int_eq(tc_graph_loss_count(g), 1);
  double sq = 0;
  for (int64_t i = 0; i < y->size; i++)
    sq += (double)y->data[i] * y->data[i];
  ck_assert_double_eq_tol(tc_graph_loss_at(g, 0)->data[0], 0.5 * sq / 4.0, 1e-6);
  tc_tensor_free(x);
  tc_conv2d_transpose_free(l);
  tc_graph_free(g);
  tc_model_free(m);
}
END_TEST

static void expect_rejected(tc_conv2d_transpose_config c, int in_ch, tc_status want,
                            const char *needle) {
  tc_model *m = model(1);
  tc_conv2d_transpose *l = NULL;
  ck_assert_int_eq(tc_conv2d_transpose_create(&l, m, &c, in_ch), want);
  ck_assert_ptr_null(l);
  ck_assert_msg(strstr(tc_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                tc_last_error(), needle);
  tc_model_free(m);
}

START_TEST(bad_arguments_each_get_their_message) {
  tc_conv2d_transpose_config ok = tc_conv2d_transpose_config_default(4, 3, 3), c;
  c = ok; c.filters = 0;
  expect_rejected(c, 2, TC_ERR_SHAPE, "0");
  c = ok; c.kernel_size[1] = -2;
  expect_rejected(c, 2, TC_ERR_SHAPE, "-2");
  c = ok; c.strides[0] = 0;
  expect_rejected(c, 2, TC_ERR_SHAPE, "stride");
  c = ok; c.padding = "full";
  expect_rejected(c, 2, TC_ERR_INVALID_ARG, "'full'");
  c = ok; c.data_format = "channels_middle";
  expect_rejected(c, 2, TC_ERR_INVALID_ARG, "'channels_middle'");
  c = ok; c.groups = 3;
  expect_rejected(c, 2, TC_ERR_SHAPE, "groups 3");
  c = ok; c.output_padding[0] = 1; c.output_padding[1] = 1;
  expect_rejected(c, 2, TC_ERR_SHAPE, "output_padding");
  expect_rejected(ok, 0, TC_ERR_SHAPE, "in_channels");
  c = ok; c.padding = "SAME"; /* case-insensitive */
  tc_model *m = model(1);
  tc_conv2d_transpose *l;
  ck_assert_int_eq(tc_conv2d_transpose_create(&l, m, &c, 2), TC_OK);
  ck_assert_int_eq(tc_conv2d_transpose_create(NULL, m, &c, 2), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2d_transpose_create(&l, NULL, &c, 2), TC_ERR_INVALID_ARG);
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t xs[4] = {1, 3, 3, 3};
  tc_tensor *x, *y;
  ck_assert_int_eq(tc_tensor_create(&x, 4, xs), TC_OK);
  TC_CK_ERROR(tc_conv2d_transpose_forward(l, g, x, &y), TC_ERR_SHAPE, "input has 3 channels, kernel expects 2");
  ck_assert_int_eq(tc_conv2d_transpose_forward(l, g, NULL, &y), TC_ERR_INVALID_ARG);
  tc_tensor_free(x);
  tc_graph_free(g);
  tc_conv2d_transpose_free(l);
  tc_model_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("layer");
  TCase *tc = tcase_create("conv2d_transpose");
  tcase_add_test(tc, defaults_are_tf_defaults);
  tcase_add_test(tc, names_are_unique_and_checked);
  tcase_add_test(tc, initialization_is_reproducible_and_glorot_bounded);
  tcase_add_test(tc, frozen_layer_passes_gradient_to_its_input);
  tcase_add_test(tc, frozen_layer_is_bit_identical_over_steps);
  tcase_add_test(tc, activity_regularizer_is_divided_by_batch);
  tcase_add_test(tc, bad_arguments_each_get_their_message);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
