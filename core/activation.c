/* activation.c — the Keras activations, forward and backward (docs/semantics.md). */
#include "core/activation.h"
#include "core/act_math.h"

#include "core/spec.h"
#include "core/ukr/ukr.h"

#define TC_ACT_PARALLEL_MIN 32768

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TC_SELU_LAMBDA 1.0507009873554805
#define TC_SELU_ALPHA 1.6732632423543772
#define TC_INV_SQRT2 0.70710678118654752440
#define TC_INV_SQRT_2PI 0.39894228040143267794

static const char *const tc_activation_names[TC_ACT_COUNT] = {
    "linear",  "relu",         "relu6", "leaky_relu", "elu",      "selu",
    "sigmoid", "hard_sigmoid", "tanh",  "softplus",   "softsign", "swish",
    "gelu",    "exponential",  "softmax",
};

#define TC_ACTIVATION_LIST                                                                  \
  "linear | none | relu | relu6 | leaky_relu[:ALPHA] | elu[:ALPHA] | selu | sigmoid | "     \
  "hard_sigmoid | tanh | softplus | softsign | swish | silu | gelu | exponential | softmax"

tc_activation tc_activation_make(tc_activation_kind kind) {
  tc_activation a = {kind, 0.0f};
  if (kind == TC_ACT_LEAKY_RELU)
    a.alpha = 0.3f;
  else if (kind == TC_ACT_ELU)
    a.alpha = 1.0f;
  return a;
}

const char *tc_activation_name(tc_activation_kind kind) {
  if ((int)kind < 0 || kind >= TC_ACT_COUNT)
    return "unknown";
  return tc_activation_names[kind];
}

tc_status tc_activation_parse(const char *s, tc_activation *out) {
  if (s == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_activation_parse: %s is NULL",
                        s == NULL ? "the string" : "out");
  tc_spec sp;
  if (tc_spec_split(&sp, "activation", s, 2, TC_ACTIVATION_LIST) != TC_OK)
    return tc_spec_error(&sp, "expected NAME or leaky_relu:ALPHA / elu:ALPHA, one field at most");
  int kind = tc_spec_lookup(sp.f[0], tc_activation_names, TC_ACT_COUNT);
  if (strcmp(sp.f[0], "none") == 0)
    kind = TC_ACT_LINEAR;
  else if (strcmp(sp.f[0], "silu") == 0)
    kind = TC_ACT_SWISH;
  if (kind < 0)
    return tc_spec_error(&sp, "unknown name \"%s\"; expected one of the names below", sp.f[0]);
  tc_activation a = tc_activation_make((tc_activation_kind)kind);
  if (sp.n == 2) {
    if (kind != TC_ACT_LEAKY_RELU && kind != TC_ACT_ELU)
      return tc_spec_error(&sp, "%s takes no argument; only leaky_relu:ALPHA and elu:ALPHA do",
                           tc_activation_names[kind]);
    TC_TRY(tc_spec_number(&sp, sp.f[1], "ALPHA, a finite number >= 0", 0.0, &a.alpha));
  }
  *out = a;
  return TC_OK;
}

/* ---- forward ------------------------------------------------------------------------- */

static inline float tc_softplusf(float z) {
  /* log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for large z, no loss for
   * very negative z. */
  return fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z)));
}

static inline float tc_act_point(tc_activation act, float z) {
  switch (act.kind) {
  case TC_ACT_RELU: return z > 0.0f ? z : (isnan(z) ? z : 0.0f);
  case TC_ACT_RELU6: return isnan(z) ? z : fminf(fmaxf(z, 0.0f), 6.0f);
  case TC_ACT_LEAKY_RELU: return z > 0.0f ? z : act.alpha * z;
  case TC_ACT_ELU: return z > 0.0f ? z : act.alpha * expm1f(z);
  case TC_ACT_SELU:
    return (float)(z > 0.0f ? TC_SELU_LAMBDA * z : TC_SELU_LAMBDA * TC_SELU_ALPHA * expm1(z));
  case TC_ACT_SIGMOID: return tc_sigmoid(z);
  case TC_ACT_HARD_SIGMOID: return isnan(z) ? z : fminf(fmaxf(0.2f * z + 0.5f, 0.0f), 1.0f);
  case TC_ACT_TANH: return tc_tanh(z);
  case TC_ACT_SOFTPLUS: return tc_softplusf(z);
  case TC_ACT_SOFTSIGN: return z / (1.0f + fabsf(z));
  case TC_ACT_SWISH: return z * tc_sigmoid(z);
  case TC_ACT_GELU: return (float)(0.5 * z * (1.0 + erf(z * TC_INV_SQRT2)));
  case TC_ACT_EXPONENTIAL: return expf(z);
  default: return z; /* linear; softmax is handled row-wise */
  }
}

static void tc_softmax_forward(const float *z, float *y, int64_t n, int64_t len) {
#pragma omp parallel for schedule(static) if (n >= TC_ACT_PARALLEL_MIN)
  for (int64_t row = 0; row < n - len + 1; row += len) {
    const float *zr = z + row;
    float *yr = y + row;
    float m = zr[0];
    for (int64_t i = 1; i < len; i++)
      m = fmaxf(m, zr[i]);
    /* Subtracting the row max keeps every exponent <= 0; the sum is at least 1. */
    double sum = 0.0;
    for (int64_t i = 0; i < len; i++) {
      yr[i] = expf(zr[i] - m);
      sum += yr[i];
    }
    float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < len; i++)
      yr[i] *= inv;
  }
}

/* tanh and sigmoid go to the ISA's loops (core/ukr/smooth_body.h: the same bits on every
 * ISA; with AVX2 3.2 -> 1.3 ns an element, Zen 3), in blocks so that threads split
 * them. A TCONV_ISA the table rejects leaves the portable loops (the error surfaces where
 * a kernel plan is made). */
#define TC_ACT_BLOCK 4096
static tc_smooth_fn smooth_fn(tc_activation_kind kind) {
  const tc_ukr_table *t;
  if (tc_ukr_default(&t) != TC_OK)
    t = &tc_ukr_portable;
  return kind == TC_ACT_TANH ? t->tanh : t->sigmoid;
}

void tc_activation_forward(tc_activation act, const float *z, float *y, int64_t n,
                           int64_t axis_len) {
  if (act.kind == TC_ACT_SOFTMAX) {
    TC_ASSERT(axis_len > 0 && n % axis_len == 0);
    tc_softmax_forward(z, y, n, axis_len);
    return;
  }
  if (act.kind == TC_ACT_LINEAR) {
    if (y != z)
      memcpy(y, z, (size_t)n * sizeof *y);
    return;
  }
  /* Elementwise, so any split over threads gives the same bits; small tensors stay serial
   * because a thread team costs more than it saves below about 32k elements. The common
   * kinds get loops of their own (the switch out of the loop, so they vectorize); their
   * expressions are tc_act_point's, so the bits are too. The `if` names `parallel`: unnamed,
   * OpenMP 5 applies it to `simd` too, and below the threshold gcc then ran a scalar loop
   * with a branch per element (the autoencoder's 25k-float relus: 80 us, now 17). */
  if (act.kind == TC_ACT_RELU) {
#pragma omp parallel for simd schedule(static) if (parallel : n >= TC_ACT_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++)
      y[i] = (z[i] > 0.0f || z[i] != z[i]) ? z[i] : 0.0f; /* NaN passes, as isnan(z) ? z */
    return;
  }
  if (act.kind == TC_ACT_LEAKY_RELU) {
    const float alpha = act.alpha;
    /* Both sides computed, then one chosen by a bit mask: written as z > 0 ? z : alpha * z,
     * gcc keeps a branch per element (it will not if-convert the float select), which
     * mispredicts on real data: 165 us for 100352 floats in the DCGAN's discriminator. The
     * same values, so the same bits. gcc vectorizes it unasked; `simd` would fail an
     * optimized clang build (it cannot vectorize the memcpy'd bits, and says so). */
#pragma omp parallel for schedule(static) if (n >= TC_ACT_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
      float v = z[i], scaled = alpha * v;
      uint32_t vb, sb, keep = -(uint32_t)(v > 0.0f); /* all ones where z > 0 (not NaN) */
      memcpy(&vb, &v, sizeof vb);
      memcpy(&sb, &scaled, sizeof sb);
      uint32_t out = (vb & keep) | (sb & ~keep);
      memcpy(&y[i], &out, sizeof out);
    }
    return;
  }
  if (act.kind == TC_ACT_TANH || act.kind == TC_ACT_SIGMOID) {
    tc_smooth_fn run = smooth_fn(act.kind);
#pragma omp parallel for schedule(static) if (n >= TC_ACT_PARALLEL_MIN)
    for (int64_t b = 0; b < n; b += TC_ACT_BLOCK)
      run(z + b, y + b, n - b < TC_ACT_BLOCK ? n - b : TC_ACT_BLOCK);
    return;
  }
#pragma omp parallel for schedule(static) if (n >= TC_ACT_PARALLEL_MIN)
  for (int64_t i = 0; i < n; i++)
    y[i] = tc_act_point(act, z[i]);
}

/* ---- backward ------------------------------------------------------------------------ */

/* act'(z); y = act(z) is used where it is the cheaper, equally exact form. */
static inline float tc_act_deriv(tc_activation act, float z, float y) {
  switch (act.kind) {
  case TC_ACT_RELU: return z > 0.0f ? 1.0f : 0.0f;
  case TC_ACT_RELU6: return (z > 0.0f && z < 6.0f) ? 1.0f : 0.0f;
  case TC_ACT_LEAKY_RELU: return z > 0.0f ? 1.0f : act.alpha;
  case TC_ACT_ELU: return z > 0.0f ? 1.0f : act.alpha * expf(z);
  case TC_ACT_SELU:
    return (float)(z > 0.0f ? TC_SELU_LAMBDA : TC_SELU_LAMBDA * TC_SELU_ALPHA * exp(z));
  case TC_ACT_SIGMOID: return y * (1.0f - y);
  case TC_ACT_HARD_SIGMOID: return (z >= -2.5f && z <= 2.5f) ? 0.2f : 0.0f;
  case TC_ACT_TANH: return 1.0f - y * y;
  case TC_ACT_SOFTPLUS: return tc_sigmoid(z);
  case TC_ACT_SOFTSIGN: {
    float d = 1.0f + fabsf(z);
    return 1.0f / (d * d);
  }
  case TC_ACT_SWISH: {
    float s = tc_sigmoid(z);
    return s + z * s * (1.0f - s);
  }
  case TC_ACT_GELU:
    return (float)(0.5 * (1.0 + erf(z * TC_INV_SQRT2)) +
                   z * exp(-0.5 * (double)z * z) * TC_INV_SQRT_2PI);
  case TC_ACT_EXPONENTIAL: return y;
  default: return 1.0f;
  }
}

static void tc_softmax_backward(const float *y, const float *dy, float *dz, int64_t n,
                                int64_t len) {
#pragma omp parallel for schedule(static) if (n >= TC_ACT_PARALLEL_MIN)
  for (int64_t row = 0; row < n - len + 1; row += len) {
    /* The dot product is taken before any write, so dz may alias dy. */
    double dot = 0.0;
    for (int64_t i = 0; i < len; i++)
      dot += (double)dy[row + i] * y[row + i];
    float d = (float)dot;
    for (int64_t i = 0; i < len; i++)
      dz[row + i] = y[row + i] * (dy[row + i] - d);
  }
}

void tc_activation_backward(tc_activation act, const float *z, const float *y,
                            const float *dy, float *dz, int64_t n, int64_t axis_len) {
  if (act.kind == TC_ACT_SOFTMAX) {
    TC_ASSERT(axis_len > 0 && n % axis_len == 0);
    tc_softmax_backward(y, dy, dz, n, axis_len);
    return;
  }
  if (act.kind == TC_ACT_LINEAR) {
    if (dz != dy)
      memcpy(dz, dy, (size_t)n * sizeof *dz);
    return;
  }
#pragma omp parallel for schedule(static) if (n >= TC_ACT_PARALLEL_MIN)
  for (int64_t i = 0; i < n; i++)
    dz[i] = tc_act_deriv(act, z[i], y[i]) * dy[i];
}

/* dx += act'(z) * dy for sigmoid and tanh, act' from y as tc_act_deriv takes it, in blocks
 * that vectorize (the switch per element kept the loop scalar: 2.8 ns an element). */
static void smooth_deriv_add(tc_activation_kind kind, const float *y, const float *dy,
                             float *dx, int64_t n) {
  if (kind == TC_ACT_TANH)
    for (int64_t i = 0; i < n; i++)
      dx[i] += (1.0f - y[i] * y[i]) * dy[i];
  else
    for (int64_t i = 0; i < n; i++)
      dx[i] += y[i] * (1.0f - y[i]) * dy[i];
}

tc_status tc_activation_backward_add(tc_activation act, const float *z, const float *y,
                                     const float *dy, float *dx, int64_t n) {
  if (act.kind == TC_ACT_SOFTMAX)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_activation_backward_add: softmax needs "
                                            "tc_activation_backward (a row-wise product)");
  /* deriv * dy is rounded to a float before the add (C11, no contraction): the bits of
   * dz = deriv * dy followed by dx += dz. relu and leaky_relu keep tc_act_deriv's forms. */
  if (act.kind == TC_ACT_RELU) {
#pragma omp parallel for simd schedule(static) if (parallel : n >= TC_ACT_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++)
      dx[i] += (z[i] > 0.0f ? 1.0f : 0.0f) * dy[i];
  } else if (act.kind == TC_ACT_LEAKY_RELU) {
    const float alpha = act.alpha;
#pragma omp parallel for simd schedule(static) if (parallel : n >= TC_ACT_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++)
      dx[i] += (z[i] > 0.0f ? 1.0f : alpha) * dy[i];
  } else if (act.kind == TC_ACT_SIGMOID || act.kind == TC_ACT_TANH) {
#pragma omp parallel for schedule(static) if (n >= TC_ACT_PARALLEL_MIN)
    for (int64_t b = 0; b < n; b += TC_ACT_BLOCK)
      smooth_deriv_add(act.kind, y + b, dy + b, dx + b,
                       n - b < TC_ACT_BLOCK ? n - b : TC_ACT_BLOCK);
  } else {
#pragma omp parallel for schedule(static) if (n >= TC_ACT_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++)
      dx[i] += tc_act_deriv(act, z[i], y[i]) * dy[i];
  }
  return TC_OK;
}
