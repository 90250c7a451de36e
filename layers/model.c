/* model.c — variable registry, layer names and the model's seed. */
#include "layers/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tc_model {
  uint64_t seed;
  uint64_t next_stream;
  tc_param **params;
  int n_params, cap_params;
  char (*names)[TC_NAME_MAX]; /* claimed layer names */
  int n_names, cap_names;
};

tc_status tc_model_create(tc_model **out, uint64_t seed) {
  if (out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_model_create: out is NULL");
  *out = calloc(1, sizeof **out);
  if (*out == NULL)
    return tc_set_error(TC_ERR_NOMEM, "tc_model_create: out of memory");
  (*out)->seed = seed;
  return TC_OK;
}

void tc_model_free(tc_model *m) {
  if (m == NULL)
    return;
  for (int i = 0; i < m->n_params; i++) {
    tc_tensor_free(m->params[i]->value);
    free(m->params[i]);
  }
  free(m->params);
  free(m->names);
  free(m);
}

uint64_t tc_model_seed(const tc_model *m) { return m->seed; }
uint64_t tc_model_next_stream(tc_model *m) { return m->next_stream++; }

static int tc_name_taken(const tc_model *m, const char *name) {
  for (int i = 0; i < m->n_names; i++)
    if (strcmp(m->names[i], name) == 0)
      return 1;
  return 0;
}

static tc_status tc_name_valid(const char *name) {
  size_t len = strlen(name);
  if (len > TC_NAME_MAX - 16)
    return tc_set_error(TC_ERR_INVALID_ARG, "layer name '%.40s...' is %zu bytes, at most %d", name,
                        len, TC_NAME_MAX - 16);
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '.' || c == '-';
    /* '/' separates scopes (TF1's "generator/conv2d_transpose"): inside, never doubled */
    int scope = c == '/' && i > 0 && i + 1 < len && name[i + 1] != '/';
    if (!ok && !scope)
      return tc_set_error(TC_ERR_INVALID_ARG,
                          "layer name '%s': character %zu ('%c') is not allowed; use letters, "
                          "digits, '_', '.', '-' and '/' between scopes",
                          name, i + 1, c);
  }
  return TC_OK;
}

/* 1 when a is b's scope ("gen" of "gen/up1") or b is a's: their variables would mix under
 * one prefix ("gen/..."). */
static int tc_scope_clash(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la < lb)
    return strncmp(a, b, la) == 0 && b[la] == '/';
  return lb < la && strncmp(a, b, lb) == 0 && a[lb] == '/';
}

static tc_status tc_name_push(tc_model *m, const char *name) {
  if (m->n_names == m->cap_names) {
    int cap = m->cap_names ? m->cap_names * 2 : 16;
    void *p = realloc(m->names, (size_t)cap * TC_NAME_MAX);
    if (p == NULL)
      return tc_set_error(TC_ERR_NOMEM, "model: out of memory for names");
    m->names = p;
    m->cap_names = cap;
  }
  snprintf(m->names[m->n_names++], TC_NAME_MAX, "%s", name);
  return TC_OK;
}

tc_status tc_model_claim_name(tc_model *m, const char *base, const char *requested,
                              char out[TC_NAME_MAX]) {
  if (m == NULL || base == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_model_claim_name: NULL argument");
  if (requested != NULL && requested[0] != '\0') {
    TC_TRY(tc_name_valid(requested));
    if (tc_name_taken(m, requested))
      return tc_set_error(TC_ERR_EXISTS, "layer name '%s' is already used in this model",
                          requested);
    for (int i = 0; i < m->n_names; i++)
      if (tc_scope_clash(requested, m->names[i]))
        return tc_set_error(TC_ERR_EXISTS, "layer name '%s' and the layer '%s' of this model "
                            "would share the scope '%s/'", requested, m->names[i],
                            strlen(requested) < strlen(m->names[i]) ? requested : m->names[i]);
    snprintf(out, TC_NAME_MAX, "%s", requested);
    return tc_name_push(m, out);
  }
  /* Keras: the first layer of a kind gets the bare name, later ones _1, _2, ... */
  snprintf(out, TC_NAME_MAX, "%s", base);
  for (int k = 1; tc_name_taken(m, out); k++)
    snprintf(out, TC_NAME_MAX, "%s_%d", base, k);
  return tc_name_push(m, out);
}

tc_status tc_model_add_param(tc_model *m, const char *layer, const char *var, tc_param_role role,
                             int rank, const int64_t *shape, tc_param **out) {
  if (m == NULL || layer == NULL || var == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_model_add_param: NULL argument");
  char name[TC_NAME_MAX];
  snprintf(name, sizeof name, "%s/%s", layer, var);
  if (tc_model_find_param(m, name) != NULL)
    return tc_set_error(TC_ERR_EXISTS, "variable '%s' already exists", name);
  if (m->n_params == m->cap_params) {
    int cap = m->cap_params ? m->cap_params * 2 : 16;
    void *p = realloc(m->params, (size_t)cap * sizeof *m->params);
    if (p == NULL)
      return tc_set_error(TC_ERR_NOMEM, "model: out of memory for variables");
    m->params = p;
    m->cap_params = cap;
  }
  tc_param *param = calloc(1, sizeof *param);
  if (param == NULL)
    return tc_set_error(TC_ERR_NOMEM, "model: out of memory for '%s'", name);
  tc_status s = tc_tensor_create(&param->value, rank, shape);
  if (s == TC_OK && role == TC_PARAM_WEIGHT)
    s = tc_tensor_require_grad(param->value);
  if (s != TC_OK) {
    tc_tensor_free(param->value);
    free(param);
    tc_error_prefix("variable '%s'", name);
    return s;
  }
  memcpy(param->name, name, sizeof name);
  param->role = role;
  param->trainable = role == TC_PARAM_WEIGHT;
  m->params[m->n_params++] = param;
  *out = param;
  return TC_OK;
}

int tc_model_param_count(const tc_model *m) { return m->n_params; }

tc_param *tc_model_param_at(const tc_model *m, int i) {
  return (i >= 0 && i < m->n_params) ? m->params[i] : NULL;
}

tc_param *tc_model_find_param(const tc_model *m, const char *name) {
  for (int i = 0; i < m->n_params; i++)
    if (strcmp(m->params[i]->name, name) == 0)
      return m->params[i];
  tc_set_error(TC_ERR_NOT_FOUND, "no variable named '%s'", name);
  return NULL;
}

tc_model_mark tc_model_mark_now(const tc_model *m) {
  tc_model_mark k = {m->n_params, m->n_names, m->next_stream};
  return k;
}

void tc_model_rollback(tc_model *m, tc_model_mark mark) {
  while (m->n_params > mark.n_params) {
    tc_param *p = m->params[--m->n_params];
    tc_tensor_free(p->value);
    free(p);
  }
  if (m->n_names > mark.n_names)
    m->n_names = mark.n_names;
  m->next_stream = mark.next_stream;
}

tc_status tc_model_set_trainable(tc_model *m, const char *layer, int trainable) {
  if (m == NULL || layer == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_model_set_trainable: NULL argument");
  size_t len = strlen(layer);
  int found = 0;
  for (int i = 0; i < m->n_params; i++) {
    tc_param *p = m->params[i];
    if (strncmp(p->name, layer, len) == 0 && p->name[len] == '/' && p->role == TC_PARAM_WEIGHT) {
      p->trainable = trainable != 0;
      found = 1;
    }
  }
  if (!found)
    return tc_set_error(TC_ERR_NOT_FOUND, "no layer named '%s' has variables", layer);
  return TC_OK;
}
