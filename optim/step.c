/* step.c — one optimizer step, all or nothing: every variable the step has is checked and
 * its new value and slots are computed aside (update, then constraint); only when all of
 * them succeeded are they copied in and the step counter advanced (docs/semantics.md). */
#include <string.h>

#include "optim/optim_internal.h"

/* The step has the variables whose gradient comes from the newest backward pass among the
 * optimizer's trainable variables; an older stamp means the last backward did not reach the
 * variable, and its gradient is last step's (TF1: compute_gradients gives None, and
 * apply_gradients skips it). Gradients written by hand (stamp 0 everywhere) all count. */
static void tc_mark_fresh(tc_optim *o) {
  uint64_t newest = 0;
  for (int i = 0; i < o->n_vars; i++) {
    const tc_param *p = o->vars[i].param;
    if (p->trainable && p->value->grad_gen > newest)
      newest = p->value->grad_gen;
  }
  for (int i = 0; i < o->n_vars; i++) {
    const tc_param *p = o->vars[i].param;
    o->vars[i].fresh = p->trainable && p->value->grad_gen == newest;
  }
}

static void tc_scratch_free(tc_optim_var *v) {
  tc_aligned_free(v->g);
  tc_aligned_free(v->stage);
  v->g = v->stage = NULL;
  for (int k = 0; k < TC_OPTIM_MAX_SLOTS; k++) {
    tc_aligned_free(v->stage_slots[k]);
    v->stage_slots[k] = NULL;
  }
}

/* g and the stage buffers, sized for the variable as it is now. */
static tc_status tc_scratch(tc_optim_var *v, int n_slots) {
  int64_t n = v->param->value->size;
  size_t bytes = (size_t)n * sizeof(float);
  if (v->g != NULL && v->scratch_size != n)
    tc_scratch_free(v);
  v->scratch_size = n;
  if (v->g == NULL)
    v->g = tc_aligned_alloc(bytes);
  if (v->stage == NULL)
    v->stage = tc_aligned_alloc(bytes);
  int ok = v->g != NULL && v->stage != NULL;
  for (int k = 0; k < n_slots; k++) {
    if (v->stage_slots[k] == NULL)
      v->stage_slots[k] = tc_aligned_alloc(bytes);
    ok = ok && v->stage_slots[k] != NULL;
  }
  if (!ok)
    return tc_set_error(TC_ERR_NOMEM, "optimizer: no memory for the step of '%s' (%lld floats)",
                        v->param->name, (long long)n);
  return TC_OK;
}

static tc_status tc_check_var(const tc_optim_var *v, int n_slots) {
  const tc_tensor *w = v->param->value;
  if (w->grad == NULL)
    return tc_set_error(TC_ERR_STATE, "variable '%s' has no gradient buffer", v->param->name);
  for (int k = 0; k < n_slots; k++)
    if (!tc_tensor_same_shape(v->slots[k], w)) {
      char a[96], b[96];
      return tc_set_error(TC_ERR_SHAPE, "optimizer slot '%s' has shape %s, its variable %s",
                          v->slot_names[k], tc_shape_str(v->slots[k], a, sizeof a),
                          tc_shape_str(w, b, sizeof b));
    }
  return TC_OK;
}

/* g = dloss/dv + dregularizer/dv. */
static tc_status tc_full_gradient(tc_optim_var *v) {
  tc_tensor *w = v->param->value;
  memcpy(v->g, w->grad, (size_t)w->size * sizeof(float));
  double unused;
  tc_status s = tc_regularizer_apply(&v->param->regularizer, w, &unused, v->g);
  if (s != TC_OK)
    tc_error_prefix("regularizer of '%s'", v->param->name);
  return s;
}

/* The new value (stage) and slots (stage_slots): update at step t, then constrain. */
static tc_status tc_stage_var(const tc_optim_config *c, tc_optim_var *v, int n_slots,
                              int64_t t) {
  tc_tensor *w = v->param->value;
  const float *s[TC_OPTIM_MAX_SLOTS] = {NULL};
  for (int k = 0; k < n_slots; k++)
    s[k] = v->slots[k]->data;
  tc_optim_update(c, t, w->data, v->stage, v->g, s, v->stage_slots, w->size);
  tc_tensor staged = *w; /* the variable's shape over the staged values */
  staged.data = v->stage;
  tc_status st = tc_constraint_apply(&v->param->constraint, &staged);
  if (st != TC_OK)
    tc_error_prefix("constraint of '%s'", v->param->name);
  return st;
}

static tc_status tc_stage_all(tc_optim *o, int n_slots) {
  for (int i = 0; i < o->n_vars; i++) {
    tc_optim_var *v = &o->vars[i];
    if (!v->fresh)
      continue;
    TC_TRY(tc_optim_var_prepare(o, v));
    TC_TRY(tc_check_var(v, n_slots));
    TC_TRY(tc_scratch(v, n_slots));
    TC_TRY(tc_full_gradient(v));
  }
  tc_optim_clip(o);
  tc_optim_config c = o->cfg; /* with this step's scheduled learning rate */
  c.lr = tc_optim_step_lr(o);
  for (int i = 0; i < o->n_vars; i++)
    if (o->vars[i].fresh)
      TC_TRY(tc_stage_var(&c, &o->vars[i], n_slots, o->t + 1));
  return TC_OK;
}

/* A failed step leaves no slot it made behind. */
static void tc_drop_new_slots(tc_optim *o) {
  for (int i = 0; i < o->n_vars; i++) {
    tc_optim_var *v = &o->vars[i];
    for (int k = 0; k < TC_OPTIM_MAX_SLOTS; k++)
      if (v->new_slots & (1u << k)) {
        tc_tensor_free(v->slots[k]);
        v->slots[k] = NULL;
        v->slot_names[k][0] = '\0';
      }
    v->new_slots = 0;
  }
}

/* The value is copied (layers and plans hold the tensor and read its data); the slots,
 * which only the optimizer holds, trade buffers with their stage. */
static void tc_commit_var(tc_optim_var *v, int n_slots) {
  tc_tensor *w = v->param->value;
  memcpy(w->data, v->stage, (size_t)w->size * sizeof(float));
  for (int k = 0; k < n_slots; k++) {
    float *old = v->slots[k]->data;
    v->slots[k]->data = v->stage_slots[k];
    v->stage_slots[k] = old;
  }
}

void tc_optim_var_free_scratch(tc_optim_var *v) { tc_scratch_free(v); }

tc_status tc_optim_apply(tc_optim *o) {
  tc_mark_fresh(o);
  int n_slots = tc_optim_slot_layout_count(o);
  for (int i = 0; i < o->n_vars; i++)
    o->vars[i].new_slots = 0;
  tc_status s = tc_stage_all(o, n_slots);
  if (s != TC_OK) {
    tc_drop_new_slots(o);
    return s;
  }
  for (int i = 0; i < o->n_vars; i++) {
    if (o->vars[i].fresh)
      tc_commit_var(&o->vars[i], n_slots);
    o->vars[i].new_slots = 0;
  }
  o->t++;
  return TC_OK;
}
