/* ref_nets.c — the autoencoder and DCGAN of `tconv train` as they were written in C before
 * they became network descriptions (examples/nets/): the reference that the nets built
 * from those files must equal variable for variable and output for output. */
#include "support/ref_nets.h"

#include <string.h>

#include "core/ops.h"
#include "core/ops_extra.h"

/* A Conv2DTranspose layer of the decoder, carrying the command line's layer options. */
static tc_conv2d_transpose_config ref_up_config(const tc_layer_opts *l, int filters,
                                               const char *name) {
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(filters, 4, 4);
  c.strides[0] = c.strides[1] = 2;
  c.padding = "same";
  c.common = *l;
  c.name = name;
  return c;
}

static tc_status ref_encoder_create(ref_autoencoder *a) {
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

static tc_status ref_decoder_create(ref_autoencoder *a, const tc_layer_opts *l) {
  tc_dense_config d = tc_dense_config_default((a->h / 4) * (a->w / 4) * 32);
  d.activation = tc_activation_make(TC_ACT_RELU);
  d.name = "decoder_dense";
  TC_TRY(tc_dense_create(&a->from_latent, a->model, &d, a->latent));
  tc_conv2d_transpose_config u1 = ref_up_config(l, 16, "decoder_up1");
  TC_TRY(tc_conv2d_transpose_create(&a->dec1, a->model, &u1, 32));
  tc_conv2d_transpose_config u2 = ref_up_config(l, 1, "decoder_up2");
  u2.activation = tc_activation_make(TC_ACT_SIGMOID);
  return tc_conv2d_transpose_create(&a->dec2, a->model, &u2, 16);
}

tc_status ref_autoencoder_create(ref_autoencoder *a, const tc_train_opts *o, int h, int w) {
  memset(a, 0, sizeof *a);
  if (h % 4 != 0 || w % 4 != 0)
    return tc_set_error(TC_ERR_SHAPE, "autoencoder: images are %dx%d, need sizes divisible by 4",
                        h, w);
  a->latent = (int)o->latent;
  a->h = h;
  a->w = w;
  TC_TRY(tc_model_create(&a->model, (uint64_t)o->seed));
  TC_TRY(ref_encoder_create(a));
  return ref_decoder_create(a, &o->layer);
}

void ref_autoencoder_free(ref_autoencoder *a) {
  tc_conv2d_free(a->enc1);
  tc_conv2d_free(a->enc2);
  tc_dense_free(a->to_latent);
  tc_dense_free(a->from_latent);
  tc_conv2d_transpose_free(a->dec1);
  tc_conv2d_transpose_free(a->dec2);
  tc_model_free(a->model);
  memset(a, 0, sizeof *a);
}

tc_status ref_autoencoder_decode(ref_autoencoder *a, tc_graph *g, tc_tensor *z, tc_tensor **img) {
  tc_tensor *h, *grid, *u;
  TC_TRY(tc_dense_forward(a->from_latent, g, z, &h));
  int64_t shape[4] = {z->shape[0], a->h / 4, a->w / 4, 32};
  TC_TRY(tc_op_reshape(g, h, 4, shape, &grid));
  TC_TRY(tc_conv2d_transpose_forward(a->dec1, g, grid, &u));
  return tc_conv2d_transpose_forward(a->dec2, g, u, img);
}

tc_status ref_autoencoder_forward(ref_autoencoder *a, tc_graph *g, tc_tensor *x, tc_tensor **y) {
  tc_tensor *h1, *h2, *flat, *z;
  TC_TRY(tc_conv2d_forward(a->enc1, g, x, &h1));
  TC_TRY(tc_conv2d_forward(a->enc2, g, h1, &h2));
  TC_TRY(tc_op_flatten(g, h2, &flat));
  TC_TRY(tc_dense_forward(a->to_latent, g, flat, &z));
  return ref_autoencoder_decode(a, g, z, y);
}


static tc_status ref_generator_create(ref_dcgan *d, const tc_layer_opts *l) {
  int gh = d->h / 4, gw = d->w / 4;
  tc_dense_config dc = tc_dense_config_default(gh * gw * 64);
  dc.use_bias = 0; /* batch norm's beta takes the bias's place */
  dc.name = "generator_dense";
  TC_TRY(tc_dense_create(&d->g_dense, d->model, &dc, d->latent));
  tc_batch_norm_config bn = tc_batch_norm_config_default();
  bn.name = "generator_bn0";
  TC_TRY(tc_batch_norm_create(&d->g_bn0, d->model, &bn, gh * gw * 64));
  tc_conv2d_transpose_config u1 = tc_conv2d_transpose_config_default(32, 4, 4);
  u1.strides[0] = u1.strides[1] = 2;
  u1.padding = "same";
  u1.common = *l;
  u1.activation = tc_activation_make(TC_ACT_LINEAR); /* batch norm comes before it */
  u1.use_bias = 0;                                    /* batch norm's beta takes its place */
  u1.name = "generator_up1";
  TC_TRY(tc_conv2d_transpose_create(&d->g_up1, d->model, &u1, 64));
  bn.name = "generator_bn1";
  TC_TRY(tc_batch_norm_create(&d->g_bn1, d->model, &bn, 32));
  tc_conv2d_transpose_config u2 = u1;
  u2.filters = 1;
  u2.use_bias = 1;
  u2.activation = tc_activation_make(TC_ACT_TANH);
  u2.name = "generator_up2";
  return tc_conv2d_transpose_create(&d->g_up2, d->model, &u2, 32);
}

static tc_status ref_discriminator_create(ref_dcgan *d) {
  tc_conv2d_config c1 = tc_conv2d_config_default(32, 4, 4);
  c1.strides[0] = c1.strides[1] = 2;
  c1.padding = "same";
  TC_TRY(tc_activation_parse("leaky_relu:0.2", &c1.activation));
  c1.name = "discriminator_conv1";
  TC_TRY(tc_conv2d_create(&d->d_conv1, d->model, &c1, 1));
  tc_conv2d_config c2 = c1;
  c2.filters = 64;
  c2.name = "discriminator_conv2";
  TC_TRY(tc_conv2d_create(&d->d_conv2, d->model, &c2, 32));
  tc_dense_config dc = tc_dense_config_default(1);
  dc.name = "discriminator_logit";
  return tc_dense_create(&d->d_logit, d->model, &dc, (d->h / 4) * (d->w / 4) * 64);
}

tc_status ref_dcgan_create(ref_dcgan *d, const tc_train_opts *o, int h, int w) {
  memset(d, 0, sizeof *d);
  if (h % 4 != 0 || w % 4 != 0)
    return tc_set_error(TC_ERR_SHAPE, "dcgan: images are %dx%d, need sizes divisible by 4", h, w);
  d->latent = (int)o->latent;
  d->h = h;
  d->w = w;
  d->act = o->layer.activation;
  TC_TRY(tc_model_create(&d->model, (uint64_t)o->seed));
  TC_TRY(ref_generator_create(d, &o->layer));
  return ref_discriminator_create(d);
}

void ref_dcgan_free(ref_dcgan *d) {
  tc_dense_free(d->g_dense);
  tc_batch_norm_free(d->g_bn0);
  tc_batch_norm_free(d->g_bn1);
  tc_conv2d_transpose_free(d->g_up1);
  tc_conv2d_transpose_free(d->g_up2);
  tc_conv2d_free(d->d_conv1);
  tc_conv2d_free(d->d_conv2);
  tc_dense_free(d->d_logit);
  tc_model_free(d->model);
  memset(d, 0, sizeof *d);
}

tc_status ref_dcgan_generate(ref_dcgan *d, tc_graph *g, tc_tensor *z, int training,
                            tc_tensor **img) {
  tc_tensor *h, *n0, *a0, *grid, *u1, *n1, *a1;
  TC_TRY(tc_dense_forward(d->g_dense, g, z, &h));
  TC_TRY(tc_batch_norm_forward(d->g_bn0, g, h, training, &n0));
  TC_TRY(tc_op_activation(g, n0, d->act, &a0));
  int64_t shape[4] = {z->shape[0], d->h / 4, d->w / 4, 64};
  TC_TRY(tc_op_reshape(g, a0, 4, shape, &grid));
  TC_TRY(tc_conv2d_transpose_forward(d->g_up1, g, grid, &u1));
  TC_TRY(tc_batch_norm_forward(d->g_bn1, g, u1, training, &n1));
  TC_TRY(tc_op_activation(g, n1, d->act, &a1));
  return tc_conv2d_transpose_forward(d->g_up2, g, a1, img);
}

tc_status ref_dcgan_discriminate(ref_dcgan *d, tc_graph *g, tc_tensor *x, tc_tensor **logit) {
  tc_tensor *h1, *h2, *flat;
  TC_TRY(tc_conv2d_forward(d->d_conv1, g, x, &h1));
  TC_TRY(tc_conv2d_forward(d->d_conv2, g, h1, &h2));
  TC_TRY(tc_op_flatten(g, h2, &flat));
  return tc_dense_forward(d->d_logit, g, flat, logit);
}
