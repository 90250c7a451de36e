/* activity.c — activity regularization: a penalty on a layer's output, inside the graph. */
#include "layers/activity.h"

#include <string.h>

typedef struct tc_activity_ctx {
  tc_regularizer reg;
  double batch;
} tc_activity_ctx;

static tc_status tc_activity_backward(tc_node *n) {
  tc_tensor *y = n->in[0];
  if (!y->requires_grad)
    return TC_OK;
  const tc_activity_ctx *c = n->ctx;
  float *dpen = tc_arena_calloc(tc_graph_arena(n->graph), (size_t)y->size * sizeof(float));
  if (dpen == NULL)
    return tc_set_error(TC_ERR_NOMEM, "activity regularizer: out of memory");
  double unused;
  TC_TRY(tc_regularizer_apply(&c->reg, y, &unused, dpen));
  float scale = (float)(n->out->grad[0] / c->batch);
  for (int64_t i = 0; i < y->size; i++)
    y->grad[i] += scale * dpen[i];
  return TC_OK;
}

tc_status tc_activity_penalty(tc_graph *g, tc_tensor *y, const tc_regularizer *reg,
                              const char *layer) {
  if (g == NULL || y == NULL || reg == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "activity regularizer: NULL argument");
  tc_activity_ctx *c = tc_arena_alloc(tc_graph_arena(g), sizeof *c);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "activity regularizer of '%s': out of memory", layer);
  c->reg = *reg;
  c->batch = (double)(y->rank > 0 ? y->shape[0] : 1);
  double penalty;
  tc_status s = tc_regularizer_apply(reg, y, &penalty, NULL);
  if (s != TC_OK) {
    tc_error_prefix("activity regularizer of '%s'", layer);
    return s;
  }
  tc_tensor *loss;
  TC_TRY(tc_graph_new_output(g, &loss, 0, NULL, &y, 1));
  loss->data[0] = (float)(penalty / c->batch);
  TC_TRY(tc_graph_record(g, "activity_regularizer", tc_activity_backward, loss, &y, 1, c));
  return tc_graph_add_loss(g, loss);
}
