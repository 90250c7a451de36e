/* initializer.c — TF/Keras initializers drawn from a Philox stream (docs/semantics.md). */
#include "layers/initializer.h"

#include "core/spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ICNR (Aitken et al. 2017) wraps another kind: the base draws one sub-kernel, which
 * nearest-neighbour resizing copies to every output phase; defined at the end of the file,
 * since it calls back into the check and apply of its base. */
static tc_status tc_icnr_check(const tc_initializer *in, int rank, const int64_t *shape);
static tc_status tc_icnr_apply(const tc_initializer *in, tc_tensor *t, uint64_t seed,
                               uint64_t stream);

/* Standard deviation of a unit normal truncated to [-2, 2] (TF's correction). */
#define TC_TRUNC_STD 0.87962566103423978

static const char *const tc_init_names[TC_INIT_COUNT] = {
    "default",        "zeros",          "ones",           "constant",
    "random_uniform", "random_normal",  "truncated_normal", "glorot_uniform",
    "glorot_normal",  "he_uniform",     "he_normal",      "lecun_uniform",
    "lecun_normal",   "variance_scaling", "orthogonal",   "callback",
};

const char *tc_initializer_name(tc_init_kind kind) {
  if ((int)kind < 0 || kind >= TC_INIT_COUNT)
    return "unknown";
  return tc_init_names[kind];
}

/* The variance_scaling parameters behind the named Keras initializers (docs/semantics.md). */
static void tc_init_named_scaling(tc_initializer *in) {
  static const struct {
    float scale;
    tc_fan_mode mode;
    tc_distribution dist;
  } named[] = {
      [TC_INIT_GLOROT_UNIFORM] = {1, TC_FAN_AVG, TC_DIST_UNIFORM},
      [TC_INIT_GLOROT_NORMAL] = {1, TC_FAN_AVG, TC_DIST_TRUNCATED_NORMAL},
      [TC_INIT_HE_UNIFORM] = {2, TC_FAN_IN, TC_DIST_UNIFORM},
      [TC_INIT_HE_NORMAL] = {2, TC_FAN_IN, TC_DIST_TRUNCATED_NORMAL},
      [TC_INIT_LECUN_UNIFORM] = {1, TC_FAN_IN, TC_DIST_UNIFORM},
      [TC_INIT_LECUN_NORMAL] = {1, TC_FAN_IN, TC_DIST_TRUNCATED_NORMAL},
  };
  if (in->kind < TC_INIT_GLOROT_UNIFORM || in->kind > TC_INIT_LECUN_NORMAL)
    return;
  in->scale = named[in->kind].scale;
  in->mode = named[in->kind].mode;
  in->distribution = named[in->kind].dist;
}

tc_initializer tc_initializer_make(tc_init_kind kind) {
  tc_initializer in;
  memset(&in, 0, sizeof in);
  in.kind = kind;
  in.minval = -0.05f; /* Keras/TF2 defaults; see the header for TF1's */
  in.maxval = 0.05f;
  in.stddev = 0.05f;
  in.scale = 1.0f;
  in.mode = TC_FAN_IN;
  in.distribution = TC_DIST_TRUNCATED_NORMAL;
  in.gain = 1.0f;
  tc_init_named_scaling(&in);
  return in;
}

void tc_compute_fans(int rank, const int64_t *shape, double *fan_in, double *fan_out) {
  double in = 1, out = 1;
  if (rank == 1) {
    in = out = (double)shape[0];
  } else if (rank == 2) {
    in = (double)shape[0];
    out = (double)shape[1];
  } else if (rank > 2) {
    double receptive = 1;
    for (int i = 0; i < rank - 2; i++)
      receptive *= (double)shape[i];
    in = (double)shape[rank - 2] * receptive;
    out = (double)shape[rank - 1] * receptive;
  }
  if (fan_in)
    *fan_in = in;
  if (fan_out)
    *fan_out = out;
}

/* ---- drawing ------------------------------------------------------------------------- */

/* A unit normal re-drawn until it lies within [-2, 2], as tf.random.truncated_normal. */
static double tc_truncated_unit(tc_rng *rng) {
  for (;;) {
    double x = tc_rng_normal(rng);
    if (fabs(x) <= 2.0)
      return x;
  }
}

static void tc_fill_uniform(tc_tensor *t, tc_rng *rng, double lo, double hi) {
  for (int64_t i = 0; i < t->size; i++)
    t->data[i] = (float)(lo + (hi - lo) * (double)tc_rng_uniform(rng));
}

static void tc_fill_normal(tc_tensor *t, tc_rng *rng, double mean, double sd, int truncated) {
  for (int64_t i = 0; i < t->size; i++) {
    double x = truncated ? tc_truncated_unit(rng) : tc_rng_normal(rng);
    t->data[i] = (float)(mean + sd * x);
  }
}

static tc_status tc_fill_scaling(const tc_initializer *in, tc_tensor *t, tc_rng *rng) {
  double fan_in, fan_out;
  tc_compute_fans(t->rank, t->shape, &fan_in, &fan_out);
  double fan = in->mode == TC_FAN_IN    ? fan_in
               : in->mode == TC_FAN_OUT ? fan_out
                                        : 0.5 * (fan_in + fan_out);
  double s = (double)in->scale / fmax(1.0, fan);
  switch (in->distribution) {
  case TC_DIST_UNIFORM: {
    double limit = sqrt(3.0 * s);
    tc_fill_uniform(t, rng, -limit, limit);
    return TC_OK;
  }
  case TC_DIST_TRUNCATED_NORMAL:
    tc_fill_normal(t, rng, 0.0, sqrt(s) / TC_TRUNC_STD, 1);
    return TC_OK;
  default: /* TC_DIST_UNTRUNCATED_NORMAL; tc_initializer_check refused the others */
    tc_fill_normal(t, rng, 0.0, sqrt(s), 0);
    return TC_OK;
  }
}

/* Gram-Schmidt, applied twice per column ("twice is enough") for orthogonality to
 * rounding. a is rows x cols (rows >= cols), row-major; on return it holds Q.
 * R's diagonal is each column's norm, so it is positive: Q already equals TF's
 * q * sign(diag(r)) for the same a. Returns 0 if a column is degenerate. */
static int tc_orthonormalize(double *a, int64_t rows, int64_t cols) {
  for (int64_t j = 0; j < cols; j++) {
    for (int pass = 0; pass < 2; pass++)
      for (int64_t k = 0; k < j; k++) {
        double dot = 0;
        for (int64_t i = 0; i < rows; i++)
          dot += a[i * cols + k] * a[i * cols + j];
        for (int64_t i = 0; i < rows; i++)
          a[i * cols + j] -= dot * a[i * cols + k];
      }
    double norm = 0;
    for (int64_t i = 0; i < rows; i++)
      norm += a[i * cols + j] * a[i * cols + j];
    norm = sqrt(norm);
    if (!(norm > 0))
      return 0;
    for (int64_t i = 0; i < rows; i++)
      a[i * cols + j] /= norm;
  }
  return 1;
}

/* TF's Orthogonal: a normal matrix of shape (max(r, c), min(r, c)) with r = prod(shape[:-1])
 * and c = shape[-1], its Q (transposed when r < c), times gain. */
static tc_status tc_fill_orthogonal(const tc_initializer *in, tc_tensor *t, tc_rng *rng) {
  int64_t c = t->shape[t->rank - 1];
  int64_t r = t->size / c;
  int64_t big = r > c ? r : c, small = r > c ? c : r;
  double *a = malloc((size_t)big * (size_t)small * sizeof *a);
  if (a == NULL)
    return tc_set_error(TC_ERR_NOMEM, "orthogonal: cannot allocate a %lld x %lld matrix",
                        (long long)big, (long long)small);
  for (int64_t i = 0; i < big * small; i++)
    a[i] = tc_rng_normal(rng);
  if (!tc_orthonormalize(a, big, small)) {
    free(a);
    return tc_set_error(TC_ERR_STATE, "orthogonal: the random matrix was rank-deficient");
  }
  for (int64_t i = 0; i < r; i++)
    for (int64_t j = 0; j < c; j++) {
      double q = r >= c ? a[i * small + j] : a[j * small + i];
      t->data[i * c + j] = (float)((double)in->gain * q);
    }
  free(a);
  return TC_OK;
}

/* ---- checking ------------------------------------------------------------------------ */

static tc_status tc_check_moments(const tc_initializer *in) {
  if (!isfinite(in->mean) || !isfinite(in->stddev) || in->stddev < 0)
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "%s: stddev must be a finite number >= 0 and mean finite, got "
                        "mean %g, stddev %g",
                        tc_init_names[in->kind], (double)in->mean, (double)in->stddev);
  return TC_OK;
}

static tc_status tc_check_scaling(const tc_initializer *in) {
  if (!(in->scale > 0.0f) || !isfinite(in->scale))
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "variance_scaling: scale must be a positive number, got %g",
                        (double)in->scale);
  if ((int)in->mode < 0 || in->mode > TC_FAN_AVG)
    return tc_set_error(TC_ERR_INVALID_ARG, "variance_scaling: unknown fan mode %d",
                        (int)in->mode);
  if ((int)in->distribution < 0 || in->distribution > TC_DIST_UNIFORM)
    return tc_set_error(TC_ERR_INVALID_ARG, "variance_scaling: unknown distribution %d",
                        (int)in->distribution);
  return TC_OK;
}

tc_status tc_initializer_check(const tc_initializer *in, int rank, const int64_t *shape) {
  (void)shape; /* only the rank matters today (orthogonal); kept for shape rules to come */
  if (in == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_initializer_check: the initializer is NULL");
  if (in->icnr)
    return tc_icnr_check(in, rank, shape);
  if ((int)in->kind < 0 || in->kind >= TC_INIT_COUNT)
    return tc_set_error(TC_ERR_INVALID_ARG, "unknown initializer kind %d (valid: 0..%d)",
                        (int)in->kind, TC_INIT_COUNT - 1);
  switch (in->kind) {
  case TC_INIT_DEFAULT:
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "initializer 'default' must be resolved by the layer before use");
  case TC_INIT_CALLBACK:
    if (in->fn == NULL)
      return tc_set_error(TC_ERR_INVALID_ARG, "callback initializer has no function");
    return TC_OK;
  case TC_INIT_CONSTANT:
    if (!isfinite(in->value))
      return tc_set_error(TC_ERR_INVALID_ARG, "constant: value must be finite, got %g",
                          (double)in->value);
    return TC_OK;
  case TC_INIT_RANDOM_UNIFORM:
    if (!isfinite(in->minval) || !isfinite(in->maxval) || in->minval > in->maxval)
      return tc_set_error(TC_ERR_INVALID_ARG,
                          "random_uniform: need finite minval <= maxval, got %g and %g",
                          (double)in->minval, (double)in->maxval);
    return TC_OK;
  case TC_INIT_RANDOM_NORMAL:
  case TC_INIT_TRUNCATED_NORMAL: return tc_check_moments(in);
  case TC_INIT_ORTHOGONAL:
    if (!isfinite(in->gain))
      return tc_set_error(TC_ERR_INVALID_ARG, "orthogonal: gain must be finite, got %g",
                          (double)in->gain);
    if (rank < 2)
      return tc_set_error(TC_ERR_SHAPE,
                          "orthogonal: the tensor must be at least 2-d, got rank %d", rank);
    return TC_OK;
  case TC_INIT_VARIANCE_SCALING: return tc_check_scaling(in);
  default: return TC_OK; /* zeros, ones and the named scalings fix their parameters */
  }
}

/* ---- apply --------------------------------------------------------------------------- */

static tc_status tc_init_random(const tc_initializer *in, tc_tensor *t, tc_rng *rng) {
  switch (in->kind) {
  case TC_INIT_RANDOM_UNIFORM:
    tc_fill_uniform(t, rng, in->minval, in->maxval);
    return TC_OK;
  case TC_INIT_RANDOM_NORMAL:
  case TC_INIT_TRUNCATED_NORMAL:
    tc_fill_normal(t, rng, in->mean, in->stddev, in->kind == TC_INIT_TRUNCATED_NORMAL);
    return TC_OK;
  case TC_INIT_ORTHOGONAL: return tc_fill_orthogonal(in, t, rng);
  default: return tc_fill_scaling(in, t, rng);
  }
}

tc_status tc_initializer_apply(const tc_initializer *init, tc_tensor *t, uint64_t seed,
                               uint64_t stream) {
  if (init == NULL || t == NULL || t->data == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_initializer_apply: %s is NULL",
                        init == NULL ? "the initializer" : "the tensor");
  if (init->icnr)
    return tc_icnr_apply(init, t, seed, stream);
  TC_TRY(tc_initializer_check(init, t->rank, t->shape));
  tc_rng rng;
  tc_rng_init(&rng, seed, stream);
  switch (init->kind) {
  case TC_INIT_ZEROS: tc_tensor_fill(t, 0.0f); return TC_OK;
  case TC_INIT_ONES: tc_tensor_fill(t, 1.0f); return TC_OK;
  case TC_INIT_CONSTANT: tc_tensor_fill(t, init->value); return TC_OK;
  case TC_INIT_CALLBACK: return init->fn(t, &rng, init->ctx);
  default: break;
  }
  if (init->kind >= TC_INIT_GLOROT_UNIFORM && init->kind <= TC_INIT_LECUN_NORMAL) {
    tc_initializer named = *init;
    tc_init_named_scaling(&named); /* the names fix their parameters */
    return tc_init_random(&named, t, &rng);
  }
  return tc_init_random(init, t, &rng);
}

/* ---- parsing ------------------------------------------------------------------------- */

#define TC_INIT_GRAMMAR                                                                     \
  "zeros | ones | constant[:VALUE] | random_uniform[:MIN[:MAX]] | "                         \
  "random_normal[:MEAN[:STDDEV]] | truncated_normal[:MEAN[:STDDEV]] | glorot_uniform | "    \
  "glorot_normal | he_uniform | he_normal | lecun_uniform | lecun_normal | "                \
  "variance_scaling[:SCALE[:fan_in|fan_out|fan_avg[:truncated_normal|untruncated_normal|"   \
  "normal|uniform]]] | orthogonal[:GAIN]"

#define TC_INIT_MAX_FIELDS 4 /* variance_scaling:SCALE:MODE:DISTRIBUTION */

/* How many numeric arguments each kind takes (at most); variance_scaling's words are
 * handled apart. */
static int tc_init_max_numbers(int kind) {
  switch (kind) {
  case TC_INIT_CONSTANT:
  case TC_INIT_ORTHOGONAL: return 1;
  case TC_INIT_RANDOM_UNIFORM:
  case TC_INIT_RANDOM_NORMAL:
  case TC_INIT_TRUNCATED_NORMAL: return 2;
  default: return 0;
  }
}

static float *tc_init_number_slot(tc_initializer *in, int i) {
  switch (in->kind) {
  case TC_INIT_CONSTANT: return &in->value;
  case TC_INIT_ORTHOGONAL: return &in->gain;
  case TC_INIT_RANDOM_UNIFORM: return i == 0 ? &in->minval : &in->maxval;
  default: return i == 0 ? &in->mean : &in->stddev;
  }
}

static tc_status tc_init_parse_scaling(const tc_spec *sp, tc_initializer *in) {
  static const char *const modes[] = {"fan_in", "fan_out", "fan_avg"};
  /* TF1's "normal" means truncated */
  static const char *const dists[] = {"truncated_normal", "untruncated_normal", "uniform",
                                      "normal"};
  if (sp->n > 1) {
    TC_TRY(tc_spec_number(sp, sp->f[1], "SCALE, a positive number", 0.0, &in->scale));
    if (!(in->scale > 0))
      return tc_spec_error(sp, "SCALE must be a positive number, got \"%s\"", sp->f[1]);
  }
  if (sp->n > 2) {
    int m = tc_spec_lookup(sp->f[2], modes, 3);
    if (m < 0)
      return tc_spec_error(sp, "MODE must be fan_in, fan_out or fan_avg, got \"%s\"", sp->f[2]);
    in->mode = (tc_fan_mode)m;
  }
  if (sp->n > 3) {
    int d = tc_spec_lookup(sp->f[3], dists, 4);
    if (d < 0)
      return tc_spec_error(sp, "DISTRIBUTION must be truncated_normal, untruncated_normal, "
                           "normal or uniform, got \"%s\"", sp->f[3]);
    in->distribution = d == 3 ? TC_DIST_TRUNCATED_NORMAL : (tc_distribution)d;
  }
  return TC_OK;
}

static tc_status tc_init_parse_numbers(const tc_spec *sp, tc_initializer *in) {
  int max = tc_init_max_numbers(in->kind);
  if (sp->n - 1 > max)
    return tc_spec_error(sp, "%s takes at most %d number(s), got %d", sp->f[0], max, sp->n - 1);
  for (int i = 1; i < sp->n; i++) {
    char label[64];
    snprintf(label, sizeof label, "a number for argument %d of %s", i, sp->f[0]);
    TC_TRY(tc_spec_number(sp, sp->f[i], label, -INFINITY, tc_init_number_slot(in, i - 1)));
  }
  if ((in->kind == TC_INIT_RANDOM_NORMAL || in->kind == TC_INIT_TRUNCATED_NORMAL) &&
      in->stddev < 0)
    return tc_spec_error(sp, "STDDEV must be >= 0");
  if (in->kind == TC_INIT_RANDOM_UNIFORM && in->minval > in->maxval)
    return tc_spec_error(sp, "MIN must not exceed MAX");
  return TC_OK;
}

/* "icnr" or "icnr:BASE..." (BASE default glorot_uniform): the base parsed as an initializer. */
static tc_status tc_init_parse_icnr(const char *s, tc_initializer *out) {
  const char *base = s[4] == ':' ? s + 5 : "glorot_uniform";
  tc_initializer in;
  tc_status st = tc_initializer_parse(base, &in);
  if (st != TC_OK) {
    tc_error_prefix("icnr");
    return st;
  }
  if (in.icnr)
    return tc_set_error(TC_ERR_INVALID_ARG, "initializer \"%s\": icnr of icnr", s);
  in.icnr = 1;
  *out = in;
  return TC_OK;
}

tc_status tc_initializer_parse(const char *s, tc_initializer *out) {
  if (s == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_initializer_parse: %s is NULL",
                        s == NULL ? "the string" : "out");
  if (strncasecmp(s, "icnr", 4) == 0 && (s[4] == '\0' || s[4] == ':'))
    return tc_init_parse_icnr(s, out);
  tc_spec sp;
  TC_TRY(tc_spec_split(&sp, "initializer", s, TC_INIT_MAX_FIELDS, TC_INIT_GRAMMAR));
  /* "default" and "callback" cannot be named */
  int kind = tc_spec_lookup(sp.f[0], tc_init_names, TC_INIT_CALLBACK);
  if (kind <= TC_INIT_DEFAULT)
    return tc_spec_error(&sp, "unknown name \"%s\"", sp.f[0]);
  tc_initializer in = tc_initializer_make((tc_init_kind)kind);
  if (kind == TC_INIT_VARIANCE_SCALING)
    TC_TRY(tc_init_parse_scaling(&sp, &in));
  else
    TC_TRY(tc_init_parse_numbers(&sp, &in));
  *out = in;
  return TC_OK;
}

/* ---- ICNR ---- */

static tc_status tc_icnr_check(const tc_initializer *in, int rank, const int64_t *shape) {
  if (in->icnr_stride[0] < 1 || in->icnr_stride[1] < 1)
    return tc_set_error(TC_ERR_INVALID_ARG, "icnr applies only to the kernel of a "
                        "conv2d_transpose layer (it needs the strides)");
  if (rank != 4)
    return tc_set_error(TC_ERR_SHAPE, "icnr: the kernel must be 4-d, got rank %d", rank);
  if (shape[0] % in->icnr_stride[0] != 0 || shape[1] % in->icnr_stride[1] != 0)
    return tc_set_error(TC_ERR_SHAPE, "icnr: kernel %lldx%lld is not divisible by the strides "
                        "%dx%d (each output phase needs kernel/stride taps)",
                        (long long)shape[0], (long long)shape[1], in->icnr_stride[0],
                        in->icnr_stride[1]);
  tc_initializer base = *in;
  base.icnr = 0;
  int64_t small[4] = {shape[0] / in->icnr_stride[0], shape[1] / in->icnr_stride[1], shape[2],
                      shape[3]};
  return tc_initializer_check(&base, 4, small);
}

static tc_status tc_icnr_apply(const tc_initializer *in, tc_tensor *t, uint64_t seed,
                        uint64_t stream) {
  TC_TRY(tc_icnr_check(in, t->rank, t->shape));
  int sh = in->icnr_stride[0], sw = in->icnr_stride[1];
  int64_t small[4] = {t->shape[0] / sh, t->shape[1] / sw, t->shape[2], t->shape[3]};
  tc_tensor *w;
  TC_TRY(tc_tensor_create(&w, 4, small));
  tc_initializer base = *in;
  base.icnr = 0;
  tc_status s = tc_initializer_apply(&base, w, seed, stream);
  int64_t inner = small[2] * small[3]; /* F*C contiguous per tap */
  for (int64_t i = 0; s == TC_OK && i < t->shape[0]; i++)
    for (int64_t j = 0; j < t->shape[1]; j++)
      memcpy(t->data + (i * t->shape[1] + j) * inner,
             w->data + ((i / sh) * small[1] + j / sw) * inner, (size_t)inner * sizeof(float));
  tc_tensor_free(w);
  return s;
}
