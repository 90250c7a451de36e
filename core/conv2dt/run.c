/* run.c — the three public kernels: check the pointers, then run the algorithm the plan
 * chose for the direction (plan.c); nothing is chosen here. */
#include "core/conv2dt.h"

#include "core/conv2dt/internal.h"

/* A kernel given no workspace where the plan needs one: an error that says how much. */
static tc_status missing_workspace(const char *kernel, const tc_conv2dt_plan *plan) {
  return tc_set_error(TC_ERR_INVALID_ARG,
                      "conv2d_transpose %s: workspace is NULL but the plan needs %zu bytes "
                      "(plan.workspace_bytes)", kernel, plan->workspace_bytes);
}

tc_status tc_conv2dt_forward(const tc_conv2dt_plan *plan, const float *x, const float *kernel,
                             const float *bias, float *y, void *workspace) {
  if (!plan || !x || !kernel || !y)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose forward: NULL plan, x, kernel "
                                            "or y");
  if (plan->workspace_bytes && !workspace)
    return missing_workspace("forward", plan);
  switch (plan->algo[TC_CONV2DT_FORWARD]) {
  case TC_CONV2DT_IGEMM: tc_ct_igemm_forward(plan, x, kernel, bias, y, workspace); break;
  case TC_CONV2DT_FEW_FILTERS: tc_ct_few_forward(plan, x, kernel, bias, y, workspace); break;
  default: tc_ct_direct_forward(plan, x, kernel, bias, y); break;
  }
  return TC_OK;
}

tc_status tc_conv2dt_backward_data(const tc_conv2dt_plan *plan, const float *dy,
                                   const float *kernel, float *dx, void *workspace) {
  if (!plan || !dy || !kernel || !dx)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose backward_data: NULL plan, dy, "
                                            "kernel or dx");
  if (plan->workspace_bytes && !workspace)
    return missing_workspace("backward_data", plan);
  switch (plan->algo[TC_CONV2DT_BACKWARD_DATA]) {
  case TC_CONV2DT_IGEMM: tc_ct_igemm_backward_data(plan, dy, kernel, dx, workspace); break;
  case TC_CONV2DT_FEW_FILTERS: tc_ct_few_backward_data(plan, dy, kernel, dx, workspace); break;
  default: tc_ct_direct_backward_data(plan, dy, kernel, dx); break;
  }
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
  switch (plan->algo[TC_CONV2DT_BACKWARD_WEIGHTS]) {
  case TC_CONV2DT_FEW_FILTERS:
    tc_ct_few_backward_weights(plan, x, dy, dkernel, workspace);
    break;
  case TC_CONV2DT_SLABS: tc_ct_slabs_backward_weights(plan, x, dy, dkernel, workspace); break;
  case TC_CONV2DT_TASKS: tc_ct_tasks_backward_weights(plan, x, dy, dkernel, workspace); break;
  default: tc_ct_direct_backward_weights(plan, x, dy, dkernel); break;
  }
  if (dbias)
    tc_ct_bias_grad(plan, dy, dbias);
  return TC_OK;
}
