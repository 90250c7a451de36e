/* update.c — gradient clipping and the update rules of docs/semantics.md, "The training step". */
#include <math.h>

#include "core/ukr/ukr.h"
#include "optim/optim_internal.h"

static double tc_sq_norm(const float *g, int64_t n) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; i++)
    acc += (double)g[i] * g[i];
  return acc;
}

static void tc_scale(float *g, int64_t n, double s) {
  for (int64_t i = 0; i < n; i++)
    g[i] = (float)(g[i] * s);
}

/* TF: clip_by_value, clip_by_norm (t * c / max(|t|, c)), clip_by_global_norm. */
void tc_optim_clip(tc_optim *o) {
  const tc_optim_config *c = &o->cfg;
  double global = 0.0;
  for (int i = 0; i < o->n_vars; i++) {
    tc_optim_var *v = &o->vars[i];
    if (!v->fresh)
      continue;
    int64_t n = v->param->value->size;
    if (c->clip_value > 0.0f)
      for (int64_t j = 0; j < n; j++)
        v->g[j] = fminf(fmaxf(v->g[j], -c->clip_value), c->clip_value);
    if (c->clip_norm > 0.0f) {
      double norm = sqrt(tc_sq_norm(v->g, n));
      if (norm > c->clip_norm)
        tc_scale(v->g, n, c->clip_norm / norm);
    }
    global += tc_sq_norm(v->g, n);
  }
  if (c->clip_global_norm <= 0.0f)
    return;
  global = sqrt(global);
  if (global <= c->clip_global_norm)
    return;
  for (int i = 0; i < o->n_vars; i++)
    if (o->vars[i].fresh)
      tc_scale(o->vars[i].g, o->vars[i].param->value->size, c->clip_global_norm / global);
}

/* Every rule reads the old value and slots (w, s) and writes the new ones (w_out, s_out);
 * the same buffers may be given for both. The arithmetic is the one of docs/semantics.md. */
static void tc_update_sgd(const tc_optim_config *c, const float *w, float *w_out,
                          const float *g, const float *a, float *a_out, int64_t n) {
  if (a == NULL) {
    for (int64_t i = 0; i < n; i++)
      w_out[i] = w[i] - c->lr * g[i];
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    float acc = c->momentum * a[i] + g[i];
    a_out[i] = acc;
    w_out[i] = w[i] - (c->nesterov ? c->lr * (g[i] + c->momentum * acc) : c->lr * acc);
  }
}

/* Plain Adam (no amsgrad, no weight decay), the common case: the same expressions as the
 * general loop below, term for term (C11 rounds each to float; no contraction), so the
 * same bits, in the widest ISA the CPU runs (optim/adam_body.h; with AVX2 on Zen 3 the
 * autoencoder's 115k floats take 48-53 us a step, 92-107 in the baseline build). One
 * thread: split over 2 threads (Zen 3, DCGAN, the generator's 1.3M-float dense kernel) it
 * took 0.053-0.058 s per 200 steps against 0.041-0.052 s (baseline build), the loop being
 * bound by memory, not arithmetic. */
static void tc_update_adam_plain(float b1, float b2, float lr_t, float eps, const float *w,
                                 float *w_out, const float *g, const float *const *s,
                                 float *const *s_out, int64_t n) {
  tc_adam_args a = {b1, b2, lr_t, eps, w, g, s[0], s[1], w_out, s_out[0], s_out[1]};
  const tc_ukr_table *t;
  tc_isa isa = tc_ukr_default(&t) == TC_OK ? t->isa : TC_ISA_PORTABLE;
  if (isa == TC_ISA_AVX512)
    tc_adam_plain_avx512(&a, n);
  else if (isa == TC_ISA_AVX2)
    tc_adam_plain_avx2(&a, n);
  else
    tc_adam_plain_portable(&a, n);
}

static void tc_update_adam(const tc_optim_config *c, int64_t t, const float *w, float *w_out,
                           const float *g, const float *const *s, float *const *s_out,
                           int64_t n) {
  double bc1 = 1.0 - pow(c->beta1, (double)t), bc2 = 1.0 - pow(c->beta2, (double)t);
  /* hat: η_t = η·sqrt(bc2)/bc1 and ε as given; corrected ≡ hat with ε/sqrt(bc2). */
  float lr_t = (float)(c->lr * sqrt(bc2) / bc1);
  float eps = c->epsilon_mode == TC_ADAM_EPSILON_HAT ? c->epsilon
                                                     : (float)(c->epsilon * sqrt(bc2));
  /* AdamW (Keras 3 / tf.keras AdamW, _apply_weight_decay): v -= v * weight_decay * lr with
   * the step's (scheduled) lr, before the adam update, which reads the decayed value. */
  float wd = c->kind == TC_OPTIM_ADAMW ? c->lr * c->weight_decay : 0.0f;
  if (!c->amsgrad && wd == 0.0f) {
    tc_update_adam_plain(c->beta1, c->beta2, lr_t, eps, w, w_out, g, s, s_out, n);
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    float w_i = wd != 0.0f ? w[i] - w[i] * wd : w[i];
    float m = c->beta1 * s[0][i] + (1.0f - c->beta1) * g[i];
    float v = c->beta2 * s[1][i] + (1.0f - c->beta2) * g[i] * g[i];
    s_out[0][i] = m;
    s_out[1][i] = v;
    float denom_v = v;
    if (c->amsgrad) {
      denom_v = fmaxf(s[2][i], v);
      s_out[2][i] = denom_v;
    }
    w_out[i] = w_i - lr_t * m / (sqrtf(denom_v) + eps);
  }
}

static void tc_update_rmsprop(const tc_optim_config *c, const float *w, float *w_out,
                              const float *g, const float *const *s, float *const *s_out,
                              int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    float ms = c->rho * s[0][i] + (1.0f - c->rho) * g[i] * g[i];
    s_out[0][i] = ms;
    float denom = ms;
    if (c->centered) {
      float mg = c->rho * s[2][i] + (1.0f - c->rho) * g[i];
      s_out[2][i] = mg;
      denom -= mg * mg;
    }
    float mom = c->momentum * s[1][i] + c->lr * g[i] / sqrtf(denom + c->epsilon);
    s_out[1][i] = mom;
    w_out[i] = w[i] - mom;
  }
}

static void tc_update_adagrad(const tc_optim_config *c, const float *w, float *w_out,
                              const float *g, const float *acc, float *acc_out, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    float a = acc[i] + g[i] * g[i];
    acc_out[i] = a;
    w_out[i] = w[i] - c->lr * g[i] / sqrtf(a + c->epsilon);
  }
}

void tc_optim_update(const tc_optim_config *c, int64_t t, const float *w, float *w_out,
                     const float *g, const float *const *s, float *const *s_out, int64_t n) {
  switch (c->kind) {
  case TC_OPTIM_SGD:
    if (c->momentum != 0.0f)
      tc_update_sgd(c, w, w_out, g, s[0], s_out[0], n);
    else
      tc_update_sgd(c, w, w_out, g, NULL, NULL, n);
    break;
  case TC_OPTIM_ADAM:
  case TC_OPTIM_ADAMW:
    tc_update_adam(c, t, w, w_out, g, s, s_out, n);
    break;
  case TC_OPTIM_RMSPROP:
    tc_update_rmsprop(c, w, w_out, g, s, s_out, n);
    break;
  case TC_OPTIM_ADAGRAD:
    tc_update_adagrad(c, w, w_out, g, s[0], s_out[0], n);
    break;
  default:
    break;
  }
}
