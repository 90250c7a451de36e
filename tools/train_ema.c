/* train_ema.c — the run's EMA shadows: made, resumed and kept equal on every rank. */
#include "tools/train_ema.h"

#include "optim/checkpoint_ema.h"
#include "tools/train_dist.h"

tc_status tc_train_ema_start(const tc_train_opts *o, tc_model *model, const char *prefix,
                             const char *ckpt, tc_ema **out) {
  *out = NULL;
  if (o->ema < 0.0)
    return TC_OK;
  TC_TRY(tc_ema_create(out, model, prefix, (float)o->ema));
  if (!o->resume)
    return TC_OK;
  tc_status s = TC_OK;
  if (tc_train_root())
    s = tc_ckpt_load_ema(ckpt, *out);
  TC_TRY(tc_train_dist_after_root(s));
  for (int i = 0; i < tc_ema_count(*out); i++) {
    tc_tensor *t = tc_ema_at(*out, i, NULL);
    TC_TRY(tc_dist_broadcast(tc_train_dist(), t->data, (size_t)t->size * sizeof(float)));
  }
  return TC_OK;
}
