/* run.c — the three public kernels: check the pointers, then run the algorithm the plan
 * chose for the direction (plan.c); nothing is chosen here. */
#include "core/conv2dt.h"

#include "core/conv2dt/compose.h"

/* A kernel given no workspace where the plan needs one: an error that says how much. */
static tc_status missing_workspace(const char *kernel, const tc_conv2dt_plan *plan) {
  return tc_set_error(TC_ERR_INVALID_ARG,
                      "conv2d_transpose %s: workspace is NULL but the plan needs %zu bytes "
                      "(plan.workspace_bytes)", kernel, plan->workspace_bytes);
}

/* NCHW, groups or dilation on a fast algorithm: the sub-problems of compose.c. */
static int composed(const tc_conv2dt_plan *plan, tc_conv2dt_dir dir) {
  return plan->algo[dir] != TC_CONV2DT_DIRECT && tc_ct_composed(plan);
}

tc_status tc_conv2dt_forward(const tc_conv2dt_plan *plan, const float *x, const float *kernel,
                             const float *bias, float *y, void *workspace) {
  if (!plan || !x || !kernel || !y)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose forward: NULL plan, x, kernel "
                                            "or y");
  if (plan->workspace_bytes && !workspace)
    return missing_workspace("forward", plan);
  if (composed(plan, TC_CONV2DT_FORWARD))
    tc_ct_composed_forward(plan, x, kernel, bias, y, workspace);
  else
    tc_ct_run_forward(plan, x, kernel, bias, y, workspace);
  return TC_OK;
}

tc_status tc_conv2dt_backward_data(const tc_conv2dt_plan *plan, const float *dy,
                                   const float *kernel, float *dx, void *workspace) {
  if (!plan || !dy || !kernel || !dx)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose backward_data: NULL plan, dy, "
                                            "kernel or dx");
  if (plan->workspace_bytes && !workspace)
    return missing_workspace("backward_data", plan);
  if (composed(plan, TC_CONV2DT_BACKWARD_DATA))
    tc_ct_composed_backward_data(plan, dy, kernel, dx, workspace);
  else
    tc_ct_run_backward_data(plan, dy, kernel, dx, workspace);
  return TC_OK;
}

tc_status tc_conv2dt_backward_weights(const tc_conv2dt_plan *plan, const float *x,
                                      const float *dy, float *dkernel, float *dbias,
                                      void *workspace) {
  if (!plan || !x || !dy || !dkernel)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose backward_weights: NULL plan, x, "
                                            "dy or dkernel");
  if (plan->workspace_bytes && !workspace)
    return missing_workspace("backward_weights", plan);
  if (composed(plan, TC_CONV2DT_BACKWARD_WEIGHTS)) {
    tc_ct_composed_backward_weights(plan, x, dy, dkernel, dbias, workspace);
    return TC_OK;
  }
  tc_ct_run_backward_weights(plan, x, dy, dkernel, workspace);
  if (dbias)
    tc_ct_bias_grad(plan, dy, dbias);
  return TC_OK;
}
