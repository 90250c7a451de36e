/* ops_gather.c — per-axis index maps: forward gather, backward scatter-add. */
#include "core/ops_gather.h"

#include <string.h>

#include "core/ops_util.h"

typedef struct tc_gather_ctx {
  int64_t *maps[TC_MAX_RANK]; /* never NULL here: identity maps are materialised */
  int64_t in_stride[TC_MAX_RANK]; /* per output axis: the stride of input axis perm[d] */
} tc_gather_ctx;

/* Source offset of the output coordinate idx, or -1 when it reads the constant. */
static int64_t tc_gather_src(const tc_gather_ctx *c, int rank, const int64_t *idx) {
  int64_t off = 0;
  for (int d = 0; d < rank; d++) {
    int64_t s = c->maps[d][idx[d]];
    if (s < 0)
      return -1;
    off += s * c->in_stride[d];
  }
  return off;
}

/* Advances a row-major coordinate over shape (the last axis fastest). */
static void tc_gather_next(int64_t *idx, const int64_t *shape, int rank) {
  for (int d = rank - 1; d >= 0; d--) {
    if (++idx[d] < shape[d])
      return;
    idx[d] = 0;
  }
}

/* y: out_shape, x: its input; one pass in output order. */
static void tc_gather_forward(const tc_gather_ctx *c, const tc_tensor *x, tc_tensor *y,
                              float constant) {
  int64_t idx[TC_MAX_RANK] = {0};
  for (int64_t i = 0; i < y->size; i++) {
    int64_t s = tc_gather_src(c, y->rank, idx);
    y->data[i] = s < 0 ? constant : x->data[s];
    tc_gather_next(idx, y->shape, y->rank);
  }
}

static tc_status tc_gather_backward(tc_node *node) {
  tc_tensor *x = node->in[0], *y = node->out;
  if (!x->requires_grad)
    return TC_OK;
  const tc_gather_ctx *c = node->ctx;
  int64_t idx[TC_MAX_RANK] = {0};
  for (int64_t i = 0; i < y->size; i++) {
    int64_t s = tc_gather_src(c, y->rank, idx);
    if (s >= 0)
      x->grad[s] += y->grad[i];
    tc_gather_next(idx, y->shape, y->rank);
  }
  return TC_OK;
}

tc_status tc_op_gather_axes(tc_graph *g, const char *op, tc_tensor *x, const int *perm,
                            const int64_t *out_shape, const int64_t *const *maps,
                            float constant, tc_tensor **out) {
  tc_arena *a = tc_graph_arena(g);
  tc_gather_ctx *c = tc_arena_alloc(a, sizeof *c);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "%s: out of memory", op);
  int64_t stride[TC_MAX_RANK], st = 1;
  for (int d = x->rank - 1; d >= 0; d--) {
    stride[d] = st;
    st *= x->shape[d];
  }
  for (int d = 0; d < x->rank; d++) {
    int src_axis = perm ? perm[d] : d;
    c->in_stride[d] = stride[src_axis];
    c->maps[d] = tc_arena_alloc(a, (size_t)out_shape[d] * sizeof(int64_t));
    if (c->maps[d] == NULL)
      return tc_set_error(TC_ERR_NOMEM, "%s: out of memory", op);
    for (int64_t i = 0; i < out_shape[d]; i++) {
      int64_t s = maps && maps[d] ? maps[d][i] : i;
      TC_ASSERT(s >= -1 && s < x->shape[src_axis]);
      c->maps[d][i] = s;
    }
  }
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, x->rank, out_shape, &x, 1));
  tc_gather_forward(c, x, y, constant);
  TC_TRY(tc_graph_record(g, op, tc_gather_backward, y, &x, 1, c));
  *out = y;
  return TC_OK;
}
