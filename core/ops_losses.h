/* ops_losses.h — the losses of image-to-image and GAN training beyond MSE (core/ops.h) and
 * the plain logistic loss (core/ops_extra.h): L1, Huber, hinge, binary cross-entropy on
 * probabilities, and sigmoid / softmax cross-entropy on logits with label smoothing.
 *
 *   tc_tensor *l1;
 *   tc_op_mae(g, generated, target, TC_REDUCE_MEAN, &l1);       // pix2pix's L1 term
 *
 * Each returns a rank-0 tensor; labels get no gradient and must have the predictions'
 * shape. Sums run in double. Names follow TF1's tf.losses / Keras' losses. */
#ifndef TC_OPS_LOSSES_H
#define TC_OPS_LOSSES_H

#include "core/graph.h"

typedef enum tc_loss_reduction {
  TC_REDUCE_MEAN = 0, /* the sum divided by the element count (softmax: the row count) */
  TC_REDUCE_SUM
} tc_loss_reduction;

/* mean |p - l| (tf.losses.absolute_difference, Keras mean_absolute_error). d/dp at
 * p = l is 0 (TF's sign(0)). */
tc_status tc_op_mae(tc_graph *g, tc_tensor *pred, tc_tensor *labels, tc_loss_reduction red,
                    tc_tensor **out);

/* tf.losses.huber_loss: e = p - l; ½e² where |e| <= delta, delta·(|e| - ½delta) beyond.
 * delta > 0. */
tc_status tc_op_huber(tc_graph *g, tc_tensor *pred, tc_tensor *labels, float delta,
                      tc_loss_reduction red, tc_tensor **out);

/* mean max(0, 1 - y·p) with y = labels (in {-1, 1}), or y = 2·labels - 1 when
 * labels_zero_one (tf.losses.hinge_loss, labels in {0, 1}). d/dp at the hinge is 0. */
tc_status tc_op_hinge(tc_graph *g, tc_tensor *pred, tc_tensor *labels, int labels_zero_one,
                      tc_loss_reduction red, tc_tensor **out);

/* Keras binary_crossentropy on probabilities: p clipped to [1e-7, 1 - 1e-7], then
 * -(l·log(p + 1e-7) + (1 - l)·log(1 - p + 1e-7)); no gradient where the clip bites. */
tc_status tc_op_bce(tc_graph *g, tc_tensor *probs, tc_tensor *labels, tc_loss_reduction red,
                    tc_tensor **out);

/* tf.losses.sigmoid_cross_entropy: l' = l·(1 - ls) + ½ls, then the stable
 * max(x, 0) - x·l' + log(1 + exp(-|x|)); d/dx = sigmoid(x) - l'. ls in [0, 1]. */
tc_status tc_op_sigmoid_cross_entropy(tc_graph *g, tc_tensor *logits, tc_tensor *labels,
                                      float label_smoothing, tc_loss_reduction red,
                                      tc_tensor **out);

/* tf.losses.softmax_cross_entropy over the last axis (K classes): l' = l·(1 - ls) + ls/K,
 * per row Σ l'·(logsumexp(x) - x), mean over the rows. The gradient is TF's,
 * softmax(x) - l' per row (the derivative when each row of l' sums to 1, as one-hot and
 * probability labels do). */
tc_status tc_op_softmax_cross_entropy(tc_graph *g, tc_tensor *logits, tc_tensor *labels,
                                      float label_smoothing, tc_loss_reduction red,
                                      tc_tensor **out);

#endif
