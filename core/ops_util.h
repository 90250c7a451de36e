/* ops_util.h — argument checks and layout helpers shared by the op files (internal). */
#ifndef TC_OPS_UTIL_H
#define TC_OPS_UTIL_H

#include <stdint.h>

#include "core/graph.h"

/* Elementwise loops of at least this many elements run on the OpenMP team; below it a
 * team costs more than it saves. Elementwise work gives the same bits for any split. */
#define TC_OPS_PARALLEL_MIN 32768

/* NULL checks common to every op: graph, output pointer and two inputs (pass the same
 * tensor twice for a unary op). */
tc_status tc_op_check_args(const char *op, tc_graph *g, tc_tensor **out, const tc_tensor *a,
                           const tc_tensor *b);

/* Splits x around `axis` (negative counts from the end): outer * len * inner == size. */
tc_status tc_op_axis_split(const char *op, const tc_tensor *x, int axis, int64_t *outer,
                           int64_t *len, int64_t *inner);

/* Float scratch of n elements in the graph's arena (kernels overwrite their outputs while the
 * tape accumulates, so a gradient lands here first). The message names `op`. */
tc_status tc_op_scratch(const char *op, tc_graph *g, int64_t n, float **tmp);

/* dst += src over n elements (on the OpenMP team above TC_OPS_PARALLEL_MIN). */
void tc_op_add_into(float *dst, const float *src, int64_t n);

#endif
