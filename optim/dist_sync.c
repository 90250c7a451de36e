/* dist_sync.c — the collectives that keep ranks in step outside the gradient sum: agreeing
 * on success, checking that ranks run the same thing, and copying rank 0's model and
 * optimizer state to every rank. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim/dist_internal.h"

typedef struct tc_dist_verdict {
  int32_t status;
  char message[252];
} tc_dist_verdict;

#define TC_DIST_AGREE_ON_STACK 16 /* 4 KiB of verdicts */

tc_status tc_dist_agree(tc_dist *d, tc_status local) {
  if (d->size == 1)
    return local;
  tc_dist_verdict mine = {(int32_t)local, ""};
  if (local != TC_OK)
    snprintf(mine.message, sizeof mine.message, "%s", tc_last_error());
  /* Agreeing is how ranks avoid waiting on one that failed, so it must not fail itself:
   * small jobs use the stack; a rank that cannot get the memory for a large one cannot
   * join the exchange and ends the job instead of leaving the others waiting. */
  tc_dist_verdict near[TC_DIST_AGREE_ON_STACK];
  tc_dist_verdict *all = d->size <= TC_DIST_AGREE_ON_STACK ? near
                                                           : malloc((size_t)d->size * sizeof *all);
  if (all == NULL) {
    tc_set_error(TC_ERR_NOMEM, "tc_dist_agree: out of memory for %d ranks' verdicts", d->size);
    tc_dist_abort(d, 1);
    return TC_ERR_NOMEM;
  }
  tc_status s = tc_dist_allgather(d, &mine, all, sizeof mine);
  for (int r = 0; s == TC_OK && r < d->size; r++)
    if (all[r].status != TC_OK) {
      s = (tc_status)all[r].status;
      if (local == TC_OK) /* a rank that failed keeps its own message */
        tc_set_error(s, "rank %d: %s", r, all[r].message);
    }
  if (all != near)
    free(all);
  return s;
}

tc_status tc_dist_check_same(tc_dist *d, uint64_t value, const char *what) {
  if (d->size == 1)
    return TC_OK;
  uint64_t *all = malloc((size_t)d->size * sizeof *all);
  if (all == NULL)
    return tc_set_error(TC_ERR_NOMEM, "tc_dist_check_same: out of memory");
  tc_status s = tc_dist_allgather(d, &value, all, sizeof value);
  for (int r = 1; s == TC_OK && r < d->size; r++)
    if (all[r] != all[0])
      s = tc_set_error(TC_ERR_INVALID_ARG,
                       "%s differ between ranks: rank %d has fingerprint %016llx, rank 0 %016llx",
                       what, r, (unsigned long long)all[r], (unsigned long long)all[0]);
  free(all);
  return s;
}

uint64_t tc_dist_fingerprint(uint64_t h, const void *bytes, size_t n) {
  const unsigned char *b = bytes;
  if (h == 0)
    h = 14695981039346656037ull;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) { /* a word at a time: data sets are hundreds of MB */
    uint64_t w;
    memcpy(&w, b + i, sizeof w);
    h = (h ^ w) * 1099511628211ull;
  }
  for (; i < n; i++)
    h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

tc_status tc_dist_broadcast_model(tc_dist *d, tc_model *model) {
  uint64_t h = 0;
  for (int i = 0; i < tc_model_param_count(model); i++) {
    const tc_param *p = tc_model_param_at(model, i);
    h = tc_dist_fingerprint(h, p->name, strlen(p->name) + 1);
    h = tc_dist_fingerprint(h, &p->value->size, sizeof p->value->size);
  }
  TC_TRY(tc_dist_check_same(d, h, "the model's variables (names and sizes)"));
  for (int i = 0; i < tc_model_param_count(model); i++) {
    tc_tensor *v = tc_model_param_at(model, i)->value;
    TC_TRY(tc_dist_broadcast(d, v->data, (size_t)v->size * sizeof *v->data));
  }
  return TC_OK;
}

tc_status tc_dist_broadcast_optim(tc_dist *d, tc_optim *opt) {
  TC_TRY(tc_optim_ensure_slots(opt));
  uint64_t h = 0;
  for (int i = 0; i < tc_optim_slot_count(opt); i++) {
    const char *name;
    tc_tensor *t = tc_optim_slot_at(opt, i, &name);
    h = tc_dist_fingerprint(h, name, strlen(name) + 1);
    h = tc_dist_fingerprint(h, &t->size, sizeof t->size);
  }
  TC_TRY(tc_dist_check_same(d, h, "the optimizer's slots (names and sizes)"));
  for (int i = 0; i < tc_optim_slot_count(opt); i++) {
    tc_tensor *t = tc_optim_slot_at(opt, i, NULL);
    TC_TRY(tc_dist_broadcast(d, t->data, (size_t)t->size * sizeof *t->data));
  }
  int64_t t = tc_optim_steps(opt);
  float lr = tc_optim_lr(opt);
  TC_TRY(tc_dist_broadcast(d, &t, sizeof t));
  TC_TRY(tc_dist_broadcast(d, &lr, sizeof lr));
  tc_optim_set_steps(opt, t);
  tc_optim_set_lr(opt, lr);
  tc_lr_schedule sc = *tc_optim_schedule(opt); /* resumed on rank 0 from the checkpoint */
  TC_TRY(tc_dist_broadcast(d, &sc, sizeof sc));
  return tc_optim_set_schedule(opt, &sc);
}
