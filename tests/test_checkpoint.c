/* test_checkpoint.c — model checkpoints: round trip, all-or-nothing loads, extra and missing
 * keys, and exact resume in a new process for SGD-momentum and Adam with regularizers and
 * constraints on. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/io/npz.h"
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
  TC_CK_ERROR(tc_ckpt_load(path, m, NULL, 0, NULL, 1), TC_ERR_SHAPE, "conv2d_transpose_1/kernel");
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "(2, 2, 1, 4)"));
  ck_assert_float_eq(k0->data[0], before);
  tc_conv2d_transpose_free(l0);
  tc_conv2d_transpose_free(l1);
  tc_model_free(m);
  /* Weights only, without the optimizer: the slots are extra keys. */
  net b;
  net_create(&b, "adam", 2);
  TC_CK_ERROR(tc_ckpt_load(path, b.m, NULL, 0, NULL, 0), TC_ERR_FORMAT, "optimizer/");
  ck_assert_int_eq(tc_ckpt_load(path, b.m, NULL, 0, NULL, 1), TC_OK);
  /* A missing file and a missing key. */
  ck_assert_int_eq(tc_ckpt_load("/tmp/does/not/exist.npz", b.m, NULL, 0, NULL, 1),
                   TC_ERR_NOT_FOUND);
  int64_t s[1] = {3};
  tc_param *extra;
  ck_assert_int_eq(tc_model_add_param(b.m, "new", "w", TC_PARAM_WEIGHT, 1, s, &extra), TC_OK);
  TC_CK_ERROR(tc_ckpt_load(path, b.m, NULL, 0, NULL, 1), TC_ERR_NOT_FOUND, "new/w");
  net_free(&b);
  net_free(&a);
  unlink(path);
}
END_TEST

/* Copies checkpoint src to dst with the array `key` changed by `patch` (or added as an
 * int64 scalar `add` when the key is not there). */
static void rewrite(const char *src, const char *dst, const char *key, void (*patch)(void *),
                    const int64_t *add) {
  tc_npz_file *f = NULL;
  ck_assert_int_eq(tc_npz_read(src, &f, NULL), TC_OK);
  int n = tc_npz_count(f);
  tc_npz_entry e[64];
  ck_assert_int_lt(n, 63);
  for (int i = 0; i < n; i++) {
    const tc_npz_array *a = tc_npz_at(f, i);
    e[i] = (tc_npz_entry){a->key, a->dtype, a->rank, a->shape, a->data};
    if (strcmp(a->key, key) == 0 && patch)
      patch(a->data);
  }
  if (add)
    e[n++] = (tc_npz_entry){key, TC_NPZ_I64, 0, NULL, add};
  ck_assert_int_eq(tc_npz_write(dst, e, n), TC_OK);
  tc_npz_file_free(f);
}

static void set_i64_minus5(void *p) { *(int64_t *)p = -5; }
static void set_i64_min(void *p) { *(int64_t *)p = INT64_MIN; }
static void set_i64_3(void *p) { *(int64_t *)p = 3; }
static void set_f32_nan(void *p) { *(float *)p = NAN; }
static void set_f32_minus(void *p) { *(float *)p = -0.25f; }
static void set_f32_inf(void *p) { ((float *)p)[1] = INFINITY; }

/* Every metadata value and slot is range-checked on load, with a message naming the key and
 * the value; the model and the optimizer stay as they were. */
START_TEST(out_of_range_values_are_refused_on_load) {
  char good[128], bad[128];
  temp_path(good, sizeof good, "range_good");
  temp_path(bad, sizeof bad, "range_bad");
  net a;
  net_create(&a, "adam", 1);
  net_steps(&a, 2);
  tc_ckpt_optim o = {"optimizer", a.opt};
  tc_ckpt_meta meta = {.step = 2, .epoch = 1, .batch = 8, .shards = 4};
  ck_assert_int_eq(tc_ckpt_save(good, a.m, &o, 1, &meta), TC_OK);
  static const int64_t zero = 0;
  static const struct {
    const char *key;
    void (*patch)(void *);
    const int64_t *add;
    const char *needle;
  } cases[] = {
      {"meta/step", set_i64_minus5, NULL, "meta/step is -5, expected >= 0"},
      {"meta/step", set_i64_min, NULL, "meta/step is -9223372036854775808"},
      {"meta/epoch", set_i64_minus5, NULL, "meta/epoch is -5"},
      {"meta/epoch", set_i64_3, NULL, "meta/epoch 3 is after meta/step 2"},
      {"meta/batch", set_i64_minus5, NULL, "meta/batch is -5, expected >= 1"},
      {"meta/shards", set_i64_minus5, NULL, "meta/shards is -5, expected >= 1"},
      {"meta/optimizer/optimizer/steps", set_i64_minus5, NULL,
       "meta/optimizer/optimizer/steps is -5"},
      {"meta/optimizer/optimizer/lr", set_f32_nan, NULL, "meta/optimizer/optimizer/lr is nan"},
      {"meta/optimizer/optimizer/lr", set_f32_minus, NULL, "lr is -0.25, expected a finite"},
      {"optimizer/conv2d_transpose/kernel/v", set_f32_minus, NULL,
       "'optimizer/conv2d_transpose/kernel/v' holds -0.25 at element 0"},
      {"conv2d_transpose/kernel", set_f32_inf, NULL,
       "'conv2d_transpose/kernel' holds inf at element 1"},
      {"optimizer/conv2d_transpose_1/bias/m", set_f32_nan, NULL, "holds nan at element 0"},
  };
  net b;
  net_create(&b, "adam", 2);
  tc_ckpt_optim bo = {"optimizer", b.opt};
  tc_tensor *k = tc_model_param_at(b.m, 0)->value;
  float before = k->data[0];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rewrite(good, bad, cases[i].key, cases[i].patch, cases[i].add);
    tc_ckpt_meta got = {.step = 77};
    ck_assert_int_eq(tc_ckpt_load(bad, b.m, &bo, 1, &got, 0), TC_ERR_FORMAT);
    ck_assert_msg(strstr(tc_last_error(), cases[i].needle) != NULL, "case %zu: '%s' not in '%s'",
                  i, cases[i].needle, tc_last_error());
    ck_assert_float_eq(k->data[0], before);
    ck_assert_int_eq(got.step, 77);
    ck_assert_int_eq(tc_optim_steps(b.opt), 0);
  }
  /* A file without meta/batch or meta/shards (older writers) loads with 0; one with them
   * gives them back. */
  tc_ckpt_meta got;
  ck_assert_int_eq(tc_ckpt_load(good, b.m, &bo, 1, &got, 0), TC_OK);
  ck_assert_int_eq(got.batch, 8);
  ck_assert_int_eq(got.shards, 4);
  meta.batch = 0;
  meta.shards = 0;
  ck_assert_int_eq(tc_ckpt_save(good, a.m, &o, 1, &meta), TC_OK);
  ck_assert_int_eq(tc_ckpt_load(good, b.m, &bo, 1, &got, 0), TC_OK);
  ck_assert_int_eq(got.batch, 0);
  ck_assert_int_eq(got.shards, 0);
  rewrite(good, bad, "meta/batch", NULL, &zero);
  TC_CK_ERROR(tc_ckpt_load(bad, b.m, &bo, 1, &got, 0), TC_ERR_FORMAT, "meta/batch is 0");
  rewrite(good, bad, "meta/shards", NULL, &zero);
  TC_CK_ERROR(tc_ckpt_load(bad, b.m, &bo, 1, &got, 0), TC_ERR_FORMAT, "meta/shards is 0");
  net_free(&b);
  net_free(&a);
  unlink(good);
  unlink(bad);
}
END_TEST

static unsigned char *slurp_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  static unsigned char buf[1 << 16];
  *len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return buf;
}

/* Weights that became NaN or inf are never saved: the last good file stays as it was. */
START_TEST(non_finite_weights_are_not_saved) {
  char path[128];
  temp_path(path, sizeof path, "nonfinite");
  net a;
  net_create(&a, "adam", 1);
  net_steps(&a, 1);
  tc_ckpt_optim o = {"optimizer", a.opt};
  tc_ckpt_meta meta = {.step = 1};
  ck_assert_int_eq(tc_ckpt_save(path, a.m, &o, 1, &meta), TC_OK);
  size_t len;
  unsigned char *bytes = slurp_file(path, &len);
  unsigned char *copy = malloc(len);
  memcpy(copy, bytes, len);
  tc_tensor *bias = tc_model_param_at(a.m, 1)->value;
  bias->data[bias->size - 1] = NAN;
  meta.step = 2;
  TC_CK_ERROR(tc_ckpt_save(path, a.m, &o, 1, &meta), TC_ERR_STATE, "holds nan");
  ck_assert_ptr_nonnull(strstr(tc_last_error(), tc_model_param_at(a.m, 1)->name));
  size_t len2;
  bytes = slurp_file(path, &len2);
  ck_assert_uint_eq(len, len2);
  ck_assert_int_eq(memcmp(copy, bytes, len), 0);
  bias->data[bias->size - 1] = 0.0f;
  tc_optim_set_lr(a.opt, INFINITY);
  TC_CK_ERROR(tc_ckpt_save(path, a.m, &o, 1, &meta), TC_ERR_STATE, "meta/optimizer/optimizer/lr");
  free(copy);
  net_free(&a);
  unlink(path);
}
END_TEST

/* Optimizer names become key components: one that would make a key longer than the writer's
 * buffer (it used to be cut) or that holds a '/' is refused, and nothing is written. */
START_TEST(bad_optimizer_names_are_refused_on_save) {
  char path[128];
  temp_path(path, sizeof path, "names");
  net a;
  net_create(&a, "adam", 1);
  char long_name[400];
  memset(long_name, 'x', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  const char *bad[] = {long_name, "", "a/b", "evil\n", NULL};
  tc_ckpt_meta meta = {.step = 0};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tc_ckpt_optim o = {bad[i], a.opt};
    TC_CK_ERROR(tc_ckpt_save(path, a.m, &o, 1, &meta), TC_ERR_INVALID_ARG, "optimizer 0: name must be 1 to 64");
    ck_assert_int_ne(access(path, F_OK), 0);
  }
  net_free(&a);
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
  tcase_add_test(tc, out_of_range_values_are_refused_on_load);
  tcase_add_test(tc, non_finite_weights_are_not_saved);
  tcase_add_test(tc, bad_optimizer_names_are_refused_on_save);
  tcase_add_test(tc, numpy_reads_the_keys_and_shapes);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
