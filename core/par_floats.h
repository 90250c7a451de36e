/* par_floats.h (@internal) — copy, add and zero large float arrays with the OpenMP team.
 *
 * A training step moves whole gradient sets between buffers (zeroing them before the
 * backward walk, summing shards, copying sums back): megabytes that one thread moves at a
 * fraction of what the team can. Element by element, so any split gives the same bits;
 * below TC_PAR_FLOATS_MIN elements, and inside an active parallel region, one thread does
 * it all.
 *
 *   tc_floats_add(sum, shard, n);     // sum[i] += shard[i]
 */
#ifndef TC_PAR_FLOATS_H
#define TC_PAR_FLOATS_H

#include <stdint.h>

/* Below this many floats (1 MiB) a thread team costs more than it saves. */
#define TC_PAR_FLOATS_MIN (256 * 1024)

void tc_floats_copy(float *restrict dst, const float *restrict src, int64_t n);
void tc_floats_add(float *restrict a, const float *restrict b, int64_t n);
void tc_floats_zero(float *dst, int64_t n);
/* Zeroes count runs of floats (distinct, not overlapping) as one array laid end to end:
 * many small buffers share one team (a backward pass's gradient buffers). */
typedef struct tc_float_run {
  float *p;
  int64_t n;
} tc_float_run;
void tc_floats_zero_runs(const tc_float_run *runs, int count);
/* dst[i] = src[i] * scale */
void tc_floats_scaled(float *restrict dst, const float *restrict src, float scale, int64_t n);

#endif
