/* ops_transpose.c — axis permutations (NHWC <-> NCHW) on the gather kernel. */
#include "core/ops_gather.h"
#include "core/ops_layout.h"
#include "core/ops_util.h"

tc_status tc_op_transpose(tc_graph *g, tc_tensor *x, const int *perm, tc_tensor **out) {
  TC_TRY(tc_op_check_args("transpose", g, out, x, x));
  if (perm == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "transpose: perm is NULL");
  int seen[TC_MAX_RANK] = {0};
  int64_t shape[TC_MAX_RANK];
  for (int d = 0; d < x->rank; d++) {
    if (perm[d] < 0 || perm[d] >= x->rank || seen[perm[d]]++)
      return tc_set_error(TC_ERR_SHAPE,
                          "transpose: perm[%d] = %d: not a permutation of 0..%d", d, perm[d],
                          x->rank - 1);
    shape[d] = x->shape[perm[d]];
  }
  return tc_op_gather_axes(g, "transpose", x, perm, shape, NULL, 0.0f, out);
}

static tc_status tc_transpose4(tc_graph *g, tc_tensor *x, const int *perm, const char *op,
                               tc_tensor **out) {
  TC_TRY(tc_op_check_args(op, g, out, x, x));
  if (x->rank != 4)
    return tc_set_error(TC_ERR_SHAPE, "%s: input must be rank 4, got rank %d", op, x->rank);
  return tc_op_transpose(g, x, perm, out);
}

tc_status tc_op_nhwc_to_nchw(tc_graph *g, tc_tensor *x, tc_tensor **out) {
  static const int perm[4] = {0, 3, 1, 2};
  return tc_transpose4(g, x, perm, "nhwc_to_nchw", out);
}

tc_status tc_op_nchw_to_nhwc(tc_graph *g, tc_tensor *x, tc_tensor **out) {
  static const int perm[4] = {0, 2, 3, 1};
  return tc_transpose4(g, x, perm, "nchw_to_nhwc", out);
}
