/* checkpoint_schedule.h (@internal) — an optimizer's learning-rate schedule in a checkpoint:
 * meta/optimizer/<name>/lr_schedule, int64[len], the bytes of the schedule string
 * (npz holds no strings here; one byte per element keeps the reader a plain int64 one).
 * Only a schedule other than constant-without-warmup is written, so that a run without a
 * schedule writes the same files as before. */
#ifndef TC_CHECKPOINT_SCHEDULE_H
#define TC_CHECKPOINT_SCHEDULE_H

#include <stdint.h>

#include "optim/optimizer.h"

#define TC_CKPT_SCHEDULE_CAP (TC_LR_TEXT_MAX + 1)

/* The bytes to write into out (TC_CKPT_SCHEDULE_CAP elements); 0 when nothing is written. */
int64_t tc_ckpt_schedule_encode(const tc_optim *opt, int64_t *out);

/* Parses the n saved bytes at key (of the file at path) into *out; a byte outside
 * 1..126 or a string that does not parse is TC_ERR_FORMAT naming path and key. */
tc_status tc_ckpt_schedule_decode(const char *path, const char *key, const int64_t *bytes,
                                  int64_t n, tc_lr_schedule *out);

#endif
