/* netfile_build.h (@internal) — the built network: one layer or op per node of a description,
 * shared by the builder (netfile_build.c) and the forward pass (netfile_forward.c). */
#ifndef TC_NETFILE_BUILD_H
#define TC_NETFILE_BUILD_H

#include "core/rng.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/conv2d_transpose.h"
#include "layers/dense.h"
#include "layers/layer_base.h"
#include "layers/netfile_internal.h"

typedef struct tc_net_slot {
  void *layer;                /* tc_conv2d_transpose *, tc_conv2d *, tc_dense *, tc_batch_norm * */
  tc_layer_base norm;         /* layer_norm, group_norm, instance_norm: gamma, beta */
  tc_rng rng;                 /* dropout */
  uint64_t rng_stream;        /* dropout: the stream the model gave it (tc_net_dropout_seek) */
  int rank;                   /* the output's shape without the batch axis */
  int64_t shape[3];
  tc_tensor *out;             /* this forward pass */
} tc_net_slot;

struct tc_net {
  const tc_netdesc *d;
  tc_model *model;
  tc_net_slot *slot;
};

const char *tc_nc_value(const tc_net_node *nd, const char *key);
int tc_nc_int(const tc_net_node *nd, const char *key, int dflt);
void tc_nc_int2(const tc_net_node *nd, const char *key, int out[2]);
int tc_nc_bool(const tc_net_node *nd, const char *key, int dflt);
float tc_nc_float(const tc_net_node *nd, const char *key, float dflt);
int tc_nc_channels_first(const tc_net_node *nd);
int tc_nc_sides(const tc_net_node *nd, const char *key, int out[4]);
tc_status tc_nc_conv2d_transpose(const tc_net_node *nd, tc_conv2d_transpose_config *c);
tc_status tc_nc_conv2d(const tc_net_node *nd, tc_conv2d_config *c);
tc_status tc_nc_dense(const tc_net_node *nd, tc_dense_config *c);
tc_status tc_nc_batch_norm(const tc_net_node *nd, tc_batch_norm_config *c);

/* Node i's output from its inputs' outputs (slot[].out), recorded on g. */
tc_status tc_net_node_forward(tc_net *net, tc_graph *g, int i, int training);
/* Prefixes the current message with node i's place and name; returns s. */
tc_status tc_net_node_error(const tc_net *net, int i, tc_status s);

#endif
