/* test_schedule.c — learning-rate schedules: the TF formulas at chosen steps, warmup, the
 * grammar and its bad values, the optimizer's use of them, and a resume through a
 * checkpoint that reproduces the straight run bit for bit. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "optim/checkpoint.h"
#include "optim/schedule.h"

static double factor(const char *spec, int64_t t) {
  tc_lr_schedule sc;
  ck_assert_msg(tc_lr_schedule_parse(spec, &sc) == TC_OK, "%s: %s", spec, tc_last_error());
  return tc_lr_schedule_factor(&sc, t);
}

START_TEST(formulas_of_tf) {
  ck_assert_double_eq(factor("constant", 12345), 1.0);
  /* piecewise_constant: t <= 10 → 1, 10 < t <= 20 → 0.5, after → 0.25 */
  const char *st = "step:boundaries=10,20:values=1,0.5,0.25";
  ck_assert_double_eq(factor(st, 10), 1.0);
  ck_assert_double_eq(factor(st, 11), 0.5);
  ck_assert_double_eq(factor(st, 20), 0.5);
  ck_assert_double_eq(factor(st, 21), 0.25);
  /* exponential_decay: 0.5^(15/10); staircase 0.5^1 */
  ck_assert_double_eq_tol(factor("exponential:decay_steps=10:decay_rate=0.5", 15),
                          pow(0.5, 1.5), 1e-12);
  ck_assert_double_eq_tol(factor("exponential:decay_steps=10:decay_rate=0.5:staircase=1", 15),
                          0.5, 1e-12);
  /* cosine_decay: 0.8 * 0.5 * (1 + cos(pi/4)) + 0.2 at 25 of 100, alpha after the end */
  ck_assert_double_eq_tol(factor("cosine:decay_steps=100:alpha=0.2", 25),
                          0.8 * 0.5 * (1 + cos(3.14159265358979323846 / 4)) + 0.2, 1e-7);
  ck_assert_double_eq_tol(factor("cosine:decay_steps=100:alpha=0.2", 100), 0.2, 1e-7);
  ck_assert_double_eq_tol(factor("cosine:decay_steps=100:alpha=0.2", 5000), 0.2, 1e-7);
  /* warmup: (t+1)/W, then the decay from t - W */
  ck_assert_double_eq(factor("cosine:decay_steps=100:warmup=4", 0), 0.25);
  ck_assert_double_eq(factor("cosine:decay_steps=100:warmup=4", 3), 1.0);
  ck_assert_double_eq(factor("cosine:decay_steps=100:warmup=4", 4), 1.0);
  ck_assert_double_eq_tol(factor("cosine:decay_steps=100:warmup=4", 54), 0.5, 1e-12);
  ck_assert_double_eq(factor("constant:warmup=10", 4), 0.5);
}
END_TEST

START_TEST(bad_strings) {
  const char *bad[] = {"cosine",
                       "cosine:decay_steps=0",
                       "cosine:decay_steps=-5",
                       "cosine:decay_steps=1.5",
                       "cosine:decay_steps=10:alpha=2",
                       "constant:warmup=-1",
                       "exponential:decay_steps=10",
                       "exponential:decay_steps=10:decay_rate=0",
                       "exponential:decay_steps=10:decay_rate=-0.5",
                       "step:boundaries=10,5:values=1,2,3",
                       "step:boundaries=10:values=1",
                       "step:boundaries=10:values=1,-2",
                       "constant:alpha=0.1",
                       "cosine:decay_steps=10:decay_steps=20",
                       "linear",
                       "cosine:decay_steps"};
  const char *want[] = {"needs decay_steps", ">= 1", ">= 1", ">= 1", "[0, 1]", ">= 0",
                        "needs decay_rate", "> 0", "below 0", ">= 11", "one more value",
                        ">= 0", "does not apply", "given twice", "unknown schedule", "lacks"};
  tc_lr_schedule sc = tc_lr_schedule_constant();
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_msg(tc_lr_schedule_parse(bad[i], &sc) == TC_ERR_INVALID_ARG, "%s", bad[i]);
    ck_assert_msg(strstr(tc_last_error(), want[i]) != NULL, "'%s': %s", bad[i],
                  tc_last_error());
  }
  ck_assert_str_eq(sc.text, "constant"); /* unchanged on failure */
}
END_TEST

typedef struct run {
  tc_model *m;
  tc_param *p;
  tc_optim *o;
} run;

static run make_run(const char *optim, const char *sched) {
  run r;
  int64_t s[1] = {3};
  ck_assert_int_eq(tc_model_create(&r.m, 1), TC_OK);
  ck_assert_int_eq(tc_model_add_param(r.m, "l", "w", TC_PARAM_WEIGHT, 1, s, &r.p), TC_OK);
  for (int i = 0; i < 3; i++)
    r.p->value->data[i] = 0.5f - 0.3f * (float)i;
  tc_optim_config c;
  ck_assert_int_eq(tc_optim_config_parse(optim, &c), TC_OK);
  ck_assert_int_eq(tc_optim_create(&r.o, &c, r.m, NULL), TC_OK);
  tc_lr_schedule sc;
  ck_assert_int_eq(tc_lr_schedule_parse(sched, &sc), TC_OK);
  ck_assert_int_eq(tc_optim_set_schedule(r.o, &sc), TC_OK);
  return r;
}

/* A gradient that depends on the weights and the step, so any drift would show. */
static void steps(run *r, int from, int to) {
  for (int t = from; t < to; t++) {
    for (int i = 0; i < 3; i++)
      r->p->value->grad[i] = r->p->value->data[i] * 0.7f + 0.01f * (float)(t - i);
    ck_assert_int_eq(tc_optim_step(r->o, NULL), TC_OK);
  }
}

static void free_run(run *r) {
  tc_optim_free(r->o);
  tc_model_free(r->m);
}

START_TEST(sgd_follows_the_schedule) {
  run r = make_run("sgd:lr=0.1", "exponential:decay_steps=1:decay_rate=0.5:warmup=2");
  ck_assert_float_eq(tc_optim_step_lr(r.o), 0.05f); /* (0+1)/2 */
  /* w = 1, g = 1 each step: w -= 0.1 * {0.5, 1, 1, 0.5, 0.25} */
  r.p->value->data[0] = 1.0f;
  for (int t = 0; t < 5; t++) {
    for (int i = 0; i < 3; i++)
      r.p->value->grad[i] = 1.0f;
    ck_assert_int_eq(tc_optim_step(r.o, NULL), TC_OK);
  }
  ck_assert_double_eq_tol(r.p->value->data[0], 1.0 - 0.1 * 3.25, 1e-6);
  ck_assert_float_eq(tc_optim_lr(r.o), 0.1f); /* the base lr is never changed */
  free_run(&r);
}
END_TEST

/* N steps straight == K steps, save, load into a fresh optimizer without a schedule, N-K
 * more: the schedule comes back from the checkpoint, the weights agree bit for bit. */
START_TEST(resume_is_bit_exact) {
  const char *optims[] = {"adamw:lr=0.01:weight_decay=0.1", "momentum:lr=0.05"};
  for (int k = 0; k < 2; k++) {
    const char *sched = "cosine:decay_steps=20:alpha=0.1:warmup=5";
    run a = make_run(optims[k], sched);
    steps(&a, 0, 30);
    run b = make_run(optims[k], sched);
    steps(&b, 0, 12);
    char path[128];
    snprintf(path, sizeof path, "/tmp/tconv_sched_%d.npz", (int)getpid());
    tc_ckpt_optim co = {"optimizer", b.o};
    tc_ckpt_meta meta = {.step = 12};
    ck_assert_int_eq(tc_ckpt_save(path, b.m, &co, 1, &meta), TC_OK);
    run c = make_run(optims[k], "constant");
    tc_ckpt_optim cc = {"optimizer", c.o};
    ck_assert_int_eq(tc_ckpt_load(path, c.m, &cc, 1, NULL, 0), TC_OK);
    ck_assert_str_eq(tc_optim_schedule(c.o)->text, sched);
    steps(&c, 12, 30);
    ck_assert_int_eq(memcmp(a.p->value->data, c.p->value->data, 3 * sizeof(float)), 0);
    /* a run whose schedule was lost would differ */
    run d = make_run(optims[k], "constant");
    tc_ckpt_optim dc = {"optimizer", d.o};
    ck_assert_int_eq(tc_ckpt_load(path, d.m, &dc, 1, NULL, 0), TC_OK);
    tc_optim_set_schedule(d.o, NULL);
    steps(&d, 12, 30);
    ck_assert_int_ne(memcmp(a.p->value->data, d.p->value->data, 3 * sizeof(float)), 0);
    unlink(path);
    free_run(&a), free_run(&b), free_run(&c), free_run(&d);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("schedule");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, formulas_of_tf);
  tcase_add_test(tc, bad_strings);
  tcase_add_test(tc, sgd_follows_the_schedule);
  tcase_add_test(tc, resume_is_bit_exact);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed == 0 ? 0 : 1;
}
