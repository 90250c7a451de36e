/* fdcheck.c — central differences against tc_graph_backward. */
#include "support/fdcheck.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "core/ops.h"
#include "support/testutil.h"

#define FD_STEP 1e-2
#define FD_ATOL 2e-3
#define FD_RTOL 1e-2

static double weighted_sum(const tc_tensor *y, const float *w) {
  double acc = 0.0;
  for (int64_t i = 0; i < y->size; i++)
    acc += (double)y->data[i] * w[i];
  return acc;
}

static double eval(tc_fd_forward f, void *ctx, tc_graph *g, const float *w) {
  tc_graph_reset(g);
  tc_tensor *y;
  ck_assert_msg(f(ctx, g, &y) == TC_OK, "forward failed: %s", tc_last_error());
  return weighted_sum(y, w);
}

/* Runs the analytic pass; returns the weights w (malloc'd) that define L. */
static float *analytic(tc_fd_forward f, void *ctx, tc_graph *g, tc_test_rng *r) {
  tc_tensor *y, *wt, *prod, *loss;
  ck_assert_msg(f(ctx, g, &y) == TC_OK, "forward failed: %s", tc_last_error());
  ck_assert_int_eq(tc_tensor_arena(&wt, tc_graph_arena(g), y->rank, y->shape), TC_OK);
  tc_test_fill(r, wt->data, wt->size, -1.0f, 1.0f);
  wt->requires_grad = 0;
  wt->node = -1;
  wt->grad = NULL;
  ck_assert_int_eq(tc_op_mul(g, y, wt, &prod), TC_OK);
  ck_assert_int_eq(tc_op_sum(g, prod, &loss), TC_OK);
  ck_assert_msg(tc_graph_backward(g, loss) == TC_OK, "backward: %s", tc_last_error());
  float *w = malloc((size_t)wt->size * sizeof(float));
  ck_assert_ptr_nonnull(w);
  for (int64_t i = 0; i < wt->size; i++)
    w[i] = wt->data[i];
  return w;
}

double tc_fd_check(tc_fd_forward f, void *ctx, tc_tensor *const *inputs,
                   const char *const *names, int n, int max_coords, uint64_t seed) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  tc_test_rng r;
  tc_test_rng_init(&r, seed);
  float *w = analytic(f, ctx, g, &r);
  double worst = 0.0;
  for (int t = 0; t < n; t++) {
    tc_tensor *x = inputs[t];
    int64_t count = x->size < max_coords ? x->size : max_coords;
    for (int64_t j = 0; j < count; j++) {
      int64_t i = x->size <= max_coords ? j : (int64_t)(tc_test_rng_next(&r) % (uint64_t)x->size);
      float saved = x->data[i], h = (float)FD_STEP;
      x->data[i] = saved + h;
      double lp = eval(f, ctx, g, w);
      x->data[i] = saved - h;
      double lm = eval(f, ctx, g, w);
      x->data[i] = saved;
      double num = (lp - lm) / (2.0 * (double)h), ana = x->grad[i];
      double ex = fabs(ana - num) / (FD_ATOL + FD_RTOL * fmax(fabs(ana), fabs(num)));
      ck_assert_msg(ex <= 1.0, "d%s[%lld]: analytic %.7g, numeric %.7g", names[t],
                    (long long)i, ana, num);
      worst = ex > worst ? ex : worst;
    }
  }
  free(w);
  tc_graph_free(g);
  return worst;
}
