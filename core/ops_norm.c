/* ops_norm.c — one normalization kernel for layer, group and instance norm: every element
 * belongs to a statistics group s (whose moments it shares) and a parameter slot p (its
 * gamma and beta), both linear in its coordinates. */
#include "core/ops_norm.h"

#include <math.h>
#include <string.h>

#include "core/ops_util.h"

typedef struct tc_norm_ctx {
  int64_t s_div[TC_MAX_RANK], s_stride[TC_MAX_RANK], p_stride[TC_MAX_RANK];
  int64_t n_stats, n_params, count; /* count = elements per statistics group */
  double epsilon;
  double *mean, *rstd; /* n_stats each, in the arena */
} tc_norm_ctx;

static void tc_norm_index(const tc_norm_ctx *c, int rank, const int64_t *idx, int64_t *s,
                          int64_t *p) {
  *s = 0;
  *p = 0;
  for (int d = 0; d < rank; d++) {
    *s += idx[d] / c->s_div[d] * c->s_stride[d];
    *p += idx[d] * c->p_stride[d];
  }
}

static void tc_norm_next(int64_t *idx, const int64_t *shape, int rank) {
  for (int d = rank - 1; d >= 0; d--) {
    if (++idx[d] < shape[d])
      return;
    idx[d] = 0;
  }
}

/* Two passes in double: the mean, then the biased variance around it. */
static void tc_norm_moments(tc_norm_ctx *c, const tc_tensor *x) {
  int64_t idx[TC_MAX_RANK] = {0}, s, p;
  memset(c->mean, 0, (size_t)c->n_stats * sizeof(double));
  memset(c->rstd, 0, (size_t)c->n_stats * sizeof(double));
  for (int64_t i = 0; i < x->size; i++, tc_norm_next(idx, x->shape, x->rank)) {
    tc_norm_index(c, x->rank, idx, &s, &p);
    c->mean[s] += x->data[i];
  }
  for (int64_t k = 0; k < c->n_stats; k++)
    c->mean[k] /= (double)c->count;
  for (int64_t i = 0; i < x->size; i++, tc_norm_next(idx, x->shape, x->rank)) {
    tc_norm_index(c, x->rank, idx, &s, &p);
    double d = x->data[i] - c->mean[s];
    c->rstd[s] += d * d;
  }
  for (int64_t k = 0; k < c->n_stats; k++)
    c->rstd[k] = 1.0 / sqrt(c->rstd[k] / (double)c->count + c->epsilon);
}

static void tc_norm_forward(tc_norm_ctx *c, const tc_tensor *x, const tc_tensor *gamma,
                            const tc_tensor *beta, tc_tensor *y) {
  tc_norm_moments(c, x);
  int64_t idx[TC_MAX_RANK] = {0}, s, p;
  for (int64_t i = 0; i < x->size; i++, tc_norm_next(idx, x->shape, x->rank)) {
    tc_norm_index(c, x->rank, idx, &s, &p);
    double v = (x->data[i] - c->mean[s]) * c->rstd[s];
    y->data[i] = (float)(v * (gamma ? gamma->data[p] : 1.0) + (beta ? beta->data[p] : 0.0));
  }
}

/* dx = rstd·(dxh - mean(dxh) - xh·mean(dxh·xh)) per group, dxh = dy·gamma. */
static tc_status tc_norm_backward(tc_node *node) {
  tc_tensor *x = node->in[0], *gamma = node->in[1], *beta = node->in[2], *y = node->out;
  const tc_norm_ctx *c = node->ctx;
  double *sums = tc_arena_calloc(tc_graph_arena(node->graph),
                                 (size_t)(2 * c->n_stats) * sizeof(double));
  if (sums == NULL)
    return tc_set_error(TC_ERR_NOMEM, "%s: no memory for the backward sums", node->op);
  int64_t idx[TC_MAX_RANK] = {0}, s, p;
  for (int64_t i = 0; i < x->size; i++, tc_norm_next(idx, x->shape, x->rank)) {
    tc_norm_index(c, x->rank, idx, &s, &p);
    double xh = (x->data[i] - c->mean[s]) * c->rstd[s], dy = y->grad[i];
    double dxh = dy * (gamma ? gamma->data[p] : 1.0);
    sums[2 * s] += dxh;
    sums[2 * s + 1] += dxh * xh;
    if (gamma && gamma->requires_grad)
      gamma->grad[p] += (float)(dy * xh);
    if (beta && beta->requires_grad)
      beta->grad[p] += (float)dy;
  }
  if (!x->requires_grad)
    return TC_OK;
  for (int64_t i = 0; i < x->size; i++, tc_norm_next(idx, x->shape, x->rank)) {
    tc_norm_index(c, x->rank, idx, &s, &p);
    double xh = (x->data[i] - c->mean[s]) * c->rstd[s];
    double dxh = y->grad[i] * (gamma ? gamma->data[p] : 1.0);
    double m1 = sums[2 * s] / (double)c->count, m2 = sums[2 * s + 1] / (double)c->count;
    x->grad[i] += (float)(c->rstd[s] * (dxh - m1 - xh * m2));
  }
  return TC_OK;
}

static tc_status tc_norm_param_check(const char *op, const char *name, const tc_tensor *t,
                                     int64_t n) {
  if (t != NULL && t->size != n)
    return tc_set_error(TC_ERR_SHAPE, "%s: %s has %lld elements, the normalized axes need %lld",
                        op, name, (long long)t->size, (long long)n);
  return TC_OK;
}

static tc_status tc_norm_run(tc_graph *g, const char *op, tc_norm_ctx *c, tc_tensor *x,
                             tc_tensor *gamma, tc_tensor *beta, tc_tensor **out) {
  TC_TRY(tc_norm_param_check(op, "gamma", gamma, c->n_params));
  TC_TRY(tc_norm_param_check(op, "beta", beta, c->n_params));
  if (!(c->epsilon > 0.0) || !isfinite(c->epsilon))
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: epsilon must be a positive number, got %g", op,
                        c->epsilon);
  c->count = x->size / c->n_stats;
  tc_arena *a = tc_graph_arena(g);
  c->mean = tc_arena_alloc(a, (size_t)c->n_stats * sizeof(double));
  c->rstd = tc_arena_alloc(a, (size_t)c->n_stats * sizeof(double));
  if (c->mean == NULL || c->rstd == NULL)
    return tc_set_error(TC_ERR_NOMEM, "%s: out of memory", op);
  tc_tensor *y, *in[3] = {x, gamma, beta};
  TC_TRY(tc_graph_new_output(g, &y, x->rank, x->shape, in, 3));
  tc_norm_forward(c, x, gamma, beta, y);
  TC_TRY(tc_graph_record(g, op, tc_norm_backward, y, in, 3, c));
  *out = y;
  return TC_OK;
}

static tc_norm_ctx *tc_norm_ctx_new(tc_graph *g, float epsilon) {
  tc_norm_ctx *c = tc_arena_calloc(tc_graph_arena(g), sizeof *c);
  if (c == NULL)
    return NULL;
  for (int d = 0; d < TC_MAX_RANK; d++)
    c->s_div[d] = 1;
  c->epsilon = epsilon;
  return c;
}

tc_status tc_op_layer_norm(tc_graph *g, tc_tensor *x, tc_tensor *gamma, tc_tensor *beta,
                           int n_axes, const int *axes, float epsilon, tc_tensor **out) {
  TC_TRY(tc_op_check_args("layer_norm", g, out, x, x));
  if (axes == NULL || n_axes < 1 || n_axes > x->rank)
    return tc_set_error(TC_ERR_INVALID_ARG, "layer_norm: need 1..%d axes, got %d", x->rank,
                        n_axes);
  int in_set[TC_MAX_RANK] = {0};
  for (int k = 0; k < n_axes; k++) {
    int ax = axes[k] < 0 ? x->rank + axes[k] : axes[k];
    if (ax < 0 || ax >= x->rank || in_set[ax]++)
      return tc_set_error(TC_ERR_SHAPE, "layer_norm: axis %d is out of range for rank %d or "
                                        "listed twice", axes[k], x->rank);
  }
  tc_norm_ctx *c = tc_norm_ctx_new(g, epsilon);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "layer_norm: out of memory");
  c->n_stats = c->n_params = 1;
  for (int d = x->rank - 1; d >= 0; d--) {
    int64_t *stride = in_set[d] ? &c->p_stride[d] : &c->s_stride[d];
    int64_t *count = in_set[d] ? &c->n_params : &c->n_stats;
    *stride = *count;
    *count *= x->shape[d];
  }
  return tc_norm_run(g, "layer_norm", c, x, gamma, beta, out);
}

tc_status tc_op_group_norm(tc_graph *g, tc_tensor *x, tc_tensor *gamma, tc_tensor *beta,
                           int groups, float epsilon, int channels_first, tc_tensor **out) {
  TC_TRY(tc_op_check_args("group_norm", g, out, x, x));
  if (x->rank < 2)
    return tc_set_error(TC_ERR_SHAPE, "group_norm: input needs a batch and a channel axis, "
                                      "got rank %d", x->rank);
  int ca = channels_first ? 1 : x->rank - 1;
  int64_t ch = x->shape[ca];
  if (groups < 1 || ch % groups != 0)
    return tc_set_error(TC_ERR_SHAPE, "group_norm: %lld channels do not split into %d groups",
                        (long long)ch, groups);
  tc_norm_ctx *c = tc_norm_ctx_new(g, epsilon);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "group_norm: out of memory");
  c->s_stride[0] = groups;
  c->s_stride[ca] = 1;
  c->s_div[ca] = ch / groups;
  c->p_stride[ca] = 1;
  c->n_stats = x->shape[0] * groups;
  c->n_params = ch;
  return tc_norm_run(g, "group_norm", c, x, gamma, beta, out);
}

tc_status tc_op_instance_norm(tc_graph *g, tc_tensor *x, tc_tensor *gamma, tc_tensor *beta,
                              float epsilon, int channels_first, tc_tensor **out) {
  TC_TRY(tc_op_check_args("instance_norm", g, out, x, x));
  if (x->rank < 3)
    return tc_set_error(TC_ERR_SHAPE, "instance_norm: input needs batch, spatial and channel "
                                      "axes, got rank %d", x->rank);
  int64_t ch = x->shape[channels_first ? 1 : x->rank - 1];
  return tc_op_group_norm(g, x, gamma, beta, (int)ch, epsilon, channels_first, out);
}
