/* dispatch.c — which algorithm file runs a direction of a plan: the switch on plan.algo
 * that run.c (the public kernels) and compose_run.c (the inner plans) share. */
#include "core/conv2dt/compose.h"

void tc_ct_run_forward(const tc_conv2dt_plan *q, const float *x, const float *k,
                       const float *bias, float *y, void *ws) {
  switch (q->algo[TC_CONV2DT_FORWARD]) {
  case TC_CONV2DT_IGEMM: tc_ct_igemm_forward(q, x, k, bias, y, ws); break;
  case TC_CONV2DT_FEW_FILTERS: tc_ct_few_forward(q, x, k, bias, y, ws); break;
  default: tc_ct_direct_forward(q, x, k, bias, y); break;
  }
}

void tc_ct_run_backward_data(const tc_conv2dt_plan *q, const float *dy, const float *k,
                             float *dx, void *ws) {
  switch (q->algo[TC_CONV2DT_BACKWARD_DATA]) {
  case TC_CONV2DT_IGEMM: tc_ct_igemm_backward_data(q, dy, k, dx, ws); break;
  case TC_CONV2DT_FEW_FILTERS: tc_ct_few_backward_data(q, dy, k, dx, ws); break;
  default: tc_ct_direct_backward_data(q, dy, k, dx); break;
  }
}

void tc_ct_run_backward_weights(const tc_conv2dt_plan *q, const float *x, const float *dy,
                                float *dk, void *ws) {
  switch (q->algo[TC_CONV2DT_BACKWARD_WEIGHTS]) {
  case TC_CONV2DT_FEW_FILTERS: tc_ct_few_backward_weights(q, x, dy, dk, ws); break;
  case TC_CONV2DT_SLABS: tc_ct_slabs_backward_weights(q, x, dy, dk, ws); break;
  case TC_CONV2DT_TASKS: tc_ct_tasks_backward_weights(q, x, dy, dk, ws); break;
  default: tc_ct_direct_backward_weights(q, x, dy, dk); break;
  }
}
