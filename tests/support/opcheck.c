/* opcheck.c — see opcheck.h. */
#include "support/opcheck.h"

#include <check.h>
#include <math.h>
#include <string.h>

#include "core/ops.h"

tc_tensor *tc_oc_tensor(int rank, const int64_t *shape, const float *vals, int grad) {
  tc_tensor *t;
  ck_assert_int_eq(tc_tensor_create(&t, rank, shape), TC_OK);
  memcpy(t->data, vals, (size_t)t->size * sizeof(float));
  if (grad)
    ck_assert_int_eq(tc_tensor_require_grad(t), TC_OK);
  return t;
}

tc_graph *tc_oc_graph(void) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  return g;
}

void tc_oc_backward(tc_graph *g, tc_tensor *y, const float *G) {
  tc_tensor *w, *prod, *loss;
  ck_assert_int_eq(tc_tensor_arena(&w, tc_graph_arena(g), y->rank, y->shape), TC_OK);
  for (int64_t i = 0; i < y->size; i++)
    w->data[i] = G ? G[i] : 1.0f;
  w->requires_grad = 0;
  w->node = -1;
  w->grad = NULL;
  ck_assert_int_eq(tc_op_mul(g, y, w, &prod), TC_OK);
  ck_assert_int_eq(tc_op_sum(g, prod, &loss), TC_OK);
  ck_assert_msg(tc_graph_backward(g, loss) == TC_OK, "backward: %s", tc_last_error());
}

void tc_oc_expect(const char *what, const float *a, const double *b, int64_t n, double tol) {
  for (int64_t i = 0; i < n; i++)
    ck_assert_msg(fabs((double)a[i] - b[i]) <= tol, "%s[%lld]: got %.9g, expected %.9g", what,
                  (long long)i, (double)a[i], b[i]);
}
