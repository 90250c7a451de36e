/* test_ema.c — the EMA shadows: TF's update computed by hand, swap, the decay range, and the
 * checkpoint round trip (ema/<variable>) into shadows and, for sampling, into weights. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "optim/checkpoint.h"
#include "optim/checkpoint_ema.h"
#include "optim/ema.h"

static tc_model *two_vars(tc_param **w, tc_param **st) {
  tc_model *m;
  int64_t s[1] = {2};
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  ck_assert_int_eq(tc_model_add_param(m, "l", "w", TC_PARAM_WEIGHT, 1, s, w), TC_OK);
  ck_assert_int_eq(tc_model_add_param(m, "l", "mean", TC_PARAM_STATE, 1, s, st), TC_OK);
  (*w)->value->data[0] = 1.0f;
  (*w)->value->data[1] = -2.0f;
  return m;
}

START_TEST(update_is_tf_formula) {
  tc_param *w, *st;
  tc_model *m = two_vars(&w, &st);
  tc_ema *e;
  ck_assert_int_eq(tc_ema_create(&e, m, NULL, 0.75f), TC_OK);
  ck_assert_int_eq(tc_ema_count(e), 1); /* weights only, not batch-norm statistics */
  const char *name;
  tc_tensor *sh = tc_ema_at(e, 0, &name);
  ck_assert_str_eq(name, "l/w");
  /* w moves to 3, then 5: shadow 1 → 1 - 0.25*(1-3) = 1.5 → 1.5 - 0.25*(1.5-5) = 2.375 */
  w->value->data[0] = 3.0f;
  tc_ema_update(e);
  ck_assert_float_eq(sh->data[0], 1.5f);
  w->value->data[0] = 5.0f;
  tc_ema_update(e);
  ck_assert_float_eq(sh->data[0], 2.375f);
  ck_assert_float_eq(sh->data[1], -2.0f); /* unchanged variable: the shadow stays */
  tc_ema_swap(e);
  ck_assert_float_eq(w->value->data[0], 2.375f);
  ck_assert_float_eq(sh->data[0], 5.0f);
  tc_ema_swap(e);
  ck_assert_float_eq(w->value->data[0], 5.0f);
  tc_ema_free(e);
  /* decay outside [0, 1) */
  float bad[] = {1.0f, -0.1f, 1.5f};
  for (int i = 0; i < 3; i++) {
    e = (tc_ema *)1;
    ck_assert_int_eq(tc_ema_create(&e, m, NULL, bad[i]), TC_ERR_INVALID_ARG);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(tc_last_error(), "decay must lie in [0, 1)"));
  }
  ck_assert_int_eq(tc_ema_create(&e, m, "nope", 0.0f), TC_OK); /* a prefix: no shadows */
  ck_assert_int_eq(tc_ema_count(e), 0);
  tc_ema_free(e);
  tc_model_free(m);
}
END_TEST

START_TEST(checkpoint_round_trip) {
  tc_param *w, *st;
  tc_model *m = two_vars(&w, &st);
  tc_ema *e;
  ck_assert_int_eq(tc_ema_create(&e, m, NULL, 0.5f), TC_OK);
  w->value->data[0] = 3.0f;
  tc_ema_update(e); /* shadow (2, -2), weight (3, -2) */
  char path[128];
  snprintf(path, sizeof path, "/tmp/tconv_ema_%d.npz", (int)getpid());
  tc_ckpt_meta meta = {.step = 1, .ema = e};
  ck_assert_int_eq(tc_ckpt_save(path, m, NULL, 0, &meta), TC_OK);
  /* a plain load accepts the ema/ arrays and leaves meta.ema NULL */
  tc_ckpt_meta got;
  ck_assert_int_eq(tc_ckpt_load(path, m, NULL, 0, &got, 0), TC_OK);
  ck_assert_ptr_null(got.ema);
  tc_ema *e2;
  ck_assert_int_eq(tc_ema_create(&e2, m, NULL, 0.5f), TC_OK); /* shadow = (3, -2) */
  ck_assert_int_eq(tc_ckpt_load_ema(path, e2), TC_OK);
  ck_assert_float_eq(tc_ema_at(e2, 0, NULL)->data[0], 2.0f);
  int used = 0;
  ck_assert_int_eq(tc_ckpt_use_ema(path, m, &used), TC_OK);
  ck_assert_int_eq(used, 1);
  ck_assert_float_eq(w->value->data[0], 2.0f);
  /* a file without shadows: tc_ckpt_load_ema names the key, tc_ckpt_use_ema does nothing */
  meta.ema = NULL;
  w->value->data[0] = 7.0f;
  ck_assert_int_eq(tc_ckpt_save(path, m, NULL, 0, &meta), TC_OK);
  ck_assert_int_eq(tc_ckpt_load_ema(path, e2), TC_ERR_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "ema/l/w"));
  ck_assert_float_eq(tc_ema_at(e2, 0, NULL)->data[0], 2.0f);
  ck_assert_int_eq(tc_ckpt_use_ema(path, m, &used), TC_OK);
  ck_assert_int_eq(used, 0);
  ck_assert_float_eq(w->value->data[0], 7.0f);
  unlink(path);
  tc_ema_free(e);
  tc_ema_free(e2);
  tc_model_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("ema");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, update_is_tf_formula);
  tcase_add_test(tc, checkpoint_round_trip);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed == 0 ? 0 : 1;
}
