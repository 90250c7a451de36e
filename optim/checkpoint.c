/* checkpoint.c — model + optimizers + metadata <-> .npz (core/npz.h does the container). */
#include "optim/checkpoint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/finite.h"
#include "core/io/npz.h"
#include "optim/checkpoint_schedule.h"
#include "optim/ema.h"

#define TC_CKPT_KEY 320

/* The entries of one checkpoint, with storage for their keys and scalar values. */
typedef struct tc_ckpt_list {
  tc_npz_entry *e;
  char (*keys)[TC_CKPT_KEY];
  int n, cap;
  int64_t i64[9];
  uint64_t rng[8];
  float lr[64];
  int64_t text_len[5];
  int64_t sched[4][TC_CKPT_SCHEDULE_CAP], sched_len[4];
} tc_ckpt_list;

static int tc_ckpt_capacity(const tc_model *m, const tc_ckpt_optim *o, int n_o,
                            const tc_ema *ema) {
  /* format_version, step, epoch, rng, batch, shards; the five texts; per optimizer: steps,
   * lr, lr_schedule */
  int n = tc_model_param_count(m) + 6 + 5 + 3 * n_o;
  for (int i = 0; i < n_o; i++)
    n += tc_optim_slot_count(o[i].optim);
  return n + tc_ema_count(ema);
}

static void tc_ckpt_add(tc_ckpt_list *l, tc_npz_dtype dtype, int rank, const int64_t *shape,
                        const void *data, const char *fmt, const char *a, const char *b) {
  TC_ASSERT(l->n < l->cap);
  int len = snprintf(l->keys[l->n], TC_CKPT_KEY, fmt, a, b);
  TC_ASSERT(len > 0 && len < TC_CKPT_KEY); /* names were checked: a key is never cut */
  l->e[l->n] = (tc_npz_entry){l->keys[l->n], dtype, rank, shape, data};
  l->n++;
}

static void tc_ckpt_collect(tc_ckpt_list *l, const tc_model *m, const tc_ckpt_optim *o, int n_o,
                            const tc_ckpt_meta *meta) {
  for (int i = 0; i < tc_model_param_count(m); i++) {
    const tc_tensor *t = tc_model_param_at(m, i)->value;
    tc_ckpt_add(l, TC_NPZ_F32, t->rank, t->shape, t->data, "%s%s",
                tc_model_param_at(m, i)->name, "");
  }
  for (int k = 0; k < n_o; k++)
    for (int i = 0; i < tc_optim_slot_count(o[k].optim); i++) {
      const char *name;
      const tc_tensor *t = tc_optim_slot_at(o[k].optim, i, &name);
      tc_ckpt_add(l, TC_NPZ_F32, t->rank, t->shape, t->data, "optimizer/%s%s", name, "");
    }
  for (int i = 0; i < tc_ema_count(meta->ema); i++) {
    const char *name;
    const tc_tensor *t = tc_ema_at(meta->ema, i, &name);
    tc_ckpt_add(l, TC_NPZ_F32, t->rank, t->shape, t->data, "ema/%s%s", name, "");
  }
  static const int64_t rng_shape[1] = {8};
  l->i64[0] = TC_CKPT_FORMAT_VERSION;
  l->i64[1] = meta->step;
  l->i64[2] = meta->epoch;
  const tc_rng *r = &meta->rng;
  uint64_t rng[8] = {r->seed, r->stream, r->block, (uint64_t)r->pos, r->buf[0], r->buf[1],
                     r->buf[2], r->buf[3]};
  memcpy(l->rng, rng, sizeof rng);
  tc_ckpt_add(l, TC_NPZ_I64, 0, NULL, &l->i64[0], "meta/format_version%s%s", "", "");
  tc_ckpt_add(l, TC_NPZ_I64, 0, NULL, &l->i64[1], "meta/step%s%s", "", "");
  tc_ckpt_add(l, TC_NPZ_I64, 0, NULL, &l->i64[2], "meta/epoch%s%s", "", "");
  tc_ckpt_add(l, TC_NPZ_U64, 1, rng_shape, l->rng, "meta/rng%s%s", "", "");
  if (meta->batch > 0) {
    l->i64[7] = meta->batch;
    tc_ckpt_add(l, TC_NPZ_I64, 0, NULL, &l->i64[7], "meta/batch%s%s", "", "");
  }
  if (meta->shards > 0) {
    l->i64[8] = meta->shards;
    tc_ckpt_add(l, TC_NPZ_I64, 0, NULL, &l->i64[8], "meta/shards%s%s", "", "");
  }
  const char *texts[5] = {meta->net, meta->net_source, meta->net_vars, meta->train_options,
                          meta->layers};
  static const char *const text_keys[5] = {"net", "net_source", "net_vars", "train_options",
                                           "layers"};
  for (int k = 0; k < 5 && meta->net != NULL; k++) {
    l->text_len[k] = texts[k] ? (int64_t)strlen(texts[k]) : 0;
    tc_ckpt_add(l, TC_NPZ_U8, 1, &l->text_len[k], texts[k] ? texts[k] : "", "meta/%s%s",
                text_keys[k], "");
  }
  for (int k = 0; k < n_o && k < 4; k++) {
    l->i64[3 + k] = tc_optim_steps(o[k].optim);
    l->lr[k] = tc_optim_lr(o[k].optim);
    tc_ckpt_add(l, TC_NPZ_I64, 0, NULL, &l->i64[3 + k], "meta/optimizer/%s/%s", o[k].name, "steps");
    tc_ckpt_add(l, TC_NPZ_F32, 0, NULL, &l->lr[k], "meta/optimizer/%s/%s", o[k].name, "lr");
    l->sched_len[k] = tc_ckpt_schedule_encode(o[k].optim, l->sched[k]);
    if (l->sched_len[k] > 0)
      tc_ckpt_add(l, TC_NPZ_I64, 1, &l->sched_len[k], l->sched[k], "meta/optimizer/%s/%s",
                  o[k].name, "lr_schedule");
  }
}

/* A checkpoint never holds NaN or inf: weights that diverged are not saved over the last
 * good file. The message names the first bad array and element. */
static tc_status tc_ckpt_check_finite(const tc_ckpt_list *l, const char *path) {
  for (int i = 0; i < l->n; i++) {
    const tc_npz_entry *e = &l->e[i];
    if (e->dtype != TC_NPZ_F32)
      continue;
    int64_t n = 1;
    for (int d = 0; d < e->rank; d++)
      n *= e->shape[d];
    int64_t bad = tc_floats_first_nonfinite(e->data, n);
    if (bad >= 0)
      return tc_set_error(TC_ERR_STATE, "checkpoint '%s' not saved: '%s' holds %g at element "
                          "%lld (training diverged; the file on disk is unchanged)", path,
                          e->key, (double)((const float *)e->data)[bad], (long long)bad);
  }
  return TC_OK;
}

/* Optimizer names become key components: [A-Za-z0-9_.-], 1..64 bytes. */
static tc_status tc_ckpt_check_names(const tc_ckpt_optim *o, int n_o) {
  for (int k = 0; k < n_o; k++) {
    const char *name = o[k].name;
    size_t len = name ? strnlen(name, 65) : 0;
    int ok = len >= 1 && len <= 64 && o[k].optim != NULL;
    for (size_t i = 0; ok && i < len; i++)
      ok = isalnum((unsigned char)name[i]) || strchr("_.-", name[i]) != NULL;
    if (!ok)
      return tc_set_error(TC_ERR_INVALID_ARG, "tc_ckpt_save: optimizer %d: name must be 1 to "
                          "64 of [A-Za-z0-9_.-] with an optimizer, got '%.64s'", k,
                          name ? name : "(null)");
  }
  return TC_OK;
}

tc_status tc_ckpt_save(const char *path, const tc_model *m, const tc_ckpt_optim *o, int n_o,
                       const tc_ckpt_meta *meta) {
  if (path == NULL || m == NULL || meta == NULL || (n_o > 0 && o == NULL))
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_ckpt_save: NULL argument");
  if (n_o < 0 || n_o > 4)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_ckpt_save: %d optimizers, at most 4", n_o);
  TC_TRY(tc_ckpt_check_names(o, n_o));
  /* Slots are made by the first step; one saved before it holds them at their initial
   * values, as the loader (which makes them all) expects, so that it resumes like any. */
  for (int k = 0; k < n_o; k++)
    TC_TRY(tc_optim_ensure_slots(o[k].optim));
  tc_ckpt_list l;
  memset(&l, 0, sizeof l);
  l.cap = tc_ckpt_capacity(m, o, n_o, meta->ema);
  l.e = calloc((size_t)l.cap, sizeof *l.e);
  l.keys = calloc((size_t)l.cap, sizeof *l.keys);
  tc_status s = TC_OK;
  if (l.e == NULL || l.keys == NULL)
    s = tc_set_error(TC_ERR_NOMEM, "checkpoint '%s': out of memory", path);
  if (s == TC_OK) {
    tc_ckpt_collect(&l, m, o, n_o, meta);
    s = tc_ckpt_check_finite(&l, path);
  }
  if (s == TC_OK) {
    s = tc_npz_write(path, l.e, l.n);
  }
  free(l.e);
  free(l.keys);
  return s;
}
