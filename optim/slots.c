/* slots.c — per-variable optimizer state: creation, initial values, lookup by name. */
#include <stdio.h>
#include <string.h>

#include "optim/optim_internal.h"

/* Slot names and initial values per kind; TF1 names them the same way. */
static int tc_slot_layout(const tc_optim_config *c, const char **names, float *init) {
  switch (c->kind) {
  case TC_OPTIM_SGD:
    if (c->momentum == 0.0f)
      return 0;
    names[0] = "momentum";
    init[0] = 0.0f;
    return 1;
  case TC_OPTIM_ADAM:
  case TC_OPTIM_ADAMW:
    names[0] = "m";
    names[1] = "v";
    names[2] = "vhat";
    init[0] = init[1] = init[2] = 0.0f;
    return c->amsgrad ? 3 : 2;
  case TC_OPTIM_RMSPROP:
    names[0] = "rms";
    names[1] = "momentum";
    names[2] = "mg";
    init[0] = c->initial_ms;
    init[1] = init[2] = 0.0f;
    return c->centered ? 3 : 2;
  case TC_OPTIM_ADAGRAD:
    names[0] = "accumulator";
    init[0] = c->initial_accumulator;
    return 1;
  default:
    return 0;
  }
}

int tc_optim_slot_layout_count(const tc_optim *o) {
  const char *names[TC_OPTIM_MAX_SLOTS];
  float init[TC_OPTIM_MAX_SLOTS];
  return tc_slot_layout(&o->cfg, names, init);
}

tc_status tc_optim_var_prepare(tc_optim *o, tc_optim_var *v) {
  tc_tensor *w = v->param->value;
  const char *names[TC_OPTIM_MAX_SLOTS];
  float init[TC_OPTIM_MAX_SLOTS];
  int n = tc_slot_layout(&o->cfg, names, init);
  for (int k = 0; k < n; k++) {
    if (v->slots[k] != NULL)
      continue;
    tc_status s = tc_tensor_create(&v->slots[k], w->rank, w->shape);
    if (s != TC_OK) {
      tc_error_prefix("optimizer slot '%s/%s'", v->param->name, names[k]);
      return s;
    }
    tc_tensor_fill(v->slots[k], init[k]);
    snprintf(v->slot_names[k], sizeof v->slot_names[k], "%s/%s", v->param->name, names[k]);
    v->new_slots |= 1u << k;
  }
  return TC_OK;
}

tc_status tc_optim_ensure_slots(tc_optim *o) {
  if (o == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_optim_ensure_slots: optimizer is NULL");
  for (int i = 0; i < o->n_vars; i++)
    if (o->vars[i].param->trainable)
      TC_TRY(tc_optim_var_prepare(o, &o->vars[i]));
  return TC_OK;
}

int tc_optim_slot_count(const tc_optim *o) {
  int n = 0;
  for (int i = 0; o != NULL && i < o->n_vars; i++)
    for (int k = 0; k < TC_OPTIM_MAX_SLOTS; k++)
      n += o->vars[i].slots[k] != NULL;
  return n;
}

tc_tensor *tc_optim_slot_at(const tc_optim *o, int index, const char **name) {
  for (int i = 0; o != NULL && i < o->n_vars; i++)
    for (int k = 0; k < TC_OPTIM_MAX_SLOTS; k++) {
      if (o->vars[i].slots[k] == NULL)
        continue;
      if (index-- == 0) {
        if (name)
          *name = o->vars[i].slot_names[k];
        return o->vars[i].slots[k];
      }
    }
  return NULL;
}

tc_tensor *tc_optim_find_slot(const tc_optim *o, const char *param, const char *slot) {
  if (o == NULL || param == NULL || slot == NULL) {
    tc_set_error(TC_ERR_INVALID_ARG, "tc_optim_find_slot: %s is NULL",
                 o == NULL ? "the optimizer" : param == NULL ? "the variable name" : "the slot");
    return NULL;
  }
  char want[TC_NAME_MAX + 16];
  snprintf(want, sizeof want, "%s/%s", param, slot);
  for (int i = 0; i < o->n_vars; i++)
    for (int k = 0; k < TC_OPTIM_MAX_SLOTS; k++)
      if (o->vars[i].slots[k] && strcmp(o->vars[i].slot_names[k], want) == 0)
        return o->vars[i].slots[k];
  tc_set_error(TC_ERR_NOT_FOUND, "optimizer has no slot '%s'", want);
  return NULL;
}
