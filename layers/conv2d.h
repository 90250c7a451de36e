/* conv2d.h — Keras Conv2D (tf.layers.Conv2D), every argument, TF's defaults.
 *
 *   tc_conv2d_config cfg = tc_conv2d_config_default(64, 4, 4);   // filters, kh, kw
 *   cfg.strides[0] = cfg.strides[1] = 2;
 *   cfg.padding = "same";                                        // case-insensitive
 *   tc_activation_parse("leaky_relu:0.2", &cfg.activation);
 *   tc_conv2d *layer;
 *   if (tc_conv2d_create(&layer, model, &cfg, 3) != TC_OK)      // 3 input channels
 *     fprintf(stderr, "%s\n", tc_last_error());
 *   tc_tensor *y;
 *   tc_conv2d_forward(layer, graph, x, &y);                     // x: (N,H,W,3) NHWC
 *
 * Variables: "<name>/kernel" (kh, kw, in_channels/groups, filters) — Keras' layout — and
 * "<name>/bias" (filters). Output size and padding: docs/layers.md (TF's rules: same →
 * ceil(in/stride), valid → floor((in - dk)/stride) + 1). The activity regularizer adds
 * activity_regularizer(y) / N to the graph's extra losses (tf.keras behaviour). */
#ifndef TC_LAYER_CONV2D_H
#define TC_LAYER_CONV2D_H

#include "core/activation.h"
#include "core/conv2d.h"
#include "core/graph.h"
#include "layers/layer_common.h"
#include "layers/model.h"

typedef struct tc_conv2d_config {
  int filters;
  int kernel_size[2];
  int strides[2];              /* default 1, 1 */
  const char *padding;         /* "valid" (default) or "same", any case */
  const char *data_format;     /* "channels_last" (default) or "channels_first" */
  int dilation_rate[2];        /* default 1, 1; > 1 only with strides 1 (Keras) */
  int groups;                  /* default 1 (Keras 2.x) */
  /* activation, use_bias, kernel_/bias_initializer, kernel_/bias_/activity_regularizer,
   * kernel_/bias_constraint, trainable, name (NULL: "conv2d", "conv2d_1", ...); also as
   * one value, cfg.common (layers/layer_common.h) */
  TC_LAYER_COMMON_MEMBER;
} tc_conv2d_config;

typedef struct tc_conv2d tc_conv2d;

tc_conv2d_config tc_conv2d_config_default(int filters, int kernel_h, int kernel_w);

/* Validates cfg, claims the name, creates and initializes the variables. Every rejection
 * has its own message, prefixed "conv2d '<name>'", with the numbers; initializers,
 * regularizers and constraints are checked against their variables' shapes here. A failed
 * create leaves the model as it was. The layer borrows the model, which must outlive it. */
tc_status tc_conv2d_create(tc_conv2d **out, tc_model *model, const tc_conv2d_config *cfg,
                           int in_channels);
void tc_conv2d_free(tc_conv2d *layer);

/* y = activation(conv2d(x) + bias), recorded on g. x must be rank 4 in the layer's
 * data_format with in_channels channels (and, for valid padding, at least the dilated
 * kernel's size). Not thread-safe: the layer caches its plan. */
tc_status tc_conv2d_forward(tc_conv2d *layer, tc_graph *g, tc_tensor *x, tc_tensor **y);

const char *tc_conv2d_name(const tc_conv2d *layer);
tc_param *tc_conv2d_kernel(const tc_conv2d *layer);
tc_param *tc_conv2d_bias(const tc_conv2d *layer); /* NULL when use_bias is 0 */
const tc_conv2d_config *tc_conv2d_config_of(const tc_conv2d *layer);

/* Freezes (0) or unfreezes (1) the layer's variables; allowed between steps. */
void tc_conv2d_set_trainable(tc_conv2d *layer, int trainable);

#endif
