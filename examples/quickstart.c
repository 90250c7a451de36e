/* quickstart.c — the README's example as a complete program: one Conv2DTranspose layer
 * (16 filters, 4x4 kernel, stride 2, "same", relu) on a (2, 7, 7, 8) NHWC input, the mean
 * of its output as the loss, one backward pass, and the gradients of its kernel and bias.
 *
 *   cc quickstart.c $(pkg-config --cflags --libs tconv) -o quickstart && ./quickstart
 *
 * Prints the shapes, the loss and the first gradients; README.md shows the output. Exits 1
 * with tconv's error sentence when a call fails. */
#include <stdio.h>

#include <tconv/tconv.h>

#define CHECK(call)                                                                          \
  do {                                                                                       \
    if ((call) != TC_OK)                                                                     \
      goto error;                                                                            \
  } while (0)

/* A smooth, signed pattern in [-1, 1]: every input channel and pixel differs. */
static void fill_input(tc_tensor *x) {
  for (int64_t i = 0; i < x->size; i++)
    x->data[i] = (float)(i % 13 - 6) / 6.0f;
}

static void print_first(const char *what, const float *v, int count) {
  printf("%s", what);
  for (int i = 0; i < count; i++)
    printf(" %+.6f", v[i]);
  printf("\n");
}

int main(void) {
  tc_model *model = NULL;
  tc_graph *graph = NULL;
  tc_conv2d_transpose *layer = NULL;
  tc_tensor *x = NULL, *y, *loss;
  int rc = 1;
  printf("tconv %s\n", tc_version());
  CHECK(tc_model_create(&model, 42)); /* the seed of every initializer */
  CHECK(tc_graph_create(&graph));

  tc_conv2d_transpose_config cfg = tc_conv2d_transpose_config_default(16, 4, 4);
  cfg.strides[0] = cfg.strides[1] = 2;
  cfg.padding = "same";
  CHECK(tc_activation_parse("relu", &cfg.activation));
  CHECK(tc_conv2d_transpose_create(&layer, model, &cfg, 8)); /* 8 input channels */

  int64_t shape[4] = {2, 7, 7, 8}; /* x: (N, H, W, C) NHWC */
  CHECK(tc_tensor_create(&x, 4, shape));
  fill_input(x);
  CHECK(tc_conv2d_transpose_forward(layer, graph, x, &y)); /* y: (2, 14, 14, 16) */
  CHECK(tc_op_mean(graph, y, &loss));
  CHECK(tc_graph_backward(graph, loss));

  const tc_tensor *kernel = tc_conv2d_transpose_kernel(layer)->value; /* (4, 4, 16, 8) */
  const tc_tensor *bias = tc_conv2d_transpose_bias(layer)->value;     /* (16) */
  printf("y: (%lld, %lld, %lld, %lld)  loss = mean(y) = %.6f\n", (long long)y->shape[0],
         (long long)y->shape[1], (long long)y->shape[2], (long long)y->shape[3], loss->data[0]);
  print_first("dkernel[0..3]:", kernel->grad, 4);
  print_first("dbias[0..3]:  ", bias->grad, 4);
  tc_graph_reset(graph); /* once per step: frees this step's activations */
  rc = 0;
error:
  if (rc)
    fprintf(stderr, "quickstart: %s\n", tc_last_error());
  tc_tensor_free(x);
  tc_conv2d_transpose_free(layer);
  tc_graph_free(graph);
  tc_model_free(model);
  return rc;
}
