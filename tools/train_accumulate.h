/* train_accumulate.h — `tconv train --accumulate K`: gradient accumulation over K
 * micro-batches, expressed on the shard tree (docs/training.md). */
#ifndef TC_TRAIN_ACCUMULATE_H
#define TC_TRAIN_ACCUMULATE_H

#include "tools/train_opts.h"

/* With K > 1, after the shard count S of the micro-batch B is known: one step becomes K*B
 * images in K*S shards (o->batch and o->shards are multiplied), which the shard tree sums in
 * its fixed order, micro-batch after micro-batch. K must be a power of two (the tree's
 * leaves are); TC_ERR_INVALID_ARG otherwise or when K*B or K*S overflow their limits. */
tc_status tc_train_accumulate(tc_train_opts *o);

#endif
