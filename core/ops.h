/* ops.h — differentiable ops on a graph. Each computes its output in the graph's arena
 * and records its backward when an input requires a gradient.
 *
 * Every op checks its arguments (NULL, shapes) and fails with a status and a message that
 * names the op and the shapes; outputs are written through the last pointer. */
#ifndef TC_OPS_H
#define TC_OPS_H

#include "core/activation.h"
#include "core/conv2dt.h"
#include "core/graph.h"

/* Elementwise, same shapes. */
tc_status tc_op_add(tc_graph *g, tc_tensor *a, tc_tensor *b, tc_tensor **out);
tc_status tc_op_sub(tc_graph *g, tc_tensor *a, tc_tensor *b, tc_tensor **out);
tc_status tc_op_mul(tc_graph *g, tc_tensor *a, tc_tensor *b, tc_tensor **out);
tc_status tc_op_scale(tc_graph *g, tc_tensor *a, float s, tc_tensor **out);

/* Reductions to a rank-0 tensor (accumulated in double). */
tc_status tc_op_sum(tc_graph *g, tc_tensor *a, tc_tensor **out);
tc_status tc_op_mean(tc_graph *g, tc_tensor *a, tc_tensor **out);

/* Same data, new shape (same element count); the output shares a's data. */
tc_status tc_op_reshape(tc_graph *g, tc_tensor *a, int rank, const int64_t *shape,
                        tc_tensor **out);

/* out = x + bias broadcast along `axis` of x (bias has x->shape[axis] elements); axis may
 * be negative (-1 = last). */
tc_status tc_op_bias_add(tc_graph *g, tc_tensor *x, tc_tensor *bias, int axis, tc_tensor **out);

/* out = act(x); softmax over the last axis. */
tc_status tc_op_activation(tc_graph *g, tc_tensor *x, tc_activation act, tc_tensor **out);
tc_status tc_op_relu(tc_graph *g, tc_tensor *x, tc_tensor **out);
tc_status tc_op_sigmoid(tc_graph *g, tc_tensor *x, tc_tensor **out);
tc_status tc_op_tanh(tc_graph *g, tc_tensor *x, tc_tensor **out);

/* mean((pred - target)^2) over all elements; target gets no gradient. */
tc_status tc_op_mse(tc_graph *g, tc_tensor *pred, tc_tensor *target, tc_tensor **out);

/* y = conv2d_transpose(x, kernel) + bias (bias may be NULL); the plan fixes the shapes and
 * must describe x (checked). The op keeps a pointer to plan: it must outlive backward. */
tc_status tc_op_conv2d_transpose(tc_graph *g, tc_tensor *x, tc_tensor *kernel, tc_tensor *bias,
                                 const tc_conv2dt_plan *plan, tc_tensor **out);

#endif
