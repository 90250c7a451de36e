/* conform.c — dispatches a case to the runner of its kind. */
#include "tools/conform.h"

#include <stdio.h>
#include <string.h>

#include "tools/conform_internal.h"

void tc_conform_run(const tc_case *c, tc_conform_outcome *out) {
  memset(out, 0, sizeof *out);
  out->verdict = TC_CONFORM_PASS;
  const tc_case_attr *kind = tc_case_attr_find(c, "kind");
  if (kind == NULL) {
    out->verdict = TC_CONFORM_FAIL;
    snprintf(out->note, sizeof out->note, "case has no 'kind' attr");
    return;
  }
  const char *k = kind->values[0];
  if (strcmp(k, "layer") == 0)
    tc_conform_layer(c, out);
  else if (strcmp(k, "train") == 0)
    tc_conform_train(c, out);
  else if (strcmp(k, "regularizer") == 0)
    tc_conform_regularizer(c, out);
  else if (strcmp(k, "constraint") == 0)
    tc_conform_constraint(c, out);
  else if (strcmp(k, "op") == 0)
    tc_conform_op(c, out);
  else {
    out->verdict = TC_CONFORM_SKIP;
    snprintf(out->note, sizeof out->note, "unknown kind '%s'", k);
  }
}
