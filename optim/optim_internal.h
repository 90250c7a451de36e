/* optim_internal.h — the optimizer's state, shared by its files (not public). */
#ifndef TC_OPTIM_INTERNAL_H
#define TC_OPTIM_INTERNAL_H

#include "optim/optimizer.h"

#define TC_OPTIM_MAX_SLOTS 3

typedef struct tc_optim_var {
  tc_param *param;
  float *g;                              /* gradient with regularization, then clipped */
  float *stage;                          /* the step's new value */
  float *stage_slots[TC_OPTIM_MAX_SLOTS]; /* its new slots; swapped into slots[k] on commit */
  int64_t scratch_size;                  /* elements g and the stage buffers were made for */
  tc_tensor *slots[TC_OPTIM_MAX_SLOTS];  /* NULL until the variable first trains */
  char slot_names[TC_OPTIM_MAX_SLOTS][TC_NAME_MAX + 16];
  unsigned new_slots;                    /* bit k: slot k was made by the step now running */
  int fresh;                             /* this step updates it (docs/semantics.md) */
} tc_optim_var;

struct tc_optim {
  tc_optim_config cfg;
  tc_optim_var *vars;
  int n_vars;
  int64_t t; /* steps taken */
  tc_lr_schedule sched; /* multiplies cfg.lr at each step; constant unless set */
};

/* Plain Adam's update of n elements (optim/adam_body.h): m, v the slots, the outputs the
 * step's staged buffers; one function per ISA, the same bits on each. */
typedef struct tc_adam_args {
  float b1, b2, lr_t, eps;
  const float *w, *g, *m, *v;
  float *w_out, *m_out, *v_out;
} tc_adam_args;
void tc_adam_plain_portable(const tc_adam_args *a, int64_t n);
void tc_adam_plain_avx2(const tc_adam_args *a, int64_t n);
void tc_adam_plain_avx512(const tc_adam_args *a, int64_t n);

/* Creates v's slots (with their initial values) if missing, marking them in new_slots. */
tc_status tc_optim_var_prepare(tc_optim *o, tc_optim_var *v);

/* Number of slots a variable has under o's config (all made by tc_optim_var_prepare). */
int tc_optim_slot_layout_count(const tc_optim *o);

/* Clips every fresh variable's g per the config (value, norm, global norm). */
void tc_optim_clip(tc_optim *o);

/* Applies the update rule of c->kind at step t to the n floats of w with gradient g and
 * slot buffers s (as many as the layout has), writing the new value to w_out and the new
 * slots to s_out (which may be w and s). */
void tc_optim_update(const tc_optim_config *c, int64_t t, const float *w, float *w_out,
                     const float *g, const float *const *s, float *const *s_out, int64_t n);

/* Frees v's gradient and stage buffers (step.c). */
void tc_optim_var_free_scratch(tc_optim_var *v);

/* The step itself (step.c): validates and stages every fresh variable, then commits. */
tc_status tc_optim_apply(tc_optim *o);

#endif
