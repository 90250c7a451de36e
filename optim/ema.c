/* ema.c — the shadow copies of ema.h. */
#include "optim/ema.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct tc_ema_var {
  tc_param *param;
  tc_tensor *shadow;
} tc_ema_var;

struct tc_ema {
  float decay;
  tc_ema_var *vars;
  int n;
};

tc_status tc_ema_create(tc_ema **out, tc_model *model, const char *prefix, float decay) {
  if (out == NULL || model == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_ema_create: NULL argument");
  *out = NULL;
  if (!(decay >= 0.0f && decay < 1.0f))
    return tc_set_error(TC_ERR_INVALID_ARG, "ema: decay must lie in [0, 1), got %g",
                        (double)decay);
  int n = tc_model_param_count(model);
  tc_ema *e = calloc(1, sizeof *e);
  tc_ema_var *vars = calloc((size_t)(n > 0 ? n : 1), sizeof *vars);
  if (e == NULL || vars == NULL) {
    free(e);
    free(vars);
    return tc_set_error(TC_ERR_NOMEM, "ema: out of memory for %d variables", n);
  }
  e->decay = decay;
  e->vars = vars;
  for (int i = 0; i < n; i++) {
    tc_param *p = tc_model_param_at(model, i);
    if (p->role != TC_PARAM_WEIGHT || (prefix && strncmp(p->name, prefix, strlen(prefix)) != 0))
      continue;
    tc_ema_var *v = &e->vars[e->n++];
    v->param = p;
    tc_status s = tc_tensor_create(&v->shadow, p->value->rank, p->value->shape);
    if (s != TC_OK) {
      tc_ema_free(e);
      tc_error_prefix("ema shadow of '%s'", p->name);
      return s;
    }
    memcpy(v->shadow->data, p->value->data, (size_t)p->value->size * sizeof(float));
  }
  *out = e;
  return TC_OK;
}

void tc_ema_free(tc_ema *e) {
  if (e == NULL)
    return;
  for (int i = 0; i < e->n; i++)
    tc_tensor_free(e->vars[i].shadow);
  free(e->vars);
  free(e);
}

float tc_ema_decay(const tc_ema *e) { return e ? e->decay : 0.0f; }

void tc_ema_update(tc_ema *e) {
  if (e == NULL)
    return;
  float k = 1.0f - e->decay; /* TF: shadow -= (1 - decay) * (shadow - variable) */
  for (int i = 0; i < e->n; i++) {
    float *s = e->vars[i].shadow->data;
    const float *w = e->vars[i].param->value->data;
    for (int64_t j = 0; j < e->vars[i].shadow->size; j++)
      s[j] -= k * (s[j] - w[j]);
  }
}

/* Values are exchanged, not pointers: layers and plans hold the variables' data. */
void tc_ema_swap(tc_ema *e) {
  if (e == NULL)
    return;
  for (int i = 0; i < e->n; i++) {
    float *s = e->vars[i].shadow->data, *w = e->vars[i].param->value->data;
    for (int64_t j = 0; j < e->vars[i].shadow->size; j++) {
      float t = s[j];
      s[j] = w[j];
      w[j] = t;
    }
  }
}

int tc_ema_count(const tc_ema *e) { return e ? e->n : 0; }

tc_tensor *tc_ema_at(const tc_ema *e, int i, const char **name) {
  if (e == NULL || i < 0 || i >= e->n)
    return NULL;
  if (name)
    *name = e->vars[i].param->name;
  return e->vars[i].shadow;
}
