/* graph.c — tape recording and reverse-mode accumulation. */
#include "core/graph.h"

#include <stdatomic.h>
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
  if (g == NULL)
    return;
  g->n_nodes = 0;
  g->n_losses = 0;
  g->backward_done = 0;
  tc_arena_reset(g->arena);
}

/* The small accessors answer NULL or 0 for a NULL graph: they have no status to return. */
tc_arena *tc_graph_arena(tc_graph *g) { return g ? g->arena : NULL; }
void tc_graph_set_recording(tc_graph *g, int on) {
  if (g != NULL)
    g->recording = on != 0;
}
int tc_graph_recording(const tc_graph *g) { return g ? g->recording : 0; }
int tc_graph_node_count(const tc_graph *g) { return g ? g->n_nodes : 0; }

tc_status tc_graph_new_output(tc_graph *g, tc_tensor **out, int rank, const int64_t *shape,
                              tc_tensor *const *in, int n_in) {
  if (g == NULL || out == NULL || (in == NULL && n_in > 0))
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_graph_new_output: %s is NULL",
                        g == NULL ? "the graph" : out == NULL ? "out" : "the input list");
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
  if (g == NULL || out == NULL || backward == NULL || (in == NULL && n_in > 0))
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_graph_record: op '%s': %s is NULL",
                        op ? op : "?",
                        g == NULL ? "the graph" : out == NULL ? "out"
                        : backward == NULL ? "the backward function" : "the input list");
  if (n_in < 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_graph_record: op '%s' has %d inputs",
                        op ? op : "?", n_in);
  if (!out->requires_grad)
    return TC_OK;
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
  n->op = op ? op : "custom op";
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

/* An owned tensor whose requires_grad was set by hand has no gradient buffer; an arena one
 * here would dangle after the reset (and tc_tensor_free would free it). Checked before any
 * gradient is touched, so a refused backward changes nothing. */
static tc_status tc_check_leaves(const tc_graph *g, int last) {
  for (int i = 0; i <= last; i++) {
    const tc_node *n = &g->nodes[i];
    for (int j = 0; j < n->n_in; j++) {
      const tc_tensor *t = n->in[j];
      if (t != NULL && t->requires_grad && t->node < 0 && t->owns_data && t->grad == NULL) {
        char buf[96];
        return tc_set_error(TC_ERR_STATE,
                            "tc_graph_backward: input %d of '%s', an owned tensor of shape %s, "
                            "has requires_grad set but no gradient buffer; make it with "
                            "tc_tensor_require_grad",
                            j, n->op, tc_shape_str(t, buf, sizeof buf));
      }
    }
  }
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

/* Stamps with `gen` the leaves the loss depends on: inputs of the nodes reached walking back
 * from it. A leaf used only by ops the loss does not depend on gets a zero gradient but no
 * stamp: like TF1's compute_gradients returning None, the optimizer leaves it alone. */
static tc_status tc_stamp_reached(tc_graph *g, int last, uint64_t gen) {
  unsigned char *reached = tc_arena_calloc(g->arena, (size_t)last + 1);
  if (reached == NULL)
    return tc_set_error(TC_ERR_NOMEM, "graph: no memory to mark %d nodes", last + 1);
  reached[last] = 1;
  for (int i = last; i >= 0; i--) {
    if (!reached[i])
      continue;
    tc_node *n = &g->nodes[i];
    for (int j = 0; j < n->n_in; j++) {
      tc_tensor *t = n->in[j];
      if (t == NULL || !t->requires_grad)
        continue;
      if (t->node >= 0 && t->node < i)
        reached[t->node] = 1;
      else if (t->node < 0)
        t->grad_gen = gen;
    }
  }
  return TC_OK;
}

/* The index of loss on the tape, found by address alone: a loss from before a reset (its
 * memory may be gone) is never read. -1 when it is not there. */
static int tc_find_on_tape(const tc_graph *g, const tc_tensor *loss) {
  for (int i = g->n_nodes - 1; i >= 0; i--)
    if (g->nodes[i].out == loss)
      return i;
  return -1;
}

static tc_status tc_loss_not_on_tape(const tc_graph *g, const tc_tensor *loss) {
  if (tc_arena_holds(g->arena, loss))
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "tc_graph_backward: the loss was not computed on this graph from "
                        "anything that requires a gradient");
  return tc_set_error(TC_ERR_STATE,
                      "tc_graph_backward: the loss is not on this graph's tape: it was made "
                      "before the last tc_graph_reset, on another graph, or is not an op's "
                      "output");
}

tc_status tc_graph_backward(tc_graph *g, tc_tensor *loss) {
  static atomic_uint_fast64_t passes;
  if (g == NULL || loss == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_graph_backward: NULL argument");
  if (g->backward_done)
    return tc_set_error(TC_ERR_STATE, "tc_graph_backward: called twice; reset the graph first");
  int last = tc_find_on_tape(g, loss);
  if (last < 0)
    return tc_loss_not_on_tape(g, loss);
  if (loss->size != 1)
    return tc_set_error(TC_ERR_SHAPE, "tc_graph_backward: loss has %lld elements, need 1",
                        (long long)loss->size);
  TC_TRY(tc_check_leaves(g, last));
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
  TC_TRY(tc_stamp_reached(g, last, (uint64_t)atomic_fetch_add(&passes, 1) + 1));
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

int tc_graph_loss_count(const tc_graph *g) { return g ? g->n_losses : 0; }
tc_tensor *tc_graph_loss_at(const tc_graph *g, int i) {
  return (g != NULL && i >= 0 && i < g->n_losses) ? g->losses[i] : NULL;
}
