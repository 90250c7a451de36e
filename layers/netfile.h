/* netfile.h — network descriptions: a plain-text graph of layers and ops by name
 * (docs/networks.md), parsed, written back out, and built on a model.
 *
 *   tc_netdesc *d;
 *   if (tc_netdesc_parse(&d, text, strlen(text), "my.net", NULL, 0) != TC_OK)
 *     fprintf(stderr, "%s\n", tc_last_error());      // "my.net:3:17: expected ..."
 *   tc_net *net;
 *   tc_net_create(&net, model, d);                   // creates every layer, in file order
 *   const char *in[1] = {"x"};
 *   tc_net_forward(net, graph, 1, in, &x, "out", 1, &y);  // y: the node "out"
 *   tc_net_free(net); tc_netdesc_free(d);
 *
 * A description is checked whole before anything is built: every error names the source,
 * line and column and what was expected there. A net borrows its model and description;
 * both must outlive it. */
#ifndef TC_NETFILE_H
#define TC_NETFILE_H

#include <stddef.h>

#include "core/graph.h"
#include "layers/model.h"

#define TC_NET_MAX_BYTES (1 << 20) /* a file or string; beyond: refused */
#define TC_NET_MAX_LINE 1000       /* bytes per line, without the newline */
#define TC_NET_MAX_NODES 512
#define TC_NET_MAX_INPUTS 16       /* per node (concat, add) */
#define TC_NET_MAX_ATTRS 24        /* key=value pairs per line */
#define TC_NET_MAX_VARS 32
#define TC_NET_MAX_OUTPUTS 8
#define TC_NET_NAME_MAX 64         /* names: [A-Za-z0-9_.-], 1..63 bytes */
#define TC_NET_VALUE_MAX 200       /* a value, in bytes */
#define TC_NET_MAX_ELEMS (1 << 24) /* elements of one sample at any node */

typedef struct tc_net_attr {
  char key[32];
  char value[TC_NET_VALUE_MAX];
  int line, col; /* where the value starts */
} tc_net_attr;

typedef struct tc_net_node {
  int kind; /* index into the kind table (tc_net_kind_name) */
  char name[TC_NET_NAME_MAX];
  int n_in;
  int in[TC_NET_MAX_INPUTS]; /* indices of earlier nodes */
  int n_attr;
  tc_net_attr attr[TC_NET_MAX_ATTRS];
  int line, col;
} tc_net_node;

typedef struct tc_netdesc {
  char source[160]; /* the file name or "<string>": starts every message */
  int n_nodes;
  tc_net_node *nodes;
  int n_outputs;
  int outputs[TC_NET_MAX_OUTPUTS];
  tc_net_node loss; /* kind = -1: none; name holds the loss kind ("mse", "gan", ...) */
} tc_netdesc;

/* A variable set from outside (the command line): replaces the file's `var NAME=VALUE`. */
typedef struct tc_net_var {
  const char *name, *value;
} tc_net_var;

/* Parses len bytes of text. `set` (n_set entries, may be NULL) overrides declared variables;
 * setting one the text does not declare is an error. Errors (TC_ERR_INVALID_ARG, or
 * TC_ERR_NOMEM): "SOURCE:LINE:COL: what was expected, got what". */
tc_status tc_netdesc_parse(tc_netdesc **out, const char *text, size_t len, const char *source,
                           const tc_net_var *set, int n_set);
/* Reads path (a regular file of at most TC_NET_MAX_BYTES) and parses it. */
tc_status tc_netdesc_load(tc_netdesc **out, const char *path, const tc_net_var *set, int n_set);
void tc_netdesc_free(tc_netdesc *d);

/* The description as text (variables substituted), malloc'd into *text; parsing it gives
 * an equal description (tc_netdesc_equal). */
tc_status tc_netdesc_write(const tc_netdesc *d, char **text);
/* The same with every key of every node written out, the given value or Keras' default
 * (the full config, as Keras' get_config; a checkpoint's meta/layers). It parses and
 * builds to the same network. */
tc_status tc_netdesc_write_config(const tc_netdesc *d, char **text);
/* 1 when a and b hold the same nodes, attributes (as text), outputs and loss. */
int tc_netdesc_equal(const tc_netdesc *a, const tc_netdesc *b);

/* The node called name, or -1. */
int tc_netdesc_find(const tc_netdesc *d, const char *name);
/* The value of key on node i, or NULL. */
const char *tc_netdesc_attr(const tc_netdesc *d, int i, const char *key);
/* "conv2d_transpose", ... for a node's kind. */
const char *tc_net_kind_name(int kind);
/* The single `input` node that node `i` depends on; -1 when it depends on none or on
 * several (*count says how many). */
int tc_netdesc_input_of(const tc_netdesc *d, int i, int *count);

typedef struct tc_net tc_net;

/* Creates every layer and norm variable on model, in file order (so variable names,
 * order and initial values depend only on the description and the model's seed), and
 * checks every node's shapes with one batch-1 pass. Errors name the node's line and
 * column. A failed create leaves the model as it was. */
tc_status tc_net_create(tc_net **out, tc_model *model, const tc_netdesc *d);
void tc_net_free(tc_net *net);

/* Runs the nodes that `output` needs, in file order: xs[k] is the value of node
 * in_names[k] (an input, or any node: a decoder fed with latents), whose own inputs are
 * then not run. training: batch norm's batch statistics and dropout. */
tc_status tc_net_forward(tc_net *net, tc_graph *g, int n_in, const char *const *in_names,
                         tc_tensor *const *xs, const char *output, int training,
                         tc_tensor **y);
/* A node's shape without the batch axis (rank 1..3), from the create-time pass. */
int tc_net_shape(const tc_net *net, const char *node, int64_t shape[3]);
const tc_netdesc *tc_net_desc(const tc_net *net);

/* Puts every dropout node at the start of its own stream for (step, site): the masks of a
 * training step become a function of the seed, the step and the site alone (a site is
 * whatever the caller runs separately within a step: a shard, a phase; below 2^16), so a
 * resumed run, or shards spread over MPI ranks, draw the same masks as one uninterrupted
 * process. Without it a dropout node reads on along the stream it was created with. Steps
 * from 2^32 on reuse the masks of step - 2^32. */
void tc_net_dropout_seek(tc_net *net, uint64_t step, uint32_t site);

#endif
