/* net_dcgan.h — `tconv train --model dcgan`: a DCGAN generator of Conv2DTranspose layers with
 * batch norm against a convolutional discriminator, written with the public API only.
 *
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
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/conv2d_transpose.h"
#include "layers/dense.h"
#include "tools/train_opts.h"

typedef struct tc_dcgan {
  tc_model *model;
  tc_dense *g_dense;
  tc_batch_norm *g_bn0, *g_bn1;
  tc_conv2d_transpose *g_up1, *g_up2;
  tc_conv2d *d_conv1, *d_conv2;
  tc_dense *d_logit;
  tc_activation act;
  int latent, h, w;
} tc_dcgan;

tc_status tc_dcgan_create(tc_dcgan *d, const tc_train_opts *o, int h, int w);
void tc_dcgan_free(tc_dcgan *d);

/* z (N, latent) -> images (N, h, w, 1) in [-1, 1]; training selects batch statistics. */
tc_status tc_dcgan_generate(tc_dcgan *d, tc_graph *g, tc_tensor *z, int training,
                            tc_tensor **img);
/* images (N, h, w, 1) -> logits (N, 1). */
tc_status tc_dcgan_discriminate(tc_dcgan *d, tc_graph *g, tc_tensor *x, tc_tensor **logit);

#endif
