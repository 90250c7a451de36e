/* regularizer.h — weight penalties: Keras l1, l2, l1_l2, TF1's l2_regularizer, callbacks.
 *
 *   l1:     A * Σ|w|          gradient A * sign(w)   (sign(0) = 0, as TF)
 *   l2:     B * Σw²           gradient 2B * w        (Keras)
 *   l1_l2:  both
 *   tf_l2:  ½ * scale * Σw²   gradient scale * w     (tf.contrib.layers.l2_regularizer,
 *                                                     = scale * tf.nn.l2_loss)
 * Sums are taken in double. */
#ifndef TC_REGULARIZER_H
#define TC_REGULARIZER_H

#include <stdint.h>

#include "core/tensor.h"

typedef enum tc_reg_kind {
  TC_REG_NONE = 0,
  TC_REG_L1,
  TC_REG_L2,
  TC_REG_L1_L2,
  TC_REG_TF_L2,
  TC_REG_CALLBACK,
  TC_REG_COUNT
} tc_reg_kind;

/* A user penalty: set *penalty and, when grad is not NULL, ADD dpenalty/dw to grad
 * (w->size floats). */
typedef tc_status (*tc_reg_fn)(const tc_tensor *w, double *penalty, float *grad, void *ctx);

typedef struct tc_regularizer {
  tc_reg_kind kind;
  float l1;     /* A */
  float l2;     /* B; for tf_l2 the scale */
  tc_reg_fn fn;
  void *ctx;
} tc_regularizer;

/* Penalty of w into *penalty (set, not added); when grad is not NULL, adds the penalty's
 * gradient to it (w->size floats). TC_REG_NONE gives 0 and adds nothing. A callback sees
 * *penalty = 0 first. Errors: TC_ERR_INVALID_ARG for a NULL r, w or penalty, an unknown
 * kind, a callback without fn; or the callback's status. Coefficients are used as given
 * here; layers refuse negative and non-finite ones at create (tc_regularizer_check). */
tc_status tc_regularizer_apply(const tc_regularizer *r, const tc_tensor *w, double *penalty,
                               float *grad);

/* Whether r is usable, checked once at layer create: a known kind, finite coefficients
 * >= 0 for the ones its kind uses, a callback with its function. TC_ERR_INVALID_ARG naming
 * the kind and the value otherwise. (A penalty applies to any shape.) */
tc_status tc_regularizer_check(const tc_regularizer *r);

/* Parses "none", "l1:0.01", "l2:1e-4", "l1_l2:0.01:0.02", "tf_l2:0.001", case-
 * insensitive. "l1", "l2", "l1_l2" alone take Keras' 0.01 (for l1_l2 both); otherwise l1/l2
 * take exactly one number, l1_l2 exactly two, tf_l2 exactly one (TF has no default scale).
 * Coefficients are numbers >= 0. Errors: TC_ERR_INVALID_ARG, the message quotes the string
 * and says what was expected; *out is then unchanged. Grammar: docs/strings.md. */
tc_status tc_regularizer_parse(const char *s, tc_regularizer *out);
/* "l1_l2" etc.; "unknown" out of range. Static storage. */
const char *tc_regularizer_name(tc_reg_kind kind);

#endif
