/* netfile_build.c — a description's layers created on a model in file order, each sized by
 * a batch-1 pass through the nodes above it (so the shapes come from the ops themselves). */
#include <stdlib.h>
#include <string.h>

#include "layers/netfile_build.h"

/* An upper bound on node i's output elements (and its kernel's) per sample, checked before
 * the node runs: a hostile file cannot make the pass allocate without limit. */
static double tc_bound(const tc_net *net, int i) {
  const tc_net_node *nd = &net->d->nodes[i];
  const tc_net_slot *in = &net->slot[nd->in[0]];
  double n = 1, c = (double)in->shape[in->rank - 1], sp = 1;
  for (int r = 0; r < in->rank; r++)
    n *= (double)in->shape[r];
  for (int r = 0; r + 1 < in->rank; r++)
    sp *= (double)in->shape[r];
  int k[2] = {1, 1}, s[2] = {1, 1}, dl[2] = {1, 1}, side[4];
  double f = tc_nc_int(nd, "filters", 1);
  switch (nd->kind) {
  case TC_NK_CONV2D_TRANSPOSE:
    tc_nc_int2(nd, "kernel_size", k), tc_nc_int2(nd, "strides", s);
    tc_nc_int2(nd, "dilation_rate", dl);
    return ((double)in->shape[0] * s[0] + k[0] * dl[0] + 64) *
               ((double)in->shape[1] * s[1] + k[1] * dl[1] + 64) * f + k[0] * k[1] * f * c;
  case TC_NK_CONV2D: return n * f + f * k[0] * k[1] * c;
  case TC_NK_DENSE: return (double)tc_nc_int(nd, "units", 1) * (1 + c) * (n / c);
  case TC_NK_UPSAMPLE:
  case TC_NK_RESIZE:
    tc_nc_int2(nd, "size", s);
    return nd->kind == TC_NK_UPSAMPLE ? n * s[0] * s[1] : (double)s[0] * s[1] * n / sp * 4;
  case TC_NK_PAD:
    tc_nc_sides(nd, "pad", side);
    return (in->shape[0] + side[0] + side[1] + 1.0) * (in->shape[1] + side[2] + side[3] + 1.0) *
           (double)in->shape[in->rank - 1] * 4;
  case TC_NK_CONCAT:
  case TC_NK_ADD: return n * nd->n_in;
  default: return n;
  }
}

static tc_status tc_add_norm_vars(tc_net *net, int i, int64_t channels) {
  const tc_net_node *nd = &net->d->nodes[i];
  tc_layer_base *b = &net->slot[i].norm;
  static const char *const kinds[] = {"layer_normalization", "group_normalization",
                                      "instance_normalization"};
  tc_regularizer none_r = {0};
  tc_constraint none_c = {0};
  tc_initializer dflt = {0};
  tc_var_spec gamma = {"gamma", TC_PARAM_WEIGHT, dflt, TC_INIT_ONES, 1, none_r, none_c};
  tc_var_spec beta = {"beta", TC_PARAM_WEIGHT, dflt, TC_INIT_ZEROS, 1, none_r, none_c};
  tc_status s = tc_layer_begin(b, net->model, kinds[nd->kind - TC_NK_LAYER_NORM], nd->name);
  if (s == TC_OK && tc_nc_bool(nd, "scale", 1))
    s = tc_layer_add_variable(b, &gamma, 1, &channels, &b->kernel);
  if (s == TC_OK && tc_nc_bool(nd, "center", 1))
    s = tc_layer_add_variable(b, &beta, 1, &channels, &b->bias);
  return s;
}

static int64_t tc_channels(const tc_net_slot *in, int first) {
  return in->rank == 3 && first ? in->shape[0] : in->shape[in->rank - 1];
}

/* The layer (or variables) of node i, sized by its input's batch-1 output. */
static tc_status tc_make_layer(tc_net *net, int i) {
  const tc_net_node *nd = &net->d->nodes[i];
  tc_net_slot *sl = &net->slot[i], *in = &net->slot[nd->in[0]];
  int64_t c = tc_channels(in, tc_nc_channels_first(nd));
  switch (nd->kind) {
  case TC_NK_CONV2D_TRANSPOSE: {
    tc_conv2d_transpose_config cfg;
    TC_TRY(tc_nc_conv2d_transpose(nd, &cfg));
    return tc_conv2d_transpose_create((tc_conv2d_transpose **)&sl->layer, net->model, &cfg,
                                      (int)c);
  }
  case TC_NK_CONV2D: {
    tc_conv2d_config cfg;
    TC_TRY(tc_nc_conv2d(nd, &cfg));
    return tc_conv2d_create((tc_conv2d **)&sl->layer, net->model, &cfg, (int)c);
  }
  case TC_NK_DENSE: {
    tc_dense_config cfg;
    TC_TRY(tc_nc_dense(nd, &cfg));
    return tc_dense_create((tc_dense **)&sl->layer, net->model, &cfg, (int)c);
  }
  case TC_NK_BATCH_NORM: {
    tc_batch_norm_config cfg;
    TC_TRY(tc_nc_batch_norm(nd, &cfg));
    int ax = cfg.axis < 0 ? cfg.axis + in->rank + 1 : cfg.axis;
    if (ax < 1 || ax > in->rank)
      return tc_set_error(TC_ERR_SHAPE, "axis %d is not a channel axis of a rank-%d input",
                          cfg.axis, in->rank + 1);
    return tc_batch_norm_create((tc_batch_norm **)&sl->layer, net->model, &cfg,
                                (int)in->shape[ax - 1]);
  }
  case TC_NK_LAYER_NORM:
  case TC_NK_GROUP_NORM:
  case TC_NK_INSTANCE_NORM: return tc_add_norm_vars(net, i, c);
  case TC_NK_DROPOUT:
    sl->rng_stream = tc_model_next_stream(net->model);
    tc_rng_init(&sl->rng, tc_model_seed(net->model), sl->rng_stream);
    return TC_OK;
  default: return TC_OK;
  }
}

/* Node i: its layer, then its batch-1 output; records the output's shape. */
static tc_status tc_build_node(tc_net *net, tc_graph *g, int i) {
  const tc_net_node *nd = &net->d->nodes[i];
  tc_net_slot *sl = &net->slot[i];
  if (nd->kind == TC_NK_INPUT) {
    int64_t shape[4] = {1};
    int n = tc_net_ints(tc_nc_value(nd, "shape"), shape + 1, 3);
    double elems = 1;
    for (int r = 1; r <= n && n <= 3; r++)
      elems *= (double)shape[r];
    if (n < 1 || n > 3 || elems > TC_NET_MAX_ELEMS)
      return tc_net_error(net->d, nd->line, nd->col, "input '%s': expected a shape of 1 to 3 "
                          "sizes with at most %d elements", nd->name, TC_NET_MAX_ELEMS);
    TC_TRY(tc_tensor_arena(&sl->out, tc_graph_arena(g), n + 1, shape));
    memset(sl->out->data, 0, (size_t)sl->out->size * sizeof(float));
  } else {
    if (tc_bound(net, i) > TC_NET_MAX_ELEMS)
      return tc_net_error(net->d, nd->line, nd->col, "%s '%s': its output or kernel would "
                          "exceed %d elements per sample", tc_net_kind_name(nd->kind), nd->name,
                          TC_NET_MAX_ELEMS);
    tc_status s = tc_make_layer(net, i);
    if (s != TC_OK)
      return tc_net_node_error(net, i, s);
    TC_TRY(tc_net_node_forward(net, g, i, 0));
  }
  sl->rank = sl->out->rank - 1;
  if (sl->rank < 1 || sl->rank > 3)
    return tc_net_error(net->d, nd->line, nd->col, "%s '%s': expected an output of rank 2 to "
                        "4, got rank %d", tc_net_kind_name(nd->kind), nd->name, sl->out->rank);
  memcpy(sl->shape, sl->out->shape + 1, (size_t)sl->rank * sizeof(int64_t));
  return TC_OK;
}

static void tc_free_layers(tc_net *net) {
  for (int i = 0; i < net->d->n_nodes; i++) {
    void *l = net->slot[i].layer;
    switch (net->d->nodes[i].kind) {
    case TC_NK_CONV2D_TRANSPOSE: tc_conv2d_transpose_free(l); break;
    case TC_NK_CONV2D: tc_conv2d_free(l); break;
    case TC_NK_DENSE: tc_dense_free(l); break;
    case TC_NK_BATCH_NORM: tc_batch_norm_free(l); break;
    default: break;
    }
  }
}

tc_status tc_net_create(tc_net **out, tc_model *model, const tc_netdesc *d) {
  *out = NULL;
  tc_net *net = calloc(1, sizeof *net);
  tc_graph *g = NULL;
  if (net == NULL || (net->slot = calloc((size_t)d->n_nodes + 1, sizeof *net->slot)) == NULL) {
    free(net);
    return tc_set_error(TC_ERR_NOMEM, "%s: out of memory", d->source);
  }
  net->d = d;
  net->model = model;
  tc_model_mark mark = tc_model_mark_now(model);
  tc_status s = tc_graph_create(&g);
  if (s == TC_OK)
    tc_graph_set_recording(g, 0);
  for (int i = 0; s == TC_OK && i < d->n_nodes; i++)
    s = tc_build_node(net, g, i);
  tc_graph_free(g);
  for (int i = 0; i < d->n_nodes; i++)
    net->slot[i].out = NULL;
  if (s != TC_OK) {
    tc_free_layers(net);
    tc_model_rollback(model, mark);
    free(net->slot);
    free(net);
    return s;
  }
  *out = net;
  return TC_OK;
}

void tc_net_free(tc_net *net) {
  if (net == NULL)
    return;
  tc_free_layers(net);
  free(net->slot);
  free(net);
}

int tc_net_shape(const tc_net *net, const char *node, int64_t shape[3]) {
  int i = tc_netdesc_find(net->d, node);
  if (i < 0)
    return 0;
  memcpy(shape, net->slot[i].shape, sizeof net->slot[i].shape);
  return net->slot[i].rank;
}

const tc_netdesc *tc_net_desc(const tc_net *net) { return net->d; }

void tc_net_dropout_seek(tc_net *net, uint64_t step, uint32_t site) {
  for (int i = 0; i < net->d->n_nodes; i++)
    if (net->d->nodes[i].kind == TC_NK_DROPOUT) {
      uint64_t stream = (net->slot[i].rng_stream & 0xffff) | (uint64_t)(site & 0xffff) << 16 |
                        step << 32;
      tc_rng_init(&net->slot[i].rng, tc_model_seed(net->model), stream);
    }
}
