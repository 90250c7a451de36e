/* optim_internal.h — the optimizer's state, shared by its files (not public). */
#ifndef TC_OPTIM_INTERNAL_H
#define TC_OPTIM_INTERNAL_H

#include "optim/optimizer.h"

#define TC_OPTIM_MAX_SLOTS 3

typedef struct tc_optim_var {
  tc_param *param;
  float *g;                              /* gradient with regularization, then clipped */
  tc_tensor *slots[TC_OPTIM_MAX_SLOTS];  /* NULL until the variable first trains */
  char slot_names[TC_OPTIM_MAX_SLOTS][TC_NAME_MAX + 16];
} tc_optim_var;

struct tc_optim {
  tc_optim_config cfg;
  tc_optim_var *vars;
  int n_vars;
  int64_t t; /* steps taken */
};

/* Creates v's slots (with their initial values) and gradient buffer if missing. */
tc_status tc_optim_var_prepare(tc_optim *o, tc_optim_var *v);

/* Clips every trainable variable's g per the config (value, norm, global norm). */
void tc_optim_clip(tc_optim *o);

/* Applies the update rule of o->cfg.kind at step o->t to v. */
void tc_optim_update(const tc_optim *o, tc_optim_var *v);

#endif
