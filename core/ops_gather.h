/* ops_gather.h — the one kernel behind slice, crop, pad (every mode) and nearest resize
 * (internal to core/).
 *
 * Each output coordinate o_d along axis d reads input coordinate map_d[o_d], or the
 * constant when map_d[o_d] is -1 on any axis. A NULL map is the identity (the output dim
 * equals the input dim). The backward adds every output gradient to the input element it
 * was read from, in output order on one thread, so duplicated sources (mirror pads,
 * nearest upsampling) sum the same way for any thread count: the exact transpose of the
 * forward, as TF's gradient kernels compute it. */
#ifndef TC_OPS_GATHER_H
#define TC_OPS_GATHER_H

#include "core/graph.h"

/* Output axis d walks input axis perm[d] (perm NULL = the identity; a permutation makes
 * this a transpose). maps[d] has out_shape[d] entries (copied into the graph's arena);
 * maps NULL means identity on every axis. `op` names the op on the tape and in messages.
 * The output has x's rank. */
tc_status tc_op_gather_axes(tc_graph *g, const char *op, tc_tensor *x, const int *perm,
                            const int64_t *out_shape, const int64_t *const *maps,
                            float constant, tc_tensor **out);

#endif
