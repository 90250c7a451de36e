/* constraint.c — Keras weight constraints, applied in place (docs/strings.md, "Constraints"). */
#include "layers/constraint.h"

#include "core/spec.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TC_CONSTRAINT_EPS 1e-7 /* Keras backend.epsilon() */

static const char *const tc_constraint_names[TC_CONSTRAINT_COUNT] = {
    "none", "max_norm", "unit_norm", "non_neg", "min_max_norm", "radial", "callback"};

const char *tc_constraint_name(tc_constraint_kind kind) {
  if ((int)kind < 0 || kind >= TC_CONSTRAINT_COUNT)
    return "unknown";
  return tc_constraint_names[kind];
}

/* ---- norm constraints ---------------------------------------------------------------- */

/* Splits w's dims into reduced and kept ones. Fails with a message naming the axis. */
static tc_status tc_constraint_axes(const tc_constraint *c, const tc_tensor *w,
                                    int reduced[TC_MAX_RANK]) {
  int n = c->n_axes == 0 ? 1 : c->n_axes;
  if (c->n_axes < 0 || c->n_axes > TC_MAX_RANK)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: %d axes listed, at most %d",
                        tc_constraint_names[c->kind], c->n_axes, TC_MAX_RANK);
  memset(reduced, 0, TC_MAX_RANK * sizeof reduced[0]);
  for (int i = 0; i < n; i++) {
    int a = c->n_axes == 0 ? 0 : c->axes[i];
    int norm = a < 0 ? a + w->rank : a;
    if (norm < 0 || norm >= w->rank)
      return tc_set_error(TC_ERR_SHAPE, "%s: axis %d is out of range for a tensor of rank %d "
                          "(axes -%d..%d)", tc_constraint_names[c->kind], a, w->rank, w->rank,
                          w->rank - 1);
    if (reduced[norm])
      return tc_set_error(TC_ERR_INVALID_ARG, "%s: axis %d is listed twice",
                          tc_constraint_names[c->kind], a);
    reduced[norm] = 1;
  }
  return TC_OK;
}

/* The factor desired(n) / (eps + n) that scales a slice of norm n. */
static double tc_constraint_factor(const tc_constraint *c, double n) {
  double desired;
  switch (c->kind) {
  case TC_CONSTRAINT_MAX_NORM: desired = fmin(n, c->max_value); break;
  case TC_CONSTRAINT_UNIT_NORM: desired = 1.0; break;
  default: /* min_max_norm */
    desired = c->rate * fmin(fmax(n, c->min_value), c->max_value) + (1.0 - c->rate) * n;
    break;
  }
  return desired / (TC_CONSTRAINT_EPS + n);
}

/* A set of dims of w, as sizes and element strides, walked by an odometer. */
typedef struct tc_dimset {
  int n;
  int64_t size[TC_MAX_RANK];
  int64_t stride[TC_MAX_RANK];
} tc_dimset;

static void tc_dimset_split(const tc_tensor *w, const int reduced[TC_MAX_RANK],
                            tc_dimset *red, tc_dimset *keep) {
  int64_t stride[TC_MAX_RANK], s = 1;
  for (int d = w->rank - 1; d >= 0; d--) {
    stride[d] = s;
    s *= w->shape[d];
  }
  red->n = keep->n = 0;
  for (int d = 0; d < w->rank; d++) {
    tc_dimset *set = reduced[d] ? red : keep;
    set->size[set->n] = w->shape[d];
    set->stride[set->n] = stride[d];
    set->n++;
  }
}

/* Advances the multi-index idx over set and returns the offset change. */
static int64_t tc_dimset_step(const tc_dimset *set, int64_t idx[TC_MAX_RANK]) {
  int64_t delta = 0;
  for (int i = set->n - 1; i >= 0; i--) {
    delta += set->stride[i];
    if (++idx[i] < set->size[i])
      return delta;
    delta -= idx[i] * set->stride[i];
    idx[i] = 0;
  }
  return delta;
}

/* Sum of squares of the slice at base (factor < 0), or scales it by factor. */
static double tc_slice_walk(float *x, int64_t base, const tc_dimset *red, int64_t len,
                            double factor) {
  int64_t idx[TC_MAX_RANK] = {0}, off = base;
  double ss = 0;
  for (int64_t e = 0; e < len; e++) {
    if (factor < 0)
      ss += (double)x[off] * x[off];
    else
      x[off] = (float)(x[off] * factor);
    off += tc_dimset_step(red, idx);
  }
  return ss;
}

/* One norm per slice (an index of the kept dims), no scratch memory: two walks per
 * slice, the sum of squares and then the scaling. */
static void tc_constraint_norms(const tc_constraint *c, tc_tensor *w,
                                const int reduced[TC_MAX_RANK]) {
  tc_dimset red, keep;
  tc_dimset_split(w, reduced, &red, &keep);
  int64_t len = 1;
  for (int i = 0; i < red.n; i++)
    len *= red.size[i];
  int64_t slices = w->size / len, idx[TC_MAX_RANK] = {0}, base = 0;
  for (int64_t sl = 0; sl < slices; sl++) {
    double ss = tc_slice_walk(w->data, base, &red, len, -1.0);
    if (ss > 0) /* an all-zero slice stays zero */
      tc_slice_walk(w->data, base, &red, len, tc_constraint_factor(c, sqrt(ss)));
    base += tc_dimset_step(&keep, idx);
  }
}

/* ---- radial -------------------------------------------------------------------------- */

/* Which diagonal tap K[t][t] gives the value of ring r (Chebyshev distance from the
 * centre) of an h x h kernel, reproducing Keras' RadialConstraint._kernel_constraint: it
 * seeds the centre with K[s-1][s-1] (s = h/2; a 2x2 block when h is even) and pads one
 * ring at a time with K[s+i][s+i]. */
static int64_t tc_radial_source(int64_t h, int64_t r) {
  int64_t s = h / 2;
  if (h % 2 == 1)
    return s - 1 + r;
  return r == 1 ? s - 1 : s + r - 1;
}

static int64_t tc_radial_ring(int64_t h, int64_t a, int64_t b) {
  int64_t s = h / 2;
  if (h % 2 == 1) {
    int64_t da = a > s ? a - s : s - a, db = b > s ? b - s : s - b;
    return da > db ? da : db;
  }
  int64_t da = a < s ? s - a : a - s + 1, db = b < s ? s - b : b - s + 1;
  return da > db ? da : db;
}

/* w: (kh, kw, F, C); every (f, c) slice becomes constant on each ring. */
static tc_status tc_radial_check(int rank, const int64_t *shape);

static tc_status tc_constraint_radial(tc_tensor *w) {
  TC_TRY(tc_radial_check(w->rank, w->shape));
  int64_t h = w->shape[0], inner = w->shape[2] * w->shape[3];
  if (h == 1)
    return TC_OK; /* a single tap is already radial (Keras itself fails here) */
  int64_t rings = h / 2 + 1;
  float *ring = malloc((size_t)rings * sizeof *ring);
  if (ring == NULL)
    return tc_set_error(TC_ERR_NOMEM, "radial: cannot allocate %lld floats", (long long)rings);
  for (int64_t k = 0; k < inner; k++) {
    for (int64_t r = (h % 2 == 1 ? 0 : 1); r < rings; r++) {
      int64_t t = tc_radial_source(h, r);
      ring[r] = w->data[(t * h + t) * inner + k];
    }
    for (int64_t a = 0; a < h; a++)
      for (int64_t b = 0; b < h; b++)
        w->data[(a * h + b) * inner + k] = ring[tc_radial_ring(h, a, b)];
  }
  free(ring);
  return TC_OK;
}

/* ---- apply --------------------------------------------------------------------------- */

static tc_status tc_constraint_check_values(const tc_constraint *c) {
  const char *name = tc_constraint_names[c->kind];
  if (!isfinite(c->max_value) || c->max_value < 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: max_value must be a number >= 0, got %g",
                        name, (double)c->max_value);
  if (c->kind != TC_CONSTRAINT_MIN_MAX_NORM)
    return TC_OK;
  if (!isfinite(c->min_value) || c->min_value < 0 || c->min_value > c->max_value)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: need 0 <= min_value <= max_value, got %g "
                        "and %g", name, (double)c->min_value, (double)c->max_value);
  if (!(c->rate >= 0 && c->rate <= 1))
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: rate must lie in [0, 1], got %g", name,
                        (double)c->rate);
  return TC_OK;
}

/* Radial's shape rule: a square (h, h, F, C) kernel. */
static tc_status tc_radial_check(int rank, const int64_t *shape) {
  if (rank != 4)
    return tc_set_error(TC_ERR_SHAPE, "radial: needs a rank-4 kernel (kh, kw, F, C), got "
                        "rank %d", rank);
  if (shape[1] != shape[0])
    return tc_set_error(TC_ERR_SHAPE, "radial: needs a square kernel, got %lld x %lld",
                        (long long)shape[0], (long long)shape[1]);
  return TC_OK;
}

tc_status tc_constraint_check(const tc_constraint *c, int rank, const int64_t *shape) {
  if (c == NULL || (shape == NULL && rank > 0))
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_constraint_check: NULL argument");
  if ((int)c->kind < 0 || c->kind >= TC_CONSTRAINT_COUNT)
    return tc_set_error(TC_ERR_INVALID_ARG, "unknown constraint kind %d (valid: 0..%d)",
                        (int)c->kind, TC_CONSTRAINT_COUNT - 1);
  tc_tensor probe; /* the axis rule reads only the rank */
  memset(&probe, 0, sizeof probe);
  probe.rank = rank;
  int reduced[TC_MAX_RANK];
  switch (c->kind) {
  case TC_CONSTRAINT_MAX_NORM:
  case TC_CONSTRAINT_MIN_MAX_NORM:
    TC_TRY(tc_constraint_check_values(c));
    /* fall through */
  case TC_CONSTRAINT_UNIT_NORM: return tc_constraint_axes(c, &probe, reduced);
  case TC_CONSTRAINT_RADIAL: return tc_radial_check(rank, shape);
  case TC_CONSTRAINT_CALLBACK:
    return c->fn != NULL ? TC_OK
                         : tc_set_error(TC_ERR_INVALID_ARG, "callback constraint has no function");
  default: return TC_OK;
  }
}

tc_status tc_constraint_apply(const tc_constraint *c, tc_tensor *w) {
  if (c == NULL || w == NULL || w->data == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_constraint_apply: %s is NULL",
                        c == NULL ? "the constraint" : "the tensor");
  int reduced[TC_MAX_RANK];
  switch (c->kind) {
  case TC_CONSTRAINT_NONE: return TC_OK;
  case TC_CONSTRAINT_NON_NEG:
    for (int64_t i = 0; i < w->size; i++)
      if (w->data[i] < 0)
        w->data[i] = 0;
    return TC_OK;
  case TC_CONSTRAINT_MAX_NORM:
  case TC_CONSTRAINT_MIN_MAX_NORM:
    TC_TRY(tc_constraint_check_values(c));
    /* fall through */
  case TC_CONSTRAINT_UNIT_NORM:
    TC_TRY(tc_constraint_axes(c, w, reduced));
    tc_constraint_norms(c, w, reduced);
    return TC_OK;
  case TC_CONSTRAINT_RADIAL: return tc_constraint_radial(w);
  case TC_CONSTRAINT_CALLBACK:
    if (c->fn == NULL)
      return tc_set_error(TC_ERR_INVALID_ARG, "callback constraint has no function");
    return c->fn(w, c->ctx);
  default:
    return tc_set_error(TC_ERR_INVALID_ARG, "unknown constraint kind %d", (int)c->kind);
  }
}

/* ---- parsing ------------------------------------------------------------------------- */

#define TC_CONSTRAINT_GRAMMAR                                                               \
  "none | non_neg | radial | max_norm[:MAX][:axis=A,B,...] | unit_norm[:axis=A,B,...] | "  \
  "min_max_norm[:MIN[:MAX[:RATE]]][:axis=A,B,...]"

#define TC_CONSTRAINT_MAX_FIELDS 6


static int tc_constraint_lookup(const char *name) {
  /* Keras' spellings, by kind */
  static const char *const aliases[TC_CONSTRAINT_COUNT] = {
      [TC_CONSTRAINT_NON_NEG] = "nonneg", [TC_CONSTRAINT_MAX_NORM] = "maxnorm",
      [TC_CONSTRAINT_UNIT_NORM] = "unitnorm", [TC_CONSTRAINT_RADIAL] = "radial_constraint"};
  int k = tc_spec_lookup(name, tc_constraint_names, TC_CONSTRAINT_CALLBACK);
  return k >= 0 ? k : tc_spec_lookup(name, aliases, TC_CONSTRAINT_CALLBACK);
}

/* "0,1,-1" into c->axes; -1 on a malformed or repeated entry or too many. */
static int tc_constraint_parse_axes(const char *list, tc_constraint *c) {
  const char *p = list;
  c->n_axes = 0;
  for (;;) {
    char *end = NULL;
    errno = 0;
    long a = strtol(p, &end, 10);
    if (end == p || errno == ERANGE || a < -TC_MAX_RANK || a >= TC_MAX_RANK ||
        c->n_axes == TC_MAX_RANK || (*end != ',' && *end != '\0') || isspace((unsigned char)*p))
      return -1;
    for (int i = 0; i < c->n_axes; i++)
      if (c->axes[i] == (int)a)
        return -1;
    c->axes[c->n_axes++] = (int)a;
    if (*end == '\0')
      return 0;
    p = end + 1;
  }
}

static int tc_constraint_max_numbers(int kind) {
  return kind == TC_CONSTRAINT_MAX_NORM ? 1 : kind == TC_CONSTRAINT_MIN_MAX_NORM ? 3 : 0;
}

static int tc_constraint_takes_axes(int kind) {
  return kind == TC_CONSTRAINT_MAX_NORM || kind == TC_CONSTRAINT_UNIT_NORM ||
         kind == TC_CONSTRAINT_MIN_MAX_NORM;
}

/* The i-th number of kind: max_norm MAX; min_max_norm MIN, MAX, RATE. */
static float *tc_constraint_slot(tc_constraint *c, int i) {
  if (c->kind == TC_CONSTRAINT_MAX_NORM)
    return &c->max_value;
  return i == 0 ? &c->min_value : i == 1 ? &c->max_value : &c->rate;
}

static tc_status tc_constraint_parse_numbers(const tc_spec *sp, int count, tc_constraint *c) {
  int max = tc_constraint_max_numbers(c->kind);
  const char *name = tc_constraint_names[c->kind];
  if (count > max)
    return tc_spec_error(sp, "%s takes at most %d number(s), got %d", name, max, count);
  for (int i = 0; i < count; i++) {
    char label[64];
    snprintf(label, sizeof label, "a number >= 0 for argument %d of %s", i + 1, name);
    TC_TRY(tc_spec_number(sp, sp->f[1 + i], label, 0.0, tc_constraint_slot(c, i)));
  }
  return TC_OK;
}

tc_constraint tc_constraint_make(tc_constraint_kind kind) {
  tc_constraint c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  c.max_value = kind == TC_CONSTRAINT_MAX_NORM ? 2.0f : 1.0f;
  c.min_value = 0.0f;
  c.rate = 1.0f;
  return c;
}

tc_status tc_constraint_parse(const char *s, tc_constraint *out) {
  if (s == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_constraint_parse: %s is NULL",
                        s == NULL ? "the string" : "out");
  tc_spec sp;
  TC_TRY(tc_spec_split(&sp, "constraint", s, TC_CONSTRAINT_MAX_FIELDS, TC_CONSTRAINT_GRAMMAR));
  int kind = tc_constraint_lookup(sp.f[0]);
  if (kind < 0)
    return tc_spec_error(&sp, "unknown name \"%s\"", sp.f[0]);
  tc_constraint c = tc_constraint_make((tc_constraint_kind)kind);
  for (int i = 1; i < sp.n - 1; i++)
    if (strncmp(sp.f[i], "axis=", 5) == 0)
      return tc_spec_error(&sp, "axis=... must come last");
  int count = sp.n - 1;
  const char *last = sp.f[sp.n - 1];
  if (sp.n > 1 && strncmp(last, "axis=", 5) == 0) {
    if (!tc_constraint_takes_axes(kind))
      return tc_spec_error(&sp, "%s takes no axis", sp.f[0]);
    if (tc_constraint_parse_axes(last + 5, &c) != 0)
      return tc_spec_error(&sp, "bad axis list \"%s\"; expected distinct integers in -%d..%d "
                           "separated by commas, e.g. axis=0,1,2", last + 5, TC_MAX_RANK,
                           TC_MAX_RANK - 1);
    count--;
  }
  TC_TRY(tc_constraint_parse_numbers(&sp, count, &c));
  if (kind == TC_CONSTRAINT_MIN_MAX_NORM && c.min_value > c.max_value)
    return tc_spec_error(&sp, "MIN %g exceeds MAX %g", (double)c.min_value, (double)c.max_value);
  if (kind == TC_CONSTRAINT_MIN_MAX_NORM && c.rate > 1)
    return tc_spec_error(&sp, "RATE must lie in [0, 1], got %g", (double)c.rate);
  *out = c;
  return TC_OK;
}
