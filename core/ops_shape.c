/* ops_shape.c — flatten: a reshape that keeps the batch axis. */
#include "core/ops.h"
#include "core/ops_extra.h"
#include "core/ops_util.h"

tc_status tc_op_flatten(tc_graph *g, tc_tensor *x, tc_tensor **out) {
  TC_TRY(tc_op_check_args("flatten", g, out, x, x));
  if (x->rank < 1)
    return tc_set_error(TC_ERR_SHAPE, "flatten: input must have a batch axis, got rank 0");
  int64_t shape[2] = {x->shape[0], x->size / x->shape[0]};
  return tc_op_reshape(g, x, 2, shape, out);
}
