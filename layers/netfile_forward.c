/* netfile_forward.c — one node of a built network on a graph, and the forward pass that runs
 * the nodes an output needs. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/ops.h"
#include "core/ops_dropout.h"
#include "core/ops_extra.h"
#include "core/ops_layout.h"
#include "core/ops_norm.h"
#include "core/ops_resize.h"
#include "layers/netfile_build.h"

tc_status tc_net_node_error(const tc_net *net, int i, tc_status s) {
  const tc_net_node *nd = &net->d->nodes[i];
  char msg[600], own[TC_NET_NAME_MAX + 40];
  const char *kind = tc_net_kind_name(nd->kind);
  snprintf(msg, sizeof msg, "%s", tc_last_error());
  /* the layer's message may already start with "<kind> '<name>': ", and an op's with "<op>: " */
  snprintf(own, sizeof own, "%s '%s': ", kind, nd->name);
  const char *m = strncmp(msg, own, strlen(own)) == 0 ? msg + strlen(own) : msg;
  return tc_set_error(s, "%s:%d:%d: %s%s", net->d->source, nd->line, nd->col, own, m);
}

static tc_status tc_norm_forward(tc_net *net, tc_graph *g, int i, tc_tensor *x, tc_tensor **y) {
  const tc_net_node *nd = &net->d->nodes[i];
  tc_layer_base *b = &net->slot[i].norm;
  tc_tensor *gamma = b->kernel ? b->kernel->value : NULL, *beta = b->bias ? b->bias->value : NULL;
  float eps = tc_nc_float(nd, "epsilon", 1e-3f);
  tc_layer_require_grads(b);
  if (nd->kind == TC_NK_LAYER_NORM) {
    int axes[1] = {-1};
    return tc_op_layer_norm(g, x, gamma, beta, 1, axes, eps, y);
  }
  if (nd->kind == TC_NK_GROUP_NORM)
    return tc_op_group_norm(g, x, gamma, beta, tc_nc_int(nd, "groups", 1), eps,
                            tc_nc_channels_first(nd), y);
  return tc_op_instance_norm(g, x, gamma, beta, eps, tc_nc_channels_first(nd), y);
}

static tc_status tc_resize_forward(const tc_net_node *nd, tc_graph *g, tc_tensor *x,
                                   tc_tensor **y) {
  int size[2] = {1, 1};
  tc_nc_int2(nd, "size", size);
  /* Keras UpSampling2D: nearest; tf.image.resize: bilinear */
  tc_resize_method m = nd->kind == TC_NK_UPSAMPLE ? TC_RESIZE_NEAREST : TC_RESIZE_BILINEAR;
  const char *v = tc_nc_value(nd, nd->kind == TC_NK_UPSAMPLE ? "interpolation" : "method");
  if (v)
    TC_TRY(tc_resize_method_parse(v, &m));
  if (nd->kind == TC_NK_UPSAMPLE)
    return tc_op_upsample2d(g, x, size[0], size[1], m, tc_nc_channels_first(nd), y);
  tc_resize_mode mode = TC_RESIZE_HALF_PIXEL;
  if ((v = tc_nc_value(nd, "mode")))
    TC_TRY(tc_resize_mode_parse(v, &mode));
  return tc_op_resize(g, x, size[0], size[1], m, mode, tc_nc_channels_first(nd), y);
}

static tc_status tc_pad_forward(const tc_net_node *nd, tc_graph *g, tc_tensor *x,
                                tc_tensor **y) {
  int s[4];
  if (!tc_nc_sides(nd, "pad", s))
    return tc_set_error(TC_ERR_INVALID_ARG, "pad: expected 1, 2 or 4 numbers");
  int64_t p[8] = {0};
  int h = tc_nc_channels_first(nd) ? 2 : 1;
  p[2 * h] = s[0], p[2 * h + 1] = s[1], p[2 * h + 2] = s[2], p[2 * h + 3] = s[3];
  tc_pad_mode mode = TC_PAD_CONSTANT;
  const char *v = tc_nc_value(nd, "mode");
  if (v)
    TC_TRY(tc_pad_mode_parse(v, &mode));
  if (x->rank != 4)
    return tc_set_error(TC_ERR_SHAPE, "expected a rank-4 image batch, got rank %d", x->rank);
  return tc_op_pad(g, x, p, mode, tc_nc_float(nd, "value", 0.0f), y);
}

static tc_status tc_multi_forward(tc_net *net, tc_graph *g, int i, tc_tensor **y) {
  const tc_net_node *nd = &net->d->nodes[i];
  tc_tensor *xs[TC_NET_MAX_INPUTS] = {0};
  for (int k = 0; k < nd->n_in; k++)
    xs[k] = net->slot[nd->in[k]].out;
  if (nd->kind == TC_NK_CONCAT)
    return tc_op_concat(g, nd->n_in, xs, tc_nc_int(nd, "axis", -1), y);
  *y = xs[0];
  for (int k = 1; k < nd->n_in; k++)
    TC_TRY(tc_op_add(g, *y, xs[k], y));
  return TC_OK;
}

static tc_status tc_reshape_forward(const tc_net_node *nd, tc_graph *g, tc_tensor *x,
                                    tc_tensor **y) {
  int64_t shape[5] = {x->shape[0]};
  int n = tc_net_ints(tc_nc_value(nd, "shape"), shape + 1, 4);
  if (n < 1 || n > 3)
    return tc_set_error(TC_ERR_INVALID_ARG, "shape: expected 1 to 3 numbers, got %d", n);
  return tc_op_reshape(g, x, n + 1, shape, y);
}

static tc_status tc_node_run(tc_net *net, tc_graph *g, int i, int training, tc_tensor **y) {
  const tc_net_node *nd = &net->d->nodes[i];
  tc_net_slot *sl = &net->slot[i];
  tc_tensor *x = nd->n_in ? net->slot[nd->in[0]].out : NULL;
  switch (nd->kind) {
  case TC_NK_CONV2D_TRANSPOSE: return tc_conv2d_transpose_forward(sl->layer, g, x, y);
  case TC_NK_CONV2D: return tc_conv2d_forward(sl->layer, g, x, y);
  case TC_NK_DENSE: return tc_dense_forward(sl->layer, g, x, y);
  case TC_NK_BATCH_NORM: return tc_batch_norm_forward(sl->layer, g, x, training, y);
  case TC_NK_LAYER_NORM:
  case TC_NK_GROUP_NORM:
  case TC_NK_INSTANCE_NORM: return tc_norm_forward(net, g, i, x, y);
  case TC_NK_ACTIVATION: {
    tc_activation a;
    TC_TRY(tc_activation_parse(tc_nc_value(nd, "activation"), &a));
    return tc_op_activation(g, x, a, y);
  }
  case TC_NK_CONCAT:
  case TC_NK_ADD: return tc_multi_forward(net, g, i, y);
  case TC_NK_UPSAMPLE:
  case TC_NK_RESIZE: return tc_resize_forward(nd, g, x, y);
  case TC_NK_PAD: return tc_pad_forward(nd, g, x, y);
  case TC_NK_CROP: {
    int s[4];
    if (!tc_nc_sides(nd, "crop", s))
      return tc_set_error(TC_ERR_INVALID_ARG, "crop: expected 1, 2 or 4 numbers");
    return tc_op_crop2d(g, x, s[0], s[1], s[2], s[3], tc_nc_channels_first(nd), y);
  }
  case TC_NK_DROPOUT:
    return tc_op_dropout(g, x, tc_nc_float(nd, "rate", 0.0f), training, &sl->rng, y);
  case TC_NK_FLATTEN: return tc_op_flatten(g, x, y);
  case TC_NK_RESHAPE: return tc_reshape_forward(nd, g, x, y);
  default: return tc_set_error(TC_ERR_INVALID_ARG, "node kind %d cannot run", nd->kind);
  }
}

tc_status tc_net_node_forward(tc_net *net, tc_graph *g, int i, int training) {
  tc_tensor *y = NULL;
  /* the node's ops are timed under its name when the graph profiles (core/graph.h) */
  const char *outer = tc_graph_set_tag(g, net->d->nodes[i].name);
  tc_status s = tc_node_run(net, g, i, training, &y);
  tc_graph_set_tag(g, outer);
  if (s != TC_OK)
    return tc_net_node_error(net, i, s);
  net->slot[i].out = y;
  return TC_OK;
}

/* The tensor fed to node i, if any: its shape must be (N, node's shape). */
static tc_status tc_feed(tc_net *net, int i, int k, tc_tensor *x) {
  const tc_net_slot *sl = &net->slot[i];
  int ok = x != NULL && x->rank == sl->rank + 1;
  for (int r = 0; ok && r < sl->rank; r++)
    ok = x->shape[r + 1] == sl->shape[r];
  if (!ok)
    return tc_set_error(TC_ERR_SHAPE, "%s: tensor %d fed to '%s' should be a batch of "
                        "rank-%d samples shaped like the node's (%lld, %lld, %lld)[:%d]",
                        net->d->source, k, net->d->nodes[i].name, sl->rank,
                        (long long)sl->shape[0], (long long)sl->shape[1],
                        (long long)sl->shape[2], sl->rank);
  net->slot[i].out = x;
  return TC_OK;
}

tc_status tc_net_forward(tc_net *net, tc_graph *g, int n_in, const char *const *in_names,
                         tc_tensor *const *xs, const char *output, int training,
                         tc_tensor **y) {
  const tc_netdesc *d = net->d;
  int o = tc_netdesc_find(d, output);
  if (o < 0)
    return tc_set_error(TC_ERR_NOT_FOUND, "%s: no node '%s'", d->source, output);
  signed char fed[TC_NET_MAX_NODES], need[TC_NET_MAX_NODES] = {0};
  memset(fed, -1, sizeof fed);
  for (int k = 0; k < n_in; k++) {
    int i = tc_netdesc_find(d, in_names[k]);
    if (i < 0)
      return tc_set_error(TC_ERR_NOT_FOUND, "%s: no node '%s' to feed", d->source, in_names[k]);
    fed[i] = (signed char)k;
  }
  need[o] = 1;
  for (int j = o; j >= 0; j--) /* a fed node's inputs are not needed for it */
    for (int k = 0; need[j] && fed[j] < 0 && k < d->nodes[j].n_in; k++)
      need[d->nodes[j].in[k]] = 1;
  for (int i = 0; i <= o; i++) {
    if (!need[i])
      continue;
    if (fed[i] >= 0)
      TC_TRY(tc_feed(net, i, fed[i], xs[fed[i]]));
    else if (d->nodes[i].kind == TC_NK_INPUT)
      return tc_set_error(TC_ERR_INVALID_ARG, "%s: output '%s' needs input '%s', which was "
                          "not given", d->source, output, d->nodes[i].name);
    else
      TC_TRY(tc_net_node_forward(net, g, i, training));
  }
  *y = net->slot[o].out;
  return TC_OK;
}
