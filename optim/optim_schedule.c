/* optim_schedule.c — the optimizer's learning-rate schedule (optimizer.h, schedule.h). */
#include "optim/optim_internal.h"

tc_status tc_optim_set_schedule(tc_optim *o, const tc_lr_schedule *sched) {
  if (o == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_optim_set_schedule: optimizer is NULL");
  o->sched = sched ? *sched : tc_lr_schedule_constant();
  return TC_OK;
}

const tc_lr_schedule *tc_optim_schedule(const tc_optim *o) { return o ? &o->sched : NULL; }

/* Multiplied in double and rounded once, so the lr of step t depends on t alone. */
float tc_optim_step_lr(const tc_optim *o) {
  if (o == NULL)
    return 0.0f;
  if (o->sched.kind == TC_LR_CONSTANT && o->sched.warmup == 0)
    return o->cfg.lr; /* bit for bit the lr of a run without a schedule */
  return (float)((double)o->cfg.lr * tc_lr_schedule_factor(&o->sched, o->t));
}
