/* test_checkpoint.c — model checkpoints: round trip, all-or-nothing loads, extra and missing
 * keys, and exact resume in a new process for SGD-momentum and Adam with regularizers and
 * constraints on. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/ops.h"
#include "layers/conv2d_transpose.h"
#include "optim/checkpoint.h"
#include "support/testutil.h"

typedef struct net {
  tc_model *m;
  tc_conv2d_transpose *l0, *l1;
  tc_optim *opt;
  tc_graph *g;
  tc_tensor *x, *target;
} net;

static void net_create(net *n, const char *optim, uint64_t seed) {
  ck_assert_int_eq(tc_model_create(&n->m, seed), TC_OK);
  tc_conv2d_transpose_config c0 = tc_conv2d_transpose_config_default(4, 3, 3);
  c0.strides[0] = c0.strides[1] = 2;
  c0.padding = "same";
  c0.activation = tc_activation_make(TC_ACT_TANH);
  ck_assert_int_eq(tc_regularizer_parse("l2:0.01", &c0.kernel_regularizer), TC_OK);
  ck_assert_int_eq(tc_constraint_parse("max_norm:0.5:axis=0,1,2", &c0.kernel_constraint), TC_OK);
  ck_assert_int_eq(tc_conv2d_transpose_create(&n->l0, n->m, &c0, 2), TC_OK);
  tc_conv2d_transpose_config c1 = tc_conv2d_transpose_config_default(1, 2, 2);
  ck_assert_int_eq(tc_regularizer_parse("l1:0.001", &c1.bias_regularizer), TC_OK);
  ck_assert_int_eq(tc_constraint_parse("non_neg", &c1.bias_constraint), TC_OK);
  ck_assert_int_eq(tc_conv2d_transpose_create(&n->l1, n->m, &c1, 4), TC_OK);
  tc_optim_config oc;
  ck_assert_int_eq(tc_optim_config_parse(optim, &oc), TC_OK);
  ck_assert_int_eq(tc_optim_create(&n->opt, &oc, n->m, NULL), TC_OK);
  ck_assert_int_eq(tc_graph_create(&n->g), TC_OK);
  tc_test_rng r;
  tc_test_rng_init(&r, 99); /* data independent of the model's seed */
  int64_t xs[4] = {2, 3, 3, 2}, ts[4] = {2, 7, 7, 1};
  n->x = tc_test_tensor(&r, 4, xs, -1, 1);
  n->target = tc_test_tensor(&r, 4, ts, -1, 1);
}

static void net_free(net *n) {
  tc_tensor_free(n->x);
  tc_tensor_free(n->target);
  tc_graph_free(n->g);
  tc_optim_free(n->opt);
  tc_conv2d_transpose_free(n->l0);
  tc_conv2d_transpose_free(n->l1);
  tc_model_free(n->m);
}

static void net_steps(net *n, int steps) {
  for (int s = 0; s < steps; s++) {
    tc_tensor *h, *y, *loss;
    tc_graph_reset(n->g);
    ck_assert_int_eq(tc_conv2d_transpose_forward(n->l0, n->g, n->x, &h), TC_OK);
    ck_assert_int_eq(tc_conv2d_transpose_forward(n->l1, n->g, h, &y), TC_OK);
    ck_assert_int_eq(tc_op_mse(n->g, y, n->target, &loss), TC_OK);
    ck_assert_int_eq(tc_graph_backward(n->g, loss), TC_OK);
    ck_assert_int_eq(tc_optim_step(n->opt, NULL), TC_OK);
  }
}

static void temp_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "/tmp/tconv_ckpt_%d_%s.npz", (int)getpid(), name);
}

/* Every variable and slot of a equals b's, bit for bit. */
static void assert_same_state(const net *a, const net *b) {
  for (int i = 0; i < tc_model_param_count(a->m); i++) {
    tc_tensor *ta = tc_model_param_at(a->m, i)->value, *tb = tc_model_param_at(b->m, i)->value;
    ck_assert_int_eq(memcmp(ta->data, tb->data, (size_t)ta->size * sizeof(float)), 0);
  }
  ck_assert_int_eq(tc_optim_slot_count(a->opt), tc_optim_slot_count(b->opt));
  for (int i = 0; i < tc_optim_slot_count(a->opt); i++) {
    const char *na, *nb;
    tc_tensor *sa = tc_optim_slot_at(a->opt, i, &na), *sb = tc_optim_slot_at(b->opt, i, &nb);
    ck_assert_str_eq(na, nb);
    ck_assert_int_eq(memcmp(sa->data, sb->data, (size_t)sa->size * sizeof(float)), 0);
  }
  ck_assert_int_eq(tc_optim_steps(a->opt), tc_optim_steps(b->opt));
}

static void resume_is_exact(const char *optim) {
  const int total = 12, first = 5;
  char mid[128], fin[128];
  temp_path(mid, sizeof mid, "mid");
  temp_path(fin, sizeof fin, "final");
  net straight;
  net_create(&straight, optim, 3);
  net_steps(&straight, total);
  net first_run;
  net_create(&first_run, optim, 3);
  net_steps(&first_run, first);
  tc_ckpt_optim o = {"optimizer", first_run.opt};
  tc_ckpt_meta meta = {.step = first, .epoch = 0};
  tc_rng_init(&meta.rng, 5, 6);
  (void)tc_rng_u32(&meta.rng);
  ck_assert_int_eq(tc_ckpt_save(mid, first_run.m, &o, 1, &meta), TC_OK);
  net_free(&first_run);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    /* A new process: a model from another seed, the checkpoint loaded over it. */
    net resumed;
    net_create(&resumed, optim, 12345);
    tc_ckpt_optim ro = {"optimizer", resumed.opt};
    tc_ckpt_meta got;
    int ok = tc_ckpt_load(mid, resumed.m, &ro, 1, &got, 0) == TC_OK && got.step == first &&
             got.rng.pos == meta.rng.pos && got.rng.block == meta.rng.block;
    net_steps(&resumed, total - first);
    got.step = total;
    ok = ok && tc_ckpt_save(fin, resumed.m, &ro, 1, &got) == TC_OK;
    net_free(&resumed);
    _exit(ok ? 0 : 1);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  net back;
  net_create(&back, optim, 777);
  tc_ckpt_optim bo = {"optimizer", back.opt};
  ck_assert_int_eq(tc_ckpt_load(fin, back.m, &bo, 1, NULL, 0), TC_OK);
  assert_same_state(&straight, &back);
  net_free(&back);
  net_free(&straight);
  unlink(mid);
  unlink(fin);
}

START_TEST(resume_is_exact_sgd_momentum) { resume_is_exact("momentum:lr=0.05:momentum=0.9"); }
END_TEST

START_TEST(resume_is_exact_adam) { resume_is_exact("adam:lr=0.01"); }
END_TEST

START_TEST(failed_loads_leave_the_model_unchanged) {
  char path[128];
  temp_path(path, sizeof path, "partial");
  net a;
  net_create(&a, "adam", 1);
  net_steps(&a, 2);
  tc_ckpt_optim o = {"optimizer", a.opt};
  tc_ckpt_meta meta = {.step = 2};
  ck_assert_int_eq(tc_ckpt_save(path, a.m, &o, 1, &meta), TC_OK);
  /* A model whose second layer has another shape: the first layer fits, the second not. */
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, 9), TC_OK);
  tc_conv2d_transpose_config c0 = tc_conv2d_transpose_config_default(4, 3, 3);
  tc_conv2d_transpose_config c1 = tc_conv2d_transpose_config_default(1, 3, 3);
  tc_conv2d_transpose *l0, *l1;
  ck_assert_int_eq(tc_conv2d_transpose_create(&l0, m, &c0, 2), TC_OK);
  ck_assert_int_eq(tc_conv2d_transpose_create(&l1, m, &c1, 4), TC_OK);
  tc_tensor *k0 = tc_conv2d_transpose_kernel(l0)->value;
  float before = k0->data[0];
  ck_assert_int_eq(tc_ckpt_load(path, m, NULL, 0, NULL, 1), TC_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "conv2d_transpose_1/kernel"));
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "(2, 2, 1, 4)"));
  ck_assert_float_eq(k0->data[0], before);
  tc_conv2d_transpose_free(l0);
  tc_conv2d_transpose_free(l1);
  tc_model_free(m);
  /* Weights only, without the optimizer: the slots are extra keys. */
  net b;
  net_create(&b, "adam", 2);
  ck_assert_int_eq(tc_ckpt_load(path, b.m, NULL, 0, NULL, 0), TC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "optimizer/"));
  ck_assert_int_eq(tc_ckpt_load(path, b.m, NULL, 0, NULL, 1), TC_OK);
  /* A missing file and a missing key. */
  ck_assert_int_eq(tc_ckpt_load("/tmp/does/not/exist.npz", b.m, NULL, 0, NULL, 1),
                   TC_ERR_NOT_FOUND);
  int64_t s[1] = {3};
  tc_param *extra;
  ck_assert_int_eq(tc_model_add_param(b.m, "new", "w", TC_PARAM_WEIGHT, 1, s, &extra), TC_OK);
  ck_assert_int_eq(tc_ckpt_load(path, b.m, NULL, 0, NULL, 1), TC_ERR_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "new/w"));
  net_free(&b);
  net_free(&a);
  unlink(path);
}
END_TEST

START_TEST(numpy_reads_the_keys_and_shapes) {
  char path[128], cmd[512];
  temp_path(path, sizeof path, "numpy");
  net a;
  net_create(&a, "adam", 1);
  net_steps(&a, 1);
  tc_ckpt_optim o = {"optimizer", a.opt};
  tc_ckpt_meta meta = {.step = 1};
  ck_assert_int_eq(tc_ckpt_save(path, a.m, &o, 1, &meta), TC_OK);
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c \"import numpy as np, sys; f = np.load('%s'); "
           "assert f['conv2d_transpose/kernel'].shape == (3, 3, 4, 2); "
           "assert f['conv2d_transpose/kernel'].dtype == np.float32; "
           "assert f['optimizer/conv2d_transpose_1/bias/m'].shape == (1,); "
           "assert int(f['meta/step']) == 1 and f['meta/step'].dtype == np.int64; "
           "assert f['meta/rng'].dtype == np.uint64\"",
           path);
  ck_assert_int_eq(system(cmd), 0);
  net_free(&a);
  unlink(path);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checkpoint");
  TCase *tc = tcase_create("model");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, resume_is_exact_sgd_momentum);
  tcase_add_test(tc, resume_is_exact_adam);
  tcase_add_test(tc, failed_loads_leave_the_model_unchanged);
  tcase_add_test(tc, numpy_reads_the_keys_and_shapes);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
