/* layer_common.h — the part of a layer's config that conv2d, conv2d_transpose and dense
 * share: activation, bias, initializers, regularizers, constraints, trainable, name.
 *
 * Each of those configs holds it twice over, as one value and as loose fields, so both
 *   cfg.activation = tc_activation_make(TC_ACT_RELU);     // field by field, as before
 *   cfg.common = opts;                                    // all at once (tools' options)
 * work on the same bytes (an anonymous union of two structs with the same members). */
#ifndef TC_LAYER_COMMON_H
#define TC_LAYER_COMMON_H

#include "core/activation.h"
#include "layers/constraint.h"
#include "layers/initializer.h"
#include "layers/regularizer.h"

/* The shared fields, in one place; used only to spell tc_layer_common and the loose copy. */
#define TC_LAYER_COMMON_FIELDS                                                              \
  tc_activation activation;           /* default linear (TF: activation=None) */            \
  int use_bias;                       /* default 1 */                                       \
  tc_initializer kernel_initializer;  /* default glorot_uniform (TF fan rule) */            \
  tc_initializer bias_initializer;    /* default zeros */                                   \
  tc_regularizer kernel_regularizer;  /* default none */                                    \
  tc_regularizer bias_regularizer;                                                          \
  tc_regularizer activity_regularizer;                                                      \
  tc_constraint kernel_constraint;    /* default none */                                    \
  tc_constraint bias_constraint;                                                            \
  int trainable;                      /* default 1 */                                       \
  const char *name;                   /* NULL: automatic ("<kind>", "<kind>_1", ...) */

typedef struct tc_layer_common {
  TC_LAYER_COMMON_FIELDS
} tc_layer_common;

/* Declares, inside a layer's config struct, `common` and the same fields loose. */
#define TC_LAYER_COMMON_MEMBER                                                              \
  union {                                                                                   \
    tc_layer_common common;                                                                 \
    struct {                                                                                \
      TC_LAYER_COMMON_FIELDS                                                                \
    };                                                                                      \
  }

/* TF's defaults above: linear, bias, glorot_uniform kernel, zeros bias, nothing else,
 * trainable, automatic name. */
tc_layer_common tc_layer_common_default(void);

#endif
