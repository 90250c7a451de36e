/* net_autoencoder.h — the network of a reconstruction run (`tconv train --model autoencoder`,
 * or --net FILE with loss mse, mae or huber): a network description built on a model, with
 * the node trained and the input it is computed from.
 *
 * The shipped examples/nets/autoencoder.net:
 *   x (N,28,28,1) -> conv2d 16 3x3/2 relu -> conv2d 32 3x3/2 relu -> flatten -> dense L
 *   z (N,L) -> dense 7*7*32 relu -> reshape (N,7,7,32)
 *     -> conv2d_transpose 16 4x4/2 same [--activation] -> conv2d_transpose 1 4x4/2 same sigmoid
 * The decoder's Conv2DTranspose layers take the command line's layer options (variables). */
#ifndef TC_NET_AUTOENCODER_H
#define TC_NET_AUTOENCODER_H

#include "core/graph.h"
#include "layers/netfile.h"
#include "tools/train_opts.h"

typedef struct tc_autoencoder {
  tc_model *model;
  tc_netdesc *owned;        /* the description when o->net was NULL */
  const tc_netdesc *desc;
  tc_net *net;
  const char *in, *out;     /* the input node and the trained node */
  int latent, h, w;
} tc_autoencoder;

/* Builds o->net (or the shipped file of o->model) for h×w one-channel images: the input
 * node must be (h, w, 1) and so must the trained node. */
tc_status tc_autoencoder_create(tc_autoencoder *a, const tc_train_opts *o, int h, int w);
/* The same for image-to-image training: the input node must be in (h, w, c) and the trained
 * node out (h, w, c). data names where the images come from, for the error (TC_ERR_SHAPE
 * naming the file, the node, both sizes); NULL words it as tc_autoencoder_create does. */
tc_status tc_autoencoder_create_io(tc_autoencoder *a, const tc_train_opts *o, const int in[3],
                                   const int out[3], const char *data);
void tc_autoencoder_free(tc_autoencoder *a);

/* z (N, latent) fed to the node encoder_latent -> images (N, h, w, 1). */
tc_status tc_autoencoder_decode(tc_autoencoder *a, tc_graph *g, tc_tensor *z, tc_tensor **img);
/* x (N, h, w, 1) -> reconstruction, same shape. */
tc_status tc_autoencoder_forward(tc_autoencoder *a, tc_graph *g, tc_tensor *x, tc_tensor **y);
/* The description's loss of y against target (mse, mae or huber, mean over elements). */
tc_status tc_autoencoder_loss(tc_autoencoder *a, tc_graph *g, tc_tensor *y, tc_tensor *target,
                              tc_tensor **loss);

#endif
