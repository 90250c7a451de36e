/* constraint.h — projections applied to a variable after each update (Keras constraints).
 *
 * n = sqrt(Σ w² over the reduced axes), one value per index of the other axes; eps = 1e-7.
 *   max_norm:     w * clip(n, 0, M) / (eps + n)
 *   unit_norm:    w / (eps + n)
 *   min_max_norm: w * (rate*clip(n, m, M) + (1-rate)*n) / (eps + n)
 *   non_neg:      max(w, 0)
 *   radial:       tf.keras.constraints.RadialConstraint, for a square (h, h, F, C) kernel:
 *                 every (f, c) slice becomes constant on each ring of Chebyshev radius
 *                 around the centre. As Keras' code (not its docstring) does it, with
 *                 s = h/2 the ring values come from diagonal taps: odd h, ring r (0 = the
 *                 centre tap) takes K[s-1+r][s-1+r]; even h, ring 1 (the central 2x2)
 *                 takes K[s-1][s-1] and ring r >= 2 takes K[s+r-1][s+r-1]. A 1x1 kernel
 *                 is left as it is (Keras fails there).
 * Axes are listed as the reduced ones; negative axes count from the end; no axes given
 * means Keras' default axis=0. A slice whose norm is 0 stays 0. Norms are taken in
 * double. */
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

/* A constraint of this kind with Keras' defaults (max_norm 2; min_max_norm 0, 1, rate 1;
 * axis 0). */
tc_constraint tc_constraint_make(tc_constraint_kind kind);

/* Projects w in place. Errors: TC_ERR_SHAPE for an axis out of range for w's rank (the
 * message names the axis and the rank) and for radial on a tensor that is not a square
 * rank-4 kernel; TC_ERR_INVALID_ARG for a repeated axis, max_value < 0, min_value outside
 * [0, max_value], rate outside [0, 1], a callback without fn; or a callback's status.
 * On an error w is unchanged (except what a failing callback did). */
tc_status tc_constraint_apply(const tc_constraint *c, tc_tensor *w);

/* Whether c fits a variable of this rank and shape, checked once at layer create: a known
 * kind, its numbers in range, its axes within the rank and distinct, radial on a square
 * rank-4 kernel, a callback with its function. Errors as tc_constraint_apply's. */
tc_status tc_constraint_check(const tc_constraint *c, int rank, const int64_t *shape);

/* Parses "none", "non_neg", "max_norm:2", "max_norm:2:axis=0,1,2", "unit_norm:axis=3",
 * "min_max_norm:0.5:1.5:0.5:axis=0,1,2", "radial", case-insensitive (also Keras'
 * "nonneg", "maxnorm", "unitnorm", "radial_constraint"). Numbers may be left out from the
 * right (defaults as tc_constraint_make); "axis=" comes last. Errors: TC_ERR_INVALID_ARG,
 * the message quotes the string and says what was expected; *out is then unchanged.
 * Grammar: docs/strings.md. */
tc_status tc_constraint_parse(const char *s, tc_constraint *out);
/* "max_norm" etc.; "unknown" out of range. Static storage. */
const char *tc_constraint_name(tc_constraint_kind kind);

#endif
