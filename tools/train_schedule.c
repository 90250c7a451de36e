/* train_schedule.c — `tconv train --lr-schedule SPEC`: the schedule on every optimizer of
 * the run, checked against the run's length (a warmup longer than the run never reaches
 * the full learning rate, which is a mistake worth stopping for). */
#include "tools/train_schedule.h"

tc_status tc_train_set_schedule(const tc_train_opts *o, int64_t steps_per_epoch,
                                tc_optim *const *optims, int n) {
  if (o->lr_schedule == NULL)
    return TC_OK;
  int64_t total = (int64_t)o->epochs * steps_per_epoch;
  if (o->max_steps > 0 && o->max_steps < total) /* 0 trains nothing: check the epochs */
    total = o->max_steps;
  if (o->sched.warmup > total)
    return tc_set_error(TC_ERR_INVALID_ARG, "--lr-schedule \"%s\": warmup %lld is longer than "
                        "the run's %lld steps", o->lr_schedule, (long long)o->sched.warmup,
                        (long long)total);
  for (int i = 0; i < n; i++)
    TC_TRY(tc_optim_set_schedule(optims[i], &o->sched));
  return TC_OK;
}
