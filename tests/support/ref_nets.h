/* ref_nets.h — the hand-written autoencoder and DCGAN (tests/support/ref_nets.c). */
#ifndef REF_NETS_H
#define REF_NETS_H

#include "core/graph.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/conv2d_transpose.h"
#include "layers/dense.h"
#include "tools/train_opts.h"

typedef struct ref_autoencoder {
  tc_model *model;
  tc_conv2d *enc1, *enc2;
  tc_dense *to_latent, *from_latent;
  tc_conv2d_transpose *dec1, *dec2;
  int latent, h, w;
} ref_autoencoder;

/* Builds the network for h×w one-channel images (h, w divisible by 4). */
tc_status ref_autoencoder_create(ref_autoencoder *a, const tc_train_opts *o, int h, int w);
void ref_autoencoder_free(ref_autoencoder *a);

/* z (N, latent) -> images (N, h, w, 1) in [0, 1]. */
tc_status ref_autoencoder_decode(ref_autoencoder *a, tc_graph *g, tc_tensor *z, tc_tensor **img);
/* x (N, h, w, 1) -> reconstruction, same shape. */
tc_status ref_autoencoder_forward(ref_autoencoder *a, tc_graph *g, tc_tensor *x, tc_tensor **y);

typedef struct ref_dcgan {
  tc_model *model;
  tc_dense *g_dense;
  tc_batch_norm *g_bn0, *g_bn1;
  tc_conv2d_transpose *g_up1, *g_up2;
  tc_conv2d *d_conv1, *d_conv2;
  tc_dense *d_logit;
  tc_activation act;
  int latent, h, w;
} ref_dcgan;

tc_status ref_dcgan_create(ref_dcgan *d, const tc_train_opts *o, int h, int w);
void ref_dcgan_free(ref_dcgan *d);

/* z (N, latent) -> images (N, h, w, 1) in [-1, 1]; training selects batch statistics. */
tc_status ref_dcgan_generate(ref_dcgan *d, tc_graph *g, tc_tensor *z, int training,
                            tc_tensor **img);
/* images (N, h, w, 1) -> logits (N, 1). */
tc_status ref_dcgan_discriminate(ref_dcgan *d, tc_graph *g, tc_tensor *x, tc_tensor **logit);

#endif
