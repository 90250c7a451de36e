/* layer_util.c — variable creation shared by every layer. */
#include "layers/layer_util.h"

tc_status tc_layer_add_variable(tc_model *m, const char *layer, const tc_var_spec *spec,
                                int rank, const int64_t *shape, tc_param **out) {
  tc_param *p;
  TC_TRY(tc_model_add_param(m, layer, spec->var, spec->role, rank, shape, &p));
  if (spec->role == TC_PARAM_WEIGHT) {
    p->trainable = spec->trainable != 0;
    p->regularizer = spec->regularizer;
    p->constraint = spec->constraint;
  }
  tc_initializer init = spec->init;
  if (init.kind == TC_INIT_DEFAULT)
    init = tc_initializer_make(spec->fallback);
  tc_status s = tc_initializer_apply(&init, p->value, tc_model_seed(m), tc_model_next_stream(m));
  if (s != TC_OK) {
    tc_error_prefix("%s", p->name);
    return s;
  }
  *out = p;
  return TC_OK;
}
