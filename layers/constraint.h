/* constraint.h — projections applied to a variable after each update (Keras constraints).
 *
 * n = sqrt(Σ w² over the reduced axes), one value per index of the other axes; eps = 1e-7.
 *   max_norm:     w * clip(n, 0, M) / (eps + n)
 *   unit_norm:    w / (eps + n)
 *   min_max_norm: w * (rate*clip(n, m, M) + (1-rate)*n) / (eps + n)
 *   non_neg:      max(w, 0)
 *   radial:       for a (kh, kw, F, C) kernel, zeroes every tap but the centre... see
 *                 docs/semantics.md (Keras RadialConstraint)
 * Axes are listed as the reduced ones; negative axes count from the end; no axes given
 * means Keras' default axis=0. */
#ifndef TC_CONSTRAINT_H
#define TC_CONSTRAINT_H

#include "core/tensor.h"

typedef enum tc_constraint_kind {
  TC_CONSTRAINT_NONE = 0,
  TC_CONSTRAINT_MAX_NORM,
  TC_CONSTRAINT_UNIT_NORM,
  TC_CONSTRAINT_NON_NEG,
  TC_CONSTRAINT_MIN_MAX_NORM,
  TC_CONSTRAINT_RADIAL,
  TC_CONSTRAINT_CALLBACK,
  TC_CONSTRAINT_COUNT
} tc_constraint_kind;

/* A user projection, in place. */
typedef tc_status (*tc_constraint_fn)(tc_tensor *w, void *ctx);

typedef struct tc_constraint {
  tc_constraint_kind kind;
  float max_value;  /* max_norm M (default 2), min_max_norm M (default 1) */
  float min_value;  /* min_max_norm m (default 0) */
  float rate;       /* min_max_norm (default 1) */
  int axes[TC_MAX_RANK];
  int n_axes;       /* 0 = axis 0 */
  tc_constraint_fn fn;
  void *ctx;
} tc_constraint;

/* Projects w in place. Errors: an axis out of range for w's rank (the message names the
 * axis and the rank), radial on a tensor that is not rank 4, a callback's failure. */
tc_status tc_constraint_apply(const tc_constraint *c, tc_tensor *w);

/* Parses "none", "non_neg", "max_norm:2", "max_norm:2:axis=0,1,2", "unit_norm:axis=3",
 * "min_max_norm:0.5:1.5:0.5:axis=0,1,2", "radial". Errors quote the string. */
tc_status tc_constraint_parse(const char *s, tc_constraint *out);
const char *tc_constraint_name(tc_constraint_kind kind);

#endif
