/* ops_xent.c — softmax cross-entropy over the last axis, with label smoothing. */
#include <math.h>

#include "core/ops_losses.h"
#include "core/ops_util.h"

typedef struct tc_xent_ctx {
  int64_t rows, k;
  double ls, scale;
} tc_xent_ctx;

/* logsumexp of one row, shifted by its max so no exp overflows. */
static double tc_row_lse(const float *x, int64_t k) {
  double m = x[0], s = 0.0;
  for (int64_t j = 1; j < k; j++)
    m = x[j] > m ? x[j] : m;
  for (int64_t j = 0; j < k; j++)
    s += exp((double)x[j] - m);
  return m + log(s);
}

static double tc_smooth(const tc_xent_ctx *c, double l) {
  return l * (1.0 - c->ls) + c->ls / (double)c->k;
}

static tc_status tc_xent_backward(tc_node *node) {
  tc_tensor *x = node->in[0], *l = node->in[1];
  if (!x->requires_grad)
    return TC_OK;
  const tc_xent_ctx *c = node->ctx;
  double s = c->scale * (double)node->out->grad[0];
  for (int64_t r = 0; r < c->rows; r++) {
    const float *xr = x->data + r * c->k, *lr = l->data + r * c->k;
    double lse = tc_row_lse(xr, c->k);
    for (int64_t j = 0; j < c->k; j++)
      x->grad[r * c->k + j] += (float)(s * (exp((double)xr[j] - lse) - tc_smooth(c, lr[j])));
  }
  return TC_OK;
}

tc_status tc_op_softmax_cross_entropy(tc_graph *g, tc_tensor *logits, tc_tensor *labels,
                                      float label_smoothing, tc_loss_reduction red,
                                      tc_tensor **out) {
  const char *op = "softmax_cross_entropy";
  TC_TRY(tc_op_check_args(op, g, out, logits, labels));
  if (!tc_tensor_same_shape(logits, labels)) {
    char sa[96], sb[96];
    return tc_set_error(TC_ERR_SHAPE, "%s: logits %s and labels %s differ", op,
                        tc_shape_str(logits, sa, sizeof sa), tc_shape_str(labels, sb, sizeof sb));
  }
  if (logits->rank < 1)
    return tc_set_error(TC_ERR_SHAPE, "%s: logits need a class axis, got rank 0", op);
  if (!(label_smoothing >= 0.0f && label_smoothing <= 1.0f))
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: label_smoothing %g is outside [0, 1]", op,
                        (double)label_smoothing);
  if (red != TC_REDUCE_MEAN && red != TC_REDUCE_SUM)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: reduction %d is unknown", op, (int)red);
  tc_xent_ctx *c = tc_arena_alloc(tc_graph_arena(g), sizeof *c);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "%s: out of memory", op);
  c->k = logits->shape[logits->rank - 1];
  c->rows = logits->size / c->k;
  c->ls = label_smoothing;
  c->scale = red == TC_REDUCE_MEAN ? 1.0 / (double)c->rows : 1.0;
  tc_tensor *y, *in[2] = {logits, labels};
  TC_TRY(tc_graph_new_output(g, &y, 0, NULL, &logits, 1));
  double acc = 0.0;
  for (int64_t r = 0; r < c->rows; r++) {
    const float *xr = logits->data + r * c->k, *lr = labels->data + r * c->k;
    double lse = tc_row_lse(xr, c->k);
    for (int64_t j = 0; j < c->k; j++)
      acc += tc_smooth(c, lr[j]) * (lse - (double)xr[j]);
  }
  y->data[0] = (float)(acc * c->scale);
  TC_TRY(tc_graph_record(g, op, tc_xent_backward, y, in, 2, c));
  *out = y;
  return TC_OK;
}
