/* flops.c — a plan's multiply-add count, apart from plan.c: the composed plans (compose.c)
 * size their sub-problems by it while plan.c calls compose.c, and a leaf keeps the two
 * out of a circle. */
#include "core/conv2dt.h"

double tc_conv2dt_flops(const tc_conv2dt_plan *plan) {
  if (!plan)
    return 0.0;
  const tc_conv2dt_params *p = &plan->p;
  return 2.0 * (double)plan->n * plan->h * plan->w * plan->c * (p->filters / p->groups) *
         p->kernel_h * p->kernel_w;
}
