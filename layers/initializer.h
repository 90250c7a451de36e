/* initializer.h — Keras/TF initializers with TF's fan rule, reproducible from a seed.
 *
 * Fans for a tensor shaped (d0, ..., d(r-2), d(r-1)) (docs/semantics.md, "Initializers"):
 *   receptive = d0*...*d(r-3);  fan_in = d(r-2)*receptive;  fan_out = d(r-1)*receptive
 *   rank 2: fan_in = d0, fan_out = d1; rank 1: both d0.
 * For a Conv2DTranspose kernel (kh, kw, F, C) that is fan_in = F*kh*kw, fan_out = C*kh*kw.
 * Values are drawn from a Philox stream (seed, stream), element by element in row-major
 * order, so the same seed and stream give the same tensor on any machine and thread count.
 *
 * Defaults (tc_initializer_make) follow Keras / TF2, not TF1's tf.initializers where the
 * two differ: random_uniform is U(-0.05, 0.05) (TF1: U(0, 1)), random_normal and
 * truncated_normal have mean 0, stddev 0.05 (TF1: stddev 1). Name a value to get TF1's:
 * "random_uniform:0:1", "truncated_normal:0:1". variance_scaling defaults to scale 1,
 * fan_in, truncated_normal; orthogonal to gain 1; constant to 0.
 *   truncated normal: N(mean, sd) re-drawn while more than 2 sd from the mean; for
 *     variance_scaling sd = sqrt(scale') / 0.87962566103423978 (docs/semantics.md, "Initializers").
 *   orthogonal: as TF, Q of the QR of a normal matrix of shape (max(r, c), min(r, c)),
 *     r = prod(shape[:-1]), c = shape[-1], with diag(R) made positive, transposed when
 *     r < c, times gain; the matrix is drawn row-major from the stream. Needs rank >= 2.
 *   icnr (Aitken et al. 2017, "Checkerboard artifact free sub-pixel convolution"): for a
 *     Conv2DTranspose kernel (kh, kw, F, C) with strides (sh, sw), the base initializer
 *     fills a (kh/sh, kw/sw, F, C) kernel W (its own fans) and the kernel is W resized by
 *     nearest neighbour, K[i, j] = W[i / sh, j / sw]: every one of the sh*sw sub-kernels
 *     (the taps that reach one output phase) is W, so a constant input gives an output
 *     without a checkerboard. Needs icnr_stride set (only the conv2d_transpose layer sets
 *     it) and kh, kw divisible by the strides; checked at create. */
#ifndef TC_INITIALIZER_H
#define TC_INITIALIZER_H

#include <stdint.h>

#include "core/rng.h"
#include "core/tensor.h"

typedef enum tc_init_kind {
  TC_INIT_DEFAULT = 0,       /* the layer's default: glorot_uniform kernel, zeros bias */
  TC_INIT_ZEROS,
  TC_INIT_ONES,
  TC_INIT_CONSTANT,          /* value */
  TC_INIT_RANDOM_UNIFORM,    /* minval, maxval (default Keras -0.05, 0.05; TF1 0, 1) */
  TC_INIT_RANDOM_NORMAL,     /* mean, stddev (default 0, 0.05; TF1 stddev 1) */
  TC_INIT_TRUNCATED_NORMAL,  /* mean, stddev (default 0, 0.05); re-draws beyond 2 stddev */
  TC_INIT_GLOROT_UNIFORM,    /* glorot..lecun: fixed variance_scaling (docs/semantics.md) */
  TC_INIT_GLOROT_NORMAL,
  TC_INIT_HE_UNIFORM,
  TC_INIT_HE_NORMAL,
  TC_INIT_LECUN_UNIFORM,
  TC_INIT_LECUN_NORMAL,
  TC_INIT_VARIANCE_SCALING,  /* scale, mode, distribution */
  TC_INIT_ORTHOGONAL,        /* gain */
  TC_INIT_CALLBACK,          /* fn, ctx */
  TC_INIT_COUNT
} tc_init_kind;

typedef enum tc_fan_mode { TC_FAN_IN = 0, TC_FAN_OUT, TC_FAN_AVG } tc_fan_mode;
typedef enum tc_distribution {
  TC_DIST_TRUNCATED_NORMAL = 0, /* the variance_scaling default */
  TC_DIST_UNTRUNCATED_NORMAL,
  TC_DIST_UNIFORM
} tc_distribution;

/* A user initializer: fill t->data. rng is a stream reserved for this tensor. */
typedef tc_status (*tc_init_fn)(tc_tensor *t, tc_rng *rng, void *ctx);

typedef struct tc_initializer {
  tc_init_kind kind;
  float value;            /* constant */
  float minval, maxval;   /* random_uniform */
  float mean, stddev;     /* random_normal, truncated_normal */
  float scale;            /* variance_scaling */
  tc_fan_mode mode;
  tc_distribution distribution;
  float gain;             /* orthogonal */
  tc_init_fn fn;          /* callback */
  void *ctx;
  int icnr;               /* 1: ICNR over the kind above (layers/initializer.c) */
  int icnr_stride[2];     /* icnr: the strides, set by the conv2d_transpose layer */
} tc_initializer;

/* An initializer of this kind with TF's default arguments. */
tc_initializer tc_initializer_make(tc_init_kind kind);

/* Fills t from the Philox stream (seed, stream). TC_INIT_DEFAULT must have been resolved
 * by the caller (the layer). The named kinds glorot..lecun ignore scale/mode/distribution.
 * Errors: TC_ERR_INVALID_ARG for bad arguments (negative stddev, minval > maxval, scale
 * <= 0, callback without fn, TC_INIT_DEFAULT), TC_ERR_SHAPE for orthogonal on rank < 2,
 * TC_ERR_NOMEM (orthogonal's scratch matrix), or whatever a callback returns. */
tc_status tc_initializer_apply(const tc_initializer *init, tc_tensor *t, uint64_t seed,
                               uint64_t stream);

/* Whether init can fill a tensor of this rank and shape, without drawing anything: the
 * kind is known (and not TC_INIT_DEFAULT), every number is finite and in range, the
 * enums are valid, a callback has its function, orthogonal gets rank >= 2. Layers call
 * it at create time, before any variable exists; apply calls it too. Errors as apply's. */
tc_status tc_initializer_check(const tc_initializer *init, int rank, const int64_t *shape);

/* The fans of the TF rule for a tensor of this rank and shape (rank 0: both 1). Either
 * out-pointer may be NULL. */
void tc_compute_fans(int rank, const int64_t *shape, double *fan_in, double *fan_out);

/* Parses "he_normal", "zeros", "constant:0.1", "random_uniform:-0.05:0.05",
 * "random_normal:0:0.02", "truncated_normal:0:0.02",
 * "variance_scaling:2:fan_in:truncated_normal", "orthogonal:1" (case-insensitive; trailing
 * arguments may be left out and take the defaults above; grammar in docs/strings.md).
 * Errors: TC_ERR_INVALID_ARG with the string quoted and what was expected; *out is then
 * unchanged. "default" and "callback" are not parseable names. */
tc_status tc_initializer_parse(const char *s, tc_initializer *out);
/* The name of a kind ("he_normal"); "unknown" out of range. Static storage. */
const char *tc_initializer_name(tc_init_kind kind);

#endif
