/* ops.h — differentiable ops on a graph, all of them (core/ops_extra.h, which held the
 * second half, now only includes this file). Each computes its output in the graph's
 * arena and records its backward when an input requires a gradient.
 *
 *   tc_tensor *h, *z, *loss;
 *   tc_op_conv2d(g, x, kernel, bias, &plan, &h);             // plan: core/conv2d.h
 *   tc_op_flatten(g, h, &h);                                 // (N, rest)
 *   tc_op_matmul(g, h, w, &z);                               // (N, K) · (K, 1)
 *   tc_op_bce_with_logits(g, z, labels, &loss);
 *
 * Every op checks its arguments (NULL, shapes) and fails with a status and a message that
 * names the op and the shapes; outputs are written through the last pointer. */
#ifndef TC_OPS_H
#define TC_OPS_H

#include "core/activation.h"
#include "core/conv2d.h"
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
/* The same, computed over x's own data when the kind allows it (relu, relu6, leaky_relu,
 * sigmoid, tanh: their derivative needs y alone), which spares a buffer and a pass over
 * fresh memory; other kinds go to tc_op_activation. x's values are gone afterwards: for
 * an x that nothing else reads (a layer's pre-activation, an op's output whose backward
 * does not read it). */
tc_status tc_op_activation_in_place(tc_graph *g, tc_tensor *x, tc_activation act,
                                    tc_tensor **out);
tc_status tc_op_relu(tc_graph *g, tc_tensor *x, tc_tensor **out);
tc_status tc_op_sigmoid(tc_graph *g, tc_tensor *x, tc_tensor **out);
tc_status tc_op_tanh(tc_graph *g, tc_tensor *x, tc_tensor **out);

/* mean((pred - target)^2) over all elements; target gets no gradient. */
tc_status tc_op_mse(tc_graph *g, tc_tensor *pred, tc_tensor *target, tc_tensor **out);

/* y = conv2d_transpose(x, kernel) + bias (bias may be NULL); the plan fixes the shapes and
 * must describe x (checked). The op keeps a pointer to plan: it must outlive backward. */
tc_status tc_op_conv2d_transpose(tc_graph *g, tc_tensor *x, tc_tensor *kernel, tc_tensor *bias,
                                 const tc_conv2dt_plan *plan, tc_tensor **out);

/* ---- convolution, matmul, batch normalization, logistic loss, flatten: what decoders,
 * autoencoders and DCGANs need beyond the ops above ---- */

/* y = conv2d(x, kernel) + bias (bias may be NULL). The plan fixes the shapes and must
 * describe x (checked); the op keeps a pointer to it, so it must outlive backward. */
tc_status tc_op_conv2d(tc_graph *g, tc_tensor *x, tc_tensor *kernel, tc_tensor *bias,
                       const tc_conv2d_plan *plan, tc_tensor **out);

/* out = a · b for a (M, K) and b (K, N), both rank 2. OpenMP over the rows of the output
 * (and of each gradient), no atomics: the same bits for any thread count. */
tc_status tc_op_matmul(tc_graph *g, tc_tensor *a, tc_tensor *b, tc_tensor **out);

/* Batch normalization over every axis but `axis` (negative counts from the end).
 *   training:  mean, var = batch statistics (var biased, 1/m), m = size / channels;
 *              y = gamma * (x - mean) / sqrt(var + epsilon) + beta, differentiated through
 *              the statistics; when update_moving, then
 *              moving_mean     -= (moving_mean - mean) * (1 - momentum)
 *              moving_variance -= (moving_variance - var * c) * (1 - momentum)
 *              with c = m/(m-1) when unbiased_moving_variance and m > 1, else 1
 *              (TF's assign_moving_average form; TF's fused kernel is what applies c).
 *   inference: mean, var = moving_mean, moving_variance (constants).
 * gamma and beta may be NULL (scale = 1, center = 0); moving_mean and moving_variance
 * are required (inference reads them, training updates them). They all hold one value
 * per channel. The moving statistics get no gradient. */
typedef struct tc_batch_norm_args {
  int axis;                     /* the channel axis; -1 = last */
  float epsilon;                /* Keras default 1e-3 */
  float momentum;               /* Keras default 0.99 */
  int training;                 /* 1: batch statistics; 0: moving statistics */
  int update_moving;            /* training only: 1 updates the moving statistics */
  int unbiased_moving_variance; /* 1: Bessel's m/(m-1) in the moving variance update */
} tc_batch_norm_args;

/* Keras' defaults: axis -1, epsilon 1e-3, momentum 0.99, training, update, biased. */
tc_batch_norm_args tc_batch_norm_args_default(void);

tc_status tc_op_batch_norm(tc_graph *g, tc_tensor *x, tc_tensor *gamma, tc_tensor *beta,
                           tc_tensor *moving_mean, tc_tensor *moving_variance,
                           const tc_batch_norm_args *args, tc_tensor **out);

/* mean over all elements of TF's sigmoid_cross_entropy_with_logits in its stable form,
 *   max(x, 0) - x*z + log(1 + exp(-|x|)),
 * logits x and targets z of the same shape; d/dx = (sigmoid(x) - z) / n. targets get no
 * gradient. */
tc_status tc_op_bce_with_logits(tc_graph *g, tc_tensor *logits, tc_tensor *targets,
                                tc_tensor **out);

/* (N, d1, d2, ...) → (N, d1*d2*...) sharing x's data, as Keras Flatten for channels_last
 * (no transpose for channels_first: the elements keep their stored order). Rank >= 1;
 * a rank-1 x becomes (N, 1). */
tc_status tc_op_flatten(tc_graph *g, tc_tensor *x, tc_tensor **out);

#endif
