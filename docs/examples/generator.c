/* generator.c — the complete program of docs/tutorial.md: a conditional generator that learns
 * to draw four shapes (disc, square, cross, ring) from their class label, with two
 * Conv2DTranspose layers, Adam, and a checkpoint at the end.
 *
 *   cc generator.c $(pkg-config --cflags --libs tconv) -lm -o generator   (see tutorial)
 *   ./generator [STEPS] [CHECKPOINT]
 *
 * Exits 0 when the loss fell below half its first value, so CI can run it as a test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <tconv/tconv.h>

#define CLASSES 4
#define SIZE 16
#define BATCH 32

/* Step 1: data. Image of class k: a shape centred in a 16×16 frame, values in [0, 1]. */
static float shape_pixel(int k, int i, int j) {
  float y = (float)i - 7.5f, x = (float)j - 7.5f, r = sqrtf(x * x + y * y);
  switch (k) {
  case 0: return r < 5.0f ? 1.0f : 0.0f;                             /* disc */
  case 1: return fabsf(x) < 4.5f && fabsf(y) < 4.5f ? 1.0f : 0.0f;    /* square */
  case 2: return fabsf(x) < 1.5f || fabsf(y) < 1.5f ? 1.0f : 0.0f;    /* cross */
  default: return r > 4.0f && r < 6.5f ? 1.0f : 0.0f;                 /* ring */
  }
}

static void make_batch(int step, tc_tensor *labels, tc_tensor *images) {
  tc_tensor_fill(labels, 0.0f);
  for (int n = 0; n < BATCH; n++) {
    int k = (n + step) % CLASSES;
    labels->data[n * CLASSES + k] = 1.0f;   /* one-hot (N, 4) */
    for (int i = 0; i < SIZE; i++)
      for (int j = 0; j < SIZE; j++)        /* NHWC (N, 16, 16, 1) */
        images->data[(n * SIZE + i) * SIZE + j] = shape_pixel(k, i, j);
  }
}

/* Step 2: the network. label (N,4) -> dense 4*4*16 relu -> reshape (N,4,4,16)
 *   -> Conv2DTranspose 8, 4x4, stride 2, same, relu   (N,8,8,8)
 *   -> Conv2DTranspose 1, 4x4, stride 2, same, sigmoid (N,16,16,1) */
typedef struct net {
  tc_model *model;
  tc_dense *dense;
  tc_conv2d_transpose *up1, *up2;
} net;

static tc_status net_create(net *g) {
  TC_TRY(tc_model_create(&g->model, 42)); /* the seed of every initializer */
  tc_dense_config d = tc_dense_config_default(4 * 4 * 16);
  d.activation = tc_activation_make(TC_ACT_RELU);
  TC_TRY(tc_dense_create(&g->dense, g->model, &d, CLASSES));
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(8, 4, 4);
  c.strides[0] = c.strides[1] = 2;
  c.padding = "same";
  TC_TRY(tc_activation_parse("relu", &c.activation));
  TC_TRY(tc_regularizer_parse("l2:1e-5", &c.kernel_regularizer));
  TC_TRY(tc_conv2d_transpose_create(&g->up1, g->model, &c, 16));
  c.filters = 1;
  c.activation = tc_activation_make(TC_ACT_SIGMOID);
  return tc_conv2d_transpose_create(&g->up2, g->model, &c, 8);
}

static tc_status net_forward(net *g, tc_graph *graph, tc_tensor *labels, tc_tensor **images) {
  tc_tensor *h, *grid, *u;
  TC_TRY(tc_dense_forward(g->dense, graph, labels, &h));
  int64_t shape[4] = {labels->shape[0], 4, 4, 16};
  TC_TRY(tc_op_reshape(graph, h, 4, shape, &grid));
  TC_TRY(tc_conv2d_transpose_forward(g->up1, graph, grid, &u));
  return tc_conv2d_transpose_forward(g->up2, graph, u, images);
}

static void net_free(net *g) {
  tc_dense_free(g->dense);
  tc_conv2d_transpose_free(g->up1);
  tc_conv2d_transpose_free(g->up2);
  tc_model_free(g->model); /* after the layers: the model owns their variables */
}

/* Step 3: training. One graph, reset every step; the optimizer adds the l2 penalty. */
static tc_status train(net *g, tc_optim *opt, int steps, float *first, float *last) {
  tc_graph *graph;
  tc_tensor *labels, *target;
  int64_t ls[2] = {BATCH, CLASSES}, is[4] = {BATCH, SIZE, SIZE, 1};
  TC_TRY(tc_graph_create(&graph));
  TC_TRY(tc_tensor_create(&labels, 2, ls));
  TC_TRY(tc_tensor_create(&target, 4, is));
  tc_status s = TC_OK;
  for (int step = 0; step < steps && s == TC_OK; step++) {
    tc_tensor *y, *loss;
    double penalty = 0.0;
    tc_graph_reset(graph);
    make_batch(step, labels, target);
    s = net_forward(g, graph, labels, &y);
    if (s == TC_OK) s = tc_op_mse(graph, y, target, &loss);
    if (s == TC_OK) s = tc_graph_backward(graph, loss);
    if (s == TC_OK) s = tc_optim_step(opt, &penalty);
    if (s != TC_OK)
      break;
    if (step == 0) *first = loss->data[0];
    *last = loss->data[0];
    if (step % 50 == 0 || step == steps - 1)
      printf("step %4d  mse %.5f  l2 penalty %.6f\n", step, loss->data[0], penalty);
  }
  tc_tensor_free(labels);
  tc_tensor_free(target);
  tc_graph_free(graph);
  return s;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 300;
  const char *ckpt = argc > 2 ? argv[2] : "generator.npz";
  net g = {0};
  tc_optim *opt = NULL;
  float first = 0.0f, last = 0.0f;
  tc_optim_config oc = tc_optim_config_default(TC_OPTIM_ADAM);
  oc.lr = 0.01f;
  tc_status s = net_create(&g);
  if (s == TC_OK) s = tc_optim_create(&opt, &oc, g.model, NULL);
  if (s == TC_OK) s = train(&g, opt, steps, &first, &last);
  /* Step 4: save weights, Adam's slots and the step count; numpy.load reads it. */
  tc_ckpt_optim slots = {"optimizer", opt};
  tc_ckpt_meta meta = {.step = steps};
  if (s == TC_OK) s = tc_ckpt_save(ckpt, g.model, &slots, 1, &meta);
  if (s != TC_OK)
    fprintf(stderr, "generator: %s: %s\n", tc_status_str(s), tc_last_error());
  else
    printf("mse %.5f -> %.5f; saved %s\n", first, last, ckpt);
  tc_optim_free(opt);
  net_free(&g);
  return s == TC_OK && last < 0.5f * first ? 0 : 1;
}
