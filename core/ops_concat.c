/* ops_concat.c — concat of any number of tensors along one axis, and split (its inverse,
 * made of slices). */
#include <string.h>

#include "core/ops_layout.h"
#include "core/ops_util.h"

typedef struct tc_concat_ctx {
  int64_t outer, inner, out_len; /* x viewed as (outer, len_k, inner) */
} tc_concat_ctx;

/* Inputs agree with xs[0] on rank and on every dim but `ax`. */
static tc_status tc_concat_check(int n, tc_tensor *const *xs, int axis, int *ax) {
  for (int k = 0; k < n; k++)
    if (xs[k] == NULL)
      return tc_set_error(TC_ERR_INVALID_ARG, "concat: input %d is NULL", k);
  const tc_tensor *x0 = xs[0];
  *ax = axis < 0 ? x0->rank + axis : axis;
  if (x0->rank < 1 || *ax < 0 || *ax >= x0->rank)
    return tc_set_error(TC_ERR_SHAPE, "concat: axis %d is out of range for rank %d", axis,
                        x0->rank);
  for (int k = 1; k < n; k++) {
    const tc_tensor *x = xs[k];
    if (x->rank != x0->rank)
      return tc_set_error(TC_ERR_SHAPE, "concat: input %d has rank %d, input 0 has rank %d", k,
                          x->rank, x0->rank);
    for (int d = 0; d < x0->rank; d++)
      if (d != *ax && x->shape[d] != x0->shape[d]) {
        char s0[96], sk[96];
        return tc_set_error(TC_ERR_SHAPE,
                            "concat: input %d %s and input 0 %s differ on axis %d (concat axis %d)",
                            k, tc_shape_str(x, sk, sizeof sk), tc_shape_str(x0, s0, sizeof s0), d,
                            *ax);
      }
  }
  return TC_OK;
}

/* gx[o][:run] += gy[o * stride + :run] for every o, in one loop (one parallel region): a
 * channel concat of NHWC images has runs of a few channels per pixel, and a call (and an
 * OpenMP region) per run made the U-Net's backward concat 56 % of its step. */
static void tc_concat_grad_runs(float *gx, const float *gy, int64_t outer, int64_t run,
                                int64_t stride) {
#pragma omp parallel for schedule(static) if (outer * run >= TC_OPS_PARALLEL_MIN)
  for (int64_t o = 0; o < outer; o++) {
    float *d = gx + o * run;
    const float *s = gy + o * stride;
    for (int64_t i = 0; i < run; i++)
      d[i] += s[i];
  }
}

static tc_status tc_concat_backward(tc_node *node) {
  const tc_concat_ctx *c = node->ctx;
  const float *gy = node->out->grad;
  int64_t col = 0;
  for (int k = 0; k < node->n_in; k++) {
    tc_tensor *x = node->in[k];
    int64_t run = x->size / c->outer;
    if (x->requires_grad)
      tc_concat_grad_runs(x->grad, gy + col, c->outer, run, c->out_len * c->inner);
    col += run;
  }
  return TC_OK;
}

tc_status tc_op_concat(tc_graph *g, int n, tc_tensor *const *xs, int axis, tc_tensor **out) {
  if (g == NULL || out == NULL || xs == NULL || n < 1)
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "concat: need a graph, an output pointer and at least 1 input, got %d", n);
  int ax = 0;
  TC_TRY(tc_concat_check(n, xs, axis, &ax));
  tc_concat_ctx *c = tc_arena_alloc(tc_graph_arena(g), sizeof *c);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "concat: out of memory");
  int64_t shape[TC_MAX_RANK], len;
  memcpy(shape, xs[0]->shape, sizeof shape);
  TC_TRY(tc_op_axis_split("concat", xs[0], ax, &c->outer, &len, &c->inner));
  c->out_len = 0;
  for (int k = 0; k < n; k++)
    c->out_len += xs[k]->shape[ax];
  shape[ax] = c->out_len;
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, xs[0]->rank, shape, xs, n));
  int64_t col = 0;
  for (int k = 0; k < n; k++) {
    int64_t run = xs[k]->size / c->outer;
    for (int64_t o = 0; o < c->outer; o++)
      memcpy(y->data + o * c->out_len * c->inner + col, xs[k]->data + o * run,
             (size_t)run * sizeof(float));
    col += run;
  }
  TC_TRY(tc_graph_record(g, "concat", tc_concat_backward, y, xs, n, c));
  *out = y;
  return TC_OK;
}

tc_status tc_op_split(tc_graph *g, tc_tensor *x, int axis, int n, const int64_t *sizes,
                      tc_tensor **outs) {
  TC_TRY(tc_op_check_args("split", g, outs, x, x));
  int64_t outer, len, inner;
  TC_TRY(tc_op_axis_split("split", x, axis, &outer, &len, &inner));
  int ax = axis < 0 ? x->rank + axis : axis;
  if (n < 1)
    return tc_set_error(TC_ERR_INVALID_ARG, "split: need at least 1 piece, got %d", n);
  if (sizes == NULL && len % n != 0)
    return tc_set_error(TC_ERR_SHAPE, "split: axis %d has %lld elements, not divisible by %d",
                        axis, (long long)len, n);
  int64_t total = 0;
  for (int k = 0; k < n; k++) {
    int64_t s = sizes ? sizes[k] : len / n;
    if (s < 1)
      return tc_set_error(TC_ERR_SHAPE, "split: piece %d has size %lld, need >= 1", k,
                          (long long)s);
    total += s;
  }
  if (total != len)
    return tc_set_error(TC_ERR_SHAPE, "split: the sizes sum to %lld, axis %d has %lld",
                        (long long)total, axis, (long long)len);
  int64_t begin[TC_MAX_RANK] = {0}, size[TC_MAX_RANK];
  for (int d = 0; d < x->rank; d++)
    size[d] = -1;
  for (int k = 0; k < n; k++) {
    size[ax] = sizes ? sizes[k] : len / n;
    TC_TRY(tc_op_slice(g, x, begin, size, &outs[k]));
    begin[ax] += size[ax];
  }
  return TC_OK;
}
