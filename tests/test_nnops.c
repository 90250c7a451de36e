/* test_nnops.c — matmul, batch_norm, bce_with_logits and flatten: each against a plain
 * reference, their gradients against finite differences, and their rejections. */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "core/ops_extra.h"
#include "support/fdcheck.h"
#include "support/testutil.h"

static tc_tensor *grad_leaf(tc_test_rng *r, int rank, const int64_t *shape, float lo, float hi) {
  tc_tensor *t = tc_test_tensor(r, rank, shape, lo, hi);
  ck_assert_int_eq(tc_tensor_require_grad(t), TC_OK);
  return t;
}

static tc_graph *graph(void) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  return g;
}

/* ---- matmul ------------------------------------------------------------------------ */

typedef struct two {
  tc_tensor *a, *b;
} two;

static tc_status matmul_fwd(void *ctx, tc_graph *g, tc_tensor **y) {
  two *t = ctx;
  return tc_op_matmul(g, t->a, t->b, y);
}

START_TEST(matmul_matches_reference) {
  tc_test_rng r;
  tc_test_rng_init(&r, 5);
  /* 700 columns cross the 256-column blocks; 17 and 9 rows leave partial 8-row panels. */
  int64_t dims[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 9, 700}, {64, 33, 2}, {2, 300, 5}};
  for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
    int64_t m = dims[d][0], k = dims[d][1], n = dims[d][2];
    two t = {tc_test_tensor(&r, 2, (int64_t[]){m, k}, -1, 1),
             tc_test_tensor(&r, 2, (int64_t[]){k, n}, -1, 1)};
    tc_graph *g = graph();
    tc_tensor *y;
    ck_assert_int_eq(tc_op_matmul(g, t.a, t.b, &y), TC_OK);
    ck_assert_int_eq(y->shape[0], m);
    ck_assert_int_eq(y->shape[1], n);
    double *want = calloc((size_t)(m * n), sizeof(double));
    for (int64_t i = 0; i < m; i++)
      for (int64_t p = 0; p < k; p++)
        for (int64_t j = 0; j < n; j++)
          want[i * n + j] += (double)t.a->data[i * k + p] * t.b->data[p * n + j];
    int64_t worst;
    ck_assert_double_le(tc_test_excess(y->data, want, m * n, 1e-5, 1e-5, &worst), 0.0);
    free(want);
    tc_graph_free(g);
    tc_tensor_free(t.a);
    tc_tensor_free(t.b);
  }
}
END_TEST

START_TEST(matmul_gradients_match_finite_differences) {
  tc_test_rng r;
  tc_test_rng_init(&r, 6);
  two t = {grad_leaf(&r, 2, (int64_t[]){4, 6}, -1, 1), grad_leaf(&r, 2, (int64_t[]){6, 5}, -1, 1)};
  tc_tensor *in[2] = {t.a, t.b};
  const char *names[2] = {"a", "b"};
  tc_fd_check(matmul_fwd, &t, in, names, 2, 40, 1);
  tc_tensor_free(t.a);
  tc_tensor_free(t.b);
}
END_TEST

START_TEST(matmul_is_bitwise_the_same_for_any_thread_count) {
  tc_test_rng r;
  tc_test_rng_init(&r, 8);
  two t = {grad_leaf(&r, 2, (int64_t[]){96, 80}, -1, 1),
           grad_leaf(&r, 2, (int64_t[]){80, 600}, -1, 1)};
  float *first[3] = {NULL, NULL, NULL};
  int threads[2] = {1, 3};
  for (int run = 0; run < 2; run++) {
    omp_set_num_threads(threads[run]);
    tc_graph *g = graph();
    tc_tensor *y, *loss;
    ck_assert_int_eq(tc_op_matmul(g, t.a, t.b, &y), TC_OK);
    ck_assert_int_eq(tc_op_sum(g, y, &loss), TC_OK);
    ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
    const tc_tensor *outs[3] = {y, t.a, t.b};
    for (int i = 0; i < 3; i++) {
      const float *v = i == 0 ? outs[i]->data : outs[i]->grad;
      size_t bytes = (size_t)outs[i]->size * sizeof(float);
      if (run == 0) {
        first[i] = malloc(bytes);
        memcpy(first[i], v, bytes);
      } else {
        ck_assert_int_eq(memcmp(first[i], v, bytes), 0);
        free(first[i]);
      }
    }
    tc_graph_free(g);
  }
  tc_tensor_free(t.a);
  tc_tensor_free(t.b);
}
END_TEST

START_TEST(matmul_rejects_bad_shapes) {
  tc_test_rng r;
  tc_test_rng_init(&r, 9);
  tc_tensor *a = tc_test_tensor(&r, 2, (int64_t[]){2, 3}, -1, 1);
  tc_tensor *b = tc_test_tensor(&r, 2, (int64_t[]){4, 5}, -1, 1);
  tc_tensor *v = tc_test_tensor(&r, 1, (int64_t[]){3}, -1, 1), *y;
  tc_graph *g = graph();
  TC_CK_ERROR(tc_op_matmul(g, a, b, &y), TC_ERR_SHAPE, "inner dimensions 3 and 4 differ");
  TC_CK_ERROR(tc_op_matmul(g, a, v, &y), TC_ERR_SHAPE, "must be rank 2, got (2, 3) and (3)");
  ck_assert_int_eq(tc_op_matmul(g, a, NULL, &y), TC_ERR_INVALID_ARG);
  tc_graph_free(g);
  tc_tensor_free(a);
  tc_tensor_free(b);
  tc_tensor_free(v);
}
END_TEST

/* ---- batch_norm -------------------------------------------------------------------- */

typedef struct bn_case {
  tc_tensor *x, *gamma, *beta, *mm, *mv;
  tc_batch_norm_args args;
} bn_case;

static bn_case bn_make(tc_test_rng *r, int rank, const int64_t *shape, int axis, int affine) {
  bn_case c;
  c.args = tc_batch_norm_args_default();
  c.args.axis = axis;
  int ax = axis < 0 ? rank + axis : axis;
  int64_t cs[1] = {shape[ax]};
  /* Far from zero mean on purpose: the two-pass statistics must not lose it. */
  c.x = grad_leaf(r, rank, shape, 2.0f, 5.0f);
  c.gamma = affine ? grad_leaf(r, 1, cs, 0.5f, 1.5f) : NULL;
  c.beta = affine ? grad_leaf(r, 1, cs, -0.5f, 0.5f) : NULL;
  c.mm = tc_test_tensor(r, 1, cs, -0.5f, 0.5f);
  c.mv = tc_test_tensor(r, 1, cs, 0.5f, 2.0f);
  return c;
}

static void bn_free(bn_case *c) {
  tc_tensor_free(c->x);
  tc_tensor_free(c->gamma);
  tc_tensor_free(c->beta);
  tc_tensor_free(c->mm);
  tc_tensor_free(c->mv);
}

static tc_status bn_fwd(void *ctx, tc_graph *g, tc_tensor **y) {
  bn_case *c = ctx;
  return tc_op_batch_norm(g, c->x, c->gamma, c->beta, c->mm, c->mv, &c->args, y);
}

/* Reference: per-channel statistics of x seen as (outer, C, inner), in double. */
static void bn_reference(const bn_case *c, int64_t outer, int64_t len, int64_t inner,
                         int training, double *y, double *mean, double *var) {
  double m = (double)(outer * inner);
  for (int64_t k = 0; k < len; k++) {
    double s = 0, s2 = 0;
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++)
        s += c->x->data[(o * len + k) * inner + i];
    mean[k] = s / m;
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++) {
        double d = c->x->data[(o * len + k) * inner + i] - mean[k];
        s2 += d * d;
      }
    var[k] = s2 / m;
    double mu = training ? mean[k] : c->mm->data[k], v = training ? var[k] : c->mv->data[k];
    double gam = c->gamma ? c->gamma->data[k] : 1.0, bet = c->beta ? c->beta->data[k] : 0.0;
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t idx = (o * len + k) * inner + i;
        y[idx] = gam * (c->x->data[idx] - mu) / sqrt(v + 1e-3) + bet;
      }
  }
}

static void bn_check_forward(int training, int unbiased, int channels_last) {
  tc_test_rng r;
  tc_test_rng_init(&r, 11);
  /* NCHW-style: axis 1 of (3, 4, 5, 2): outer 3, C 4, inner 10; or channels last: axis -1
   * of (3, 5, 2, 4): outer 30, C 4, inner 1 (the NHWC path). */
  bn_case c = channels_last ? bn_make(&r, 4, (int64_t[]){3, 5, 2, 4}, -1, 1)
                            : bn_make(&r, 4, (int64_t[]){3, 4, 5, 2}, 1, 1);
  c.args.training = training;
  c.args.unbiased_moving_variance = unbiased;
  float mm0[4], mv0[4];
  memcpy(mm0, c.mm->data, sizeof mm0);
  memcpy(mv0, c.mv->data, sizeof mv0);
  double y[120], mean[4], var[4];
  bn_reference(&c, channels_last ? 30 : 3, 4, channels_last ? 1 : 10, training, y, mean, var);
  tc_graph *g = graph();
  tc_tensor *out;
  ck_assert_int_eq(bn_fwd(&c, g, &out), TC_OK);
  int64_t worst;
  ck_assert_double_le(tc_test_excess(out->data, y, 120, 1e-5, 1e-5, &worst), 0.0);
  for (int k = 0; k < 4; k++) {
    double bessel = unbiased ? 30.0 / 29.0 : 1.0;
    double want_m = training ? mm0[k] * 0.99 + mean[k] * 0.01 : mm0[k];
    double want_v = training ? mv0[k] * 0.99 + var[k] * bessel * 0.01 : mv0[k];
    ck_assert_double_eq_tol(c.mm->data[k], want_m, 1e-6);
    ck_assert_double_eq_tol(c.mv->data[k], want_v, 1e-6);
  }
  tc_graph_free(g);
  bn_free(&c);
}

START_TEST(batch_norm_training_uses_batch_statistics_and_updates_moving_ones) {
  for (int last = 0; last < 2; last++) {
    bn_check_forward(1, 0, last);
    bn_check_forward(1, 1, last);
  }
}
END_TEST

START_TEST(batch_norm_inference_uses_moving_statistics_and_keeps_them) {
  bn_check_forward(0, 0, 0);
  bn_check_forward(0, 0, 1);
}
END_TEST

/* Channels last, big enough for the thread team (blocks of 64 channels; 130 leaves a short
 * one): y, dx, dgamma, dbeta and the moving statistics have the same bits for 1 and 3
 * threads, training and inference. */
START_TEST(batch_norm_is_bitwise_the_same_for_any_thread_count) {
  for (int training = 0; training < 2; training++) {
    tc_test_rng r;
    tc_test_rng_init(&r, 13);
    bn_case c = bn_make(&r, 4, (int64_t[]){8, 9, 9, 130}, -1, 1);
    c.args.training = training;
    float *first[6] = {NULL};
    int threads[2] = {1, 3};
    float mm0[130], mv0[130];
    tc_tensor *w = tc_test_tensor(&r, 4, c.x->shape, -1, 1); /* dy = w: not constant */
    memcpy(mm0, c.mm->data, sizeof mm0);
    memcpy(mv0, c.mv->data, sizeof mv0);
    for (int run = 0; run < 2; run++) {
      omp_set_num_threads(threads[run]);
      memcpy(c.mm->data, mm0, sizeof mm0);
      memcpy(c.mv->data, mv0, sizeof mv0);
      tc_graph *g = graph();
      tc_tensor *y, *weighted, *loss;
      ck_assert_int_eq(bn_fwd(&c, g, &y), TC_OK);
      ck_assert_int_eq(tc_op_mul(g, y, w, &weighted), TC_OK);
      ck_assert_int_eq(tc_op_sum(g, weighted, &loss), TC_OK);
      ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
      const float *v[6] = {y->data, c.x->grad, c.gamma->grad, c.beta->grad, c.mm->data,
                           c.mv->data};
      const int64_t n[6] = {y->size, c.x->size, 130, 130, 130, 130};
      for (int i = 0; i < 6; i++) {
        size_t bytes = (size_t)n[i] * sizeof(float);
        if (run == 0) {
          first[i] = malloc(bytes);
          memcpy(first[i], v[i], bytes);
        } else {
          ck_assert_msg(memcmp(first[i], v[i], bytes) == 0, "output %d differs (training %d)",
                        i, training);
          free(first[i]);
        }
      }
      memset(c.x->grad, 0, (size_t)c.x->size * sizeof(float));
      memset(c.gamma->grad, 0, sizeof(float) * 130);
      memset(c.beta->grad, 0, sizeof(float) * 130);
      tc_graph_free(g);
    }
    tc_tensor_free(w);
    bn_free(&c);
  }
}
END_TEST

START_TEST(batch_norm_gradients_match_finite_differences) {
  tc_test_rng r;
  tc_test_rng_init(&r, 12);
  struct { int rank; int64_t shape[4]; int axis, affine, training; } t[] = {
      {4, {2, 3, 3, 4}, -1, 1, 1}, /* NHWC */
      {4, {2, 3, 3, 2}, 1, 1, 1},  /* NCHW */
      {2, {5, 3}, -1, 1, 1},       /* dense outputs */
      {2, {4, 3}, -1, 0, 1},       /* center = scale = 0 */
      {4, {2, 2, 3, 3}, 3, 1, 0},  /* inference */
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    bn_case c = bn_make(&r, t[i].rank, t[i].shape, t[i].axis, t[i].affine);
    c.args.training = t[i].training;
    tc_tensor *in[3] = {c.x, c.gamma, c.beta};
    const char *names[3] = {"x", "gamma", "beta"};
    tc_fd_check(bn_fwd, &c, in, names, t[i].affine ? 3 : 1, 40, i);
    bn_free(&c);
  }
}
END_TEST

START_TEST(batch_norm_rejects_bad_arguments) {
  tc_test_rng r;
  tc_test_rng_init(&r, 13);
  bn_case c = bn_make(&r, 2, (int64_t[]){4, 3}, -1, 1);
  tc_graph *g = graph();
  tc_tensor *y, *wrong = tc_test_tensor(&r, 1, (int64_t[]){5}, 0, 1);
  TC_CK_ERROR(tc_op_batch_norm(g, c.x, wrong, c.beta, c.mm, c.mv, &c.args, &y), TC_ERR_SHAPE, "gamma is (5) with 5 elements, channel axis -1 of x has 3");
  ck_assert_int_eq(tc_op_batch_norm(g, c.x, c.gamma, c.beta, NULL, c.mv, &c.args, &y),
                   TC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "moving_mean is NULL"));
  c.args.axis = 2;
  TC_CK_ERROR(bn_fwd(&c, g, &y), TC_ERR_SHAPE, "axis 2 is out of range for rank 2");
  c.args.axis = -1;
  c.args.momentum = 1.5f;
  TC_CK_ERROR(bn_fwd(&c, g, &y), TC_ERR_INVALID_ARG, "momentum must be in [0, 1], got 1.5");
  c.args.momentum = 0.9f;
  c.args.epsilon = -1.0f;
  TC_CK_ERROR(bn_fwd(&c, g, &y), TC_ERR_INVALID_ARG, "epsilon must be finite and >= 0, got -1");
  ck_assert_int_eq(tc_op_batch_norm(g, c.x, c.gamma, c.beta, c.mm, c.mv, NULL, &y),
                   TC_ERR_INVALID_ARG);
  tc_tensor_free(wrong);
  tc_graph_free(g);
  bn_free(&c);
}
END_TEST

/* ---- bce_with_logits and flatten --------------------------------------------------- */

static tc_status bce_fwd(void *ctx, tc_graph *g, tc_tensor **y) {
  two *t = ctx;
  return tc_op_bce_with_logits(g, t->a, t->b, y);
}

START_TEST(bce_matches_reference_and_is_stable) {
  int64_t s[2] = {2, 3};
  tc_tensor *x, *z, *loss;
  ck_assert_int_eq(tc_tensor_create(&x, 2, s), TC_OK);
  ck_assert_int_eq(tc_tensor_create(&z, 2, s), TC_OK);
  float xs[6] = {-200.0f, -1.5f, 0.0f, 0.7f, 3.0f, 200.0f}, zs[6] = {0, 1, 0.5f, 0, 1, 1};
  memcpy(x->data, xs, sizeof xs);
  memcpy(z->data, zs, sizeof zs);
  double want = 0;
  for (int i = 0; i < 6; i++) /* -z log σ(x) - (1-z) log(1-σ(x)), written out in double */
    want += xs[i] > 0 ? (1 - zs[i]) * xs[i] + log1p(exp(-xs[i]))
                      : -zs[i] * xs[i] + log1p(exp(xs[i]));
  tc_graph *g = graph();
  ck_assert_int_eq(tc_op_bce_with_logits(g, x, z, &loss), TC_OK);
  ck_assert(isfinite(loss->data[0]));
  ck_assert_double_eq_tol(loss->data[0], want / 6.0, 1e-5);
  ck_assert_int_eq(tc_tensor_require_grad(x), TC_OK);
  tc_graph_reset(g);
  ck_assert_int_eq(tc_op_bce_with_logits(g, x, z, &loss), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  ck_assert_double_eq_tol(x->grad[0], (0.0 - 0.0) / 6.0, 1e-7);  /* σ(-200) = 0, z = 0 */
  ck_assert_double_eq_tol(x->grad[5], (1.0 - 1.0) / 6.0, 1e-7);
  ck_assert_double_eq_tol(x->grad[2], (0.5 - 0.5) / 6.0, 1e-7);
  tc_tensor *bad;
  ck_assert_int_eq(tc_tensor_create(&bad, 1, (int64_t[]){6}), TC_OK);
  TC_CK_ERROR(tc_op_bce_with_logits(g, x, bad, &loss), TC_ERR_SHAPE, "logits (2, 3) and targets (6) differ");
  tc_tensor_free(bad);
  tc_graph_free(g);
  tc_tensor_free(x);
  tc_tensor_free(z);
}
END_TEST

START_TEST(bce_gradients_match_finite_differences) {
  tc_test_rng r;
  tc_test_rng_init(&r, 14);
  two t = {grad_leaf(&r, 2, (int64_t[]){3, 4}, -4, 4), tc_test_tensor(&r, 2, (int64_t[]){3, 4}, 0, 1)};
  const char *names[1] = {"logits"};
  tc_fd_check(bce_fwd, &t, &t.a, names, 1, 12, 2);
  tc_tensor_free(t.a);
  tc_tensor_free(t.b);
}
END_TEST

START_TEST(flatten_keeps_the_batch_axis) {
  tc_test_rng r;
  tc_test_rng_init(&r, 15);
  tc_tensor *x = grad_leaf(&r, 4, (int64_t[]){2, 3, 4, 5}, -1, 1), *y, *loss;
  tc_graph *g = graph();
  ck_assert_int_eq(tc_op_flatten(g, x, &y), TC_OK);
  ck_assert_int_eq(y->rank, 2);
  ck_assert_int_eq(y->shape[0], 2);
  ck_assert_int_eq(y->shape[1], 60);
  ck_assert_int_eq(tc_op_sum(g, y, &loss), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  ck_assert_float_eq(x->grad[59], 1.0f);
  tc_tensor *s;
  ck_assert_int_eq(tc_tensor_create(&s, 0, NULL), TC_OK);
  TC_CK_ERROR(tc_op_flatten(g, s, &y), TC_ERR_SHAPE, "got rank 0");
  tc_tensor_free(s);
  tc_graph_free(g);
  tc_tensor_free(x);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nnops");
  TCase *tc = tcase_create("nnops");
  tcase_add_test(tc, matmul_matches_reference);
  tcase_add_test(tc, matmul_gradients_match_finite_differences);
  tcase_add_test(tc, matmul_is_bitwise_the_same_for_any_thread_count);
  tcase_add_test(tc, matmul_rejects_bad_shapes);
  tcase_add_test(tc, batch_norm_training_uses_batch_statistics_and_updates_moving_ones);
  tcase_add_test(tc, batch_norm_inference_uses_moving_statistics_and_keeps_them);
  tcase_add_test(tc, batch_norm_gradients_match_finite_differences);
  tcase_add_test(tc, batch_norm_is_bitwise_the_same_for_any_thread_count);
  tcase_add_test(tc, batch_norm_rejects_bad_arguments);
  tcase_add_test(tc, bce_matches_reference_and_is_stable);
  tcase_add_test(tc, bce_gradients_match_finite_differences);
  tcase_add_test(tc, flatten_keeps_the_batch_axis);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
