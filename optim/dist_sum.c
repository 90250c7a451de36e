/* dist_sum.c — the shard sum: each shard's gradients (and state, and a few scalars) are a
 * leaf of one balanced binary tree over S leaves; this rank adds its aligned subtree as
 * shards arrive (a binary counter of partial sums), and the top log2(N) levels are added
 * per slice of the vector by the rank that owns the slice. The tree, hence every bit of
 * the result, is the same for any rank count N that divides S (dist.h). */
#include <stdlib.h>
#include <string.h>

#include "core/par_floats.h"
#include "optim/dist_internal.h"
#include "optim/optim_internal.h"

typedef struct tc_dist_span {
  float *data;
  int64_t n;
  const tc_param *param; /* gradient spans: a frozen variable contributes zeros */
  int is_state;
} tc_dist_span;

struct tc_dist_sum {
  tc_dist *d;
  int shards, first, count, n_extra;
  tc_dist_span *spans;
  int n_spans;
  int64_t len;        /* floats per leaf: the spans, then the extras */
  int64_t n_state;    /* floats of state spans (the snapshot) */
  float *snapshot;
  float *stack;       /* depth leaves of len floats: the partial sums of the binary counter */
  int level[16], top, depth, pushed;
  int64_t chunk;      /* this rank's slice of a leaf in the cross-rank part */
  double began;       /* clock at begin */
  float *send, *recv, *all;
  tc_dist_sum_stats stats;
};

static int tc_is_pow2(int v) { return v > 0 && (v & (v - 1)) == 0; }

tc_status tc_dist_sum_create(tc_dist_sum **out, tc_dist *d, int shards, int n_extra) {
  *out = NULL;
  int n = d->size;
  if (!tc_is_pow2(shards) || shards > TC_DIST_MAX_SHARDS)
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "shards must be a power of two from 1 to %d, got %d", TC_DIST_MAX_SHARDS,
                        shards);
  if (shards % n != 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "%d ranks do not divide %d shards: run on a power "
                        "of two ranks up to the shard count", n, shards);
  if (n_extra < 0 || n_extra > 64)
    return tc_set_error(TC_ERR_INVALID_ARG, "shard sum: %d extra scalars, at most 64", n_extra);
  tc_dist_sum *s = calloc(1, sizeof *s);
  if (s == NULL)
    return tc_set_error(TC_ERR_NOMEM, "shard sum: out of memory");
  s->d = d;
  s->shards = shards;
  s->count = shards / n;
  s->first = d->rank * s->count;
  s->n_extra = n_extra;
  s->len = n_extra;
  for (int c = s->count; c > 1; c >>= 1)
    s->depth++;
  s->depth++;
  *out = s;
  return TC_OK;
}


static tc_status tc_dist_sum_span(tc_dist_sum *s, float *data, int64_t n, const tc_param *p,
                                  int is_state) {
  if (s->stack != NULL)
    return tc_set_error(TC_ERR_STATE, "shard sum: variables are registered before the first step");
  tc_dist_span *grown = realloc(s->spans, (size_t)(s->n_spans + 1) * sizeof *grown);
  if (grown == NULL)
    return tc_set_error(TC_ERR_NOMEM, "shard sum: out of memory");
  s->spans = grown;
  s->spans[s->n_spans++] = (tc_dist_span){data, n, p, is_state};
  s->len += n;
  if (is_state)
    s->n_state += n;
  return TC_OK;
}

tc_status tc_dist_sum_add_optim(tc_dist_sum *s, const tc_optim *opt) {
  for (int i = 0; i < opt->n_vars; i++) {
    const tc_param *p = opt->vars[i].param;
    if (p->value->grad == NULL)
      return tc_set_error(TC_ERR_STATE, "shard sum: variable '%s' has no gradient buffer",
                          p->name);
    TC_TRY(tc_dist_sum_span(s, p->value->grad, p->value->size, p, 0));
  }
  return TC_OK;
}

tc_status tc_dist_sum_add_state(tc_dist_sum *s, tc_model *model) {
  for (int i = 0; i < tc_model_param_count(model); i++) {
    tc_param *p = tc_model_param_at(model, i);
    if (p->role == TC_PARAM_STATE)
      TC_TRY(tc_dist_sum_span(s, p->value->data, p->value->size, p, 1));
  }
  return TC_OK;
}

void tc_dist_sum_local(const tc_dist_sum *s, int *first, int *count) {
  *first = s->first;
  *count = s->count;
}

static void tc_dist_sum_release(tc_dist_sum *s) {
  free(s->stack), free(s->snapshot), free(s->send), free(s->recv), free(s->all);
  s->stack = s->snapshot = s->send = s->recv = s->all = NULL;
}

void tc_dist_sum_free(tc_dist_sum *s) {
  if (s == NULL)
    return;
  tc_dist_sum_release(s);
  free(s->spans);
  free(s);
}

/* Every rank makes its buffers at its first begin, the same step on all: they agree on the
 * outcome, so a rank that could not never leaves the others in an exchange it will not
 * join. On failure no rank keeps any buffer (finish then only agrees on the error). */
static tc_status tc_dist_sum_alloc(tc_dist_sum *s) {
  int n = s->d->size;
  s->chunk = (s->len + n - 1) / n + 2; /* + this rank's failure and stop flags */
  size_t piece = (size_t)s->chunk * sizeof(float);
  s->stack = malloc((size_t)s->depth * (size_t)(s->len ? s->len : 1) * sizeof(float));
  s->snapshot = malloc((size_t)(s->n_state ? s->n_state : 1) * sizeof(float));
  s->send = malloc(piece * (size_t)n);
  s->recv = malloc(piece * (size_t)n);
  s->all = malloc(piece * (size_t)n);
  tc_status st = TC_OK;
  if (!s->stack || !s->snapshot || !s->send || !s->recv || !s->all)
    st = tc_set_error(TC_ERR_NOMEM, "shard sum: out of memory for %lld floats per shard",
                      (long long)s->len);
  st = tc_dist_agree(s->d, st);
  if (st != TC_OK)
    tc_dist_sum_release(s);
  return st;
}

tc_status tc_dist_sum_begin(tc_dist_sum *s) {
  if (s->stack == NULL)
    TC_TRY(tc_dist_sum_alloc(s));
  s->top = s->pushed = 0;
  s->began = tc_dist_now();
  float *at = s->snapshot;
  for (int i = 0; i < s->n_spans; i++)
    if (s->spans[i].is_state) {
      memcpy(at, s->spans[i].data, (size_t)s->spans[i].n * sizeof *at);
      at += s->spans[i].n;
    }
  return TC_OK;
}

void tc_dist_sum_restore(tc_dist_sum *s) {
  const float *at = s->snapshot;
  for (int i = 0; i < s->n_spans; i++)
    if (s->spans[i].is_state) {
      memcpy(s->spans[i].data, at, (size_t)s->spans[i].n * sizeof *at);
      at += s->spans[i].n;
    }
}

/* The variable of twin that stands for span sp: its name and size, or NULL. */
static tc_param *tc_dist_twin(const tc_dist_span *sp, const tc_model *twin) {
  tc_param *p = tc_model_find_param(twin, sp->param->name);
  return p != NULL && p->value->size == sp->n && (sp->is_state || p->value->grad) ? p : NULL;
}

/* Span i's numbers now: the registered ones, or (twin) those of twin's variable. */
static const float *tc_dist_span_now(const tc_dist_span *sp, const tc_model *twin) {
  if (twin == NULL)
    return sp->data;
  const tc_param *p = tc_dist_twin(sp, twin);
  return sp->is_state ? p->value->data : p->value->grad;
}

static void tc_dist_leaf_fill(const tc_dist_sum *s, const tc_model *twin, float *leaf,
                              const float *extra) {
  for (int i = 0; i < s->n_spans; i++) {
    const tc_dist_span *sp = &s->spans[i];
    if (sp->is_state || sp->param->trainable)
      tc_floats_copy(leaf, tc_dist_span_now(sp, twin), sp->n);
    else
      tc_floats_zero(leaf, sp->n);
    leaf += sp->n;
  }
  if (s->n_extra > 0)
    memcpy(leaf, extra, (size_t)s->n_extra * sizeof *leaf);
}

tc_status tc_dist_sum_check_twin(const tc_dist_sum *s, const tc_model *twin) {
  for (int i = 0; i < s->n_spans; i++)
    if (tc_dist_twin(&s->spans[i], twin) == NULL)
      return tc_set_error(TC_ERR_STATE, "shard sum: the replica has no variable '%s' of %lld "
                          "floats%s", s->spans[i].param->name, (long long)s->spans[i].n,
                          s->spans[i].is_state ? "" : " with a gradient buffer");
  return TC_OK;
}

void tc_dist_sum_restore_into(const tc_dist_sum *s, tc_model *twin) {
  const float *at = s->snapshot;
  for (int i = 0; i < s->n_spans; i++)
    if (s->spans[i].is_state) {
      memcpy(tc_dist_twin(&s->spans[i], twin)->value->data, at,
             (size_t)s->spans[i].n * sizeof *at);
      at += s->spans[i].n;
    }
}

/* a += b, element by element (by the team: core/par_floats.h): the order of elements does
 * not matter, only which partial sums meet, and that is fixed by the tree. */
static void tc_dist_add(float *restrict a, const float *restrict b, int64_t n) {
  tc_floats_add(a, b, n);
}

tc_status tc_dist_sum_push(tc_dist_sum *s, const float *extra) {
  return tc_dist_sum_push_from(s, NULL, extra);
}

tc_status tc_dist_sum_push_from(tc_dist_sum *s, const tc_model *twin, const float *extra) {
  if (s->stack == NULL || s->pushed >= s->count)
    return tc_set_error(TC_ERR_STATE, "shard sum: push of shard %d of %d without begin",
                        s->pushed + 1, s->count);
  if (twin != NULL)
    TC_TRY(tc_dist_sum_check_twin(s, twin));
  tc_dist_leaf_fill(s, twin, s->stack + (int64_t)s->top * s->len, extra);
  s->level[s->top++] = 0;
  /* Two partial sums of equal height are the left and right halves of one subtree. */
  while (s->top >= 2 && s->level[s->top - 1] == s->level[s->top - 2]) {
    float *left = s->stack + (int64_t)(s->top - 2) * s->len;
    tc_dist_add(left, left + s->len, s->len);
    s->level[s->top - 2]++;
    s->top--;
  }
  s->pushed++;
  return TC_OK;
}

/* Slice j of the rank's subtree sum, then its two flags, into piece j of send. */
static void tc_dist_pack(tc_dist_sum *s, int failed, int flag) {
  int n = s->d->size;
  int64_t c = s->chunk - 2;
  const float *total = s->stack;
  for (int j = 0; j < n; j++) {
    float *piece = s->send + (int64_t)j * s->chunk;
    int64_t lo = j * c, hi = lo + c < s->len ? lo + c : s->len, k = 0;
    for (; !failed && lo + k < hi; k++)
      piece[k] = total[lo + k];
    for (; k < c; k++)
      piece[k] = 0.0f;
    piece[c] = failed ? 1.0f : 0.0f;
    piece[c + 1] = flag ? 1.0f : 0.0f;
  }
}

/* The top log2(N) levels of the tree for this rank's slice: the N pieces (in rank order,
 * so subtree order) added pairwise, level by level, into piece 0. */
static void tc_dist_top(tc_dist_sum *s) {
  int n = s->d->size;
  for (int w = 1; w < n; w *= 2)
    for (int i = 0; i + w < n; i += 2 * w)
      tc_dist_add(s->recv + (int64_t)i * s->chunk, s->recv + (int64_t)(i + w) * s->chunk,
                  s->chunk);
}

/* The gathered slices, times 1/S (a power of two: exact), back into the leaf layout (the
 * bottom of the stack, free now) and from there into the variables and extra_out. */
static void tc_dist_unpack(tc_dist_sum *s, float *extra_out) {
  int64_t c = s->chunk - 2;
  float inv = 1.0f / (float)s->shards, *total = s->stack;
  for (int j = 0; j < s->d->size; j++) {
    const float *piece = s->all + (int64_t)j * s->chunk;
    for (int64_t k = 0; k < c && j * c + k < s->len; k++)
      total[j * c + k] = piece[k] * inv;
  }
  for (int i = 0; i < s->n_spans; i++) {
    memcpy(s->spans[i].data, total, (size_t)s->spans[i].n * sizeof *total);
    total += s->spans[i].n;
  }
  if (extra_out != NULL && s->n_extra > 0)
    memcpy(extra_out, total, (size_t)s->n_extra * sizeof *total);
}

/* The stack's sum, times 1/S, into the variables and extra_out: one rank's whole tree is its
 * subtree, so the exchange and its copies are skipped (the same products: x * (1/S)). */
static void tc_dist_unpack_alone(tc_dist_sum *s, float *extra_out) {
  float inv = 1.0f / (float)s->shards;
  const float *total = s->stack;
  for (int i = 0; i < s->n_spans; i++) {
    tc_floats_scaled(s->spans[i].data, total, inv, s->spans[i].n);
    total += s->spans[i].n;
  }
  for (int k = 0; extra_out != NULL && k < s->n_extra; k++)
    extra_out[k] = total[k] * inv;
}

/* The exchange: this rank's subtree sum to the others, the tree's top, the total back into
 * the variables and extra_out; with one rank its subtree is the whole tree and none of
 * that is needed. Fails, writing nothing, when any rank failed (the agreed error). */
static tc_status tc_dist_total(tc_dist_sum *s, tc_status local, int flag, float *extra_out,
                               int *any_flag) {
  if (s->d->size == 1) {
    if (local != TC_OK)
      return local;
    if (any_flag)
      *any_flag = flag != 0;
    tc_dist_unpack_alone(s, extra_out);
    return TC_OK;
  }
  tc_dist_pack(s, local != TC_OK, flag);
  tc_status st = tc_dist_alltoall_f32(s->d, s->send, s->recv, s->chunk);
  if (st == TC_OK)
    tc_dist_top(s);
  if (st == TC_OK)
    st = tc_dist_allgather_f32(s->d, s->recv, s->all, s->chunk);
  if (st != TC_OK)
    return st; /* the transport itself broke: MPI ends the job */
  int64_t c = s->chunk - 2;
  if (s->all[c] != 0.0f)
    return tc_dist_agree(s->d, local);
  if (any_flag)
    *any_flag = s->all[c + 1] != 0.0f;
  tc_dist_unpack(s, extra_out);
  return TC_OK;
}

tc_status tc_dist_sum_finish(tc_dist_sum *s, tc_status local, int flag, float *extra_out,
                             int *any_flag) {
  if (local == TC_OK && (s->stack == NULL || s->pushed != s->count))
    local = tc_set_error(TC_ERR_STATE, "shard sum: %d of this rank's %d shards were pushed",
                         s->pushed, s->count);
  if (s->stack == NULL) /* nothing to send with: still agree, so that no rank waits */
    return tc_dist_agree(s->d, local);
  double t0 = tc_dist_now();
  s->stats.local_seconds += t0 - s->began;
  TC_TRY(tc_dist_total(s, local, flag, extra_out, any_flag));
  s->stats.elements = s->len;
  s->stats.steps++;
  s->stats.seconds += tc_dist_now() - t0;
  return TC_OK;
}

tc_dist_sum_stats tc_dist_sum_stats_of(const tc_dist_sum *s) { return s->stats; }
