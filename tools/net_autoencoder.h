/* net_autoencoder.h — the default model of `tconv train`: a conv encoder, a latent code and
 * a Conv2DTranspose decoder, written with the public API only (an example network in C).
 *
 *   x (N,28,28,1) -> conv2d 16 3x3/2 relu -> conv2d 32 3x3/2 relu -> flatten -> dense L
 *   z (N,L) -> dense 7*7*32 relu -> reshape (N,7,7,32)
 *     -> conv2d_transpose 16 4x4/2 same [--activation] -> conv2d_transpose 1 4x4/2 same sigmoid
 * The decoder's Conv2DTranspose layers take the command line's layer options. */
#ifndef TC_NET_AUTOENCODER_H
#define TC_NET_AUTOENCODER_H

#include "core/graph.h"
#include "layers/conv2d.h"
#include "layers/conv2d_transpose.h"
#include "layers/dense.h"
#include "tools/train_opts.h"

typedef struct tc_autoencoder {
  tc_model *model;
  tc_conv2d *enc1, *enc2;
  tc_dense *to_latent, *from_latent;
  tc_conv2d_transpose *dec1, *dec2;
  int latent, h, w;
} tc_autoencoder;

/* Builds the network for h×w one-channel images (h, w divisible by 4). */
tc_status tc_autoencoder_create(tc_autoencoder *a, const tc_train_opts *o, int h, int w);
void tc_autoencoder_free(tc_autoencoder *a);

/* z (N, latent) -> images (N, h, w, 1) in [0, 1]. */
tc_status tc_autoencoder_decode(tc_autoencoder *a, tc_graph *g, tc_tensor *z, tc_tensor **img);
/* x (N, h, w, 1) -> reconstruction, same shape. */
tc_status tc_autoencoder_forward(tc_autoencoder *a, tc_graph *g, tc_tensor *x, tc_tensor **y);

#endif
