/* ops_losses.c — elementwise losses: one forward/backward pair, a term per kind. */
#include <math.h>

#include "core/ops_losses.h"
#include "core/ops_util.h"

#define TC_BCE_EPS 1e-7 /* Keras' backend epsilon() */

typedef enum { TC_L_MAE, TC_L_HUBER, TC_L_HINGE, TC_L_BCE, TC_L_SIGMOID_XENT } tc_loss_kind;

typedef struct tc_loss_ctx {
  tc_loss_kind kind;
  double param; /* huber: delta; hinge: 1 = labels in {0,1}; sigmoid: label smoothing */
  double scale; /* 1/n for the mean, 1 for the sum */
} tc_loss_ctx;

static double tc_sigmoid(double x) {
  if (x >= 0.0)
    return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

static double tc_clip_prob(double p) {
  return p < TC_BCE_EPS ? TC_BCE_EPS : p > 1.0 - TC_BCE_EPS ? 1.0 - TC_BCE_EPS : p;
}

/* The label as the loss sees it (hinge's ±1, smoothed sigmoid targets). */
static double tc_loss_label(const tc_loss_ctx *c, double l) {
  if (c->kind == TC_L_HINGE)
    return c->param != 0.0 ? 2.0 * l - 1.0 : l;
  if (c->kind == TC_L_SIGMOID_XENT)
    return l * (1.0 - c->param) + 0.5 * c->param;
  return l;
}

static double tc_loss_term(const tc_loss_ctx *c, double p, double l) {
  double e = p - l, a = fabs(e), q;
  switch (c->kind) {
  case TC_L_MAE:
    return a;
  case TC_L_HUBER:
    q = a < c->param ? a : c->param;
    return 0.5 * q * q + c->param * (a - q);
  case TC_L_HINGE:
    return fmax(0.0, 1.0 - l * p);
  case TC_L_BCE:
    q = tc_clip_prob(p);
    return -(l * log(q + TC_BCE_EPS) + (1.0 - l) * log(1.0 - q + TC_BCE_EPS));
  case TC_L_SIGMOID_XENT:
    return (p > 0.0 ? p : 0.0) - p * l + log1p(exp(-fabs(p)));
  }
  return 0.0;
}

/* d term / d p; at the kinks the value TF's gradient takes (sign(0) = 0, relu'(0) = 0). */
static double tc_loss_deriv(const tc_loss_ctx *c, double p, double l) {
  double e = p - l;
  double sgn = (e > 0.0) - (e < 0.0);
  switch (c->kind) {
  case TC_L_MAE:
    return sgn;
  case TC_L_HUBER:
    return fabs(e) <= c->param ? e : c->param * sgn;
  case TC_L_HINGE:
    return 1.0 - l * p > 0.0 ? -l : 0.0;
  case TC_L_BCE:
    if (p < TC_BCE_EPS || p > 1.0 - TC_BCE_EPS)
      return 0.0;
    return -(l / (p + TC_BCE_EPS) - (1.0 - l) / (1.0 - p + TC_BCE_EPS));
  case TC_L_SIGMOID_XENT:
    return tc_sigmoid(p) - l;
  }
  return 0.0;
}

static tc_status tc_loss_backward(tc_node *node) {
  tc_tensor *p = node->in[0], *l = node->in[1];
  if (!p->requires_grad)
    return TC_OK;
  const tc_loss_ctx *c = node->ctx;
  double s = c->scale * (double)node->out->grad[0];
  for (int64_t i = 0; i < p->size; i++)
    p->grad[i] += (float)(s * tc_loss_deriv(c, p->data[i], tc_loss_label(c, l->data[i])));
  return TC_OK;
}

static tc_status tc_loss_check(const char *op, tc_graph *g, tc_tensor *p, tc_tensor *l,
                               tc_loss_reduction red, tc_tensor **out) {
  TC_TRY(tc_op_check_args(op, g, out, p, l));
  if (!tc_tensor_same_shape(p, l)) {
    char sa[96], sb[96];
    return tc_set_error(TC_ERR_SHAPE, "%s: predictions %s and labels %s differ", op,
                        tc_shape_str(p, sa, sizeof sa), tc_shape_str(l, sb, sizeof sb));
  }
  if (red != TC_REDUCE_MEAN && red != TC_REDUCE_SUM)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: reduction %d is unknown", op, (int)red);
  return TC_OK;
}

static tc_status tc_loss_run(tc_graph *g, const char *op, tc_loss_kind kind, double param,
                             tc_tensor *p, tc_tensor *l, tc_loss_reduction red, tc_tensor **out) {
  TC_TRY(tc_loss_check(op, g, p, l, red, out));
  tc_loss_ctx *c = tc_arena_alloc(tc_graph_arena(g), sizeof *c);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "%s: out of memory", op);
  c->kind = kind;
  c->param = param;
  c->scale = red == TC_REDUCE_MEAN ? 1.0 / (double)p->size : 1.0;
  tc_tensor *y, *in[2] = {p, l};
  TC_TRY(tc_graph_new_output(g, &y, 0, NULL, &p, 1));
  double acc = 0.0;
  for (int64_t i = 0; i < p->size; i++)
    acc += tc_loss_term(c, p->data[i], tc_loss_label(c, l->data[i]));
  y->data[0] = (float)(acc * c->scale);
  TC_TRY(tc_graph_record(g, op, tc_loss_backward, y, in, 2, c));
  *out = y;
  return TC_OK;
}

tc_status tc_op_mae(tc_graph *g, tc_tensor *pred, tc_tensor *labels, tc_loss_reduction red,
                    tc_tensor **out) {
  return tc_loss_run(g, "mae", TC_L_MAE, 0.0, pred, labels, red, out);
}

tc_status tc_op_huber(tc_graph *g, tc_tensor *pred, tc_tensor *labels, float delta,
                      tc_loss_reduction red, tc_tensor **out) {
  if (!(delta > 0.0f) || !isfinite(delta))
    return tc_set_error(TC_ERR_INVALID_ARG, "huber: delta must be a positive number, got %g",
                        (double)delta);
  return tc_loss_run(g, "huber", TC_L_HUBER, delta, pred, labels, red, out);
}

tc_status tc_op_hinge(tc_graph *g, tc_tensor *pred, tc_tensor *labels, int labels_zero_one,
                      tc_loss_reduction red, tc_tensor **out) {
  return tc_loss_run(g, "hinge", TC_L_HINGE, labels_zero_one != 0, pred, labels, red, out);
}

tc_status tc_op_bce(tc_graph *g, tc_tensor *probs, tc_tensor *labels, tc_loss_reduction red,
                    tc_tensor **out) {
  return tc_loss_run(g, "bce", TC_L_BCE, 0.0, probs, labels, red, out);
}

tc_status tc_op_sigmoid_cross_entropy(tc_graph *g, tc_tensor *logits, tc_tensor *labels,
                                      float label_smoothing, tc_loss_reduction red,
                                      tc_tensor **out) {
  if (!(label_smoothing >= 0.0f && label_smoothing <= 1.0f))
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "sigmoid_cross_entropy: label_smoothing %g is outside [0, 1]",
                        (double)label_smoothing);
  return tc_loss_run(g, "sigmoid_cross_entropy", TC_L_SIGMOID_XENT, label_smoothing, logits,
                     labels, red, out);
}
