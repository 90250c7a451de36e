/* test_optim_step.c — which variables a step updates (only those the last backward pass
 * reached) and that a failed step changes nothing (docs/semantics.md). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph.h"
#include "core/ops.h"
#include "optim/optimizer.h"
#include "support/testutil.h"

#define N 3

/* Two "layers" a and b of N weights each, an input x, and a graph. */
typedef struct net {
  tc_model *m;
  tc_param *a, *b;
  tc_tensor *x;
  tc_graph *g;
  tc_optim *opt;
} net;

static void net_make(net *n, const char *optimizer) {
  ck_assert_int_eq(tc_model_create(&n->m, 1), TC_OK);
  int64_t s[1] = {N};
  ck_assert_int_eq(tc_model_add_param(n->m, "a", "w", TC_PARAM_WEIGHT, 1, s, &n->a), TC_OK);
  ck_assert_int_eq(tc_model_add_param(n->m, "b", "w", TC_PARAM_WEIGHT, 1, s, &n->b), TC_OK);
  ck_assert_int_eq(tc_tensor_create(&n->x, 1, s), TC_OK);
  for (int i = 0; i < N; i++) {
    n->a->value->data[i] = 0.5f + 0.25f * (float)i;
    n->b->value->data[i] = -0.3f + 0.1f * (float)i;
    n->x->data[i] = 1.0f + (float)i;
  }
  ck_assert_int_eq(tc_graph_create(&n->g), TC_OK);
  tc_optim_config c;
  ck_assert_int_eq(tc_optim_config_parse(optimizer, &c), TC_OK);
  ck_assert_int_eq(tc_optim_create(&n->opt, &c, n->m, NULL), TC_OK);
}

static void net_free(net *n) {
  tc_optim_free(n->opt);
  tc_graph_free(n->g);
  tc_tensor_free(n->x);
  tc_model_free(n->m);
}

/* sum((w*x)^2) for one variable, on the graph. */
static tc_tensor *term(net *n, tc_param *p) {
  tc_tensor *wx, *sq, *sum;
  ck_assert_int_eq(tc_op_mul(n->g, p->value, n->x, &wx), TC_OK);
  ck_assert_int_eq(tc_op_mul(n->g, wx, wx, &sq), TC_OK);
  ck_assert_int_eq(tc_op_sum(n->g, sq, &sum), TC_OK);
  return sum;
}

/* One step: the loss is a's term plus, when with_b, b's term; b_off_tape records b's term
 * on the tape anyway but leaves it out of the loss (reached by nothing). */
static tc_status step(net *n, int with_b, int b_off_tape) {
  tc_graph_reset(n->g);
  tc_tensor *loss = term(n, n->a);
  if (with_b) {
    tc_tensor *tb = term(n, n->b), *sum;
    ck_assert_int_eq(tc_op_add(n->g, loss, tb, &sum), TC_OK);
    loss = sum;
  } else if (b_off_tape) {
    (void)term(n, n->b);
    tc_tensor *again;
    ck_assert_int_eq(tc_op_scale(n->g, loss, 1.0f, &again), TC_OK);
    loss = again;
  }
  ck_assert_int_eq(tc_graph_backward(n->g, loss), TC_OK);
  return tc_optim_step(n->opt, NULL);
}

/* Every float the optimizer owns or updates: both variables and all slots. */
typedef struct snapshot {
  float v[2][N];
  float slots[8][N];
  int n_slots;
  int64_t t;
} snapshot;

static void take(const net *n, snapshot *s) {
  memset(s, 0, sizeof *s);
  memcpy(s->v[0], n->a->value->data, sizeof s->v[0]);
  memcpy(s->v[1], n->b->value->data, sizeof s->v[1]);
  s->n_slots = tc_optim_slot_count(n->opt);
  ck_assert_int_le(s->n_slots, 8);
  for (int i = 0; i < s->n_slots; i++)
    memcpy(s->slots[i], tc_optim_slot_at(n->opt, i, NULL)->data, sizeof s->slots[i]);
  s->t = tc_optim_steps(n->opt);
}

static int same(const snapshot *x, const snapshot *y) { return memcmp(x, y, sizeof *x) == 0; }

static int slot_same(const net *n, const char *param, const char *slot, const float *want) {
  return memcmp(tc_optim_find_slot(n->opt, param, slot)->data, want, N * sizeof(float)) == 0;
}

/* b sits out step 2 (left out of the loss, then recorded but not part of it): its value
 * and its Adam slots keep their bits, a trains, the step counter counts every step. At
 * step 4 b trains again with Adam's shared t = 4, as TF1's one beta1_power does. */
START_TEST(a_variable_the_backward_did_not_reach_sits_out) {
  for (int off_tape = 0; off_tape < 2; off_tape++) {
    net n;
    net_make(&n, "adam:lr=0.01");
    ck_assert_int_eq(step(&n, 1, 0), TC_OK);
    float a1[N], b1[N], m1[N], v1[N];
    memcpy(a1, n.a->value->data, sizeof a1);
    memcpy(b1, n.b->value->data, sizeof b1);
    memcpy(m1, tc_optim_find_slot(n.opt, "b/w", "m")->data, sizeof m1);
    memcpy(v1, tc_optim_find_slot(n.opt, "b/w", "v")->data, sizeof v1);
    for (int k = 0; k < 2; k++) /* two steps without b */
      ck_assert_int_eq(step(&n, 0, off_tape), TC_OK);
    ck_assert_int_eq(tc_optim_steps(n.opt), 3);
    ck_assert_msg(memcmp(n.b->value->data, b1, sizeof b1) == 0, "b moved without a gradient");
    ck_assert(slot_same(&n, "b/w", "m", m1) && slot_same(&n, "b/w", "v", v1));
    ck_assert_msg(memcmp(n.a->value->data, a1, sizeof a1) != 0, "a did not train");
    /* Step 4 with b: its gradient 2 w x^2, its moments from step 1, t = 4. */
    float want[N];
    double bc1 = 1.0 - pow(0.9f, 4.0), bc2 = 1.0 - pow(0.999f, 4.0);
    float lr_t = (float)(0.01f * sqrt(bc2) / bc1);
    for (int i = 0; i < N; i++) {
      float g = 2.0f * b1[i] * n.x->data[i] * n.x->data[i];
      float m = 0.9f * m1[i] + (1.0f - 0.9f) * g, v = 0.999f * v1[i] + (1.0f - 0.999f) * g * g;
      want[i] = b1[i] - lr_t * m / (sqrtf(v) + 1e-8f);
    }
    ck_assert_int_eq(step(&n, 1, 0), TC_OK);
    for (int i = 0; i < N; i++)
      ck_assert_float_eq_tol(n.b->value->data[i], want[i], 1e-6f);
    net_free(&n);
  }
}
END_TEST

/* Momentum SGD: the accumulator of a variable that sits out does not decay or move. */
START_TEST(momentum_slot_of_an_idle_variable_stays) {
  net n;
  net_make(&n, "sgd:momentum=0.9:lr=0.01");
  ck_assert_int_eq(step(&n, 1, 0), TC_OK);
  snapshot before;
  take(&n, &before);
  ck_assert_int_eq(step(&n, 0, 1), TC_OK);
  ck_assert_msg(memcmp(n.b->value->data, before.v[1], sizeof before.v[1]) == 0, "b moved");
  ck_assert(slot_same(&n, "b/w", "momentum", before.slots[1]));
  net_free(&n);
}
END_TEST

static tc_status failing_constraint(tc_tensor *w, void *ctx) {
  (void)w;
  (void)ctx;
  return tc_set_error(TC_ERR_INVALID_ARG, "test constraint refuses");
}

/* After one good step (slots exist), b's constraint fails in several ways; a comes first in
 * the step, so a half-applied step would have moved it. */
START_TEST(a_failed_step_changes_nothing) {
  tc_constraint bad[4];
  bad[0] = tc_constraint_make(TC_CONSTRAINT_MAX_NORM);
  bad[0].axes[0] = 5; /* rank 1 */
  bad[0].n_axes = 1;
  bad[1] = tc_constraint_make(TC_CONSTRAINT_NONE);
  bad[1].kind = (tc_constraint_kind)99;
  bad[2] = tc_constraint_make(TC_CONSTRAINT_CALLBACK);
  bad[2].fn = failing_constraint;
  bad[3] = tc_constraint_make(TC_CONSTRAINT_CALLBACK); /* no function */
  const char *want[] = {"axis", "unknown constraint kind 99", "test constraint refuses",
                        "no function"};
  const char *specs[] = {"adam", "adam:amsgrad=1", "sgd:momentum=0.9", "rmsprop:centered=1",
                         "adagrad", "sgd"};
  for (size_t o = 0; o < sizeof specs / sizeof specs[0]; o++)
    for (int k = 0; k < 4; k++) {
      net n;
      net_make(&n, specs[o]);
      ck_assert_int_eq(step(&n, 1, 0), TC_OK);
      snapshot before, after;
      take(&n, &before);
      n.b->constraint = bad[k];
      ck_assert_int_ne(step(&n, 1, 0), TC_OK);
      ck_assert_msg(strstr(tc_last_error(), want[k]) && strstr(tc_last_error(), "b/w"),
                    "%s: %s", specs[o], tc_last_error());
      take(&n, &after);
      ck_assert_msg(same(&before, &after), "%s, constraint %d: the failed step changed state",
                    specs[o], k);
      n.b->constraint = tc_constraint_make(TC_CONSTRAINT_NONE);
      ck_assert_int_eq(step(&n, 1, 0), TC_OK); /* and it goes on from there */
      ck_assert_int_eq(tc_optim_steps(n.opt), 2);
      net_free(&n);
    }
}
END_TEST

/* A first step that fails leaves no slot behind. */
START_TEST(a_failed_first_step_makes_no_slots) {
  net n;
  net_make(&n, "adam");
  n.b->constraint = tc_constraint_make(TC_CONSTRAINT_CALLBACK);
  n.b->constraint.fn = failing_constraint;
  snapshot before, after;
  take(&n, &before);
  ck_assert_int_ne(step(&n, 1, 0), TC_OK);
  take(&n, &after);
  ck_assert(same(&before, &after));
  ck_assert_int_eq(tc_optim_slot_count(n.opt), 0);
  net_free(&n);
}
END_TEST

/* A variable whose tensor was replaced by one of another shape no longer fits its slots:
 * refused with both shapes, nothing written. */
START_TEST(slots_that_no_longer_fit_are_refused) {
  net n;
  net_make(&n, "adam");
  ck_assert_int_eq(step(&n, 1, 0), TC_OK);
  snapshot before, after;
  take(&n, &before);
  tc_tensor *old = n.b->value, *big;
  int64_t s[1] = {N + 2};
  ck_assert_int_eq(tc_tensor_create(&big, 1, s), TC_OK);
  ck_assert_int_eq(tc_tensor_require_grad(big), TC_OK);
  memcpy(big->data, old->data, N * sizeof(float));
  n.b->value = big;
  n.a->value->grad_gen = n.b->value->grad_gen = 0; /* gradients by hand */
  TC_CK_ERROR(tc_optim_step(n.opt, NULL), TC_ERR_SHAPE, "b/w/m");
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "(5)"));
  n.b->value = old;
  tc_tensor_free(big);
  take(&n, &after);
  ck_assert(same(&before, &after));
  net_free(&n);
}
END_TEST

int main(void) {
  Suite *s = suite_create("optim_step");
  TCase *tc = tcase_create("step");
  tcase_add_test(tc, a_variable_the_backward_did_not_reach_sits_out);
  tcase_add_test(tc, momentum_slot_of_an_idle_variable_stays);
  tcase_add_test(tc, a_failed_step_changes_nothing);
  tcase_add_test(tc, a_failed_first_step_makes_no_slots);
  tcase_add_test(tc, slots_that_no_longer_fit_are_refused);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
