/* graph.c — tape recording and reverse-mode accumulation. */
#include "core/graph.h"

#include <stdlib.h>
#include <string.h>

struct tc_graph {
  tc_arena *arena;
  tc_node *nodes;
  int n_nodes, cap_nodes;
  tc_tensor **losses;
  int n_losses, cap_losses;
  int recording;
  int backward_done;
};

tc_status tc_graph_create(tc_graph **out) {
  if (out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_graph_create: out is NULL");
  *out = NULL;
  tc_graph *g = calloc(1, sizeof *g);
  if (g == NULL)
    return tc_set_error(TC_ERR_NOMEM, "tc_graph_create: out of memory");
  tc_status s = tc_arena_create(&g->arena, (size_t)1 << 20);
  if (s != TC_OK) {
    free(g);
    return s;
  }
  g->recording = 1;
  *out = g;
  return TC_OK;
}

void tc_graph_free(tc_graph *g) {
  if (g == NULL)
    return;
  tc_arena_free(g->arena);
  free(g->nodes);
  free(g->losses);
  free(g);
}

void tc_graph_reset(tc_graph *g) {
  g->n_nodes = 0;
  g->n_losses = 0;
  g->backward_done = 0;
  tc_arena_reset(g->arena);
}

tc_arena *tc_graph_arena(tc_graph *g) { return g->arena; }
void tc_graph_set_recording(tc_graph *g, int on) { g->recording = on != 0; }
int tc_graph_recording(const tc_graph *g) { return g->recording; }
int tc_graph_node_count(const tc_graph *g) { return g->n_nodes; }

tc_status tc_graph_new_output(tc_graph *g, tc_tensor **out, int rank, const int64_t *shape,
                              tc_tensor *const *in, int n_in) {
  TC_TRY(tc_tensor_arena(out, g->arena, rank, shape));
  int needs = 0;
  for (int i = 0; i < n_in; i++)
    if (in[i] != NULL && in[i]->requires_grad)
      needs = 1;
  (*out)->requires_grad = needs && g->recording;
  return TC_OK;
}

static tc_status tc_grow(void **buf, int *cap, int need, size_t elem) {
  if (need <= *cap)
    return TC_OK;
  int new_cap = *cap ? *cap * 2 : 64;
  while (new_cap < need)
    new_cap *= 2;
  void *p = realloc(*buf, (size_t)new_cap * elem);
  if (p == NULL)
    return tc_set_error(TC_ERR_NOMEM, "graph: cannot grow to %d entries", new_cap);
  *buf = p;
  *cap = new_cap;
  return TC_OK;
}

tc_status tc_graph_record(tc_graph *g, const char *op, tc_backward_fn backward,
                          tc_tensor *out, tc_tensor *const *in, int n_in, void *ctx) {
  if (!out->requires_grad)
    return TC_OK;
  TC_ASSERT(n_in >= 0);
  if (g->backward_done)
    return tc_set_error(TC_ERR_STATE, "graph: op '%s' recorded after backward; reset first", op);
  TC_TRY(tc_grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(tc_node)));
  /* The input list lives in the arena, not in the node, so its length is unbounded. At
   * least 4 slots, NULL past n_in: backward functions read in[2] as "no bias" then. */
  int slots = n_in > 4 ? n_in : 4;
  tc_tensor **ins = tc_arena_calloc(g->arena, (size_t)slots * sizeof *ins);
  if (ins == NULL)
    return tc_set_error(TC_ERR_NOMEM, "graph: no memory for the %d inputs of '%s'", n_in, op);
  tc_node *n = &g->nodes[g->n_nodes];
  memset(n, 0, sizeof *n);
  n->in = ins;
  n->op = op;
  n->backward = backward;
  n->out = out;
  n->n_in = n_in;
  for (int i = 0; i < n_in; i++)
    n->in[i] = in[i];
  n->ctx = ctx;
  n->graph = g;
  out->node = g->n_nodes++;
  return TC_OK;
}

/* Gives every tensor that takes part in the walk a zeroed gradient buffer. */
static tc_status tc_prepare_grads(tc_graph *g, int last) {
  for (int i = 0; i <= last; i++) {
    tc_node *n = &g->nodes[i];
    n->out->grad = tc_arena_calloc(g->arena, (size_t)n->out->size * sizeof(float));
    if (n->out->grad == NULL)
      return tc_set_error(TC_ERR_NOMEM, "graph: no memory for the gradient of '%s'", n->op);
  }
  for (int i = 0; i <= last; i++) {
    tc_node *n = &g->nodes[i];
    for (int j = 0; j < n->n_in; j++) {
      tc_tensor *t = n->in[j];
      if (t == NULL || !t->requires_grad || t->node >= 0)
        continue;
      if (t->grad == NULL)
        t->grad = tc_arena_alloc(g->arena, (size_t)t->size * sizeof(float));
      if (t->grad == NULL)
        return tc_set_error(TC_ERR_NOMEM, "graph: no memory for a leaf gradient");
      memset(t->grad, 0, (size_t)t->size * sizeof(float));
    }
  }
  return TC_OK;
}

tc_status tc_graph_backward(tc_graph *g, tc_tensor *loss) {
  if (g == NULL || loss == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_graph_backward: NULL argument");
  if (loss->size != 1)
    return tc_set_error(TC_ERR_SHAPE, "tc_graph_backward: loss has %lld elements, need 1",
                        (long long)loss->size);
  if (g->backward_done)
    return tc_set_error(TC_ERR_STATE, "tc_graph_backward: called twice; reset the graph first");
  if (!loss->requires_grad || loss->node < 0 || loss->node >= g->n_nodes ||
      g->nodes[loss->node].out != loss)
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "tc_graph_backward: the loss was not computed on this graph from "
                        "anything that requires a gradient");
  int last = loss->node;
  TC_TRY(tc_prepare_grads(g, last));
  loss->grad[0] = 1.0f;
  for (int i = last; i >= 0; i--) {
    tc_node *n = &g->nodes[i];
    tc_status s = n->backward(n);
    if (s != TC_OK) {
      tc_error_prefix("backward of '%s'", n->op);
      return s;
    }
  }
  g->backward_done = 1;
  return TC_OK;
}

tc_status tc_graph_add_loss(tc_graph *g, tc_tensor *scalar) {
  if (g == NULL || scalar == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_graph_add_loss: NULL argument");
  if (scalar->size != 1)
    return tc_set_error(TC_ERR_SHAPE, "tc_graph_add_loss: a loss term has %lld elements, need 1",
                        (long long)scalar->size);
  TC_TRY(tc_grow((void **)&g->losses, &g->cap_losses, g->n_losses + 1, sizeof(tc_tensor *)));
  g->losses[g->n_losses++] = scalar;
  return TC_OK;
}

int tc_graph_loss_count(const tc_graph *g) { return g->n_losses; }
tc_tensor *tc_graph_loss_at(const tc_graph *g, int i) {
  return (i >= 0 && i < g->n_losses) ? g->losses[i] : NULL;
}
