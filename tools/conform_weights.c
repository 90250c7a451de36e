/* conform_weights.c — `kind regularizer` and `kind constraint` cases (docs/strings.md). */
#include <stdlib.h>
#include <string.h>

#include "layers/constraint.h"
#include "layers/regularizer.h"
#include "tools/conform_compare.h"
#include "tools/conform_internal.h"

static tc_status tc_parse_attr_spec(const tc_case *c, const char *key, char *spec, size_t cap) {
  const tc_case_attr *a = tc_case_attr_find(c, key);
  if (a == NULL)
    return tc_set_error(TC_ERR_FORMAT, "case '%s': attr '%s' is missing", c->name, key);
  tc_conform_spec(a, spec, cap);
  return TC_OK;
}

static tc_status tc_regularizer_case(const tc_case *c, tc_tensor **w, float **dw,
                                     tc_conform_outcome *out) {
  char spec[256];
  tc_regularizer reg;
  TC_TRY(tc_parse_attr_spec(c, "regularizer", spec, sizeof spec));
  TC_TRY(tc_regularizer_parse(spec, &reg));
  TC_TRY(tc_conform_input(c, "w", 0, w));
  *dw = calloc((size_t)(*w)->size, sizeof(float));
  if (*dw == NULL)
    return tc_set_error(TC_ERR_NOMEM, "out of memory");
  double penalty;
  TC_TRY(tc_regularizer_apply(&reg, *w, &penalty, *dw));
  float loss = (float)penalty;
  tc_conform_compare(c, "loss", &loss, 0, NULL, 1e-4, 1e-4, out);
  tc_conform_compare(c, "dw", *dw, (*w)->rank, (*w)->shape, 1e-4, 1e-4, out);
  return TC_OK;
}

void tc_conform_regularizer(const tc_case *c, tc_conform_outcome *out) {
  tc_tensor *w = NULL;
  float *dw = NULL;
  if (tc_regularizer_case(c, &w, &dw, out) != TC_OK)
    tc_conform_fail_run(out, "regularizer");
  free(dw);
  tc_tensor_free(w);
}

void tc_conform_constraint(const tc_case *c, tc_conform_outcome *out) {
  char spec[256];
  tc_constraint con;
  tc_tensor *w = NULL;
  tc_status s = tc_parse_attr_spec(c, "constraint", spec, sizeof spec);
  if (s == TC_OK)
    s = tc_constraint_parse(spec, &con);
  if (s == TC_OK)
    s = tc_conform_input(c, "w", 0, &w);
  if (s == TC_OK)
    s = tc_constraint_apply(&con, w);
  if (s == TC_OK)
    tc_conform_compare(c, "w_out", w->data, w->rank, w->shape, 1e-4, 1e-4, out);
  else
    tc_conform_fail_run(out, "constraint");
  tc_tensor_free(w);
}
