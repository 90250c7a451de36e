/* gradcheck_ops.h — the gradient check of every graph op beyond conv2d_transpose (concat,
 * split, slice, pad, crop, transpose, resize, upsample, dropout, losses, norms), each on
 * small random inputs through the public tc_gradcheck (core/gradcheck.h). */
#ifndef TC_GRADCHECK_OPS_H
#define TC_GRADCHECK_OPS_H

#include <stdint.h>

#include "core/gradcheck.h"

/* Number of op checks, and the name of check i ("pad_reflect_nchw", ...). */
int tc_gradcheck_ops_count(void);
const char *tc_gradcheck_ops_name(int i);

/* Runs check i with data drawn from seed; report as tc_gradcheck's. */
tc_status tc_gradcheck_ops_run(int i, uint64_t seed, tc_gradcheck_report *report);

#endif
