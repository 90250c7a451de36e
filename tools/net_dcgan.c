/* net_dcgan.c — generator and discriminator of the DCGAN. */
#include "tools/net_dcgan.h"

#include <string.h>

#include "core/ops.h"
#include "core/ops_extra.h"

static tc_status tc_generator_create(tc_dcgan *d, const tc_layer_opts *l) {
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

static tc_status tc_discriminator_create(tc_dcgan *d) {
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

tc_status tc_dcgan_create(tc_dcgan *d, const tc_train_opts *o, int h, int w) {
  memset(d, 0, sizeof *d);
  if (h % 4 != 0 || w % 4 != 0)
    return tc_set_error(TC_ERR_SHAPE, "dcgan: images are %dx%d, need sizes divisible by 4", h, w);
  d->latent = (int)o->latent;
  d->h = h;
  d->w = w;
  d->act = o->layer.activation;
  TC_TRY(tc_model_create(&d->model, (uint64_t)o->seed));
  TC_TRY(tc_generator_create(d, &o->layer));
  return tc_discriminator_create(d);
}

void tc_dcgan_free(tc_dcgan *d) {
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

tc_status tc_dcgan_generate(tc_dcgan *d, tc_graph *g, tc_tensor *z, int training,
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

tc_status tc_dcgan_discriminate(tc_dcgan *d, tc_graph *g, tc_tensor *x, tc_tensor **logit) {
  tc_tensor *h1, *h2, *flat;
  TC_TRY(tc_conv2d_forward(d->d_conv1, g, x, &h1));
  TC_TRY(tc_conv2d_forward(d->d_conv2, g, h1, &h2));
  TC_TRY(tc_op_flatten(g, h2, &flat));
  return tc_dense_forward(d->d_logit, g, flat, logit);
}
