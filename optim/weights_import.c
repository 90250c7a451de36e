/* weights_import.c — a plain .npz into a model by name, all or nothing; torch layouts. */
#include "optim/weights_import.h"

#include <stdlib.h>
#include <string.h>

#include "core/finite.h"
#include "core/io/npz.h"

/* The file's array for variable p, or NULL (unused); *s set on a bad map entry. */
static const tc_npz_array *tc_source(const tc_npz_file *f, const char *path, const tc_param *p,
                                     const tc_name_map *map, int n_map, tc_status *s) {
  for (int k = 0; k < n_map; k++)
    if (strcmp(map[k].variable, p->name) == 0) {
      const tc_npz_array *a = tc_npz_find(f, map[k].key);
      if (a == NULL)
        *s = tc_set_error(TC_ERR_NOT_FOUND, "'%s' has no array '%s' (mapped to variable '%s')",
                          path, map[k].key, p->name);
      return a;
    }
  return tc_npz_find(f, p->name);
}

static tc_status tc_check_map(const tc_model *m, const tc_name_map *map, int n_map) {
  for (int k = 0; k < n_map; k++) {
    if (map[k].variable == NULL || map[k].key == NULL)
      return tc_set_error(TC_ERR_INVALID_ARG, "name map entry %d: NULL name", k);
    if (tc_model_find_param(m, map[k].variable) == NULL)
      return tc_set_error(TC_ERR_NOT_FOUND, "name map entry %d: the model has no variable "
                          "'%s'", k, map[k].variable);
    for (int j = 0; j < k; j++)
      if (strcmp(map[j].variable, map[k].variable) == 0)
        return tc_set_error(TC_ERR_INVALID_ARG, "name map entries %d and %d both set '%s'", j,
                            k, map[k].variable);
  }
  return TC_OK;
}

static tc_status tc_check_array(const char *path, const tc_param *p, const tc_npz_array *a) {
  int same = a->dtype == TC_NPZ_F32 && a->rank == p->value->rank;
  for (int i = 0; same && i < a->rank; i++)
    same = a->shape[i] == p->value->shape[i];
  if (!same)
    return tc_set_error(TC_ERR_SHAPE, "'%s': array '%s' is not a float array of the shape of "
                        "variable '%s' (rank %d, %lld elements)", path, a->key, p->name,
                        p->value->rank, (long long)p->value->size);
  int64_t bad = tc_floats_first_nonfinite(a->data, a->size);
  if (bad >= 0)
    return tc_set_error(TC_ERR_FORMAT, "'%s': array '%s' holds %g at element %lld", path,
                        a->key, (double)((const float *)a->data)[bad], (long long)bad);
  return TC_OK;
}

tc_status tc_model_import_npz(tc_model *m, const char *path, const tc_name_map *map, int n_map,
                              int *n_loaded) {
  if (n_loaded)
    *n_loaded = 0;
  if (m == NULL || path == NULL || (n_map > 0 && map == NULL))
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_model_import_npz: NULL argument");
  TC_TRY(tc_check_map(m, map, n_map));
  tc_npz_file *f;
  TC_TRY(tc_npz_read(path, &f, NULL));
  int n = tc_model_param_count(m);
  const tc_npz_array **src = calloc((size_t)n + 1, sizeof *src);
  tc_status s = src ? TC_OK : tc_set_error(TC_ERR_NOMEM, "out of memory");
  for (int i = 0; s == TC_OK && i < n; i++) {
    const tc_param *p = tc_model_param_at(m, i);
    src[i] = tc_source(f, path, p, map, n_map, &s);
    if (s == TC_OK && src[i] != NULL)
      s = tc_check_array(path, p, src[i]);
  }
  for (int i = 0; s == TC_OK && i < n; i++)
    if (src[i] != NULL) {
      tc_tensor *t = tc_model_param_at(m, i)->value;
      memcpy(t->data, src[i]->data, (size_t)t->size * sizeof(float));
      if (n_loaded)
        (*n_loaded)++;
    }
  free(src);
  tc_npz_file_free(f);
  return s;
}

void tc_torch_conv2d_transpose_to_tf(const float *src, int cin, int cout, int kh, int kw,
                                     float *dst) {
  for (int ci = 0; ci < cin; ci++)
    for (int co = 0; co < cout; co++)
      for (int y = 0; y < kh; y++)
        for (int x = 0; x < kw; x++)
          dst[(((int64_t)y * kw + x) * cout + co) * cin + ci] =
              src[(((int64_t)ci * cout + co) * kh + y) * kw + x];
}
