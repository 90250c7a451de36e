/* update.c — gradient clipping and the update rules of FORMAT.md §7.2. */
#include <math.h>

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

static void tc_update_sgd(const tc_optim_config *c, float *w, const float *g, float *a,
                          int64_t n) {
  if (a == NULL) {
    for (int64_t i = 0; i < n; i++)
      w[i] -= c->lr * g[i];
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    a[i] = c->momentum * a[i] + g[i];
    w[i] -= c->nesterov ? c->lr * (g[i] + c->momentum * a[i]) : c->lr * a[i];
  }
}

static void tc_update_adam(const tc_optim_config *c, int64_t t, float *w, const float *g,
                           float *const *slots, int64_t n) {
  float *m = slots[0], *v = slots[1];
  float *vhat = c->amsgrad ? slots[2] : NULL;
  double bc1 = 1.0 - pow(c->beta1, (double)t), bc2 = 1.0 - pow(c->beta2, (double)t);
  /* hat: η_t = η·sqrt(bc2)/bc1 and ε as given; corrected ≡ hat with ε/sqrt(bc2). */
  float lr_t = (float)(c->lr * sqrt(bc2) / bc1);
  float eps = c->epsilon_mode == TC_ADAM_EPSILON_HAT ? c->epsilon
                                                     : (float)(c->epsilon * sqrt(bc2));
  for (int64_t i = 0; i < n; i++) {
    m[i] = c->beta1 * m[i] + (1.0f - c->beta1) * g[i];
    v[i] = c->beta2 * v[i] + (1.0f - c->beta2) * g[i] * g[i];
    float denom_v = v[i];
    if (vhat) {
      vhat[i] = fmaxf(vhat[i], v[i]);
      denom_v = vhat[i];
    }
    w[i] -= lr_t * m[i] / (sqrtf(denom_v) + eps);
  }
}

static void tc_update_rmsprop(const tc_optim_config *c, float *w, const float *g,
                              float *const *slots, int64_t n) {
  float *ms = slots[0], *mom = slots[1];
  float *mg = c->centered ? slots[2] : NULL;
  for (int64_t i = 0; i < n; i++) {
    ms[i] = c->rho * ms[i] + (1.0f - c->rho) * g[i] * g[i];
    float denom = ms[i];
    if (mg) {
      mg[i] = c->rho * mg[i] + (1.0f - c->rho) * g[i];
      denom -= mg[i] * mg[i];
    }
    mom[i] = c->momentum * mom[i] + c->lr * g[i] / sqrtf(denom + c->epsilon);
    w[i] -= mom[i];
  }
}

static void tc_update_adagrad(const tc_optim_config *c, float *w, const float *g, float *acc,
                              int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    acc[i] += g[i] * g[i];
    w[i] -= c->lr * g[i] / sqrtf(acc[i] + c->epsilon);
  }
}

void tc_optim_update(const tc_optim_config *c, int64_t t, float *w, const float *g,
                     float *const *s, int64_t n) {
  switch (c->kind) {
  case TC_OPTIM_SGD:
    tc_update_sgd(c, w, g, c->momentum != 0.0f ? s[0] : NULL, n);
    break;
  case TC_OPTIM_ADAM:
    tc_update_adam(c, t, w, g, s, n);
    break;
  case TC_OPTIM_RMSPROP:
    tc_update_rmsprop(c, w, g, s, n);
    break;
  case TC_OPTIM_ADAGRAD:
    tc_update_adagrad(c, w, g, s[0], n);
    break;
  default:
    break;
  }
}
