/* ops_conv2dt.c — the conv2d_transpose op: the three kernels wired into the tape. */
#include <stdio.h>

#include "core/ops.h"
#include "core/ops_util.h"

typedef struct tc_conv2dt_ctx {
  const tc_conv2dt_plan *plan;
  void *workspace;
} tc_conv2dt_ctx;

static tc_status tc_expect_shape(const char *what, const tc_tensor *t, int rank,
                                 const int64_t *shape) {
  int ok = t->rank == rank;
  for (int i = 0; ok && i < rank; i++)
    ok = t->shape[i] == shape[i];
  if (ok)
    return TC_OK;
  char got[96], want[96];
  int used = snprintf(want, sizeof want, "(");
  for (int i = 0; i < rank && used < (int)sizeof want; i++)
    used += snprintf(want + used, sizeof want - (size_t)used, i ? ", %lld" : "%lld",
                     (long long)shape[i]);
  if (used < (int)sizeof want)
    snprintf(want + used, sizeof want - (size_t)used, ")");
  return tc_set_error(TC_ERR_SHAPE, "conv2d_transpose: %s is %s, the plan expects %s", what,
                      tc_shape_str(t, got, sizeof got), want);
}

static tc_status tc_conv2dt_check(const tc_conv2dt_plan *pl, const tc_tensor *x,
                                  const tc_tensor *k, const tc_tensor *b) {
  const tc_conv2dt_params *p = &pl->p;
  int64_t xs[4] = {pl->n, pl->h, pl->w, pl->c};
  if (p->data_format == TC_CHANNELS_FIRST) {
    xs[1] = pl->c;
    xs[2] = pl->h;
    xs[3] = pl->w;
  }
  if (x->rank == 4 && (p->data_format == TC_CHANNELS_LAST ? x->shape[3] : x->shape[1]) != pl->c)
    return tc_set_error(TC_ERR_SHAPE,
                        "conv2d_transpose: input has %lld channels, kernel expects %d",
                        (long long)(p->data_format == TC_CHANNELS_LAST ? x->shape[3] : x->shape[1]),
                        pl->c);
  TC_TRY(tc_expect_shape("input", x, 4, xs));
  int64_t ks[4] = {p->kernel_h, p->kernel_w, p->filters / p->groups, pl->c};
  TC_TRY(tc_expect_shape("kernel", k, 4, ks));
  if (b != NULL) {
    int64_t bs[1] = {p->filters};
    TC_TRY(tc_expect_shape("bias", b, 1, bs));
  }
  return TC_OK;
}

static tc_status tc_conv2dt_backward_node(tc_node *n) {
  const tc_conv2dt_ctx *c = n->ctx;
  tc_tensor *x = n->in[0], *k = n->in[1], *b = n->in[2];
  const float *dy = n->out->grad;
  float *tmp;
  if (x->requires_grad) {
    TC_TRY(tc_op_scratch("conv2d_transpose", n->graph, x->size, &tmp));
    TC_TRY(tc_conv2dt_backward_data(c->plan, dy, k->data, tmp, c->workspace));
    tc_op_add_into(x->grad, tmp, x->size);
  }
  int want_b = b != NULL && b->requires_grad;
  if (k->requires_grad || want_b) {
    float *dk, *db = NULL;
    TC_TRY(tc_op_scratch("conv2d_transpose", n->graph, k->size, &dk));
    if (want_b)
      TC_TRY(tc_op_scratch("conv2d_transpose", n->graph, b->size, &db));
    TC_TRY(tc_conv2dt_backward_weights(c->plan, x->data, dy, dk, db, c->workspace));
    if (k->requires_grad)
      tc_op_add_into(k->grad, dk, k->size);
    if (want_b)
      tc_op_add_into(b->grad, db, b->size);
  }
  return TC_OK;
}

tc_status tc_op_conv2d_transpose(tc_graph *g, tc_tensor *x, tc_tensor *kernel, tc_tensor *bias,
                                 const tc_conv2dt_plan *plan, tc_tensor **out) {
  TC_TRY(tc_op_check_args("conv2d_transpose", g, out, x, kernel));
  if (plan == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose: plan is NULL");
  TC_TRY(tc_conv2dt_check(plan, x, kernel, bias));
  tc_conv2dt_ctx *c = tc_arena_alloc(tc_graph_arena(g), sizeof *c);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "conv2d_transpose: out of memory");
  c->plan = plan;
  c->workspace = plan->workspace_bytes ? tc_arena_alloc(tc_graph_arena(g), plan->workspace_bytes)
                                       : NULL;
  if (plan->workspace_bytes && c->workspace == NULL)
    return tc_set_error(TC_ERR_NOMEM, "conv2d_transpose: no memory for %zu bytes of workspace",
                        plan->workspace_bytes);
  int64_t ys[4] = {plan->n, plan->oh, plan->ow, plan->p.filters};
  if (plan->p.data_format == TC_CHANNELS_FIRST) {
    ys[1] = plan->p.filters;
    ys[2] = plan->oh;
    ys[3] = plan->ow;
  }
  tc_tensor *in[3] = {x, kernel, bias};
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, 4, ys, in, 3));
  TC_TRY(tc_conv2dt_forward(plan, x->data, kernel->data, bias ? bias->data : NULL, y->data,
                            c->workspace));
  TC_TRY(tc_graph_record(g, "conv2d_transpose", tc_conv2dt_backward_node, y, in, bias ? 3 : 2, c));
  *out = y;
  return TC_OK;
}
