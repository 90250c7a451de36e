/* train_schedule.h — the --lr-schedule of `tconv train` on the run's optimizers. */
#ifndef TC_TRAIN_SCHEDULE_H
#define TC_TRAIN_SCHEDULE_H

#include "tools/train_opts.h"

/* Sets o->sched on the n optimizers when --lr-schedule was given (also after a resume: the
 * option replaces the checkpoint's schedule, as --lr replaces its rate). TC_ERR_INVALID_ARG
 * when the warmup is longer than the run (epochs * steps_per_epoch, or --max-steps). */
tc_status tc_train_set_schedule(const tc_train_opts *o, int64_t steps_per_epoch,
                                tc_optim *const *optims, int n);

#endif
