/* opcheck.h — small helpers for the op suites: tensors from literal values, a graph,
 * and a backward of L = Σ y·G with a literal G. */
#ifndef TC_OPCHECK_H
#define TC_OPCHECK_H

#include <stdint.h>

#include "core/graph.h"

/* An owned tensor holding vals (shape's product of them), requiring a gradient when grad. */
tc_tensor *tc_oc_tensor(int rank, const int64_t *shape, const float *vals, int grad);
tc_graph *tc_oc_graph(void);
/* Runs backward of Σ y·G (G has y's size; NULL = all ones). */
void tc_oc_backward(tc_graph *g, tc_tensor *y, const float *G);
/* Asserts a[i] == b[i] within tol for n elements, naming what. */
void tc_oc_expect(const char *what, const float *a, const double *b, int64_t n, double tol);

/* A call that must fail with status and a message containing needle, leaving the tape as
 * it was (a failed call changes nothing). Needs <check.h> and <string.h>. */
#define TC_OC_REJECT(g, call, status, needle)                                                 \
  do {                                                                                         \
    int nodes_ = tc_graph_node_count(g);                                                       \
    ck_assert_int_eq((call), (status));                                                        \
    ck_assert_msg(strstr(tc_last_error(), (needle)) != NULL, "message: %s", tc_last_error()); \
    ck_assert_int_eq(tc_graph_node_count(g), nodes_);                                          \
  } while (0)

#endif
