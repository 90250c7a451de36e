/* ops_dropout.c — inverted dropout; the kept mask lives in the arena for backward. */
#include "core/ops_dropout.h"

#include <math.h>
#include <string.h>

#include "core/ops_util.h"

typedef struct tc_dropout_ctx {
  unsigned char *keep; /* NULL: identity (inference or rate 0) */
  float scale;
} tc_dropout_ctx;

static tc_status tc_dropout_backward(tc_node *node) {
  tc_tensor *x = node->in[0];
  if (!x->requires_grad)
    return TC_OK;
  const tc_dropout_ctx *c = node->ctx;
  const float *gy = node->out->grad;
  for (int64_t i = 0; i < x->size; i++)
    x->grad[i] += c->keep == NULL ? gy[i] : c->keep[i] ? gy[i] * c->scale : 0.0f;
  return TC_OK;
}

tc_status tc_op_dropout(tc_graph *g, tc_tensor *x, float rate, int training, tc_rng *rng,
                        tc_tensor **out) {
  TC_TRY(tc_op_check_args("dropout", g, out, x, x));
  if (!(rate >= 0.0f && rate < 1.0f))
    return tc_set_error(TC_ERR_INVALID_ARG, "dropout: rate %g is outside [0, 1)", (double)rate);
  int active = training && rate > 0.0f;
  if (active && rng == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "dropout: training with rate %g needs an rng",
                        (double)rate);
  tc_arena *a = tc_graph_arena(g);
  tc_dropout_ctx *c = tc_arena_calloc(a, sizeof *c);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "dropout: out of memory");
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, x->rank, x->shape, &x, 1));
  if (!active) {
    memcpy(y->data, x->data, (size_t)x->size * sizeof(float));
  } else {
    c->keep = tc_arena_alloc(a, (size_t)x->size);
    if (c->keep == NULL)
      return tc_set_error(TC_ERR_NOMEM, "dropout: out of memory");
    c->scale = 1.0f / (1.0f - rate);
    for (int64_t i = 0; i < x->size; i++) {
      c->keep[i] = tc_rng_uniform(rng) >= rate;
      y->data[i] = c->keep[i] ? x->data[i] * c->scale : 0.0f;
    }
  }
  TC_TRY(tc_graph_record(g, "dropout", tc_dropout_backward, y, &x, 1, c));
  *out = y;
  return TC_OK;
}
