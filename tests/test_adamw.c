/* test_adamw.c — AdamW (Keras 3 AdamW: decay by lr * weight_decay before the adam update)
 * against steps computed by hand in double, its keys in the grammar and its bad values. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "optim/optimizer.h"

/* Keras: v -= v * wd * lr; then m, v, and v -= lr·sqrt(1-b2^t)/(1-b1^t) · m/(sqrt(v)+eps). */
static double adamw_ref(int steps, double w, double g, double lr, double wd) {
  double m = 0, v = 0, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  for (int t = 1; t <= steps; t++) {
    w -= w * wd * lr;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    w -= lr * sqrt(1 - pow(b2, t)) / (1 - pow(b1, t)) * m / (sqrt(v) + eps);
  }
  return w;
}

static float adamw_run(const char *spec, int steps, float w0, float g0) {
  tc_model *m;
  tc_param *p;
  int64_t s[1] = {1};
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  ck_assert_int_eq(tc_model_add_param(m, "l", "w", TC_PARAM_WEIGHT, 1, s, &p), TC_OK);
  p->value->data[0] = w0;
  p->value->grad[0] = g0;
  tc_optim_config c;
  ck_assert_int_eq(tc_optim_config_parse(spec, &c), TC_OK);
  tc_optim *o;
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_OK);
  for (int t = 0; t < steps; t++)
    ck_assert_int_eq(tc_optim_step(o, NULL), TC_OK);
  ck_assert_ptr_nonnull(tc_optim_find_slot(o, "l/w", "m")); /* adam's slots, saved alike */
  ck_assert_ptr_nonnull(tc_optim_find_slot(o, "l/w", "v"));
  float w = p->value->data[0];
  tc_optim_free(o);
  tc_model_free(m);
  return w;
}

START_TEST(adamw_matches_hand_computed_steps) {
  /* one step by hand: w = 2 - 2*0.1*0.1 = 1.98; m = 0.05, v = 0.00025 (g = 0.5);
   * lr_t = 0.1*sqrt(0.001)/0.1; w = 1.98 - lr_t * 0.05/(0.0158114 + 1e-7) = 1.88 */
  ck_assert_double_eq_tol(adamw_run("adamw:lr=0.1:weight_decay=0.1", 1, 2.0f, 0.5f),
                          1.98 - 0.1, 1e-5);
  ck_assert_double_eq_tol(adamw_run("adamw:lr=0.1:weight_decay=0.1", 1, 2.0f, 0.5f),
                          adamw_ref(1, 2, 0.5, 0.1, 0.1), 1e-6);
  ck_assert_double_eq_tol(adamw_run("adamw:lr=0.01:weight_decay=0.5", 7, -1.5f, 0.25f),
                          adamw_ref(7, -1.5, 0.25, 0.01, 0.5), 1e-6);
  /* defaults are Keras's: weight_decay 0.004, epsilon 1e-7 */
  ck_assert_double_eq_tol(adamw_run("adamw", 3, 1.0f, -2.0f),
                          adamw_ref(3, 1, -2, 0.001, 0.004), 1e-6);
  /* weight_decay 0 is adam with the same epsilon, bit for bit */
  float a = adamw_run("adamw:lr=0.01:weight_decay=0", 5, 0.7f, 0.3f);
  float b = adamw_run("adam:lr=0.01:epsilon=1e-7", 5, 0.7f, 0.3f);
  ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
}
END_TEST

START_TEST(adamw_bad_values) {
  tc_optim_config c;
  ck_assert_int_eq(tc_optim_config_parse("adam:weight_decay=0.1", &c), TC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "weight_decay does not apply to adam"));
  ck_assert_int_eq(tc_optim_config_parse("sgd:weight_decay=0.1", &c), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_optim_config_parse("adamw:weight_decay=x", &c), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_optim_config_parse("adamw:weight_decay=-0.1", &c), TC_OK);
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  tc_optim *o = NULL;
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "weight_decay must be >= 0, got -0.1"));
  ck_assert_ptr_null(o);
  ck_assert_int_eq(tc_optim_config_parse("adamw:beta1=1", &c), TC_OK);
  ck_assert_int_eq(tc_optim_create(&o, &c, m, NULL), TC_ERR_INVALID_ARG);
  tc_model_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("adamw");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, adamw_matches_hand_computed_steps);
  tcase_add_test(tc, adamw_bad_values);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed == 0 ? 0 : 1;
}
