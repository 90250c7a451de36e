/* ops_conv2d.c — the conv2d op: the three kernels of core/conv2d.h wired into the tape. */
#include <stdio.h>

#include "core/ops_extra.h"
#include "core/ops_util.h"

typedef struct conv2d_ctx {
  const tc_conv2d_plan *plan;
  void *workspace;
} conv2d_ctx;

static tc_status expect_shape(const char *what, const tc_tensor *t, int rank,
                              const int64_t *shape) {
  int ok = t->rank == rank;
  for (int i = 0; ok && i < rank; i++)
    ok = t->shape[i] == shape[i];
  if (ok)
    return TC_OK;
  char got[96];
  return tc_set_error(TC_ERR_SHAPE, "conv2d: %s is %s, the plan expects (%lld, %lld, %lld, %lld)",
                      what, tc_shape_str(t, got, sizeof got), (long long)shape[0],
                      (long long)(rank > 1 ? shape[1] : 0), (long long)(rank > 2 ? shape[2] : 0),
                      (long long)(rank > 3 ? shape[3] : 0));
}

static void nhwc_or_nchw(const tc_conv2d_plan *q, int64_t h, int64_t w, int64_t c,
                         int64_t s[4]) {
  int cl = q->p.data_format == TC_CHANNELS_LAST;
  s[0] = q->n;
  s[1] = cl ? h : c;
  s[2] = cl ? w : h;
  s[3] = cl ? c : w;
}

static tc_status check_op(const tc_conv2d_plan *q, const tc_tensor *x, const tc_tensor *k,
                          const tc_tensor *b) {
  int cl = q->p.data_format == TC_CHANNELS_LAST;
  if (x->rank == 4 && x->shape[cl ? 3 : 1] != q->c)
    return tc_set_error(TC_ERR_SHAPE, "conv2d: input has %lld channels, kernel expects %d",
                        (long long)x->shape[cl ? 3 : 1], q->c);
  int64_t xs[4], ks[4] = {q->p.kernel_h, q->p.kernel_w, q->c / q->p.groups, q->p.filters};
  nhwc_or_nchw(q, q->h, q->w, q->c, xs);
  TC_TRY(expect_shape("input", x, 4, xs));
  TC_TRY(expect_shape("kernel", k, 4, ks));
  if (b != NULL && (b->rank != 1 || b->shape[0] != q->p.filters)) {
    char got[96];
    return tc_set_error(TC_ERR_SHAPE, "conv2d: bias is %s, the plan expects (%d)",
                        tc_shape_str(b, got, sizeof got), q->p.filters);
  }
  return TC_OK;
}

/* Kernels overwrite while the tape accumulates, so each gradient lands in scratch first. */
static tc_status conv2d_backward(tc_node *node) {
  const conv2d_ctx *c = node->ctx;
  tc_tensor *x = node->in[0], *k = node->in[1], *b = node->n_in > 2 ? node->in[2] : NULL;
  const float *dy = node->out->grad;
  float *tmp, *dk = NULL, *db = NULL;
  if (x->requires_grad) {
    TC_TRY(tc_op_scratch("conv2d", node->graph, x->size, &tmp));
    TC_TRY(tc_conv2d_bwd_data(c->plan, dy, k->data, tmp, c->workspace));
    tc_op_add_into(x->grad, tmp, x->size);
  }
  if (k->requires_grad)
    TC_TRY(tc_op_scratch("conv2d", node->graph, k->size, &dk));
  if (b != NULL && b->requires_grad)
    TC_TRY(tc_op_scratch("conv2d", node->graph, b->size, &db));
  if (dk == NULL && db == NULL)
    return TC_OK;
  TC_TRY(tc_conv2d_bwd_weights(c->plan, x->data, dy, dk, db, c->workspace));
  if (dk != NULL)
    tc_op_add_into(k->grad, dk, k->size);
  if (db != NULL)
    tc_op_add_into(b->grad, db, b->size);
  return TC_OK;
}

tc_status tc_op_conv2d(tc_graph *g, tc_tensor *x, tc_tensor *kernel, tc_tensor *bias,
                       const tc_conv2d_plan *plan, tc_tensor **out) {
  TC_TRY(tc_op_check_args("conv2d", g, out, x, kernel));
  if (plan == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d: plan is NULL");
  TC_TRY(check_op(plan, x, kernel, bias));
  conv2d_ctx *c = tc_arena_alloc(tc_graph_arena(g), sizeof *c);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "conv2d: out of memory");
  c->plan = plan;
  c->workspace = NULL;
  if (plan->workspace_bytes > 0) {
    c->workspace = tc_arena_alloc(tc_graph_arena(g), plan->workspace_bytes);
    if (c->workspace == NULL)
      return tc_set_error(TC_ERR_NOMEM, "conv2d: no memory for %zu bytes of workspace",
                          plan->workspace_bytes);
  }
  int64_t ys[4];
  nhwc_or_nchw(plan, plan->oh, plan->ow, plan->p.filters, ys);
  tc_tensor *in[3] = {x, kernel, bias}, *y;
  TC_TRY(tc_graph_new_output(g, &y, 4, ys, in, bias ? 3 : 2));
  TC_TRY(tc_conv2d_fwd(plan, x->data, kernel->data, bias ? bias->data : NULL, y->data,
                           c->workspace));
  TC_TRY(tc_graph_record(g, "conv2d", conv2d_backward, y, in, bias ? 3 : 2, c));
  *out = y;
  return TC_OK;
}
