/* net_dcgan.h — the networks of a GAN run (`tconv train --model dcgan`, or --net FILE with
 * loss gan): one description holding a generator and a discriminator, built on one model.
 *
 * The shipped examples/nets/dcgan.net:
 *   generator:     z (N,L) -> dense 7*7*64 (no bias) -> batch norm -> [--activation]
 *                  -> reshape (N,7,7,64) -> conv2d_transpose 32 4x4/2 same (no bias)
 *                  -> batch norm -> [--activation] -> conv2d_transpose 1 4x4/2 same tanh
 *   discriminator: x (N,28,28,1) -> conv2d 32 4x4/2 same leaky_relu:0.2
 *                  -> conv2d 64 4x4/2 same leaky_relu:0.2 -> flatten -> dense 1 (a logit)
 * Variables are named generator_* and discriminator_*, so each optimizer takes its own by
 * prefix and `tconv sample` finds the generator in a checkpoint. */
#ifndef TC_NET_DCGAN_H
#define TC_NET_DCGAN_H

#include "core/graph.h"
#include "layers/netfile.h"
#include "tools/train_opts.h"

typedef struct tc_dcgan {
  tc_model *model;
  tc_netdesc *owned;  /* the description when o->net was NULL */
  const tc_netdesc *desc;
  tc_net *net;
  const char *z, *gen, *x, *disc; /* generator input and output, discriminator's */
  tc_param **d_weights;           /* the discriminator's trainable weights (freezing) */
  int n_d_weights;
  int latent, h, w;
} tc_dcgan;

/* Builds o->net (or the shipped dcgan) for h×w one-channel images. Every variable must
 * belong to a layer named generator* or discriminator*. */
tc_status tc_dcgan_create(tc_dcgan *d, const tc_train_opts *o, int h, int w);
void tc_dcgan_free(tc_dcgan *d);

/* z (N, latent) -> images (N, h, w, 1); training selects batch statistics. */
tc_status tc_dcgan_generate(tc_dcgan *d, tc_graph *g, tc_tensor *z, int training,
                            tc_tensor **img);
/* images (N, h, w, 1) -> logits (N, 1). */
tc_status tc_dcgan_discriminate(tc_dcgan *d, tc_graph *g, tc_tensor *x, tc_tensor **logit);
/* Stops (1) or restarts (0) the discriminator's weights' updates during the G step. */
void tc_dcgan_freeze_discriminator(tc_dcgan *d, int frozen);

#endif
