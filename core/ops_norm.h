/* ops_norm.h — layer, instance and group normalization with Keras' epsilon placement
 * (inside the square root) and exact backward through the statistics.
 *
 *   tc_tensor *h;
 *   int axes[1] = {-1};
 *   tc_op_layer_norm(g, x, gamma, beta, 1, axes, 1e-3f, &h);     // Keras defaults
 *   tc_op_group_norm(g, x, gamma, beta, 8, 1e-3f, 0, &h);        // NHWC, 8 groups
 *
 * Each computes per-group moments in double (mean, variance ÷ count, biased), then
 * y = (x - mean) / sqrt(var + epsilon) · gamma + beta. gamma and beta may each be NULL
 * (Keras scale=False / center=False). Batch normalization lives in core/ops_extra.h; its
 * Keras arguments renorm and virtual_batch_size are not implemented (docs/ops.md). */
#ifndef TC_OPS_NORM_H
#define TC_OPS_NORM_H

#include "core/graph.h"

/* Keras LayerNormalization(axis=axes): moments over the n_axes listed axes of x (negative
 * counts from the end; distinct), per position of the other axes. gamma and beta hold one
 * value per element of the normalized axes (their dims in order, any shape of that size).
 * epsilon > 0 (Keras default 1e-3). */
tc_status tc_op_layer_norm(tc_graph *g, tc_tensor *x, tc_tensor *gamma, tc_tensor *beta,
                           int n_axes, const int *axes, float epsilon, tc_tensor **out);

/* Keras GroupNormalization(groups): the C channels (last axis, or axis 1 when
 * channels_first) split into `groups` contiguous blocks of C/groups; moments per sample
 * and group over every other axis and the block's channels; gamma, beta per channel.
 * x has rank >= 2 with the batch first; groups divides C. */
tc_status tc_op_group_norm(tc_graph *g, tc_tensor *x, tc_tensor *gamma, tc_tensor *beta,
                           int groups, float epsilon, int channels_first, tc_tensor **out);

/* Instance normalization (tfa InstanceNormalization, GroupNormalization(groups=-1)):
 * group_norm with one group per channel, moments per sample and channel over H, W. */
tc_status tc_op_instance_norm(tc_graph *g, tc_tensor *x, tc_tensor *gamma, tc_tensor *beta,
                              float epsilon, int channels_first, tc_tensor **out);

#endif
