/* checkpoint_load.c — validate every array of a checkpoint, then copy: all or nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/finite.h"
#include "core/io/npz.h"
#include "optim/checkpoint_schedule.h"
#include "optim/checkpoint.h"

typedef struct tc_copy {
  float *dst;
  const tc_npz_array *src;
} tc_copy;

typedef struct tc_loader {
  const char *path;
  const tc_npz_file *f;
  tc_copy *copies;
  int n_copies, cap;
  const tc_npz_array **used;
  int n_used;
} tc_loader;

static tc_status tc_find(tc_loader *l, const char *key, tc_npz_dtype dtype,
                         const tc_npz_array **out) {
  const tc_npz_array *a = tc_npz_find(l->f, key);
  if (a == NULL)
    return tc_set_error(TC_ERR_NOT_FOUND, "checkpoint '%s' has no array '%s'", l->path, key);
  if (a->dtype != dtype)
    return tc_set_error(TC_ERR_DTYPE, "checkpoint '%s': '%s' is %s, expected %s", l->path, key,
                        tc_npz_dtype_str(a->stored_dtype), tc_npz_dtype_str(dtype));
  l->used[l->n_used++] = a;
  *out = a;
  return TC_OK;
}

static void tc_dims(char *buf, size_t cap, int rank, const int64_t *shape) {
  size_t used = (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < rank && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, i ? ", %lld" : "%lld", (long long)shape[i]);
  if (used < cap)
    snprintf(buf + used, cap - used, ")");
}

/* Plans the copy of the array `key` into tensor t after checking its shape. */
static tc_status tc_plan_tensor(tc_loader *l, const char *key, tc_tensor *t) {
  const tc_npz_array *a = NULL;
  TC_TRY(tc_find(l, key, TC_NPZ_F32, &a));
  int same = a->rank == t->rank;
  for (int i = 0; same && i < t->rank; i++)
    same = a->shape[i] == t->shape[i];
  if (!same) {
    char have[128], want[128];
    tc_dims(have, sizeof have, a->rank, a->shape);
    tc_dims(want, sizeof want, t->rank, t->shape);
    return tc_set_error(TC_ERR_SHAPE, "checkpoint '%s': '%s' has shape %s, the model expects %s",
                        l->path, key, have, want);
  }
  const float *v = a->data;
  int64_t bad = tc_floats_first_nonfinite(v, a->size);
  if (bad >= 0)
    return tc_set_error(TC_ERR_FORMAT, "checkpoint '%s': '%s' holds %g at element %lld; a "
                        "checkpoint holds only finite values", l->path, key, (double)v[bad],
                        (long long)bad);
  TC_ASSERT(l->n_copies < l->cap);
  l->copies[l->n_copies++] = (tc_copy){t->data, a};
  return TC_OK;
}

/* Slots that are running sums of squares; a negative one would make sqrt() NaN. */
static int tc_slot_nonnegative(const char *key) {
  static const char *const names[] = {"v", "vhat", "rms", "accumulator"};
  const char *last = strrchr(key, '/');
  last = last ? last + 1 : key;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(last, names[i]) == 0)
      return 1;
  return 0;
}

static tc_status tc_check_nonnegative(const tc_loader *l, const char *key, const float *v,
                                      int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (v[i] < 0.0f)
      return tc_set_error(TC_ERR_FORMAT, "checkpoint '%s': '%s' holds %g at element %lld; "
                          "this slot is a sum of squares and is never negative", l->path, key,
                          (double)v[i], (long long)i);
  return TC_OK;
}

static tc_status tc_check_i64(const tc_loader *l, const char *key, int64_t v, int64_t lo) {
  if (v < lo)
    return tc_set_error(TC_ERR_FORMAT, "checkpoint '%s': %s is %lld, expected >= %lld",
                        l->path, key, (long long)v, (long long)lo);
  return TC_OK;
}

static tc_status tc_plan_scalar(tc_loader *l, const char *key, tc_npz_dtype dtype, int64_t size,
                                const tc_npz_array **out) {
  TC_TRY(tc_find(l, key, dtype, out));
  if ((*out)->size != size)
    return tc_set_error(TC_ERR_SHAPE, "checkpoint '%s': '%s' has %lld elements, expected %lld",
                        l->path, key, (long long)(*out)->size, (long long)size);
  return TC_OK;
}

/* An optional int64 count >= 1 (meta/batch, meta/shards: older files lack them): 0 when
 * absent. */
static tc_status tc_optional_count(tc_loader *l, const char *key, int64_t *out) {
  *out = 0;
  if (tc_npz_find(l->f, key) == NULL)
    return TC_OK;
  const tc_npz_array *a = NULL;
  TC_TRY(tc_plan_scalar(l, key, TC_NPZ_I64, 1, &a));
  *out = *(const int64_t *)a->data;
  return tc_check_i64(l, key, *out, 1);
}

typedef struct tc_optim_state {
  int64_t steps;
  float lr;
  tc_lr_schedule sched; /* constant when the file has none */
} tc_optim_state;

/* key = fmt % name, refused (never cut) when it does not fit. */
static tc_status tc_key(const tc_loader *l, char *key, size_t cap, const char *fmt,
                        const char *name) {
  int n = snprintf(key, cap, fmt, name);
  if (n < 0 || (size_t)n >= cap)
    return tc_set_error(TC_ERR_INVALID_ARG, "checkpoint '%s': the key for '%.60s' is longer "
                        "than %zu bytes", l->path, name, cap - 1);
  return TC_OK;
}

static tc_status tc_plan_optims(tc_loader *l, const tc_ckpt_optim *o, int n_o,
                                tc_optim_state *state) {
  char key[400];
  for (int k = 0; k < n_o; k++) {
    TC_TRY(tc_optim_ensure_slots(o[k].optim));
    for (int i = 0; i < tc_optim_slot_count(o[k].optim); i++) {
      const char *name;
      tc_tensor *t = tc_optim_slot_at(o[k].optim, i, &name);
      TC_TRY(tc_key(l, key, sizeof key, "optimizer/%s", name));
      TC_TRY(tc_plan_tensor(l, key, t));
      if (tc_slot_nonnegative(key))
        TC_TRY(tc_check_nonnegative(l, key, l->copies[l->n_copies - 1].src->data, t->size));
    }
    const tc_npz_array *a;
    TC_TRY(tc_key(l, key, sizeof key, "meta/optimizer/%s/steps", o[k].name));
    TC_TRY(tc_plan_scalar(l, key, TC_NPZ_I64, 1, &a));
    state[k].steps = *(const int64_t *)a->data;
    TC_TRY(tc_check_i64(l, key, state[k].steps, 0));
    TC_TRY(tc_key(l, key, sizeof key, "meta/optimizer/%s/lr", o[k].name));
    TC_TRY(tc_plan_scalar(l, key, TC_NPZ_F32, 1, &a));
    state[k].lr = *(const float *)a->data;
    if (tc_floats_first_nonfinite(&state[k].lr, 1) == 0 || state[k].lr < 0.0f)
      return tc_set_error(TC_ERR_FORMAT, "checkpoint '%s': %s is %g, expected a finite "
                          "value >= 0", l->path, key, (double)state[k].lr);
    TC_TRY(tc_key(l, key, sizeof key, "meta/optimizer/%s/lr_schedule", o[k].name));
    state[k].sched = tc_lr_schedule_constant();
    const tc_npz_array *sa = tc_npz_find(l->f, key); /* optional: only a schedule's runs */
    if (sa != NULL) {
      TC_TRY(tc_find(l, key, TC_NPZ_I64, &sa));
      TC_TRY(tc_ckpt_schedule_decode(l->path, key, sa->data, sa->size, &state[k].sched));
    }
  }
  return TC_OK;
}

static tc_status tc_plan_meta(tc_loader *l, tc_ckpt_meta *meta) {
  const tc_npz_array *version = NULL, *step = NULL, *epoch = NULL, *rng = NULL;
  TC_TRY(tc_plan_scalar(l, "meta/format_version", TC_NPZ_I64, 1, &version));
  int64_t v = *(const int64_t *)version->data;
  if (v != TC_CKPT_FORMAT_VERSION)
    return tc_set_error(TC_ERR_FORMAT, "checkpoint '%s' has format version %lld, this build "
                        "reads version %d", l->path, (long long)v, TC_CKPT_FORMAT_VERSION);
  TC_TRY(tc_plan_scalar(l, "meta/step", TC_NPZ_I64, 1, &step));
  TC_TRY(tc_plan_scalar(l, "meta/epoch", TC_NPZ_I64, 1, &epoch));
  TC_TRY(tc_plan_scalar(l, "meta/rng", TC_NPZ_U64, 8, &rng));
  const uint64_t *r = rng->data;
  if (r[3] > 4)
    return tc_set_error(TC_ERR_FORMAT, "checkpoint '%s': meta/rng position %llu is not 0..4",
                        l->path, (unsigned long long)r[3]);
  meta->step = *(const int64_t *)step->data;
  meta->epoch = *(const int64_t *)epoch->data;
  TC_TRY(tc_check_i64(l, "meta/step", meta->step, 0));
  TC_TRY(tc_check_i64(l, "meta/epoch", meta->epoch, 0));
  if (meta->epoch > meta->step)
    return tc_set_error(TC_ERR_FORMAT, "checkpoint '%s': meta/epoch %lld is after meta/step "
                        "%lld (an epoch has at least one step)", l->path,
                        (long long)meta->epoch, (long long)meta->step);
  meta->ema = NULL;
  TC_TRY(tc_optional_count(l, "meta/batch", &meta->batch));
  TC_TRY(tc_optional_count(l, "meta/shards", &meta->shards));
  static const char *const texts[5] = {"meta/net", "meta/net_source", "meta/net_vars",
                                       "meta/train_options", "meta/layers"};
  for (int k = 0; k < 5; k++) /* optional text (tc_ckpt_read_text); older files lack it */
    if (tc_npz_find(l->f, texts[k]) != NULL) {
      const tc_npz_array *a;
      TC_TRY(tc_find(l, texts[k], TC_NPZ_U8, &a));
    }
  meta->net = meta->net_source = meta->net_vars = meta->train_options = meta->layers = NULL;
  meta->rng = (tc_rng){r[0], r[1], r[2], {(uint32_t)r[4], (uint32_t)r[5], (uint32_t)r[6],
                                          (uint32_t)r[7]}, (int)r[3]};
  return TC_OK;
}

static tc_status tc_check_extra(const tc_loader *l) {
  for (int i = 0; i < tc_npz_count(l->f); i++) {
    const tc_npz_array *a = tc_npz_at(l->f, i);
    int used = strncmp(a->key, "ema/", 4) == 0; /* tc_ckpt_load_ema reads those */
    for (int j = 0; j < l->n_used && !used; j++)
      used = l->used[j] == a;
    if (!used)
      return tc_set_error(TC_ERR_FORMAT,
                          "checkpoint '%s' has an array '%s' that this model does not have "
                          "(pass allow_extra to ignore it)", l->path, a->key);
  }
  return TC_OK;
}

static tc_status tc_plan_all(tc_loader *l, tc_model *m, const tc_ckpt_optim *o, int n_o,
                             tc_ckpt_meta *meta, tc_optim_state *state, int allow_extra) {
  for (int i = 0; i < tc_model_param_count(m); i++)
    TC_TRY(tc_plan_tensor(l, tc_model_param_at(m, i)->name, tc_model_param_at(m, i)->value));
  TC_TRY(tc_plan_optims(l, o, n_o, state));
  TC_TRY(tc_plan_meta(l, meta));
  return allow_extra ? TC_OK : tc_check_extra(l);
}

tc_status tc_ckpt_load(const char *path, tc_model *m, const tc_ckpt_optim *o, int n_o,
                       tc_ckpt_meta *meta, int allow_extra) {
  if (path == NULL || m == NULL || (n_o > 0 && o == NULL))
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_ckpt_load: NULL argument");
  if (n_o < 0 || n_o > 4)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_ckpt_load: %d optimizers, at most 4", n_o);
  tc_npz_file *f = NULL;
  TC_TRY(tc_npz_read(path, &f, NULL));
  tc_loader l = {.path = path, .f = f};
  l.cap = tc_model_param_count(m) + 64;
  for (int k = 0; k < n_o; k++)
    l.cap += 3 * (tc_model_param_count(m) + 1);
  l.copies = calloc((size_t)l.cap, sizeof *l.copies);
  l.used = calloc((size_t)tc_npz_count(f) + (size_t)l.cap, sizeof *l.used);
  tc_optim_state state[4];
  tc_ckpt_meta new_meta;
  tc_status s = (l.copies && l.used)
                    ? TC_OK
                    : tc_set_error(TC_ERR_NOMEM, "checkpoint '%s': out of memory", path);
  if (s == TC_OK)
    s = tc_plan_all(&l, m, o, n_o, &new_meta, state, allow_extra);
  if (s == TC_OK) {
    for (int i = 0; i < l.n_copies; i++)
      memcpy(l.copies[i].dst, l.copies[i].src->data, (size_t)l.copies[i].src->size * sizeof(float));
    for (int k = 0; k < n_o; k++) {
      tc_optim_set_steps(o[k].optim, state[k].steps);
      tc_optim_set_lr(o[k].optim, state[k].lr);
      tc_optim_set_schedule(o[k].optim, &state[k].sched);
    }
    if (meta)
      *meta = new_meta;
  }
  free(l.copies);
  free(l.used);
  tc_npz_file_free(f);
  return s;
}
