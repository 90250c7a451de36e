/* test_finite.c — the NaN/inf check a training loop makes before a step and a save. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/finite.h"
#include "support/testutil.h"

START_TEST(first_nonfinite_finds_nan_and_both_infinities) {
  float x[6] = {0.0f, -1.0f, 3.4e38f, 1e-45f, -0.0f, 2.0f};
  ck_assert_int_eq(tc_floats_first_nonfinite(x, 6), -1);
  x[4] = NAN;
  ck_assert_int_eq(tc_floats_first_nonfinite(x, 6), 4);
  x[2] = -INFINITY;
  ck_assert_int_eq(tc_floats_first_nonfinite(x, 6), 2);
  x[0] = INFINITY;
  ck_assert_int_eq(tc_floats_first_nonfinite(x, 1), 0);
  ck_assert_int_eq(tc_floats_first_nonfinite(x, 0), -1);
  int64_t shape[2] = {2, 3};
  tc_tensor *t;
  ck_assert_int_eq(tc_tensor_create(&t, 2, shape), TC_OK);
  ck_assert_int_eq(tc_tensor_first_nonfinite(t), -1);
  t->data[5] = NAN;
  ck_assert_int_eq(tc_tensor_first_nonfinite(t), 5);
  ck_assert_int_eq(tc_tensor_first_nonfinite(NULL), -1);
  tc_tensor_free(t);
}
END_TEST

START_TEST(a_nonfinite_loss_is_a_state_error_naming_step_and_value) {
  tc_tensor *loss;
  ck_assert_int_eq(tc_tensor_create(&loss, 0, NULL), TC_OK);
  loss->data[0] = 0.25f;
  ck_assert_int_eq(tc_loss_check_finite(loss, "loss", 3), TC_OK);
  loss->data[0] = NAN;
  TC_CK_ERROR(tc_loss_check_finite(loss, "discriminator loss", 14), TC_ERR_STATE, "discriminator loss is nan at step 14");
  loss->data[0] = -INFINITY;
  TC_CK_ERROR(tc_loss_check_finite(loss, "loss", 2), TC_ERR_STATE, "loss is -inf at step 2");
  ck_assert_int_eq(tc_loss_check_finite(NULL, "loss", 2), TC_ERR_INVALID_ARG);
  tc_tensor_free(loss);
}
END_TEST

int main(void) {
  Suite *s = suite_create("finite");
  TCase *tc = tcase_create("finite");
  tcase_add_test(tc, first_nonfinite_finds_nan_and_both_infinities);
  tcase_add_test(tc, a_nonfinite_loss_is_a_state_error_naming_step_and_value);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
