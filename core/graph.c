/* graph.c — tape recording and reverse-mode accumulation. */
#include "core/graph.h"

#include "core/graph_timing.h"
#include "core/par_floats.h"

#include <stdatomic.h>
#include <stdint.h>
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
  int profiling;
  const char *tag;        /* the caller's, until its next tc_graph_set_tag */
  tc_timing_table timing; /* kept across resets */
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
  tc_timing_free(&g->timing);
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

void tc_graph_set_profiling(tc_graph *g, int on) {
  if (g != NULL) {
    g->profiling = on != 0;
    g->timing.mark = 0.0; /* a forward begun in the other state is not timed */
  }
}
int tc_graph_profiling(const tc_graph *g) { return g ? g->profiling : 0; }

const char *tc_graph_set_tag(tc_graph *g, const char *tag) {
  if (g == NULL)
    return NULL;
  const char *old = g->tag;
  g->tag = tag;
  return old;
}

int tc_graph_timing_count(const tc_graph *g) { return g ? g->timing.n : 0; }

int tc_graph_timing_at(const tc_graph *g, int i, tc_graph_timing *out) {
  if (out == NULL)
    return 0;
  memset(out, 0, sizeof *out);
  if (g == NULL || i < 0 || i >= g->timing.n)
    return 0;
  const tc_timing_row *r = &g->timing.rows[i];
  *out = (tc_graph_timing){.tag = r->has_tag ? r->tag : NULL, .op = r->op,
                           .forward_s = r->forward_s, .backward_s = r->backward_s,
                           .forward_calls = r->forward_calls, .backward_calls = r->backward_calls};
  return 1;
}

void tc_graph_timing_clear(tc_graph *g) {
  if (g != NULL)
    tc_timing_clear(&g->timing);
}

/* Profiling: the forward time of the op whose output was just made (from its
 * tc_graph_new_output to now), into its row; the row, for the node's backward. The mark is
 * spent here, so an op built from others (its record after theirs) counts no second twice. */
static int tc_time_forward(tc_graph *g, const char *op) {
  int row = tc_timing_row_for(&g->timing, g->tag, op);
  if (row >= 0 && g->timing.mark > 0.0) {
    double now = tc_timing_now();
    g->timing.rows[row].forward_s += now - g->timing.mark;
    g->timing.rows[row].forward_calls++;
  }
  g->timing.mark = 0.0;
  return row;
}

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
  if (g->profiling)
    g->timing.mark = tc_timing_now();
  return TC_OK;
}

tc_status tc_graph_new_alias(tc_graph *g, tc_tensor **out, tc_tensor *x) {
  if (g == NULL || out == NULL || x == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_graph_new_alias: %s is NULL",
                        g == NULL ? "the graph" : out == NULL ? "out" : "the input");
  tc_tensor *y = tc_arena_alloc(g->arena, sizeof *y);
  if (y == NULL)
    return tc_set_error(TC_ERR_NOMEM, "graph: no memory for an in-place output");
  *y = *x;
  y->owns_data = 0;
  y->grad = NULL;
  y->node = -1;
  y->grad_gen = 0;
  y->requires_grad = x->requires_grad && g->recording;
  *out = y;
  if (g->profiling)
    g->timing.mark = tc_timing_now();
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
  int row = g->profiling ? tc_time_forward(g, op ? op : "custom op") : -1;
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
  n->timing = row;
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

static int tc_span_order(const void *a, const void *b) {
  uintptr_t pa = (uintptr_t)((const tc_float_run *)a)->p;
  uintptr_t pb = (uintptr_t)((const tc_float_run *)b)->p;
  return (pa > pb) - (pa < pb);
}

/* spans[from, count) without repeats (a leaf read by several ops is listed once for each,
 * and two threads must not zero one buffer); returns the new count. */
static int tc_unique_spans(tc_float_run *spans, int from, int count) {
  qsort(spans + from, (size_t)(count - from), sizeof *spans, tc_span_order);
  int kept = from;
  for (int i = from; i < count; i++)
    if (kept == from || spans[kept - 1].p != spans[i].p)
      spans[kept++] = spans[i];
  return kept;
}

/* Gives every tensor that takes part in the walk a zeroed gradient buffer. */
static tc_status tc_prepare_grads(tc_graph *g, int last) {
  int count = 0, cap = last + 1;
  for (int i = 0; i <= last; i++)
    cap += g->nodes[i].n_in;
  tc_float_run *spans = tc_arena_alloc(g->arena, (size_t)cap * sizeof *spans);
  if (spans == NULL)
    return tc_set_error(TC_ERR_NOMEM, "graph: no memory to list %d gradient buffers", cap);
  for (int i = 0; i <= last; i++) {
    tc_node *n = &g->nodes[i];
    n->out->grad = tc_arena_alloc(g->arena, (size_t)n->out->size * sizeof(float));
    if (n->out->grad == NULL)
      return tc_set_error(TC_ERR_NOMEM, "graph: no memory for the gradient of '%s'", n->op);
    spans[count++] = (tc_float_run){n->out->grad, n->out->size};
  }
  int leaves = count;
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
      spans[count++] = (tc_float_run){t->grad, t->size};
    }
  }
  /* split over the team: the DCGAN's backward setup zeroes about 5 MB a pass, and one
   * thread alone took 5-6 % of its training step doing it */
  tc_floats_zero_runs(spans, tc_unique_spans(spans, leaves, count));
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

/* One node's backward function; timed into its row when profiling. */
static tc_status tc_run_backward(tc_graph *g, tc_node *n) {
  int timed = g->profiling && n->timing >= 0 && n->timing < g->timing.n;
  double t0 = timed ? tc_timing_now() : 0.0;
  tc_status s = n->backward(n);
  if (s != TC_OK) {
    tc_error_prefix("backward of '%s'", n->op);
    return s;
  }
  if (timed) {
    g->timing.rows[n->timing].backward_s += tc_timing_now() - t0;
    g->timing.rows[n->timing].backward_calls++;
  }
  return TC_OK;
}

/* The untagged "backward setup" row: zeroing gradient buffers and stamping the leaves. */
static void tc_time_setup(tc_graph *g, double seconds) {
  int row = tc_timing_row_for(&g->timing, NULL, "backward setup");
  if (row >= 0) {
    g->timing.rows[row].backward_s += seconds;
    g->timing.rows[row].backward_calls++;
  }
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
  double t0 = g->profiling ? tc_timing_now() : 0.0, setup = 0.0;
  TC_TRY(tc_prepare_grads(g, last));
  if (g->profiling)
    setup = tc_timing_now() - t0;
  loss->grad[0] = 1.0f;
  for (int i = last; i >= 0; i--)
    TC_TRY(tc_run_backward(g, &g->nodes[i]));
  t0 = g->profiling ? tc_timing_now() : 0.0;
  TC_TRY(tc_stamp_reached(g, last, (uint64_t)atomic_fetch_add(&passes, 1) + 1));
  if (g->profiling)
    tc_time_setup(g, setup + tc_timing_now() - t0);
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
