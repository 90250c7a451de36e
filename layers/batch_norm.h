/* batch_norm.h — Keras BatchNormalization (tf.layers.BatchNormalization), TF's defaults.
 *
 *   tc_batch_norm_config cfg = tc_batch_norm_config_default();   // axis -1 (channels_last)
 *   tc_batch_norm *bn;
 *   if (tc_batch_norm_create(&bn, model, &cfg, 64) != TC_OK)     // 64 channels
 *     fprintf(stderr, "%s\n", tc_last_error());
 *   tc_batch_norm_forward(bn, graph, x, 1, &y);   // training: batch statistics, updates
 *   tc_batch_norm_forward(bn, graph, x, 0, &y);   // inference: the moving statistics
 *
 * Variables, in Keras' order: "<name>/gamma" (when scale), "<name>/beta" (when center) —
 * weights — then "<name>/moving_mean" and "<name>/moving_variance" (TC_PARAM_STATE: no
 * gradient, never trained, saved in checkpoints), all of shape (channels).
 *
 * Training mode normalizes with the biased batch variance and then updates the moving
 * statistics at once (what tf.keras does in fit(); TF1 graphs run UPDATE_OPS after the
 * step): moving -= (moving - batch) * (1 - momentum). The batch variance used for the
 * moving variance follows TF: its fused kernel — used for rank-4 inputs with the channel
 * axis 1 or 3 when fused is left at -1 (Keras fused=None) — applies Bessel's correction
 * m/(m-1) (m = elements per channel), the non-fused path (e.g. (N, C) dense outputs) does
 * not (tensorflow/tensorflow#55545). The mode is an argument of forward; as in TF1,
 * trainable = 0 freezes gamma and beta but does not switch the layer to inference. */
#ifndef TC_LAYER_BATCH_NORM_H
#define TC_LAYER_BATCH_NORM_H

#include "core/graph.h"
#include "layers/constraint.h"
#include "layers/initializer.h"
#include "layers/model.h"
#include "layers/regularizer.h"

typedef struct tc_batch_norm_config {
  int axis;                /* channel axis, default -1; negative counts from the end */
  const char *data_format; /* NULL (default): use axis; "channels_last" → -1,
                              "channels_first" → 1 (axis must then be left at -1) */
  float momentum;          /* default 0.99 */
  float epsilon;           /* default 1e-3 */
  int center;              /* default 1: beta */
  int scale;               /* default 1: gamma */
  tc_initializer beta_initializer;            /* default zeros */
  tc_initializer gamma_initializer;           /* default ones */
  tc_initializer moving_mean_initializer;     /* default zeros */
  tc_initializer moving_variance_initializer; /* default ones */
  tc_regularizer beta_regularizer;            /* default none */
  tc_regularizer gamma_regularizer;
  tc_constraint beta_constraint;              /* default none */
  tc_constraint gamma_constraint;
  int fused;               /* -1 (default, Keras None): fused for rank 4 with the channel
                              axis 1 or 3; 1: require it; 0: never */
  int trainable;           /* default 1 */
  const char *name;        /* NULL: automatic ("batch_normalization", "_1", ...) */
  int renorm;              /* Keras renorm: default 0; 1 is refused (not implemented,
                              docs/ops.md) */
  int virtual_batch_size;  /* Keras virtual_batch_size: default 0 (None); others refused */
} tc_batch_norm_config;

typedef struct tc_batch_norm tc_batch_norm;

tc_batch_norm_config tc_batch_norm_config_default(void);

/* Validates cfg (momentum in [0, 1], epsilon > 0, the data_format string, fused in
 * {-1, 0, 1}; renorm and virtual_batch_size fail with TC_ERR_UNSUPPORTED), claims the name, creates and initializes the variables; every rejection
 * has its own message, prefixed "batch_normalization '<name>'". */
tc_status tc_batch_norm_create(tc_batch_norm **out, tc_model *model,
                               const tc_batch_norm_config *cfg, int channels);
void tc_batch_norm_free(tc_batch_norm *layer);

/* y = gamma * (x - mean) / sqrt(var + epsilon) + beta over every axis but the channel
 * axis, recorded on g. training = 1: batch statistics (gradient through them) and the
 * moving statistics updated; 0: the moving statistics. x has rank >= 2 and `channels`
 * on the channel axis; fused = 1 also needs rank 4 and the channel axis 1 or 3. */
tc_status tc_batch_norm_forward(tc_batch_norm *layer, tc_graph *g, tc_tensor *x, int training,
                                tc_tensor **y);

const char *tc_batch_norm_name(const tc_batch_norm *layer);
tc_param *tc_batch_norm_gamma(const tc_batch_norm *layer); /* NULL when scale is 0 */
tc_param *tc_batch_norm_beta(const tc_batch_norm *layer);  /* NULL when center is 0 */
tc_param *tc_batch_norm_moving_mean(const tc_batch_norm *layer);
tc_param *tc_batch_norm_moving_variance(const tc_batch_norm *layer);
const tc_batch_norm_config *tc_batch_norm_config_of(const tc_batch_norm *layer);
void tc_batch_norm_set_trainable(tc_batch_norm *layer, int trainable);

#endif
