/* graph.h — the tape of a define-by-run autograd.
 *
 *   tc_graph *g; tc_graph_create(&g);
 *   for (step...) {
 *     tc_tensor *y, *loss;
 *     tc_op_conv2d_transpose(g, x, kernel, bias, &plan, &y);   // ops record themselves
 *     tc_op_mse(g, y, target, &loss);
 *     tc_graph_backward(g, loss);        // kernel->grad, bias->grad now hold dloss/dv
 *     ...update...
 *     tc_graph_reset(g);                 // frees this step's activations and gradients
 *   }
 *
 * Every op's output lives in the graph's arena. An op is recorded only when one of its
 * inputs requires a gradient. backward() zeroes the gradients of every tensor on the tape
 * (leaves included), seeds d(loss)/d(loss) = 1 and runs the recorded backward functions in
 * reverse, so a tensor used by several ops receives the sum of their contributions.
 * Every tensor the tape made dies with tc_graph_reset; an owned tensor that requires a
 * gradient needs its own buffer (tc_tensor_require_grad), never an arena one.
 * A graph is used by one thread at a time. */
#ifndef TC_GRAPH_H
#define TC_GRAPH_H

#include "core/arena.h"
#include "core/tensor.h"

typedef struct tc_graph tc_graph;
typedef struct tc_node tc_node;

/* Reads node->out->grad and ADDS the contributions to node->in[i]->grad for every input
 * whose requires_grad is set (their grad buffers exist and were zeroed by backward). */
typedef tc_status (*tc_backward_fn)(tc_node *node);

struct tc_node {
  const char *op; /* static string, for messages */
  tc_backward_fn backward;
  tc_tensor *out;
  tc_tensor **in; /* n_in inputs (any count: concat takes N) in the graph's arena;
                   * at least 4 slots, those past n_in NULL */
  int n_in;
  void *ctx;      /* op state, allocated in the graph's arena */
  tc_graph *graph;
  int timing;     /* its row in the graph's timing table; -1 when not profiling */
};

tc_status tc_graph_create(tc_graph **out);
void tc_graph_free(tc_graph *g);

/* Forgets the tape, the extra losses and every arena tensor; keeps the memory. NULL does
 * nothing; the accessors below answer NULL or 0 for a NULL graph. */
void tc_graph_reset(tc_graph *g);

tc_arena *tc_graph_arena(tc_graph *g);

/* 0 switches recording off (inference): ops still compute but nothing is taped. */
void tc_graph_set_recording(tc_graph *g, int on);
int tc_graph_recording(const tc_graph *g);

/* Allocates an op's output in the arena; requires_grad is set when any of the n_in
 * inputs requires a gradient and the graph is recording. */
tc_status tc_graph_new_output(tc_graph *g, tc_tensor **out, int rank, const int64_t *shape,
                              tc_tensor *const *in, int n_in);

/* An in-place op's output: a tensor of x's shape over x's data (the op overwrites it), with
 * a gradient of its own; requires_grad as tc_graph_new_output gives it. */
tc_status tc_graph_new_alias(tc_graph *g, tc_tensor **out, tc_tensor *x);

/* Records one op (no-op when out->requires_grad is 0). ctx must live in the arena (or be
 * static). Fails with TC_ERR_INVALID_ARG for a NULL graph, out or backward, or n_in
 * below 0 (any count above is fine: concat takes N); TC_ERR_NOMEM if the tape cannot grow. */
tc_status tc_graph_record(tc_graph *g, const char *op, tc_backward_fn backward,
                          tc_tensor *out, tc_tensor *const *in, int n_in, void *ctx);

/* Runs backward from a one-element tensor produced on this tape, then stamps every leaf
 * the loss depends on with this pass's number (tensor->grad_gen; see the optimizer).
 * Fails with TC_ERR_STATE when called twice without a reset, for a loss that is not on the
 * tape (made before the last reset: it is not read), and for an owned input whose
 * requires_grad was set without tc_tensor_require_grad (it has no gradient buffer); with
 * TC_ERR_SHAPE for a non-scalar loss; TC_ERR_INVALID_ARG for a loss made on this graph
 * from nothing that requires a gradient. */
tc_status tc_graph_backward(tc_graph *g, tc_tensor *loss);

/* Extra loss terms that layers add during forward (the activity regularizer); a training
 * loop adds them to its data loss. Each is a one-element tensor on this graph. */
tc_status tc_graph_add_loss(tc_graph *g, tc_tensor *scalar);
int tc_graph_loss_count(const tc_graph *g);
tc_tensor *tc_graph_loss_at(const tc_graph *g, int i);

/* Number of recorded nodes (for tests). */
int tc_graph_node_count(const tc_graph *g);

/* Profiling (off by default; when off it costs one branch per op). When on, the graph
 * accumulates, across resets, the seconds each op spends per (tag, op name): forward from
 * tc_graph_new_output to tc_graph_record (whether or not the op is taped), backward around
 * the node's backward function, plus one row (tag NULL, op "backward setup") for zeroing the
 * gradient buffers and stamping leaves. The core only records; callers read the rows and
 * print. The tag names the caller's unit of work (a layer); it is copied (up to 63 bytes)
 * into the row, so the caller's string need only live until the next tc_graph_set_tag. */
void tc_graph_set_profiling(tc_graph *g, int on);
int tc_graph_profiling(const tc_graph *g);
/* Sets the tag of the ops recorded from now on (NULL: none) and returns the previous one. */
const char *tc_graph_set_tag(tc_graph *g, const char *tag);

typedef struct tc_graph_timing {
  const char *tag; /* NULL: untagged; else the graph's copy */
  const char *op;  /* the op's static name */
  double forward_s, backward_s;
  int64_t forward_calls, backward_calls;
} tc_graph_timing;

int tc_graph_timing_count(const tc_graph *g);
/* Row i (0 <= i < count; in order of first appearance); 0 and a zeroed *out if out of range. */
int tc_graph_timing_at(const tc_graph *g, int i, tc_graph_timing *out);
/* Forgets every row (the tag stays). */
void tc_graph_timing_clear(tc_graph *g);

#endif
