/* unet.c — a tiny U-Net that learns to clean noisy shapes: two Conv2D encoder stages, a
 * bottleneck, and a decoder that climbs back with a bilinear UpSampling2D and a
 * Conv2DTranspose, each followed by a concat skip from the encoder (docs/ops.md).
 *
 *   ./unet [STEPS]
 *
 * Prints the L1 loss as it falls, and the L1 of the noisy input itself (what returning the
 * input would score); exits 0 when the last loss is below half the first and below that
 * baseline (the net really removes noise), so CI runs it as a test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/ops_layout.h"
#include "core/ops_losses.h"
#include "core/ops_resize.h"
#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/conv2d_transpose.h"
#include "optim/optimizer.h"

#define SIZE 16
#define BATCH 16

/* Data: a disc, square, cross or ring at a random offset (clean target), plus uniform noise
 * of amplitude 0.4 (input). NHWC (N, 16, 16, 1). */
static float shape_pixel(int k, float y, float x) {
  float r = sqrtf(x * x + y * y);
  switch (k) {
  case 0: return r < 4.0f ? 1.0f : 0.0f;
  case 1: return fabsf(x) < 3.5f && fabsf(y) < 3.5f ? 1.0f : 0.0f;
  case 2: return fabsf(x) < 1.5f || fabsf(y) < 1.5f ? 1.0f : 0.0f;
  default: return r > 3.0f && r < 5.5f ? 1.0f : 0.0f;
  }
}

static void make_batch(tc_rng *r, tc_tensor *noisy, tc_tensor *clean) {
  for (int n = 0; n < BATCH; n++) {
    int k = (int)tc_rng_below(r, 4);
    float cy = 5.5f + 4.0f * tc_rng_uniform(r), cx = 5.5f + 4.0f * tc_rng_uniform(r);
    for (int i = 0; i < SIZE * SIZE; i++) {
      float v = shape_pixel(k, (float)(i / SIZE) - cy, (float)(i % SIZE) - cx);
      clean->data[n * SIZE * SIZE + i] = v;
      noisy->data[n * SIZE * SIZE + i] = v + 0.4f * (tc_rng_uniform(r) - 0.5f);
    }
  }
}

/* e1 = conv 8 (16x16); e2 = conv 16 stride 2 (8x8); b = conv 16 stride 2 (4x4);
 * d1 = conv 16 of concat(upsample_bilinear(b), e2) (8x8);
 * y = conv 1 linear of concat(conv2d_transpose 8 stride 2 (d1), e1) (16x16). A linear
 * output, as L1 wants: a sigmoid saturates at 0 early and the sign gradient stalls there. */
typedef struct unet {
  tc_model *model;
  tc_conv2d *e1, *e2, *b, *d1, *out;
  tc_conv2d_transpose *up;
} unet;

static tc_status conv(tc_model *m, tc_conv2d **l, int filters, int stride, int in, int linear) {
  tc_conv2d_config c = tc_conv2d_config_default(filters, 3, 3);
  c.strides[0] = c.strides[1] = stride;
  c.padding = "same";
  c.activation = tc_activation_make(linear ? TC_ACT_LINEAR : TC_ACT_RELU);
  return tc_conv2d_create(l, m, &c, in);
}

static tc_status unet_create(unet *u) {
  TC_TRY(tc_model_create(&u->model, 7));
  TC_TRY(conv(u->model, &u->e1, 8, 1, 1, 0));
  TC_TRY(conv(u->model, &u->e2, 16, 2, 8, 0));
  TC_TRY(conv(u->model, &u->b, 16, 2, 16, 0));
  TC_TRY(conv(u->model, &u->d1, 16, 1, 32, 0));
  tc_conv2d_transpose_config t = tc_conv2d_transpose_config_default(8, 4, 4);
  t.strides[0] = t.strides[1] = 2;
  t.padding = "same";
  t.activation = tc_activation_make(TC_ACT_RELU);
  TC_TRY(tc_conv2d_transpose_create(&u->up, u->model, &t, 16));
  return conv(u->model, &u->out, 1, 1, 16, 1);
}

static tc_status unet_forward(unet *u, tc_graph *g, tc_tensor *x, tc_tensor **y) {
  tc_tensor *e1, *e2, *b, *up, *d1, *skip[2];
  TC_TRY(tc_conv2d_forward(u->e1, g, x, &e1));
  TC_TRY(tc_conv2d_forward(u->e2, g, e1, &e2));
  TC_TRY(tc_conv2d_forward(u->b, g, e2, &b));
  TC_TRY(tc_op_upsample2d(g, b, 2, 2, TC_RESIZE_BILINEAR, 0, &up)); /* Keras UpSampling2D */
  skip[0] = up;
  skip[1] = e2;
  TC_TRY(tc_op_concat(g, 2, skip, -1, &up));                         /* (N, 8, 8, 32) */
  TC_TRY(tc_conv2d_forward(u->d1, g, up, &d1));
  TC_TRY(tc_conv2d_transpose_forward(u->up, g, d1, &up));            /* (N, 16, 16, 8) */
  skip[0] = up;
  skip[1] = e1;
  TC_TRY(tc_op_concat(g, 2, skip, -1, &up));                         /* (N, 16, 16, 16) */
  return tc_conv2d_forward(u->out, g, up, y);
}

static void unet_free(unet *u) {
  tc_conv2d_free(u->e1);
  tc_conv2d_free(u->e2);
  tc_conv2d_free(u->b);
  tc_conv2d_free(u->d1);
  tc_conv2d_free(u->out);
  tc_conv2d_transpose_free(u->up);
  tc_model_free(u->model);
}

/* mean |noisy - clean|: the loss of a net that returned its input. */
static float input_l1(const tc_tensor *noisy, const tc_tensor *clean) {
  double acc = 0.0;
  for (int64_t i = 0; i < noisy->size; i++)
    acc += fabs((double)noisy->data[i] - clean->data[i]);
  return (float)(acc / (double)noisy->size);
}

static tc_status train(unet *u, tc_optim *opt, int steps, float *first, float *last,
                       float *baseline) {
  tc_graph *g;
  tc_tensor *noisy, *clean;
  int64_t shape[4] = {BATCH, SIZE, SIZE, 1};
  tc_rng data;
  tc_rng_init(&data, 1, 0);
  TC_TRY(tc_graph_create(&g));
  TC_TRY(tc_tensor_create(&noisy, 4, shape));
  TC_TRY(tc_tensor_create(&clean, 4, shape));
  tc_status s = TC_OK;
  for (int step = 0; step < steps && s == TC_OK; step++) {
    tc_tensor *y, *loss;
    double penalty;
    tc_graph_reset(g);
    make_batch(&data, noisy, clean);
    s = unet_forward(u, g, noisy, &y);
    if (s == TC_OK) s = tc_op_mae(g, y, clean, TC_REDUCE_MEAN, &loss); /* pix2pix's L1 */
    if (s == TC_OK) s = tc_graph_backward(g, loss);
    if (s == TC_OK) s = tc_optim_step(opt, &penalty);
    if (s != TC_OK)
      break;
    if (step == 0) *first = loss->data[0];
    *last = loss->data[0];
    *baseline = input_l1(noisy, clean);
    if (step % 20 == 0 || step == steps - 1)
      printf("step %4d  l1 %.5f\n", step, loss->data[0]);
  }
  tc_tensor_free(noisy);
  tc_tensor_free(clean);
  tc_graph_free(g);
  return s;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 200;
  unet u = {0};
  tc_optim *opt = NULL;
  float first = 0.0f, last = 0.0f, baseline = 0.0f;
  tc_optim_config oc = tc_optim_config_default(TC_OPTIM_ADAM);
  oc.lr = 0.003f;
  tc_status s = unet_create(&u);
  if (s == TC_OK) s = tc_optim_create(&opt, &oc, u.model, NULL);
  if (s == TC_OK) s = train(&u, opt, steps, &first, &last, &baseline);
  if (s != TC_OK)
    fprintf(stderr, "unet: %s: %s\n", tc_status_str(s), tc_last_error());
  else
    printf("l1 %.5f -> %.5f; the noisy input itself: %.5f\n", first, last, baseline);
  tc_optim_free(opt);
  unet_free(&u);
  return s == TC_OK && last < 0.5f * first && last < baseline ? 0 : 1;
}
