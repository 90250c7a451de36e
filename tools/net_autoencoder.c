/* net_autoencoder.c — a reconstruction network from its description. */
#include "tools/net_autoencoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "core/ops_losses.h"
#include "tools/train_net.h"

/* The node's per-sample shape must be want (h, w, c): images are channels last. */
static tc_status tc_check_image(const tc_autoencoder *a, const char *node, const int want[3],
                                const char *role, const char *data) {
  int64_t s[3] = {0, 0, 0};
  int rank = tc_net_shape(a->net, node, s);
  if (rank == 3 && s[0] == want[0] && s[1] == want[1] && s[2] == want[2])
    return TC_OK;
  char got[96];
  if (rank == 3)
    snprintf(got, sizeof got, "%lldx%lldx%lld", (long long)s[0], (long long)s[1],
             (long long)s[2]);
  else
    snprintf(got, sizeof got, "of rank %d", rank);
  if (data == NULL) /* the reconstruction of one grey set, worded as it always was */
    return tc_set_error(TC_ERR_SHAPE, "%s: node '%s' is not %dx%dx1 like the training images "
                        "(grey, channels last)", a->desc->source, node, want[0], want[1]);
  return tc_set_error(TC_ERR_SHAPE, "%s: %s node '%s' is %s, but the %s from %s are %dx%dx%d "
                      "(height x width x channels)", a->desc->source, role, node, got, role[0] == 'i'
                      ? "inputs" : "targets", data, want[0], want[1], want[2]);
}

tc_status tc_autoencoder_create(tc_autoencoder *a, const tc_train_opts *o, int h, int w) {
  const int shape[3] = {h, w, 1};
  return tc_autoencoder_create_io(a, o, shape, shape, NULL);
}

tc_status tc_autoencoder_create_io(tc_autoencoder *a, const tc_train_opts *o, const int in[3],
                                   const int out_shape[3], const char *data) {
  memset(a, 0, sizeof *a);
  a->h = out_shape[0];
  a->w = out_shape[1];
  a->latent = (int)o->latent;
  if (o->net == NULL)
    TC_TRY(tc_train_net_desc(o, &a->owned));
  a->desc = o->net ? o->net : a->owned;
  int out, inp;
  TC_TRY(tc_train_net_io(a->desc, &out, &inp));
  a->out = a->desc->nodes[out].name;
  a->in = a->desc->nodes[inp].name;
  TC_TRY(tc_model_create(&a->model, (uint64_t)o->seed));
  TC_TRY(tc_net_create(&a->net, a->model, a->desc));
  TC_TRY(tc_check_image(a, a->in, in, "input", data));
  return tc_check_image(a, a->out, out_shape, "output", data);
}

void tc_autoencoder_free(tc_autoencoder *a) {
  tc_net_free(a->net);
  tc_model_free(a->model);
  tc_netdesc_free(a->owned);
  memset(a, 0, sizeof *a);
}

tc_status tc_autoencoder_decode(tc_autoencoder *a, tc_graph *g, tc_tensor *z, tc_tensor **img) {
  const char *in[1] = {"encoder_latent"};
  return tc_net_forward(a->net, g, 1, in, &z, a->out, 0, img);
}

tc_status tc_autoencoder_forward(tc_autoencoder *a, tc_graph *g, tc_tensor *x, tc_tensor **y) {
  return tc_net_forward(a->net, g, 1, &a->in, &x, a->out, 1, y);
}

tc_status tc_autoencoder_loss(tc_autoencoder *a, tc_graph *g, tc_tensor *y, tc_tensor *target,
                              tc_tensor **loss) {
  const char *kind = a->desc->loss.name;
  if (strcmp(kind, "mae") == 0)
    return tc_op_mae(g, y, target, TC_REDUCE_MEAN, loss);
  if (strcmp(kind, "huber") == 0) {
    const char *d = tc_netdesc_attr(a->desc, -1, "delta");
    return tc_op_huber(g, y, target, d ? strtof(d, NULL) : 1.0f, TC_REDUCE_MEAN, loss);
  }
  return tc_op_mse(g, y, target, loss);
}
