/* conv2d_transpose.h — tf.layers.Conv2DTranspose, every argument, TF's defaults.
 *
 *   tc_conv2d_transpose_config cfg = tc_conv2d_transpose_config_default(16, 4, 4);   // filters, kh, kw
 *   cfg.strides[0] = cfg.strides[1] = 2;
 *   cfg.padding = "same";                     // case-insensitive
 *   tc_activation_parse("relu", &cfg.activation);
 *   tc_conv2d_transpose *layer;
 *   if (tc_conv2d_transpose_create(&layer, model, &cfg, 8) != TC_OK)   // 8 input channels
 *     fprintf(stderr, "%s\n", tc_last_error());
 *   tc_tensor *y;
 *   tc_conv2d_transpose_forward(layer, graph, x, &y);   // x: (N,H,W,8) NHWC
 *   ... loss, tc_graph_backward(graph, loss): tc_conv2d_transpose_kernel(layer)->value->grad ...
 *
 * The layer's variables live in the model as "<name>/kernel" (kh, kw, filters/groups, C)
 * and "<name>/bias" (filters). Its activity regularizer adds
 * activity_regularizer(y) / N to the graph's extra losses (tf.keras behaviour). */
#ifndef TC_LAYER_CONV2D_TRANSPOSE_H
#define TC_LAYER_CONV2D_TRANSPOSE_H

#include "core/activation.h"
#include "core/conv2dt.h"
#include "core/graph.h"
#include "layers/layer_common.h"
#include "layers/model.h"

typedef struct tc_conv2d_transpose_config {
  int filters;
  int kernel_size[2];
  int strides[2];              /* default 1, 1 */
  const char *padding;         /* "valid" (default) or "same", any case */
  const char *data_format;     /* "channels_last" (default) or "channels_first" */
  /* activation, use_bias, kernel_/bias_initializer, kernel_/bias_/activity_regularizer,
   * kernel_/bias_constraint, trainable, name (NULL: "conv2d_transpose", "_1", ...); also
   * as one value, cfg.common (layers/layer_common.h) */
  TC_LAYER_COMMON_MEMBER;
  /* Keras extras beyond TF1 */
  int output_padding[2];       /* -1, -1 = none */
  int dilation_rate[2];        /* 1, 1 */
  int groups;                  /* 1 */
} tc_conv2d_transpose_config;

typedef struct tc_conv2d_transpose tc_conv2d_transpose;

tc_conv2d_transpose_config tc_conv2d_transpose_config_default(int filters, int kernel_h, int kernel_w);

/* Validates cfg (initializers, regularizers and constraints against the shapes of their
 * variables too), claims the name, creates and initializes the variables. Every rejection
 * has its own message naming the layer and the numbers; a failed create leaves the model
 * as it was (no variable, the name free). */
tc_status tc_conv2d_transpose_create(tc_conv2d_transpose **out, tc_model *model, const tc_conv2d_transpose_config *cfg,
                            int in_channels);
void tc_conv2d_transpose_free(tc_conv2d_transpose *layer);

/* y = activation(conv2d_transpose(x) + bias), recorded on g. x must be rank 4 in the
 * layer's data_format with in_channels channels. */
tc_status tc_conv2d_transpose_forward(tc_conv2d_transpose *layer, tc_graph *g, tc_tensor *x, tc_tensor **y);

const char *tc_conv2d_transpose_name(const tc_conv2d_transpose *layer);
tc_param *tc_conv2d_transpose_kernel(const tc_conv2d_transpose *layer);
tc_param *tc_conv2d_transpose_bias(const tc_conv2d_transpose *layer); /* NULL when use_bias is 0 */
const tc_conv2d_transpose_config *tc_conv2d_transpose_config_of(const tc_conv2d_transpose *layer);

/* Freezes (0) or unfreezes (1) the layer's variables; allowed between steps. */
void tc_conv2d_transpose_set_trainable(tc_conv2d_transpose *layer, int trainable);

#endif
