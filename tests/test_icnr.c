/* test_icnr.c — the icnr initializer on Conv2DTranspose: on a constant input the output of
 * a freshly made stride-s layer has all s*s phases equal (no checkerboard), the plain
 * initializer has them differ, the grammar, and the create-time checks. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "core/graph.h"
#include "layers/conv2d_transpose.h"

/* The largest difference between output phases in the interior (away from 'same' padding's
 * border) of the layer's output for a constant input of 1. */
static double phase_spread(const char *init, int k, int s) {
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, 11), TC_OK);
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(3, k, k);
  c.strides[0] = c.strides[1] = s;
  c.padding = "same";
  ck_assert_int_eq(tc_initializer_parse(init, &c.common.kernel_initializer), TC_OK);
  tc_conv2d_transpose *l;
  ck_assert_int_eq(tc_conv2d_transpose_create(&l, m, &c, 2), TC_OK);
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t shape[4] = {1, 6, 6, 2};
  tc_tensor *x;
  ck_assert_int_eq(tc_tensor_create(&x, 4, shape), TC_OK);
  tc_tensor_fill(x, 1.0f);
  tc_tensor *y;
  ck_assert_int_eq(tc_conv2d_transpose_forward(l, g, x, &y), TC_OK);
  int64_t h = y->shape[1], w = y->shape[2];
  ck_assert_int_eq(h, 6 * s);
  double spread = 0.0;
  for (int64_t i = k; i < h - k; i++)
    for (int64_t j = k; j < w - k; j++)
      for (int f = 0; f < 3; f++) {
        float ref = y->data[((k * w) + k) * 3 + f]; /* phase (k % s, k % s) ... */
        float v = y->data[(i * w + j) * 3 + f];   /* ... against every phase */
        spread = fmax(spread, fabs((double)v - ref));
      }
  tc_tensor_free(x);
  tc_graph_free(g);
  tc_conv2d_transpose_free(l);
  tc_model_free(m);
  return spread;
}

START_TEST(no_checkerboard_on_a_constant_input) {
  ck_assert_double_le(phase_spread("icnr", 4, 2), 1e-6);
  ck_assert_double_le(phase_spread("icnr:he_normal", 6, 3), 1e-6);
  ck_assert_double_le(phase_spread("icnr:random_uniform:-1:1", 4, 4), 1e-6);
  /* the plain initializer does leave one: the test can tell */
  ck_assert_double_gt(phase_spread("glorot_uniform", 4, 2), 1e-3);
}
END_TEST

START_TEST(kernel_is_the_resized_sub_kernel) {
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, 5), TC_OK);
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(2, 4, 6);
  c.strides[0] = 2;
  c.strides[1] = 3;
  ck_assert_int_eq(tc_initializer_parse("icnr", &c.common.kernel_initializer), TC_OK);
  tc_conv2d_transpose *l;
  ck_assert_int_eq(tc_conv2d_transpose_create(&l, m, &c, 3), TC_OK);
  tc_tensor *k = tc_conv2d_transpose_kernel(l)->value; /* (4, 6, 2, 3) */
  int64_t inner = 6;
  int distinct = 0;
  for (int64_t i = 0; i < 4; i++)
    for (int64_t j = 0; j < 6; j++) {
      const float *tap = k->data + (i * 6 + j) * inner;
      const float *src = k->data + ((i / 2 * 2) * 6 + j / 3 * 3) * inner;
      ck_assert_int_eq(memcmp(tap, src, (size_t)inner * sizeof(float)), 0);
      distinct += tap == src && tap[0] != 0.0f;
    }
  ck_assert_int_eq(distinct, 4); /* a 2x2 sub-kernel, spread over 4x6 taps */
  /* glorot on the (2, 2, 2, 3) sub-kernel: limit sqrt(6 / (2*4 + 3*4)) */
  for (int64_t i = 0; i < k->size; i++)
    ck_assert_double_le(fabs(k->data[i]), sqrt(6.0 / 20.0));
  tc_conv2d_transpose_free(l);
  tc_model_free(m);
}
END_TEST

START_TEST(bad_uses) {
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, 5), TC_OK);
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(2, 3, 3);
  c.strides[0] = c.strides[1] = 2;
  ck_assert_int_eq(tc_initializer_parse("icnr", &c.common.kernel_initializer), TC_OK);
  tc_conv2d_transpose *l = NULL;
  ck_assert_int_eq(tc_conv2d_transpose_create(&l, m, &c, 3), TC_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "kernel 3x3 is not divisible by the strides 2x2"));
  ck_assert_ptr_null(l);
  /* anywhere but a conv2d_transpose kernel: no strides */
  tc_initializer in;
  ck_assert_int_eq(tc_initializer_parse("ICNR:glorot_normal", &in), TC_OK);
  ck_assert_int_eq(in.icnr, 1);
  ck_assert_int_eq(in.kind, TC_INIT_GLOROT_NORMAL);
  int64_t s4[4] = {4, 4, 2, 2};
  ck_assert_int_eq(tc_initializer_check(&in, 4, s4), TC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "only to the kernel of a conv2d_transpose"));
  ck_assert_int_eq(tc_initializer_parse("icnr:nope", &in), TC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "icnr"));
  ck_assert_int_eq(tc_initializer_parse("icnr:icnr", &in), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_initializer_parse("icnrx", &in), TC_ERR_INVALID_ARG);
  tc_model_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("icnr");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, no_checkerboard_on_a_constant_input);
  tcase_add_test(tc, kernel_is_the_resized_sub_kernel);
  tcase_add_test(tc, bad_uses);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed == 0 ? 0 : 1;
}
