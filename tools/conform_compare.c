/* conform_compare.c — tolerances and attr-to-string conversion for the case runners. */
#include "tools/conform_compare.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void tc_conform_fail_run(tc_conform_outcome *out, const char *what) {
  out->verdict = TC_CONFORM_FAIL;
  snprintf(out->note, sizeof out->note, "%s: %s", what, tc_last_error());
}

static void tc_record(tc_conform_outcome *out, const char *name, double abs_err,
                      double rel_err) {
  if (out->failing_tensors == 0 || abs_err > out->max_abs) {
    snprintf(out->tensor, sizeof out->tensor, "%s", name);
    out->max_abs = abs_err;
    out->max_rel = rel_err;
  }
  out->failing_tensors++;
  out->verdict = TC_CONFORM_FAIL;
}

static void tc_dims_str(char *buf, size_t cap, int rank, const int64_t *shape) {
  size_t used = (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < rank && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, i ? ", %lld" : "%lld", (long long)shape[i]);
  if (used < cap)
    snprintf(buf + used, cap - used, ")");
}

/* The golden's shape, not only its size: a (3, 2) golden against a (2, 3) result is the
 * same count of numbers in another layout, and comparing them would be meaningless. */
static int tc_same_shape(const tc_case_tensor *gold, int rank, const int64_t *shape) {
  if (gold->rank != rank)
    return 0;
  for (int i = 0; i < rank; i++)
    if (gold->shape[i] != shape[i])
      return 0;
  return 1;
}

void tc_conform_compare(const tc_case *c, const char *name, const float *got, int rank,
                        const int64_t *shape, double atol, double rtol,
                        tc_conform_outcome *out) {
  const tc_case_tensor *gold = tc_case_tensor_find(c, name);
  if (gold == NULL || !tc_same_shape(gold, rank, shape)) {
    char have[96] = "", want[96] = "";
    if (gold != NULL) {
      tc_dims_str(have, sizeof have, gold->rank, gold->shape);
      tc_dims_str(want, sizeof want, rank, shape);
    }
    snprintf(out->note, sizeof out->note, "golden '%s' %s%s%s%s", name,
             gold ? "has shape " : "is missing", have, gold ? ", the result has " : "", want);
    tc_record(out, name, INFINITY, INFINITY);
    return;
  }
  int64_t n = gold->size;
  double worst_abs = 0.0, worst_rel = 0.0;
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    double b = gold->data[i], err = fabs((double)got[i] - b);
    if (isnan(got[i]))
      err = INFINITY;
    if (err > atol + rtol * fabs(b))
      bad = 1;
    if (err > worst_abs)
      worst_abs = err;
    double rel = err / fmax(fabs(b), 1e-30);
    if (rel > worst_rel)
      worst_rel = rel;
  }
  if (bad)
    tc_record(out, name, worst_abs, worst_rel);
}

void tc_conform_spec(const tc_case_attr *a, char *buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  int in_axes = 0, first_axis = 1;
  for (int i = 0; i < a->n_values && used + 1 < cap; i++) {
    const char *v = a->values[i];
    int n;
    if (strcmp(v, "axis") == 0) {
      n = snprintf(buf + used, cap - used, ":axis=");
      in_axes = 1;
    } else if (in_axes) {
      n = snprintf(buf + used, cap - used, first_axis ? "%s" : ",%s", v);
      first_axis = 0;
    } else {
      n = snprintf(buf + used, cap - used, i ? ":%s" : "%s", v);
    }
    used += n > 0 ? (size_t)n : 0;
  }
}

void tc_conform_optimizer_spec(const tc_case_attr *a, char *buf, size_t cap) {
  size_t used = (size_t)snprintf(buf, cap, "%s", a->n_values ? a->values[0] : "");
  for (int i = 1; i + 1 < a->n_values && used + 1 < cap; i += 2) {
    int n = snprintf(buf + used, cap - used, ":%s=%s", a->values[i], a->values[i + 1]);
    used += n > 0 ? (size_t)n : 0;
  }
}
