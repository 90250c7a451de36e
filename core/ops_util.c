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
