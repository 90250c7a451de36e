/* test_nnlayers.c — the Conv2D, Dense and BatchNormalization layers: Keras defaults,
 * automatic names, variables, forward against references, gradients, and every rejected
 * argument with its own status and message. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "support/fdcheck.h"
#include "support/ref_conv2d.h"
#include "support/testutil.h"

static tc_model *model(uint64_t seed) {
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, seed), TC_OK);
  return m;
}

static tc_graph *graph(void) {
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  return g;
}

#define EXPECT_MSG(needle)                                                                   \
  ck_assert_msg(strstr(tc_last_error(), (needle)) != NULL, "message '%s' lacks '%s'",       \
                tc_last_error(), (needle))

/* ---- defaults and names ------------------------------------------------------------ */

START_TEST(defaults_are_keras_defaults) {
  tc_conv2d_config c = tc_conv2d_config_default(8, 3, 3);
  ck_assert_int_eq(c.strides[0], 1);
  ck_assert_str_eq(c.padding, "valid");
  ck_assert_str_eq(c.data_format, "channels_last");
  ck_assert_int_eq(c.dilation_rate[1], 1);
  ck_assert_int_eq(c.groups, 1);
  ck_assert_int_eq(c.activation.kind, TC_ACT_LINEAR);
  ck_assert_int_eq(c.use_bias, 1);
  ck_assert_int_eq(c.kernel_initializer.kind, TC_INIT_GLOROT_UNIFORM);
  ck_assert_int_eq(c.bias_initializer.kind, TC_INIT_ZEROS);
  ck_assert_int_eq(c.trainable, 1);
  ck_assert_ptr_null(c.name);
  tc_dense_config d = tc_dense_config_default(10);
  ck_assert_int_eq(d.units, 10);
  ck_assert_int_eq(d.use_bias, 1);
  ck_assert_int_eq(d.kernel_initializer.kind, TC_INIT_GLOROT_UNIFORM);
  ck_assert_int_eq(d.kernel_regularizer.kind, TC_REG_NONE);
  tc_batch_norm_config b = tc_batch_norm_config_default();
  ck_assert_int_eq(b.axis, -1);
  ck_assert_float_eq(b.momentum, 0.99f);
  ck_assert_float_eq(b.epsilon, 1e-3f);
  ck_assert_int_eq(b.center, 1);
  ck_assert_int_eq(b.scale, 1);
  ck_assert_int_eq(b.gamma_initializer.kind, TC_INIT_ONES);
  ck_assert_int_eq(b.beta_initializer.kind, TC_INIT_ZEROS);
  ck_assert_int_eq(b.moving_variance_initializer.kind, TC_INIT_ONES);
  ck_assert_int_eq(b.fused, -1);
}
END_TEST

START_TEST(automatic_names_and_variables) {
  tc_model *m = model(1);
  tc_conv2d_config cc = tc_conv2d_config_default(4, 3, 3);
  tc_dense_config dc = tc_dense_config_default(5);
  tc_batch_norm_config bc = tc_batch_norm_config_default();
  tc_conv2d *c0, *c1;
  tc_dense *d0, *d1;
  tc_batch_norm *b0, *b1;
  ck_assert_int_eq(tc_conv2d_create(&c0, m, &cc, 2), TC_OK);
  ck_assert_int_eq(tc_conv2d_create(&c1, m, &cc, 4), TC_OK);
  ck_assert_int_eq(tc_dense_create(&d0, m, &dc, 3), TC_OK);
  ck_assert_int_eq(tc_dense_create(&d1, m, &dc, 5), TC_OK);
  ck_assert_int_eq(tc_batch_norm_create(&b0, m, &bc, 4), TC_OK);
  ck_assert_int_eq(tc_batch_norm_create(&b1, m, &bc, 5), TC_OK);
  ck_assert_str_eq(tc_conv2d_name(c0), "conv2d");
  ck_assert_str_eq(tc_conv2d_name(c1), "conv2d_1");
  ck_assert_str_eq(tc_dense_name(d0), "dense");
  ck_assert_str_eq(tc_dense_name(d1), "dense_1");
  ck_assert_str_eq(tc_batch_norm_name(b0), "batch_normalization");
  ck_assert_str_eq(tc_batch_norm_name(b1), "batch_normalization_1");
  const char *want[] = {"conv2d/kernel", "conv2d/bias", "conv2d_1/kernel", "conv2d_1/bias",
                        "dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                        "batch_normalization/gamma", "batch_normalization/beta",
                        "batch_normalization/moving_mean", "batch_normalization/moving_variance"};
  for (int i = 0; i < 12; i++)
    ck_assert_str_eq(tc_model_param_at(m, i)->name, want[i]);
  tc_tensor *k = tc_conv2d_kernel(c0)->value; /* Keras layout (kh, kw, Cin, Cout) */
  ck_assert_int_eq(k->shape[2], 2);
  ck_assert_int_eq(k->shape[3], 4);
  ck_assert_int_eq(tc_dense_kernel(d0)->value->shape[0], 3);
  ck_assert_int_eq(tc_dense_kernel(d0)->value->shape[1], 5);
  tc_param *mv = tc_batch_norm_moving_variance(b0);
  ck_assert_int_eq(mv->role, TC_PARAM_STATE);
  ck_assert_int_eq(mv->trainable, 0);
  ck_assert_ptr_null(mv->value->grad);
  ck_assert_float_eq(mv->value->data[3], 1.0f);
  ck_assert_float_eq(tc_batch_norm_moving_mean(b0)->value->data[0], 0.0f);
  ck_assert_float_eq(tc_batch_norm_gamma(b0)->value->data[0], 1.0f);
  ck_assert_int_eq(tc_batch_norm_gamma(b0)->role, TC_PARAM_WEIGHT);
  tc_conv2d_free(c0); tc_conv2d_free(c1);
  tc_dense_free(d0); tc_dense_free(d1);
  tc_batch_norm_free(b0); tc_batch_norm_free(b1);
  tc_model_free(m);
}
END_TEST

START_TEST(kernels_are_glorot_bounded_by_the_tf_fan_rule) {
  tc_model *m = model(3);
  tc_conv2d_config cc = tc_conv2d_config_default(6, 3, 3);
  tc_dense_config dc = tc_dense_config_default(7);
  tc_conv2d *c;
  tc_dense *d;
  ck_assert_int_eq(tc_conv2d_create(&c, m, &cc, 4), TC_OK);
  ck_assert_int_eq(tc_dense_create(&d, m, &dc, 9), TC_OK);
  /* conv2d (3,3,4,6): fan_in = 4*9, fan_out = 6*9; dense (9,7). */
  tc_tensor *k = tc_conv2d_kernel(c)->value, *w = tc_dense_kernel(d)->value;
  double lk = sqrt(6.0 / (36 + 54)), lw = sqrt(6.0 / (9 + 7)), maxk = 0, maxw = 0;
  for (int64_t i = 0; i < k->size; i++)
    maxk = fmax(maxk, fabs(k->data[i]));
  for (int64_t i = 0; i < w->size; i++)
    maxw = fmax(maxw, fabs(w->data[i]));
  ck_assert_double_le(maxk, lk);
  ck_assert_double_gt(maxk, 0.5 * lk);
  ck_assert_double_le(maxw, lw);
  ck_assert_double_gt(maxw, 0.5 * lw);
  tc_conv2d_free(c);
  tc_dense_free(d);
  tc_model_free(m);
}
END_TEST

/* ---- forward against references ---------------------------------------------------- */

static void conv_layer_case(const char *fmt, const char *pad, int stride) {
  tc_model *m = model(5);
  tc_conv2d_config cc = tc_conv2d_config_default(3, 3, 2);
  cc.strides[0] = cc.strides[1] = stride;
  cc.padding = pad;
  cc.data_format = fmt;
  ck_assert_int_eq(tc_initializer_parse("random_uniform:-1:1", &cc.bias_initializer), TC_OK);
  ck_assert_int_eq(tc_activation_parse("tanh", &cc.activation), TC_OK);
  tc_conv2d *c;
  ck_assert_int_eq(tc_conv2d_create(&c, m, &cc, 2), TC_OK);
  int cl = strcmp(fmt, "channels_last") == 0;
  int64_t xs[4] = {2, cl ? 7 : 2, cl ? 6 : 7, cl ? 2 : 6};
  tc_test_rng r;
  tc_test_rng_init(&r, 17);
  tc_tensor *x = tc_test_tensor(&r, 4, xs, -1, 1), *y;
  tc_graph *g = graph();
  ck_assert_int_eq(tc_conv2d_forward(c, g, x, &y), TC_OK);
  tc_conv2d_params p = tc_conv2d_params_default(3, 3, 2);
  p.stride_h = p.stride_w = stride;
  ck_assert_int_eq(tc_padding_parse(pad, &p.padding), TC_OK);
  ck_assert_int_eq(tc_data_format_parse(fmt, &p.data_format), TC_OK);
  double *want = malloc((size_t)y->size * sizeof(double));
  tc_ref_conv2d_forward(&p, 2, 7, 6, 2, x->data, tc_conv2d_kernel(c)->value->data,
                        tc_conv2d_bias(c)->value->data, want);
  for (int64_t i = 0; i < y->size; i++)
    want[i] = tanh(want[i]);
  int64_t worst;
  ck_assert_double_le(tc_test_excess(y->data, want, y->size, 1e-5, 1e-5, &worst), 0.0);
  free(want);
  tc_graph_free(g);
  tc_tensor_free(x);
  tc_conv2d_free(c);
  tc_model_free(m);
}

START_TEST(conv2d_layer_matches_reference) {
  conv_layer_case("channels_last", "same", 2);
  conv_layer_case("channels_first", "valid", 1);
  conv_layer_case("NCHW", "SAME", 3);
  conv_layer_case("channels_last", "Valid", 2);
}
END_TEST

typedef struct dense_ctx {
  tc_dense *d;
  tc_tensor *x;
} dense_ctx;

static tc_status dense_fwd(void *ctx, tc_graph *g, tc_tensor **y) {
  dense_ctx *c = ctx;
  return tc_dense_forward(c->d, g, c->x, y);
}

START_TEST(dense_layer_matches_reference_and_gradients) {
  tc_model *m = model(6);
  tc_dense_config dc = tc_dense_config_default(4);
  ck_assert_int_eq(tc_initializer_parse("random_uniform:-1:1", &dc.bias_initializer), TC_OK);
  ck_assert_int_eq(tc_activation_parse("sigmoid", &dc.activation), TC_OK);
  tc_dense *d;
  ck_assert_int_eq(tc_dense_create(&d, m, &dc, 3), TC_OK);
  tc_test_rng r;
  tc_test_rng_init(&r, 18);
  /* rank 3: Keras multiplies along the last axis. */
  tc_tensor *x = tc_test_tensor(&r, 3, (int64_t[]){2, 5, 3}, -1, 1), *y;
  ck_assert_int_eq(tc_tensor_require_grad(x), TC_OK);
  tc_graph *g = graph();
  ck_assert_int_eq(tc_dense_forward(d, g, x, &y), TC_OK);
  ck_assert_int_eq(y->rank, 3);
  ck_assert_int_eq(y->shape[2], 4);
  const float *w = tc_dense_kernel(d)->value->data, *b = tc_dense_bias(d)->value->data;
  for (int row = 0; row < 10; row++)
    for (int u = 0; u < 4; u++) {
      double z = b[u];
      for (int i = 0; i < 3; i++)
        z += (double)x->data[row * 3 + i] * w[i * 4 + u];
      ck_assert_double_eq_tol(y->data[row * 4 + u], 1.0 / (1.0 + exp(-z)), 1e-6);
    }
  tc_graph_free(g);
  dense_ctx c = {d, x};
  tc_tensor *in[3] = {x, tc_dense_kernel(d)->value, tc_dense_bias(d)->value};
  const char *names[3] = {"x", "kernel", "bias"};
  tc_fd_check(dense_fwd, &c, in, names, 3, 30, 3);
  tc_tensor_free(x);
  tc_dense_free(d);
  tc_model_free(m);
}
END_TEST

/* ---- batch normalization ----------------------------------------------------------- */

/* Runs one training step of a fresh layer on x and returns the moving variance of
 * channel 0, for momentum 0 (so it is the batch variance the layer chose). */
static double moving_var_after_step(int rank, const int64_t *shape, int fused) {
  tc_model *m = model(7);
  tc_batch_norm_config bc = tc_batch_norm_config_default();
  bc.momentum = 0.0f;
  bc.fused = fused;
  tc_batch_norm *b;
  ck_assert_int_eq(tc_batch_norm_create(&b, m, &bc, (int)shape[rank - 1]), TC_OK);
  tc_tensor *x, *y;
  ck_assert_int_eq(tc_tensor_create(&x, rank, shape), TC_OK);
  for (int64_t i = 0; i < x->size; i++) /* channel 0 holds 0, 2, 0, 2, ...: var 1 */
    x->data[i] = (i / shape[rank - 1]) % 2 ? 2.0f : 0.0f;
  tc_graph *g = graph();
  ck_assert_int_eq(tc_batch_norm_forward(b, g, x, 1, &y), TC_OK);
  ck_assert_double_eq_tol(tc_batch_norm_moving_mean(b)->value->data[0], 1.0, 1e-6);
  double v = tc_batch_norm_moving_variance(b)->value->data[0];
  tc_graph_free(g);
  tc_tensor_free(x);
  tc_batch_norm_free(b);
  tc_model_free(m);
  return v;
}

START_TEST(batch_norm_moving_variance_follows_tf_fused_rule) {
  /* Rank 4, channels last: TF's fused kernel → Bessel m/(m-1), m = 2*2*2 = 8. */
  ck_assert_double_eq_tol(moving_var_after_step(4, (int64_t[]){2, 2, 2, 3}, -1), 8.0 / 7.0, 1e-6);
  ck_assert_double_eq_tol(moving_var_after_step(4, (int64_t[]){2, 2, 2, 3}, 0), 1.0, 1e-6);
  /* Rank 2 (dense outputs): the non-fused path, biased. */
  ck_assert_double_eq_tol(moving_var_after_step(2, (int64_t[]){4, 3}, -1), 1.0, 1e-6);
}
END_TEST

START_TEST(batch_norm_layer_training_and_inference) {
  tc_model *m = model(8);
  tc_batch_norm_config bc = tc_batch_norm_config_default();
  bc.data_format = "channels_first";
  tc_batch_norm *b;
  ck_assert_int_eq(tc_batch_norm_create(&b, m, &bc, 2), TC_OK);
  ck_assert_int_eq(tc_batch_norm_config_of(b)->axis, 1);
  tc_test_rng r;
  tc_test_rng_init(&r, 19);
  tc_tensor *x = tc_test_tensor(&r, 4, (int64_t[]){3, 2, 2, 2}, 1, 3), *y;
  tc_graph *g = graph();
  /* Inference with fresh statistics (0, 1): y = x / sqrt(1 + eps). */
  ck_assert_int_eq(tc_batch_norm_forward(b, g, x, 0, &y), TC_OK);
  ck_assert_double_eq_tol(y->data[5], x->data[5] / sqrt(1.001), 1e-6);
  ck_assert_float_eq(tc_batch_norm_moving_mean(b)->value->data[1], 0.0f);
  /* Training: each channel of y has mean 0; the moving mean moves 1% toward the batch. */
  ck_assert_int_eq(tc_batch_norm_forward(b, g, x, 1, &y), TC_OK);
  for (int ch = 0; ch < 2; ch++) {
    double sy = 0, sx = 0;
    for (int n = 0; n < 3; n++)
      for (int i = 0; i < 4; i++) {
        sy += y->data[(n * 2 + ch) * 4 + i];
        sx += x->data[(n * 2 + ch) * 4 + i];
      }
    ck_assert_double_eq_tol(sy, 0.0, 1e-5);
    ck_assert_double_eq_tol(tc_batch_norm_moving_mean(b)->value->data[ch], 0.01 * sx / 12, 1e-6);
  }
  tc_graph_free(g);
  tc_tensor_free(x);
  tc_batch_norm_free(b);
  tc_model_free(m);
}
END_TEST

/* ---- rejections -------------------------------------------------------------------- */

static void conv_rejected(tc_conv2d_config c, int in_ch, tc_status want, const char *needle) {
  tc_model *m = model(1);
  tc_conv2d *l = NULL;
  ck_assert_int_eq(tc_conv2d_create(&l, m, &c, in_ch), want);
  ck_assert_ptr_null(l);
  EXPECT_MSG(needle);
  ck_assert_int_eq(tc_model_param_count(m), 0);
  tc_model_free(m);
}

START_TEST(conv2d_rejects_each_bad_argument) {
  tc_conv2d_config ok = tc_conv2d_config_default(4, 3, 3), c;
  c = ok; c.filters = 0;
  conv_rejected(c, 2, TC_ERR_SHAPE, "conv2d 'conv2d': filters must be positive, got 0");
  c = ok; c.kernel_size[1] = -2;
  conv_rejected(c, 2, TC_ERR_SHAPE, "kernel_size must be positive, got 3x-2");
  c = ok; c.strides[0] = 0;
  conv_rejected(c, 2, TC_ERR_SHAPE, "strides must be positive, got 0x1");
  c = ok; c.padding = "full"; c.name = "enc1";
  conv_rejected(c, 2, TC_ERR_INVALID_ARG, "conv2d 'enc1'");
  conv_rejected(c, 2, TC_ERR_INVALID_ARG, "'full'");
  c = ok; c.data_format = "channels_middle";
  conv_rejected(c, 2, TC_ERR_INVALID_ARG, "'channels_middle'");
  c = ok; c.groups = 2;
  conv_rejected(c, 3, TC_ERR_SHAPE, "groups 2 does not divide input channels 3");
  c = ok; c.dilation_rate[0] = 2; c.strides[1] = 2;
  conv_rejected(c, 2, TC_ERR_INVALID_ARG, "dilation_rate 2x1 with strides 1x2");
  c = ok; c.activation.kind = (tc_activation_kind)99;
  conv_rejected(c, 2, TC_ERR_INVALID_ARG, "unknown activation kind 99");
  conv_rejected(ok, 0, TC_ERR_SHAPE, "in_channels must be positive, got 0");
  tc_model *m = model(1);
  tc_conv2d *l;
  c = ok; c.name = "enc";
  ck_assert_int_eq(tc_conv2d_create(&l, m, &c, 2), TC_OK);
  tc_graph *g = graph();
  tc_tensor *x, *x2, *x3, *y;
  ck_assert_int_eq(tc_tensor_create(&x, 4, (int64_t[]){1, 5, 5, 3}), TC_OK);
  ck_assert_int_eq(tc_tensor_create(&x2, 2, (int64_t[]){1, 5}), TC_OK);
  ck_assert_int_eq(tc_tensor_create(&x3, 4, (int64_t[]){1, 2, 5, 2}), TC_OK);
  ck_assert_int_eq(tc_conv2d_forward(l, g, x, &y), TC_ERR_SHAPE);
  EXPECT_MSG("conv2d 'enc': input has 3 channels, kernel expects 2");
  ck_assert_int_eq(tc_conv2d_forward(l, g, x2, &y), TC_ERR_SHAPE);
  EXPECT_MSG("conv2d 'enc': input must be rank 4, got rank 2");
  ck_assert_int_eq(tc_conv2d_forward(l, g, x3, &y), TC_ERR_SHAPE);
  EXPECT_MSG("conv2d 'enc': input height 2 is smaller than the dilated kernel 3");
  ck_assert_int_eq(tc_conv2d_forward(l, g, NULL, &y), TC_ERR_INVALID_ARG);
  tc_conv2d *dup;
  ck_assert_int_eq(tc_conv2d_create(&dup, m, &c, 2), TC_ERR_EXISTS);
  EXPECT_MSG("'enc' is already used");
  tc_tensor_free(x); tc_tensor_free(x2); tc_tensor_free(x3);
  tc_graph_free(g);
  tc_conv2d_free(l);
  tc_model_free(m);
}
END_TEST

START_TEST(dense_rejects_each_bad_argument) {
  tc_model *m = model(1);
  tc_dense *l = NULL;
  tc_dense_config c = tc_dense_config_default(0);
  ck_assert_int_eq(tc_dense_create(&l, m, &c, 4), TC_ERR_SHAPE);
  EXPECT_MSG("dense 'dense': units must be positive, got 0");
  ck_assert_ptr_null(l);
  c.units = 3;
  ck_assert_int_eq(tc_dense_create(&l, m, &c, -1), TC_ERR_SHAPE);
  EXPECT_MSG("in_features must be positive, got -1");
  c.name = "fc";
  ck_assert_int_eq(tc_dense_create(&l, m, &c, 4), TC_OK);
  tc_graph *g = graph();
  tc_tensor *x, *v, *y;
  ck_assert_int_eq(tc_tensor_create(&x, 2, (int64_t[]){2, 5}), TC_OK);
  ck_assert_int_eq(tc_tensor_create(&v, 1, (int64_t[]){4}), TC_OK);
  ck_assert_int_eq(tc_dense_forward(l, g, x, &y), TC_ERR_SHAPE);
  EXPECT_MSG("dense 'fc': input has 5 features, kernel expects 4");
  ck_assert_int_eq(tc_dense_forward(l, g, v, &y), TC_ERR_SHAPE);
  EXPECT_MSG("dense 'fc': input must be rank 2 or more, got rank 1");
  tc_tensor_free(x);
  tc_tensor_free(v);
  tc_graph_free(g);
  tc_dense_free(l);
  tc_model_free(m);
}
END_TEST

static void bn_rejected(tc_batch_norm_config c, int channels, tc_status want,
                        const char *needle) {
  tc_model *m = model(1);
  tc_batch_norm *l = NULL;
  ck_assert_int_eq(tc_batch_norm_create(&l, m, &c, channels), want);
  ck_assert_ptr_null(l);
  EXPECT_MSG(needle);
  tc_model_free(m);
}

START_TEST(batch_norm_rejects_each_bad_argument) {
  tc_batch_norm_config ok = tc_batch_norm_config_default(), c;
  c = ok; c.momentum = 1.5f;
  bn_rejected(c, 3, TC_ERR_INVALID_ARG, "batch_normalization 'batch_normalization': momentum must be in [0, 1], got 1.5");
  c = ok; c.epsilon = 0.0f;
  bn_rejected(c, 3, TC_ERR_INVALID_ARG, "epsilon must be positive and finite, got 0");
  c = ok; c.data_format = "channels_sideways";
  bn_rejected(c, 3, TC_ERR_INVALID_ARG, "unknown data_format 'channels_sideways'");
  c = ok; c.data_format = "channels_first"; c.axis = 3;
  bn_rejected(c, 3, TC_ERR_INVALID_ARG, "axis 3 contradicts data_format 'channels_first' (axis 1)");
  c = ok; c.fused = 2;
  bn_rejected(c, 3, TC_ERR_INVALID_ARG, "fused must be -1 (auto), 0 or 1, got 2");
  bn_rejected(ok, 0, TC_ERR_SHAPE, "channels must be positive, got 0");
  tc_model *m = model(1);
  tc_batch_norm *l;
  c = ok; c.name = "bn1"; c.fused = 1;
  ck_assert_int_eq(tc_batch_norm_create(&l, m, &c, 3), TC_OK);
  tc_graph *g = graph();
  tc_tensor *x4, *x2, *x1, *y;
  ck_assert_int_eq(tc_tensor_create(&x4, 4, (int64_t[]){2, 2, 2, 4}), TC_OK);
  ck_assert_int_eq(tc_tensor_create(&x2, 2, (int64_t[]){2, 3}), TC_OK);
  ck_assert_int_eq(tc_tensor_create(&x1, 1, (int64_t[]){3}), TC_OK);
  ck_assert_int_eq(tc_batch_norm_forward(l, g, x4, 1, &y), TC_ERR_SHAPE);
  EXPECT_MSG("batch_normalization 'bn1': input has 4 channels on axis 3, the layer expects 3");
  ck_assert_int_eq(tc_batch_norm_forward(l, g, x1, 1, &y), TC_ERR_SHAPE);
  EXPECT_MSG("input must be rank 2 or more, got rank 1");
  ck_assert_int_eq(tc_batch_norm_forward(l, g, x2, 1, &y), TC_ERR_SHAPE);
  EXPECT_MSG("fused needs a rank-4 input with the channel axis 1 or 3, got rank 2, axis 1");
  tc_tensor_free(x4); tc_tensor_free(x2); tc_tensor_free(x1);
  tc_graph_free(g);
  tc_batch_norm_free(l);
  tc_model_free(m);
}
END_TEST

START_TEST(frozen_layers_pass_gradients_to_their_inputs) {
  tc_model *m = model(2);
  tc_conv2d_config cc = tc_conv2d_config_default(2, 2, 2);
  cc.trainable = 0;
  tc_conv2d *c;
  ck_assert_int_eq(tc_conv2d_create(&c, m, &cc, 1), TC_OK);
  ck_assert_int_eq(tc_conv2d_kernel(c)->trainable, 0);
  tc_test_rng r;
  tc_test_rng_init(&r, 20);
  tc_tensor *x = tc_test_tensor(&r, 4, (int64_t[]){1, 3, 3, 1}, -1, 1), *y, *loss;
  ck_assert_int_eq(tc_tensor_require_grad(x), TC_OK);
  tc_graph *g = graph();
  ck_assert_int_eq(tc_conv2d_forward(c, g, x, &y), TC_OK);
  ck_assert_int_eq(tc_op_sum(g, y, &loss), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  double s = 0;
  for (int i = 0; i < 9; i++)
    s += fabs(x->grad[i]);
  ck_assert_double_gt(s, 0.0);
  tc_conv2d_set_trainable(c, 1);
  ck_assert_int_eq(tc_conv2d_bias(c)->trainable, 1);
  tc_graph_free(g);
  tc_tensor_free(x);
  tc_conv2d_free(c);
  tc_model_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nnlayers");
  TCase *tc = tcase_create("nnlayers");
  tcase_add_test(tc, defaults_are_keras_defaults);
  tcase_add_test(tc, automatic_names_and_variables);
  tcase_add_test(tc, kernels_are_glorot_bounded_by_the_tf_fan_rule);
  tcase_add_test(tc, conv2d_layer_matches_reference);
  tcase_add_test(tc, dense_layer_matches_reference_and_gradients);
  tcase_add_test(tc, batch_norm_moving_variance_follows_tf_fused_rule);
  tcase_add_test(tc, batch_norm_layer_training_and_inference);
  tcase_add_test(tc, conv2d_rejects_each_bad_argument);
  tcase_add_test(tc, dense_rejects_each_bad_argument);
  tcase_add_test(tc, batch_norm_rejects_each_bad_argument);
  tcase_add_test(tc, frozen_layers_pass_gradients_to_their_inputs);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
