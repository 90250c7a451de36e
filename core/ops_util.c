/* ops_util.c — shared argument checks for the ops. */
#include "core/ops_util.h"

tc_status tc_op_check_args(const char *op, tc_graph *g, tc_tensor **out, const tc_tensor *a,
                           const tc_tensor *b) {
  if (g == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: graph is NULL", op);
  if (out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: output pointer is NULL", op);
  if (a == NULL || b == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: input tensor is NULL", op);
  return TC_OK;
}

tc_status tc_op_axis_split(const char *op, const tc_tensor *x, int axis, int64_t *outer,
                           int64_t *len, int64_t *inner) {
  int ax = axis < 0 ? x->rank + axis : axis;
  if (ax < 0 || ax >= x->rank)
    return tc_set_error(TC_ERR_SHAPE, "%s: axis %d is out of range for rank %d", op, axis,
                        x->rank);
  *outer = 1;
  *inner = 1;
  for (int i = 0; i < ax; i++)
    *outer *= x->shape[i];
  for (int i = ax + 1; i < x->rank; i++)
    *inner *= x->shape[i];
  *len = x->shape[ax];
  return TC_OK;
}

tc_status tc_op_scratch(const char *op, tc_graph *g, int64_t n, float **tmp) {
  *tmp = tc_arena_alloc(tc_graph_arena(g), (size_t)n * sizeof(float));
  return *tmp ? TC_OK : tc_set_error(TC_ERR_NOMEM, "%s: out of memory", op);
}

void tc_op_add_into(float *dst, const float *src, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= TC_OPS_PARALLEL_MIN)
  for (int64_t i = 0; i < n; i++)
    dst[i] += src[i];
}
