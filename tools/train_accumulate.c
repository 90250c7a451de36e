/* train_accumulate.c — accumulation as more shards: the shard tree already sums S shard
 * gradients, each the mean over its B/S images scaled by 1/S, in one fixed order; K
 * micro-batches of B are the K*S shards of one batch of K*B, computed one after another. So
 * `--batch B --accumulate K --shards S` is, bit for bit, `--batch K*B --shards K*S`. */
#include "tools/train_accumulate.h"

tc_status tc_train_accumulate(tc_train_opts *o) {
  long k = o->accumulate;
  if (k <= 1)
    return TC_OK;
  if ((k & (k - 1)) != 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "--accumulate %ld is not a power of two (the "
                        "micro-batches are leaves of the shard tree)", k);
  if (o->shards * k > 1024 || o->batch * k > 65536)
    return tc_set_error(TC_ERR_INVALID_ARG, "--accumulate %ld makes %ld shards of %ld images "
                        "(at most 1024 shards and 65536 images a step)", k, o->shards * k,
                        o->batch * k);
  o->batch *= k;
  o->shards *= k;
  return TC_OK;
}
