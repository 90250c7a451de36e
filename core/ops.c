/* ops.c — elementwise ops, reductions, reshape and bias-add, with their backward passes. */
#include "core/ops.h"

#include <stdio.h>
#include <string.h>

#include "core/ops_util.h"

static tc_status tc_same_shape_check(const char *op, const tc_tensor *a, const tc_tensor *b) {
  if (tc_tensor_same_shape(a, b))
    return TC_OK;
  char sa[96], sb[96];
  return tc_set_error(TC_ERR_SHAPE, "%s: shapes %s and %s differ", op,
                      tc_shape_str(a, sa, sizeof sa), tc_shape_str(b, sb, sizeof sb));
}

/* Adds `scale * src` to t->grad when t wants a gradient. */
static void tc_grad_axpy(tc_tensor *t, float scale, const float *src) {
  if (t == NULL || !t->requires_grad)
    return;
#pragma omp parallel for schedule(static) if (t->size >= TC_OPS_PARALLEL_MIN)
  for (int64_t i = 0; i < t->size; i++)
    t->grad[i] += scale * src[i];
}

static tc_status tc_add_backward(tc_node *n) {
  tc_grad_axpy(n->in[0], 1.0f, n->out->grad);
  tc_grad_axpy(n->in[1], 1.0f, n->out->grad);
  return TC_OK;
}

static tc_status tc_sub_backward(tc_node *n) {
  tc_grad_axpy(n->in[0], 1.0f, n->out->grad);
  tc_grad_axpy(n->in[1], -1.0f, n->out->grad);
  return TC_OK;
}

static tc_status tc_mul_backward(tc_node *n) {
  tc_tensor *a = n->in[0], *b = n->in[1];
  const float *g = n->out->grad;
  if (a->requires_grad) {
#pragma omp parallel for schedule(static) if (a->size >= TC_OPS_PARALLEL_MIN)
    for (int64_t i = 0; i < a->size; i++)
      a->grad[i] += g[i] * b->data[i];
  }
  if (b->requires_grad) {
#pragma omp parallel for schedule(static) if (b->size >= TC_OPS_PARALLEL_MIN)
    for (int64_t i = 0; i < b->size; i++)
      b->grad[i] += g[i] * a->data[i];
  }
  return TC_OK;
}

typedef enum { TC_EW_ADD, TC_EW_SUB, TC_EW_MUL } tc_ew_kind;

static tc_status tc_elementwise(tc_graph *g, const char *op, tc_ew_kind kind, tc_tensor *a,
                                tc_tensor *b, tc_tensor **out) {
  TC_TRY(tc_op_check_args(op, g, out, a, b));
  TC_TRY(tc_same_shape_check(op, a, b));
  tc_tensor *in[2] = {a, b};
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, a->rank, a->shape, in, 2));
#pragma omp parallel for schedule(static) if (a->size >= TC_OPS_PARALLEL_MIN)
  for (int64_t i = 0; i < a->size; i++)
    y->data[i] = kind == TC_EW_ADD   ? a->data[i] + b->data[i]
                 : kind == TC_EW_SUB ? a->data[i] - b->data[i]
                                     : a->data[i] * b->data[i];
  tc_backward_fn fn = kind == TC_EW_ADD   ? tc_add_backward
                      : kind == TC_EW_SUB ? tc_sub_backward
                                          : tc_mul_backward;
  TC_TRY(tc_graph_record(g, op, fn, y, in, 2, NULL));
  *out = y;
  return TC_OK;
}

tc_status tc_op_add(tc_graph *g, tc_tensor *a, tc_tensor *b, tc_tensor **out) {
  return tc_elementwise(g, "add", TC_EW_ADD, a, b, out);
}
tc_status tc_op_sub(tc_graph *g, tc_tensor *a, tc_tensor *b, tc_tensor **out) {
  return tc_elementwise(g, "sub", TC_EW_SUB, a, b, out);
}
tc_status tc_op_mul(tc_graph *g, tc_tensor *a, tc_tensor *b, tc_tensor **out) {
  return tc_elementwise(g, "mul", TC_EW_MUL, a, b, out);
}

static tc_status tc_scale_backward(tc_node *n) {
  tc_grad_axpy(n->in[0], *(const float *)n->ctx, n->out->grad);
  return TC_OK;
}

tc_status tc_op_scale(tc_graph *g, tc_tensor *a, float s, tc_tensor **out) {
  TC_TRY(tc_op_check_args("scale", g, out, a, a));
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, a->rank, a->shape, &a, 1));
  for (int64_t i = 0; i < a->size; i++)
    y->data[i] = s * a->data[i];
  float *ctx = tc_arena_alloc(tc_graph_arena(g), sizeof(float));
  if (ctx == NULL)
    return tc_set_error(TC_ERR_NOMEM, "scale: out of memory");
  *ctx = s;
  TC_TRY(tc_graph_record(g, "scale", tc_scale_backward, y, &a, 1, ctx));
  *out = y;
  return TC_OK;
}

/* sum and mean share one backward: every input element gets out_grad * factor. */
static tc_status tc_reduce_backward(tc_node *n) {
  tc_tensor *a = n->in[0];
  if (a->requires_grad) {
    float gval = n->out->grad[0] * *(const float *)n->ctx;
    for (int64_t i = 0; i < a->size; i++)
      a->grad[i] += gval;
  }
  return TC_OK;
}

static tc_status tc_reduce(tc_graph *g, const char *op, tc_tensor *a, float factor,
                           tc_tensor **out) {
  TC_TRY(tc_op_check_args(op, g, out, a, a));
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, 0, NULL, &a, 1));
  double acc = 0.0;
  for (int64_t i = 0; i < a->size; i++)
    acc += a->data[i];
  y->data[0] = (float)(acc * factor);
  float *ctx = tc_arena_alloc(tc_graph_arena(g), sizeof(float));
  if (ctx == NULL)
    return tc_set_error(TC_ERR_NOMEM, "%s: out of memory", op);
  *ctx = factor;
  TC_TRY(tc_graph_record(g, op, tc_reduce_backward, y, &a, 1, ctx));
  *out = y;
  return TC_OK;
}

tc_status tc_op_sum(tc_graph *g, tc_tensor *a, tc_tensor **out) {
  return tc_reduce(g, "sum", a, 1.0f, out);
}

tc_status tc_op_mean(tc_graph *g, tc_tensor *a, tc_tensor **out) {
  if (a == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "mean: input is NULL");
  return tc_reduce(g, "mean", a, (float)(1.0 / (double)a->size), out);
}

static tc_status tc_reshape_backward(tc_node *n) {
  tc_grad_axpy(n->in[0], 1.0f, n->out->grad);
  return TC_OK;
}

tc_status tc_op_reshape(tc_graph *g, tc_tensor *a, int rank, const int64_t *shape,
                        tc_tensor **out) {
  TC_TRY(tc_op_check_args("reshape", g, out, a, a));
  int64_t size;
  TC_TRY(tc_shape_check("reshape", rank, shape, &size));
  if (size != a->size) {
    char sa[96];
    return tc_set_error(TC_ERR_SHAPE, "reshape: %s has %lld elements, the new shape %lld",
                        tc_shape_str(a, sa, sizeof sa), (long long)a->size, (long long)size);
  }
  tc_tensor *y = tc_arena_alloc(tc_graph_arena(g), sizeof *y);
  if (y == NULL)
    return tc_set_error(TC_ERR_NOMEM, "reshape: out of memory");
  *y = *a;
  y->rank = rank;
  for (int i = 0; i < rank; i++)
    y->shape[i] = shape[i];
  y->owns_data = 0;
  y->grad = NULL;
  y->node = -1;
  y->requires_grad = a->requires_grad && tc_graph_recording(g);
  TC_TRY(tc_graph_record(g, "reshape", tc_reshape_backward, y, &a, 1, NULL));
  *out = y;
  return TC_OK;
}
