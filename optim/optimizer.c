/* optimizer.c — the step: regularize, clip, update, constrain (docs/semantics.md). */
#include "optim/optimizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim/optim_internal.h"

tc_optim_config tc_optim_config_default(tc_optim_kind kind) {
  tc_optim_config c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  switch (kind) {
  case TC_OPTIM_SGD:
    c.lr = 0.01f;
    break;
  case TC_OPTIM_ADAM:
    c.lr = 0.001f;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.epsilon = 1e-8f;
    c.epsilon_mode = TC_ADAM_EPSILON_HAT;
    break;
  case TC_OPTIM_ADAMW:
    c.lr = 0.001f;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.epsilon = 1e-7f;
    c.epsilon_mode = TC_ADAM_EPSILON_HAT;
    c.weight_decay = 0.004f;
    break;
  case TC_OPTIM_RMSPROP:
    c.lr = 0.001f;
    c.rho = 0.9f;
    c.epsilon = 1e-10f;
    c.initial_ms = 1.0f;
    break;
  case TC_OPTIM_ADAGRAD:
    c.lr = 0.001f;
    c.initial_accumulator = 0.1f;
    c.epsilon = 1e-7f;
    break;
  default:
    break;
  }
  return c;
}

static tc_status tc_config_check(const tc_optim_config *c) {
  if ((int)c->kind < 0 || c->kind >= TC_OPTIM_COUNT)
    return tc_set_error(TC_ERR_INVALID_ARG, "optimizer: unknown kind %d", (int)c->kind);
  if (!(c->lr >= 0.0f) || !isfinite(c->lr))
    return tc_set_error(TC_ERR_INVALID_ARG, "optimizer: learning rate must be >= 0, got %g",
                        (double)c->lr);
  if (c->momentum < 0.0f || c->clip_value < 0.0f || c->clip_norm < 0.0f ||
      c->clip_global_norm < 0.0f)
    return tc_set_error(TC_ERR_INVALID_ARG, "optimizer: momentum and clip values must be >= 0");
  if ((c->kind == TC_OPTIM_ADAM || c->kind == TC_OPTIM_ADAMW) &&
      (c->beta1 < 0.0f || c->beta1 >= 1.0f || c->beta2 < 0.0f || c->beta2 >= 1.0f))
    return tc_set_error(TC_ERR_INVALID_ARG, "adam: beta1 %g and beta2 %g must lie in [0, 1)",
                        (double)c->beta1, (double)c->beta2);
  if (c->kind == TC_OPTIM_RMSPROP && (c->rho < 0.0f || c->rho >= 1.0f))
    return tc_set_error(TC_ERR_INVALID_ARG, "rmsprop: rho %g must lie in [0, 1)", (double)c->rho);
  if (c->kind == TC_OPTIM_ADAMW && !(c->weight_decay >= 0.0f))
    return tc_set_error(TC_ERR_INVALID_ARG, "adamw: weight_decay must be >= 0, got %g",
                        (double)c->weight_decay);
  if (c->epsilon < 0.0f)
    return tc_set_error(TC_ERR_INVALID_ARG, "optimizer: epsilon must be >= 0, got %g",
                        (double)c->epsilon);
  return TC_OK;
}

tc_status tc_optim_create(tc_optim **out, const tc_optim_config *cfg, tc_model *model,
                          const char *prefix) {
  if (out == NULL || cfg == NULL || model == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_optim_create: NULL argument");
  *out = NULL;
  TC_TRY(tc_config_check(cfg));
  int n = tc_model_param_count(model);
  tc_optim *o = calloc(1, sizeof *o);
  tc_optim_var *vars = calloc((size_t)(n > 0 ? n : 1), sizeof *vars);
  if (o == NULL || vars == NULL) {
    free(vars);
    free(o);
    return tc_set_error(TC_ERR_NOMEM, "tc_optim_create: out of memory for %d variables", n);
  }
  o->vars = vars;
  o->cfg = *cfg;
  o->sched = tc_lr_schedule_constant();
  size_t plen = prefix ? strlen(prefix) : 0;
  for (int i = 0; i < n; i++) {
    tc_param *p = tc_model_param_at(model, i);
    if (p->role == TC_PARAM_WEIGHT && (plen == 0 || strncmp(p->name, prefix, plen) == 0))
      o->vars[o->n_vars++].param = p;
  }
  *out = o;
  return TC_OK;
}

void tc_optim_free(tc_optim *o) {
  if (o == NULL)
    return;
  for (int i = 0; i < o->n_vars; i++) {
    for (int k = 0; k < TC_OPTIM_MAX_SLOTS; k++)
      tc_tensor_free(o->vars[i].slots[k]);
    tc_optim_var_free_scratch(&o->vars[i]);
  }
  free(o->vars);
  free(o);
}

/* The accessors do nothing with, or answer 0 for, a NULL optimizer: no status to return. */
void tc_optim_set_lr(tc_optim *o, float lr) {
  if (o != NULL)
    o->cfg.lr = lr;
}
float tc_optim_lr(const tc_optim *o) { return o ? o->cfg.lr : 0.0f; }
int64_t tc_optim_steps(const tc_optim *o) { return o ? o->t : 0; }
void tc_optim_set_steps(tc_optim *o, int64_t t) {
  if (o != NULL)
    o->t = t;
}

tc_status tc_optim_regularization(const tc_optim *o, double *reg_total) {
  if (o == NULL || reg_total == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_optim_regularization: NULL argument");
  double total = 0.0;
  for (int i = 0; i < o->n_vars; i++) {
    double pen = 0.0;
    tc_status s = tc_regularizer_apply(&o->vars[i].param->regularizer, o->vars[i].param->value,
                                       &pen, NULL);
    if (s != TC_OK) {
      tc_error_prefix("regularizer of '%s'", o->vars[i].param->name);
      return s;
    }
    total += pen;
  }
  *reg_total = total;
  return TC_OK;
}

/* Every step is all or nothing (step.c): on an error no variable, slot or counter moved. */
tc_status tc_optim_step(tc_optim *o, double *reg_total) {
  if (o == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_optim_step: optimizer is NULL");
  double reg = 0.0;
  TC_TRY(tc_optim_regularization(o, &reg));
  TC_TRY(tc_optim_apply(o));
  if (reg_total)
    *reg_total = reg;
  return TC_OK;
}
