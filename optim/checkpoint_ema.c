/* checkpoint_ema.c — "ema/<variable>" arrays into shadows or weights (checkpoint_ema.h). */
#include "optim/checkpoint_ema.h"

#include <stdio.h>
#include <string.h>

#include "core/finite.h"
#include "core/io/npz.h"

/* The array for `name` (ema/<name>), checked against t's shape and for finiteness. */
static tc_status tc_ema_array(const tc_npz_file *f, const char *path, const char *name,
                              const tc_tensor *t, const tc_npz_array **out) {
  char key[TC_NAME_MAX + 8];
  snprintf(key, sizeof key, "ema/%s", name);
  const tc_npz_array *a = tc_npz_find(f, key);
  if (a == NULL)
    return tc_set_error(TC_ERR_NOT_FOUND, "checkpoint '%s' has no array '%s' (saved without "
                        "--ema?)", path, key);
  if (a->dtype != TC_NPZ_F32 || a->size != t->size)
    return tc_set_error(TC_ERR_SHAPE, "checkpoint '%s': '%s' has %lld elements, its variable "
                        "%lld", path, key, (long long)a->size, (long long)t->size);
  int64_t bad = tc_floats_first_nonfinite(a->data, a->size);
  if (bad >= 0)
    return tc_set_error(TC_ERR_FORMAT, "checkpoint '%s': '%s' holds %g at element %lld", path,
                        key, (double)((const float *)a->data)[bad], (long long)bad);
  *out = a;
  return TC_OK;
}

/* dst[i] <- ema/<names[i]> for i < n, all checked before any is copied; `optional`: a
 * missing array is skipped. */
static tc_status tc_ema_copy(const char *path, int n, tc_tensor *(*at)(const void *, int,
                                                                        const char **),
                             const void *owner, int optional) {
  tc_npz_file *f;
  TC_TRY(tc_npz_read(path, &f, NULL));
  tc_status s = TC_OK;
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; s == TC_OK && i < n; i++) {
      const char *name;
      const tc_npz_array *a = NULL;
      tc_tensor *t = at(owner, i, &name);
      char key[TC_NAME_MAX + 8];
      snprintf(key, sizeof key, "ema/%s", name);
      if (t == NULL || (optional && tc_npz_find(f, key) == NULL))
        continue;
      s = tc_ema_array(f, path, name, t, &a);
      if (s == TC_OK && pass == 1)
        memcpy(t->data, a->data, (size_t)t->size * sizeof(float));
    }
  tc_npz_file_free(f);
  return s;
}

static tc_tensor *tc_shadow_at(const void *ema, int i, const char **name) {
  return tc_ema_at(ema, i, name);
}

/* The model's weights (the variables an EMA shadows); NULL for the others. */
static tc_tensor *tc_weight_at(const void *model, int i, const char **name) {
  tc_param *p = tc_model_param_at((tc_model *)model, i);
  *name = p->name;
  return p->role == TC_PARAM_WEIGHT ? p->value : NULL;
}

tc_status tc_ckpt_load_ema(const char *path, tc_ema *ema) {
  if (path == NULL || ema == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_ckpt_load_ema: NULL argument");
  return tc_ema_copy(path, tc_ema_count(ema), tc_shadow_at, ema, 0);
}

tc_status tc_ckpt_use_ema(const char *path, tc_model *model, int *used) {
  if (path == NULL || model == NULL || used == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_ckpt_use_ema: NULL argument");
  *used = 0;
  tc_npz_file *f;
  TC_TRY(tc_npz_read(path, &f, NULL));
  int any = 0;
  for (int i = 0; i < tc_npz_count(f) && !any; i++)
    any = strncmp(tc_npz_at(f, i)->key, "ema/", 4) == 0;
  tc_npz_file_free(f);
  if (!any)
    return TC_OK;
  TC_TRY(tc_ema_copy(path, tc_model_param_count(model), tc_weight_at, model, 1));
  *used = 1;
  return TC_OK;
}
