/* checkpoint_ema.h — the EMA shadows (optim/ema.h) in a checkpoint: "ema/<variable>",
 * float32, the variable's shape, written by tc_ckpt_save when meta->ema is set. */
#ifndef TC_CHECKPOINT_EMA_H
#define TC_CHECKPOINT_EMA_H

#include "optim/ema.h"

/* Reads every shadow of ema from the checkpoint at path (all or nothing: on an error no
 * shadow changed). A file without them is TC_ERR_NOT_FOUND naming the first key;
 * a wrong shape TC_ERR_SHAPE; a NaN or inf TC_ERR_FORMAT. */
tc_status tc_ckpt_load_ema(const char *path, tc_ema *ema);

/* For sampling: copies every "ema/<name>" the file has into the weight <name> of model (a
 * GAN's run shadows only its generator) and sets *used to 1 when the file has any "ema/"
 * array; a file without them changes nothing and sets *used to 0. Errors as
 * tc_ckpt_load_ema (all checked before any weight changes). */
tc_status tc_ckpt_use_ema(const char *path, tc_model *model, int *used);

#endif
