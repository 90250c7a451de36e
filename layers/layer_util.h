/* layer_util.h — what every layer does the same way when it makes its variables
 * (internal to layers/). */
#ifndef TC_LAYER_UTIL_H
#define TC_LAYER_UTIL_H

#include "layers/constraint.h"
#include "layers/initializer.h"
#include "layers/model.h"
#include "layers/regularizer.h"

/* How one variable is made: its initializer (TC_INIT_DEFAULT → fallback), and for a
 * weight its trainable flag, regularizer and constraint. */
typedef struct tc_var_spec {
  const char *var;           /* "kernel", "gamma", ... */
  tc_param_role role;
  tc_initializer init;
  tc_init_kind fallback;
  int trainable;             /* weights only; state is never trained */
  tc_regularizer regularizer;
  tc_constraint constraint;
} tc_var_spec;

/* Creates "<layer>/<var>" in the model with its shape, draws it from the model's next
 * Philox stream and sets its attributes. */
tc_status tc_layer_add_variable(tc_model *m, const char *layer, const tc_var_spec *spec,
                                int rank, const int64_t *shape, tc_param **out);

#endif
