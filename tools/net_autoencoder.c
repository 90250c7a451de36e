/* net_autoencoder.c — encoder, latent and Conv2DTranspose decoder. */
#include "tools/net_autoencoder.h"

#include <string.h>

#include "core/ops.h"
#include "core/ops_extra.h"

/* A Conv2DTranspose layer of the decoder, carrying the command line's layer options. */
static tc_conv2d_transpose_config tc_up_config(const tc_layer_opts *l, int filters,
                                               const char *name) {
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(filters, 4, 4);
  c.strides[0] = c.strides[1] = 2;
  c.padding = "same";
  c.common = *l;
  c.name = name;
  return c;
}

static tc_status tc_encoder_create(tc_autoencoder *a) {
  tc_conv2d_config c1 = tc_conv2d_config_default(16, 3, 3);
  c1.strides[0] = c1.strides[1] = 2;
  c1.padding = "same";
  c1.activation = tc_activation_make(TC_ACT_RELU);
  c1.name = "encoder_conv1";
  TC_TRY(tc_conv2d_create(&a->enc1, a->model, &c1, 1));
  tc_conv2d_config c2 = c1;
  c2.filters = 32;
  c2.name = "encoder_conv2";
  TC_TRY(tc_conv2d_create(&a->enc2, a->model, &c2, 16));
  tc_dense_config d = tc_dense_config_default(a->latent);
  d.name = "encoder_latent";
  return tc_dense_create(&a->to_latent, a->model, &d, (a->h / 4) * (a->w / 4) * 32);
}

static tc_status tc_decoder_create(tc_autoencoder *a, const tc_layer_opts *l) {
  tc_dense_config d = tc_dense_config_default((a->h / 4) * (a->w / 4) * 32);
  d.activation = tc_activation_make(TC_ACT_RELU);
  d.name = "decoder_dense";
  TC_TRY(tc_dense_create(&a->from_latent, a->model, &d, a->latent));
  tc_conv2d_transpose_config u1 = tc_up_config(l, 16, "decoder_up1");
  TC_TRY(tc_conv2d_transpose_create(&a->dec1, a->model, &u1, 32));
  tc_conv2d_transpose_config u2 = tc_up_config(l, 1, "decoder_up2");
  u2.activation = tc_activation_make(TC_ACT_SIGMOID);
  return tc_conv2d_transpose_create(&a->dec2, a->model, &u2, 16);
}

tc_status tc_autoencoder_create(tc_autoencoder *a, const tc_train_opts *o, int h, int w) {
  memset(a, 0, sizeof *a);
  if (h % 4 != 0 || w % 4 != 0)
    return tc_set_error(TC_ERR_SHAPE, "autoencoder: images are %dx%d, need sizes divisible by 4",
                        h, w);
  a->latent = (int)o->latent;
  a->h = h;
  a->w = w;
  TC_TRY(tc_model_create(&a->model, (uint64_t)o->seed));
  TC_TRY(tc_encoder_create(a));
  return tc_decoder_create(a, &o->layer);
}

void tc_autoencoder_free(tc_autoencoder *a) {
  tc_conv2d_free(a->enc1);
  tc_conv2d_free(a->enc2);
  tc_dense_free(a->to_latent);
  tc_dense_free(a->from_latent);
  tc_conv2d_transpose_free(a->dec1);
  tc_conv2d_transpose_free(a->dec2);
  tc_model_free(a->model);
  memset(a, 0, sizeof *a);
}

tc_status tc_autoencoder_decode(tc_autoencoder *a, tc_graph *g, tc_tensor *z, tc_tensor **img) {
  tc_tensor *h, *grid, *u;
  TC_TRY(tc_dense_forward(a->from_latent, g, z, &h));
  int64_t shape[4] = {z->shape[0], a->h / 4, a->w / 4, 32};
  TC_TRY(tc_op_reshape(g, h, 4, shape, &grid));
  TC_TRY(tc_conv2d_transpose_forward(a->dec1, g, grid, &u));
  return tc_conv2d_transpose_forward(a->dec2, g, u, img);
}

tc_status tc_autoencoder_forward(tc_autoencoder *a, tc_graph *g, tc_tensor *x, tc_tensor **y) {
  tc_tensor *h1, *h2, *flat, *z;
  TC_TRY(tc_conv2d_forward(a->enc1, g, x, &h1));
  TC_TRY(tc_conv2d_forward(a->enc2, g, h1, &h2));
  TC_TRY(tc_op_flatten(g, h2, &flat));
  TC_TRY(tc_dense_forward(a->to_latent, g, flat, &z));
  return tc_autoencoder_decode(a, g, z, y);
}
