/* test_graph.c — the tape: chain rule, fan-out accumulation, reuse, and its error paths. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/graph.h"
#include "core/ops.h"
#include "support/testutil.h"

static tc_tensor *leaf(int rank, const int64_t *shape, const float *values, int grad) {
  tc_tensor *t = NULL;
  ck_assert_int_eq(tc_tensor_create(&t, rank, shape), TC_OK);
  memcpy(t->data, values, (size_t)t->size * sizeof(float));
  if (grad)
    ck_assert_int_eq(tc_tensor_require_grad(t), TC_OK);
  return t;
}

START_TEST(chain_rule_through_scale_mul_sum) {
  /* L = sum(3 * (a ⊙ b)) → dL/da = 3b, dL/db = 3a. */
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t s[1] = {3};
  tc_tensor *a = leaf(1, s, (float[]){1, 2, 3}, 1), *b = leaf(1, s, (float[]){-1, 0.5f, 4}, 1);
  tc_tensor *p, *q, *loss;
  ck_assert_int_eq(tc_op_mul(g, a, b, &p), TC_OK);
  ck_assert_int_eq(tc_op_scale(g, p, 3.0f, &q), TC_OK);
  ck_assert_int_eq(tc_op_sum(g, q, &loss), TC_OK);
  ck_assert_float_eq_tol(loss->data[0], 3.0f * (-1 + 1 + 12), 1e-6f);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  for (int i = 0; i < 3; i++) {
    ck_assert_float_eq_tol(a->grad[i], 3.0f * b->data[i], 1e-6f);
    ck_assert_float_eq_tol(b->grad[i], 3.0f * a->data[i], 1e-6f);
  }
  tc_tensor_free(a);
  tc_tensor_free(b);
  tc_graph_free(g);
}
END_TEST

START_TEST(fan_out_accumulates) {
  /* a feeds two branches: L = sum(a + a*c) → dL/da = 1 + c. */
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t s[1] = {2};
  tc_tensor *a = leaf(1, s, (float[]){2, 5}, 1), *c = leaf(1, s, (float[]){7, -3}, 0);
  tc_tensor *m, *sum, *loss;
  ck_assert_int_eq(tc_op_mul(g, a, c, &m), TC_OK);
  ck_assert_int_eq(tc_op_add(g, a, m, &sum), TC_OK);
  ck_assert_int_eq(tc_op_sum(g, sum, &loss), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  ck_assert_float_eq(a->grad[0], 8.0f);
  ck_assert_float_eq(a->grad[1], -2.0f);
  ck_assert_ptr_null(c->grad); /* c needs no gradient and gets none */
  tc_tensor_free(a);
  tc_tensor_free(c);
  tc_graph_free(g);
}
END_TEST

START_TEST(tensor_used_twice_in_one_op) {
  /* L = mean(a ⊙ a) → dL/da = 2a/n. */
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t s[2] = {2, 2};
  tc_tensor *a = leaf(2, s, (float[]){1, -2, 3, 0.5f}, 1);
  tc_tensor *sq, *loss;
  ck_assert_int_eq(tc_op_mul(g, a, a, &sq), TC_OK);
  ck_assert_int_eq(tc_op_mean(g, sq, &loss), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq_tol(a->grad[i], a->data[i] / 2.0f, 1e-6f);
  tc_tensor_free(a);
  tc_graph_free(g);
}
END_TEST

START_TEST(gradients_are_fresh_after_reset) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t s[1] = {2};
  tc_tensor *a = leaf(1, s, (float[]){1, 1}, 1);
  for (int step = 0; step < 3; step++) {
    tc_tensor *loss;
    ck_assert_int_eq(tc_op_sum(g, a, &loss), TC_OK);
    ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
    ck_assert_float_eq(a->grad[0], 1.0f); /* not 2, not 3: zeroed each backward */
    tc_graph_reset(g);
    ck_assert_int_eq(tc_graph_node_count(g), 0);
  }
  tc_tensor_free(a);
  tc_graph_free(g);
}
END_TEST

START_TEST(large_leaf_gradients_are_fresh_after_reset) {
  /* Above the size where the zeroing is split over the team; a leaf read twice per step is
   * zeroed once (a second zeroing by another thread would race with nothing, but the sum
   * must still be exactly 2 after every step, not 4 or 6). */
  enum { N = 300 * 1000 };
  int64_t s[1] = {N};
  tc_tensor *a = NULL;
  ck_assert_int_eq(tc_tensor_create(&a, 1, s), TC_OK);
  ck_assert_int_eq(tc_tensor_require_grad(a), TC_OK);
  for (int64_t i = 0; i < N; i++)
    a->data[i] = (float)(i % 7);
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  for (int step = 0; step < 3; step++) {
    tc_tensor *twice, *loss;
    ck_assert_int_eq(tc_op_add(g, a, a, &twice), TC_OK);
    ck_assert_int_eq(tc_op_sum(g, twice, &loss), TC_OK);
    ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
    for (int64_t i = 0; i < N; i++)
      ck_assert_float_eq(a->grad[i], 2.0f);
    tc_graph_reset(g);
  }
  tc_tensor_free(a);
  tc_graph_free(g);
}
END_TEST

/* y = act(a * c) then L = sum(y * w), with act applied fresh or in place; returns y's
 * values and a's gradient. */
static void act_step(tc_activation act, int in_place, float *y_out, float *da_out,
                     int *shared) {
  enum { N = 12 };
  static const float av[N] = {-3, -1, -0.0f, 0, 0.5f, 1, 2.9f, 3, 3.5f, 4, -50, 50};
  static const float wv[N] = {1, -2, 3, 0.5f, -1, 2, 1, 1, -3, 0.25f, 1, -1};
  int64_t s[1] = {N};
  static const float cv[N] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};
  tc_tensor *a = leaf(1, s, av, 1), *c = leaf(1, s, cv, 0), *w = leaf(1, s, wv, 0);
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  tc_tensor *z, *y, *yw, *loss;
  ck_assert_int_eq(tc_op_mul(g, a, c, &z), TC_OK);
  if (in_place)
    ck_assert_int_eq(tc_op_activation_in_place(g, z, act, &y), TC_OK);
  else
    ck_assert_int_eq(tc_op_activation(g, z, act, &y), TC_OK);
  *shared = y->data == z->data;
  ck_assert_int_eq(tc_op_mul(g, y, w, &yw), TC_OK);
  ck_assert_int_eq(tc_op_sum(g, yw, &loss), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  memcpy(y_out, y->data, N * sizeof(float));
  memcpy(da_out, a->grad, N * sizeof(float));
  tc_graph_free(g);
  tc_tensor_free(a);
  tc_tensor_free(c);
  tc_tensor_free(w);
}

START_TEST(activation_in_place_matches_a_fresh_output) {
  /* {kind, alpha, expected to share z's data}: elu reads z in its backward and a negative
   * alpha breaks the sign argument, so both fall back to a fresh output. */
  struct {
    tc_activation_kind kind;
    float alpha;
    int shares;
  } cases[] = {{TC_ACT_RELU, 0, 1},         {TC_ACT_RELU6, 0, 1},
               {TC_ACT_LEAKY_RELU, 0.2f, 1},  {TC_ACT_LEAKY_RELU, 0, 1},
               {TC_ACT_SIGMOID, 0, 1},        {TC_ACT_TANH, 0, 1},
               {TC_ACT_LEAKY_RELU, -0.5f, 0}, {TC_ACT_ELU, 1, 0}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    tc_activation act = tc_activation_make(cases[k].kind);
    act.alpha = cases[k].alpha;
    float y_fresh[12], da_fresh[12], y_in[12], da_in[12];
    int shared_fresh, shared_in;
    act_step(act, 0, y_fresh, da_fresh, &shared_fresh);
    act_step(act, 1, y_in, da_in, &shared_in);
    ck_assert_int_eq(shared_fresh, 0);
    ck_assert_int_eq(shared_in, cases[k].shares);
    ck_assert_mem_eq(y_in, y_fresh, sizeof y_in);
    ck_assert_mem_eq(da_in, da_fresh, sizeof da_in);
  }
}
END_TEST

START_TEST(reshape_bias_add_mse) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t s6[1] = {6}, s23[2] = {2, 3}, s3[1] = {3};
  tc_tensor *x = leaf(1, s6, (float[]){1, 2, 3, 4, 5, 6}, 1);
  tc_tensor *b = leaf(1, s3, (float[]){0.5f, -1, 2}, 1);
  tc_tensor *t = leaf(2, s23, (float[]){0, 0, 0, 0, 0, 0}, 0);
  tc_tensor *r, *y, *loss;
  ck_assert_int_eq(tc_op_reshape(g, x, 2, s23, &r), TC_OK);
  ck_assert_int_eq(tc_op_bias_add(g, r, b, -1, &y), TC_OK);
  ck_assert_float_eq(y->data[5], 8.0f);
  ck_assert_int_eq(tc_op_mse(g, y, t, &loss), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  /* dL/dy = 2y/6; db = column sums of that; dx = dL/dy flattened. */
  for (int i = 0; i < 6; i++)
    ck_assert_float_eq_tol(x->grad[i], y->data[i] / 3.0f, 1e-6f);
  for (int k = 0; k < 3; k++)
    ck_assert_float_eq_tol(b->grad[k], (y->data[k] + y->data[3 + k]) / 3.0f, 1e-6f);
  tc_tensor_free(x);
  tc_tensor_free(b);
  tc_tensor_free(t);
  tc_graph_free(g);
}
END_TEST

START_TEST(activation_chain_matches_formula) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t s[1] = {3};
  tc_tensor *x = leaf(1, s, (float[]){-1.0f, 0.25f, 2.0f}, 1);
  tc_tensor *t, *loss;
  ck_assert_int_eq(tc_op_tanh(g, x, &t), TC_OK);
  ck_assert_int_eq(tc_op_sum(g, t, &loss), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  for (int i = 0; i < 3; i++) {
    double th = tanh((double)x->data[i]);
    ck_assert_double_eq_tol(x->grad[i], 1.0 - th * th, 1e-6);
  }
  tc_tensor_free(x);
  tc_graph_free(g);
}
END_TEST

START_TEST(error_paths) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t s2[1] = {2}, s3[1] = {3};
  tc_tensor *a = leaf(1, s2, (float[]){1, 2}, 1), *b = leaf(1, s3, (float[]){1, 2, 3}, 1);
  tc_tensor *out = NULL;
  TC_CK_ERROR(tc_op_add(g, a, b, &out), TC_ERR_SHAPE, "(2)");
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "(3)"));
  ck_assert_int_eq(tc_op_add(NULL, a, a, &out), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_op_add(g, a, NULL, &out), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_op_add(g, a, a, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_op_bias_add(g, a, b, 0, &out), TC_ERR_SHAPE);
  TC_CK_ERROR(tc_op_bias_add(g, a, a, 3, &out), TC_ERR_SHAPE, "axis 3");
  ck_assert_int_eq(tc_op_reshape(g, a, 1, s3, &out), TC_ERR_SHAPE);
  ck_assert_int_eq(tc_op_mse(g, a, b, &out), TC_ERR_SHAPE);
  tc_tensor *sum, *plain;
  ck_assert_int_eq(tc_op_add(g, a, a, &out), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, out), TC_ERR_SHAPE); /* not a scalar */
  ck_assert_int_eq(tc_op_sum(g, out, &sum), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, sum), TC_OK);
  TC_CK_ERROR(tc_graph_backward(g, sum), TC_ERR_STATE, "twice");
  tc_graph_reset(g);
  tc_tensor *c = leaf(1, s2, (float[]){1, 2}, 0);
  ck_assert_int_eq(tc_op_sum(g, c, &plain), TC_OK); /* nothing needs a gradient */
  ck_assert_int_eq(tc_graph_backward(g, plain), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_graph_backward(NULL, plain), TC_ERR_INVALID_ARG);
  tc_tensor_free(a);
  tc_tensor_free(b);
  tc_tensor_free(c);
  tc_graph_free(g);
}
END_TEST

/* requires_grad set by hand on an owned tensor: no gradient buffer of its own, and an arena
 * one would dangle after the reset (tc_tensor_free would then free arena memory). */
START_TEST(owned_tensor_without_gradient_buffer_is_refused) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t s[1] = {2};
  tc_tensor *a = leaf(1, s, (float[]){1, 2}, 1), *b = leaf(1, s, (float[]){3, 4}, 0), *ab, *loss;
  b->requires_grad = 1; /* not through tc_tensor_require_grad */
  ck_assert_int_eq(tc_op_mul(g, a, b, &ab), TC_OK);
  ck_assert_int_eq(tc_op_sum(g, ab, &loss), TC_OK);
  a->grad[0] = 7.0f;
  TC_CK_ERROR(tc_graph_backward(g, loss), TC_ERR_STATE, "tc_tensor_require_grad");
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "(2)"));
  ck_assert_ptr_null(b->grad);
  ck_assert_float_eq(a->grad[0], 7.0f); /* nothing touched */
  ck_assert_int_eq(a->grad_gen, 0);
  ck_assert_int_eq(tc_tensor_require_grad(b), TC_OK); /* the way out */
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  ck_assert_float_eq(b->grad[1], 2.0f);
  tc_graph_reset(g);
  tc_tensor_free(a);
  tc_tensor_free(b); /* frees its own buffer */
  tc_graph_free(g);
}
END_TEST

/* A loss from before tc_graph_reset is never read: its memory may be gone (the arena
 * folds its chunks on reset; the big tensor forces a second chunk). */
START_TEST(loss_from_before_reset_is_refused) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  for (int big = 0; big < 2; big++) {
    int64_t s[1] = {big ? 600000 : 2};
    tc_tensor *a, *scaled, *loss, *again;
    ck_assert_int_eq(tc_tensor_create(&a, 1, s), TC_OK);
    ck_assert_int_eq(tc_tensor_require_grad(a), TC_OK);
    ck_assert_int_eq(tc_op_scale(g, a, 2.0f, &scaled), TC_OK); /* 2.4 MB in the arena */
    ck_assert_int_eq(tc_op_sum(g, scaled, &loss), TC_OK);
    tc_graph_reset(g);
    TC_CK_ERROR(tc_graph_backward(g, loss), TC_ERR_STATE, "before the last tc_graph_reset");
    ck_assert_int_eq(tc_op_sum(g, a, &again), TC_OK); /* the graph itself is fine */
    ck_assert_int_eq(tc_graph_backward(g, again), TC_OK);
    ck_assert_float_eq(a->grad[0], 1.0f);
    tc_graph_reset(g);
    tc_tensor_free(a);
  }
  tc_graph_free(g);
}
END_TEST

/* Backward stamps the leaves the loss depends on, and only those. */
START_TEST(backward_stamps_only_reached_leaves) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t s[1] = {2};
  tc_tensor *a = leaf(1, s, (float[]){1, 2}, 1), *b = leaf(1, s, (float[]){3, 4}, 1);
  tc_tensor *sa, *sb;
  ck_assert_int_eq(tc_op_sum(g, b, &sb), TC_OK); /* on the tape, not in the loss */
  ck_assert_int_eq(tc_op_sum(g, a, &sa), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, sa), TC_OK);
  ck_assert_uint_gt(a->grad_gen, 0);
  ck_assert_uint_eq(b->grad_gen, 0);
  uint64_t first = a->grad_gen;
  tc_graph_reset(g);
  ck_assert_int_eq(tc_op_sum(g, b, &sb), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, sb), TC_OK);
  ck_assert_uint_gt(b->grad_gen, first);
  ck_assert_uint_eq(a->grad_gen, first);
  tc_tensor_free(a);
  tc_tensor_free(b);
  tc_graph_free(g);
}
END_TEST

static tc_status no_backward(tc_node *n) {
  (void)n;
  return TC_OK;
}

/* NULL arguments: a status naming the argument, or nothing done; never a crash. */
START_TEST(null_arguments_are_refused) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t s[1] = {2};
  tc_tensor *a = leaf(1, s, (float[]){1, 2}, 1), *y;
  ck_assert_int_eq(tc_graph_new_output(NULL, &y, 1, s, &a, 1), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_graph_new_output(g, NULL, 1, s, &a, 1), TC_ERR_INVALID_ARG);
  TC_CK_ERROR(tc_graph_new_output(g, &y, 1, s, NULL, 1), TC_ERR_INVALID_ARG, "input list");
  ck_assert_int_eq(tc_graph_new_output(g, &y, 1, s, &a, 1), TC_OK);
  ck_assert_int_eq(tc_graph_record(NULL, "op", no_backward, y, &a, 1, NULL), TC_ERR_INVALID_ARG);
  TC_CK_ERROR(tc_graph_record(g, "op", NULL, y, &a, 1, NULL), TC_ERR_INVALID_ARG, "backward function");
  ck_assert_int_eq(tc_graph_record(g, "op", no_backward, NULL, &a, 1, NULL), TC_ERR_INVALID_ARG);
  TC_CK_ERROR(tc_graph_record(g, "op", no_backward, y, &a, -1, NULL), TC_ERR_INVALID_ARG, "-1 inputs");
  ck_assert_int_eq(tc_graph_node_count(g), 0);
  ck_assert_int_eq(tc_graph_record(g, NULL, no_backward, y, &a, 1, NULL), TC_OK);
  ck_assert_int_eq(tc_graph_node_count(g), 1);
  tc_graph_reset(NULL);
  tc_graph_set_recording(NULL, 0);
  ck_assert_ptr_null(tc_graph_arena(NULL));
  ck_assert_int_eq(tc_graph_recording(NULL), 0);
  ck_assert_int_eq(tc_graph_node_count(NULL), 0);
  ck_assert_int_eq(tc_graph_loss_count(NULL), 0);
  ck_assert_ptr_null(tc_graph_loss_at(NULL, 0));
  ck_assert_int_eq(tc_graph_add_loss(NULL, a), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_graph_create(NULL), TC_ERR_INVALID_ARG);
  tc_tensor_fill(NULL, 1.0f);
  ck_assert_int_eq(tc_tensor_same_shape(a, NULL), 0);
  char buf[32];
  ck_assert_str_eq(tc_shape_str(NULL, buf, sizeof buf), "(no tensor)");
  ck_assert_str_eq(tc_shape_str(a, NULL, 0), "");
  ck_assert_int_eq(tc_tensor_create(NULL, 1, s), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_tensor_require_grad(NULL), TC_ERR_INVALID_ARG);
  ck_assert_ptr_null(tc_arena_alloc(NULL, 8));
  tc_arena_reset(NULL);
  ck_assert_uint_eq(tc_arena_used(NULL), 0);
  tc_tensor_free(a);
  tc_graph_free(g);
}
END_TEST

START_TEST(recording_off_tapes_nothing) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  tc_graph_set_recording(g, 0);
  int64_t s[1] = {2};
  tc_tensor *a = leaf(1, s, (float[]){1, 2}, 1), *loss;
  ck_assert_int_eq(tc_op_sum(g, a, &loss), TC_OK);
  ck_assert_float_eq(loss->data[0], 3.0f);
  ck_assert_int_eq(tc_graph_node_count(g), 0);
  ck_assert_int_eq(loss->requires_grad, 0);
  tc_tensor_free(a);
  tc_graph_free(g);
}
END_TEST

/* A backward function that takes measurable time, so its row cannot read zero. */
static tc_status slow_backward(tc_node *n) {
  (void)n;
  struct timespec ts = {0, 2000000}; /* 2 ms */
  nanosleep(&ts, NULL);
  return TC_OK;
}

START_TEST(profiling_times_ops_per_tag) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t s[1] = {3};
  tc_tensor *a = leaf(1, s, (float[]){1, 2, 3}, 1), *p, *q, *loss, *y;
  /* off by default: nothing is recorded */
  ck_assert_int_eq(tc_graph_profiling(g), 0);
  ck_assert_int_eq(tc_op_scale(g, a, 2.0f, &p), TC_OK);
  ck_assert_int_eq(tc_graph_timing_count(g), 0);
  tc_graph_reset(g);
  tc_graph_set_profiling(g, 1);
  ck_assert_int_eq(tc_graph_profiling(g), 1);
  for (int step = 0; step < 2; step++) { /* rows sum across resets */
    ck_assert_ptr_null(tc_graph_set_tag(g, "layer_a"));
    ck_assert_int_eq(tc_op_scale(g, a, 2.0f, &p), TC_OK);
    ck_assert_str_eq(tc_graph_set_tag(g, "layer_b"), "layer_a");
    ck_assert_int_eq(tc_op_scale(g, p, 3.0f, &q), TC_OK);
    ck_assert_int_eq(tc_graph_new_output(g, &y, 1, s, &q, 1), TC_OK);
    ck_assert_int_eq(tc_graph_record(g, "slow", slow_backward, y, &q, 1, NULL), TC_OK);
    tc_graph_set_tag(g, NULL);
    ck_assert_int_eq(tc_op_sum(g, y, &loss), TC_OK);
    ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
    tc_graph_reset(g);
  }
  /* (layer_a, scale), (layer_b, scale), (layer_b, slow), (-, sum), (-, backward setup) */
  ck_assert_int_eq(tc_graph_timing_count(g), 5);
  tc_graph_timing t;
  const char *tags[5] = {"layer_a", "layer_b", "layer_b", NULL, NULL};
  const char *ops[5] = {"scale", "scale", "slow", "sum", "backward setup"};
  for (int i = 0; i < 5; i++) {
    ck_assert_int_eq(tc_graph_timing_at(g, i, &t), 1);
    if (tags[i])
      ck_assert_str_eq(t.tag, tags[i]);
    else
      ck_assert_ptr_null(t.tag);
    ck_assert_str_eq(t.op, ops[i]);
    ck_assert_int_eq(t.backward_calls, 2);
    ck_assert(t.forward_s >= 0.0 && t.backward_s >= 0.0);
    /* every op made its output with tc_graph_new_output: its forward is timed */
    ck_assert_int_eq(t.forward_calls, i < 4 ? 2 : 0);
  }
  ck_assert_int_eq(tc_graph_timing_at(g, 2, &t), 1);
  ck_assert(t.backward_s >= 2 * 0.002 && t.backward_s < 10.0);
  ck_assert_int_eq(tc_graph_timing_at(g, 5, &t), 0);
  ck_assert_ptr_null(t.op);
  ck_assert_int_eq(tc_graph_timing_at(g, -1, &t), 0);
  ck_assert_int_eq(tc_graph_timing_at(g, 0, NULL), 0);
  /* an untaped op (recording off) still has its forward timed */
  tc_graph_set_recording(g, 0);
  tc_graph_set_tag(g, "eval");
  ck_assert_int_eq(tc_op_scale(g, a, 2.0f, &p), TC_OK);
  ck_assert_int_eq(tc_graph_timing_count(g), 6);
  ck_assert_int_eq(tc_graph_timing_at(g, 5, &t), 1);
  ck_assert_int_eq(t.forward_calls, 1);
  ck_assert_int_eq(t.backward_calls, 0);
  tc_graph_timing_clear(g);
  ck_assert_int_eq(tc_graph_timing_count(g), 0);
  tc_graph_set_profiling(g, 0);
  ck_assert_int_eq(tc_op_scale(g, a, 2.0f, &p), TC_OK);
  ck_assert_int_eq(tc_graph_timing_count(g), 0);
  /* NULL graphs answer 0 / NULL */
  ck_assert_int_eq(tc_graph_profiling(NULL), 0);
  ck_assert_int_eq(tc_graph_timing_count(NULL), 0);
  ck_assert_ptr_null(tc_graph_set_tag(NULL, "x"));
  ck_assert_int_eq(tc_graph_timing_at(NULL, 0, &t), 0);
  tc_graph_set_profiling(NULL, 1);
  tc_graph_timing_clear(NULL);
  tc_tensor_free(a);
  tc_graph_free(g);
}
END_TEST

/* A tag longer than a row holds is cut, not overrun, and still matches itself. */
START_TEST(profiling_long_tag_is_cut) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  tc_graph_set_profiling(g, 1);
  char tag[200];
  memset(tag, 'x', sizeof tag - 1);
  tag[sizeof tag - 1] = '\0';
  tc_graph_set_tag(g, tag);
  int64_t s[1] = {2};
  tc_tensor *a = leaf(1, s, (float[]){1, 2}, 0), *p;
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(tc_op_scale(g, a, 2.0f, &p), TC_OK);
  ck_assert_int_eq(tc_graph_timing_count(g), 1);
  tc_graph_timing t;
  ck_assert_int_eq(tc_graph_timing_at(g, 0, &t), 1);
  ck_assert_uint_eq(strlen(t.tag), 63);
  ck_assert_int_eq(t.forward_calls, 3);
  tc_tensor_free(a);
  tc_graph_free(g);
}
END_TEST

int main(void) {
  Suite *s = suite_create("graph");
  TCase *tc = tcase_create("autograd");
  tcase_add_test(tc, chain_rule_through_scale_mul_sum);
  tcase_add_test(tc, fan_out_accumulates);
  tcase_add_test(tc, tensor_used_twice_in_one_op);
  tcase_add_test(tc, gradients_are_fresh_after_reset);
  tcase_add_test(tc, reshape_bias_add_mse);
  tcase_add_test(tc, activation_chain_matches_formula);
  tcase_add_test(tc, error_paths);
  tcase_add_test(tc, recording_off_tapes_nothing);
  tcase_add_test(tc, owned_tensor_without_gradient_buffer_is_refused);
  tcase_add_test(tc, loss_from_before_reset_is_refused);
  tcase_add_test(tc, backward_stamps_only_reached_leaves);
  tcase_add_test(tc, null_arguments_are_refused);
  tcase_add_test(tc, profiling_times_ops_per_tag);
  tcase_add_test(tc, profiling_long_tag_is_cut);
  tcase_add_test(tc, large_leaf_gradients_are_fresh_after_reset);
  tcase_add_test(tc, activation_in_place_matches_a_fresh_output);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
