/* train_ema.h — `tconv train --ema DECAY`: the shadow weights of a run (optim/ema.h). */
#ifndef TC_TRAIN_EMA_H
#define TC_TRAIN_EMA_H

#include "optim/ema.h"
#include "tools/train_opts.h"

/* With --ema: shadows of the weights under prefix (NULL: all), made after the model is
 * initialized or resumed; on --resume they are read from the checkpoint (rank 0) and sent
 * to every rank. Without --ema *out is NULL. */
tc_status tc_train_ema_start(const tc_train_opts *o, tc_model *model, const char *prefix,
                             const char *ckpt, tc_ema **out);

#endif
