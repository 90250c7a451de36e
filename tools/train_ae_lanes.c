/* train_ae_lanes.c — the replicas that compute a step's shards beside the run's network
 * (tools/train_ae_lanes.h). */
#include "tools/train_ae_lanes.h"

#include <omp.h>
#include <string.h>

#include "tools/profile.h"
#include "tools/train_pairs.h"

int tc_ae_lanes_count(int local_shards) {
  if (tc_prof_on() || omp_get_max_active_levels() > 1)
    return 1;
  int n = 1, threads = omp_get_max_threads();
  while (n * 2 <= threads && n * 2 <= TC_AE_MAX_LANES && local_shards % (n * 2) == 0)
    n *= 2;
  return n;
}

static tc_status tc_ae_replica(tc_ae_lane *l, const tc_train_opts *o, const tc_tensor *x,
                               const tc_tensor *t, const int in[3], const int tgt[3],
                               const tc_dataset *train) {
  l->net = &l->own;
  if (tc_train_paired(o) || train->c != 1)
    TC_TRY(tc_autoencoder_create_io(&l->own, o, in, tgt, train->source));
  else
    TC_TRY(tc_autoencoder_create(&l->own, o, train->h, train->w));
  TC_TRY(tc_graph_create(&l->g));
  TC_TRY(tc_tensor_create(&l->x, x->rank, x->shape));
  l->t = l->x;
  if (t != x)
    TC_TRY(tc_tensor_create(&l->t, t->rank, t->shape));
  return TC_OK;
}

/* The same variables in the same order (names and sizes): what the sync copies by index. */
static tc_status tc_same_variables(const tc_model *a, const tc_model *b) {
  int n = tc_model_param_count(a);
  if (tc_model_param_count(b) != n)
    return tc_set_error(TC_ERR_STATE, "replica: %d variables, the run's network has %d",
                        tc_model_param_count(b), n);
  for (int v = 0; v < n; v++) {
    const tc_param *p = tc_model_param_at(a, v), *q = tc_model_param_at(b, v);
    if (strcmp(p->name, q->name) != 0 || p->value->size != q->value->size)
      return tc_set_error(TC_ERR_STATE, "replica: variable %d is '%s', the run's '%s'", v,
                          q->name, p->name);
  }
  return TC_OK;
}

tc_status tc_ae_lanes_create(tc_ae_lanes *L, int n, const tc_train_opts *o, tc_autoencoder *net,
                             tc_graph *g, tc_tensor *x, tc_tensor *t, const int in[3],
                             const int tgt[3], const tc_dataset *train, const tc_dist_sum *sum) {
  memset(L, 0, sizeof *L);
  L->n = 1;
  L->lane[0] = (tc_ae_lane){.net = net, .g = g, .x = x, .t = t};
  tc_status s = TC_OK;
  for (int i = 1; i < n && s == TC_OK; i++, L->n++) {
    s = tc_ae_replica(&L->lane[i], o, x, t, in, tgt, train);
    if (s == TC_OK)
      s = tc_same_variables(net->model, L->lane[i].own.model);
    if (s == TC_OK)
      s = tc_dist_sum_check_twin(sum, L->lane[i].own.model);
  }
  if (s != TC_OK)
    tc_ae_lanes_free(L);
  else
    tc_ae_lanes_sync(L);
  return s;
}

void tc_ae_lanes_free(tc_ae_lanes *L) {
  for (int i = 1; i < L->n; i++) {
    tc_ae_lane *l = &L->lane[i];
    if (l->t != l->x)
      tc_tensor_free(l->t);
    tc_tensor_free(l->x);
    tc_graph_free(l->g);
    if (l->own.model != NULL)
      tc_autoencoder_free(&l->own);
  }
  L->n = 1;
}

void tc_ae_lanes_sync(tc_ae_lanes *L) {
  const tc_model *from = L->lane[0].net->model;
  for (int i = 1; i < L->n; i++) {
    tc_model *to = L->lane[i].own.model;
    for (int v = 0; v < tc_model_param_count(from); v++) {
      const tc_tensor *src = tc_model_param_at(from, v)->value;
      memcpy(tc_model_param_at(to, v)->value->data, src->data, (size_t)src->size * sizeof(float));
    }
  }
}
