/* ops_dropout.h — inverted dropout with Keras semantics, drawn from a Philox stream so a
 * run is reproducible and resumes bit for bit.
 *
 *   tc_rng drop;                          // core/rng.h; save its state, or re-key it per
 *                                         // step as tc_net_dropout_seek does
 *   tc_rng_init(&drop, seed, 7);          // one stream per dropout site, e.g.
 *   tc_op_dropout(g, h, 0.5f, training, &drop, &h);
 *
 * Training: element i is kept when the i-th tc_rng_uniform draw u (24 bits) is >= rate,
 * as Keras' `random_uniform >= rate`, and the kept ones are scaled by 1/(1 - rate)
 * (computed in float, as tf.nn.dropout's x * scale * mask). One draw per element, in
 * storage order, every call: the stream's position after a step is a function of the
 * shapes alone. Inference (training 0) or rate 0: y = x and no draw. The gradient is the
 * same mask times the same scale. */
#ifndef TC_OPS_DROPOUT_H
#define TC_OPS_DROPOUT_H

#include "core/graph.h"
#include "core/rng.h"

/* rate in [0, 1); rng must not be NULL when training with rate > 0. */
tc_status tc_op_dropout(tc_graph *g, tc_tensor *x, float rate, int training, tc_rng *rng,
                        tc_tensor **out);

#endif
