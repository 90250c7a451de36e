/* dense.h — Keras Dense (tf.layers.Dense), every argument, TF's defaults.
 *
 *   tc_dense_config cfg = tc_dense_config_default(128);        // units
 *   tc_activation_parse("relu", &cfg.activation);
 *   tc_dense *layer;
 *   if (tc_dense_create(&layer, model, &cfg, 100) != TC_OK)    // 100 input features
 *     fprintf(stderr, "%s\n", tc_last_error());
 *   tc_tensor *y;
 *   tc_dense_forward(layer, graph, z, &y);                     // z: (N, 100) → y: (N, 128)
 *
 * Variables: "<name>/kernel" (in_features, units) and "<name>/bias" (units). As Keras,
 * an input of rank > 2 is multiplied along its last axis: (..., in) → (..., units). The
 * activity regularizer adds activity_regularizer(y) / N to the graph's extra losses. */
#ifndef TC_LAYER_DENSE_H
#define TC_LAYER_DENSE_H

#include "core/activation.h"
#include "core/graph.h"
#include "layers/layer_common.h"
#include "layers/model.h"

typedef struct tc_dense_config {
  int units;
  /* activation, use_bias, kernel_/bias_initializer (glorot_uniform: fan_in = in, fan_out =
   * units), kernel_/bias_/activity_regularizer, kernel_/bias_constraint, trainable, name
   * (NULL: "dense", "dense_1", ...); also as one value, cfg.common */
  TC_LAYER_COMMON_MEMBER;
} tc_dense_config;

typedef struct tc_dense tc_dense;

tc_dense_config tc_dense_config_default(int units);

/* Validates cfg, claims the name, creates and initializes the variables; every rejection
 * has its own message, prefixed "dense '<name>'"; a failed create leaves the model as it
 * was. The model must outlive the layer. */
tc_status tc_dense_create(tc_dense **out, tc_model *model, const tc_dense_config *cfg,
                          int in_features);
void tc_dense_free(tc_dense *layer);

/* y = activation(x · kernel + bias), recorded on g. x has rank >= 2 and in_features on
 * its last axis. */
tc_status tc_dense_forward(tc_dense *layer, tc_graph *g, tc_tensor *x, tc_tensor **y);

const char *tc_dense_name(const tc_dense *layer);
tc_param *tc_dense_kernel(const tc_dense *layer);
tc_param *tc_dense_bias(const tc_dense *layer); /* NULL when use_bias is 0 */
const tc_dense_config *tc_dense_config_of(const tc_dense *layer);
void tc_dense_set_trainable(tc_dense *layer, int trainable);

#endif
