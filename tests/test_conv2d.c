/* test_conv2d.c — conv2d built on the transposed-convolution kernels: the three kernels
 * against a direct double loop on many random configurations, the op's gradients against
 * finite differences, and the plan's rejections. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops_extra.h"
#include "support/fdcheck.h"
#include "support/ref_conv2d.h"
#include "support/testutil.h"

/* Float kernels against the double reference: sums of up to kh*kw*C products of values
 * below 1 in magnitude keep float rounding well under 1e-5 absolute. */
#define ATOL 1e-5
#define RTOL 1e-5

typedef struct case_cfg {
  tc_conv2d_params p;
  int64_t n;
  int h, w, c;
} case_cfg;

/* Odd sizes, both layouts, both paddings, strides 1-3; dilation (stride 1 only, as
 * Keras) and groups now and then. Valid inputs are kept at least the dilated kernel. */
static case_cfg draw(tc_test_rng *r) {
  case_cfg k;
  int groups = tc_test_int(r, 0, 4) == 0 ? tc_test_int(r, 2, 3) : 1;
  k.p = tc_conv2d_params_default(groups * tc_test_int(r, 1, 4), tc_test_int(r, 1, 5),
                                 tc_test_int(r, 1, 5));
  k.p.stride_h = tc_test_int(r, 1, 3);
  k.p.stride_w = tc_test_int(r, 1, 3);
  if (tc_test_int(r, 0, 5) == 0) {
    k.p.stride_h = k.p.stride_w = 1;
    k.p.dilation_h = tc_test_int(r, 1, 3);
    k.p.dilation_w = tc_test_int(r, 1, 3);
  }
  k.p.padding = tc_test_int(r, 0, 1) ? TC_PADDING_SAME : TC_PADDING_VALID;
  k.p.data_format = tc_test_int(r, 0, 1) ? TC_CHANNELS_FIRST : TC_CHANNELS_LAST;
  k.p.groups = groups;
  k.n = tc_test_int(r, 1, 3);
  k.c = groups * tc_test_int(r, 1, 4);
  int dkh = (k.p.kernel_h - 1) * k.p.dilation_h + 1, dkw = (k.p.kernel_w - 1) * k.p.dilation_w + 1;
  int min_h = k.p.padding == TC_PADDING_VALID ? dkh : 1;
  int min_w = k.p.padding == TC_PADDING_VALID ? dkw : 1;
  k.h = min_h + tc_test_int(r, 0, 8);
  k.w = min_w + tc_test_int(r, 0, 8);
  return k;
}

static void describe(const case_cfg *k, char *buf, size_t cap) {
  snprintf(buf, cap, "n%lld h%d w%d c%d f%d k%dx%d s%dx%d d%dx%d g%d %s %s", (long long)k->n,
           k->h, k->w, k->c, k->p.filters, k->p.kernel_h, k->p.kernel_w, k->p.stride_h,
           k->p.stride_w, k->p.dilation_h, k->p.dilation_w, k->p.groups,
           tc_padding_name(k->p.padding), tc_data_format_name(k->p.data_format));
}

static void expect_close(const char *what, const char *desc, const float *got,
                         const double *want, int64_t n) {
  int64_t worst = 0;
  double ex = tc_test_excess(got, want, n, ATOL, RTOL, &worst);
  ck_assert_msg(ex <= 0.0, "%s [%s]: element %lld is %.8g, reference %.8g", what, desc,
                (long long)worst, (double)got[worst], want[worst]);
}

static float *rnd(tc_test_rng *r, int64_t n) {
  float *v = malloc((size_t)n * sizeof(float));
  ck_assert_ptr_nonnull(v);
  tc_test_fill(r, v, n, -1.0f, 1.0f);
  return v;
}

static double *dbl(int64_t n) {
  double *v = malloc((size_t)n * sizeof(double));
  ck_assert_ptr_nonnull(v);
  return v;
}

static void run_case(const case_cfg *k, tc_test_rng *r) {
  char desc[160];
  describe(k, desc, sizeof desc);
  tc_conv2d_plan q;
  ck_assert_msg(tc_conv2d_plan_create(&q, &k->p, k->n, k->h, k->w, k->c) == TC_OK, "%s: %s",
                desc, tc_last_error());
  int oh, ow, pt, pl;
  tc_ref_conv2d_out_dim(k->h, k->p.kernel_h, k->p.stride_h, k->p.dilation_h, k->p.padding, &oh, &pt);
  tc_ref_conv2d_out_dim(k->w, k->p.kernel_w, k->p.stride_w, k->p.dilation_w, k->p.padding, &ow, &pl);
  ck_assert_msg(q.oh == oh && q.ow == ow && q.pad_top == pt && q.pad_left == pl,
                "%s: plan %dx%d pad %d,%d; reference %dx%d pad %d,%d", desc, q.oh, q.ow,
                q.pad_top, q.pad_left, oh, ow, pt, pl);
  float *x = rnd(r, q.x_size), *kern = rnd(r, q.kernel_size), *bias = rnd(r, k->p.filters);
  float *dy = rnd(r, q.y_size), *y = rnd(r, q.y_size), *dx = rnd(r, q.x_size);
  float *dk = rnd(r, q.kernel_size), *db = rnd(r, k->p.filters);
  double *ry = dbl(q.y_size), *rdx = dbl(q.x_size), *rdk = dbl(q.kernel_size);
  double *rdb = dbl(k->p.filters);
  void *ws = q.workspace_bytes ? tc_aligned_alloc(q.workspace_bytes) : NULL;
  /* The outputs start as garbage: the kernels must overwrite, not accumulate. */
  ck_assert_int_eq(tc_conv2d_fwd(&q, x, kern, bias, y, ws), TC_OK);
  ck_assert_int_eq(tc_conv2d_bwd_data(&q, dy, kern, dx, ws), TC_OK);
  ck_assert_int_eq(tc_conv2d_bwd_weights(&q, x, dy, dk, db, ws), TC_OK);
  tc_ref_conv2d_forward(&k->p, k->n, k->h, k->w, k->c, x, kern, bias, ry);
  tc_ref_conv2d_backward_data(&k->p, k->n, k->h, k->w, k->c, dy, kern, rdx);
  tc_ref_conv2d_backward_weights(&k->p, k->n, k->h, k->w, k->c, x, dy, rdk, rdb);
  expect_close("forward", desc, y, ry, q.y_size);
  expect_close("backward_data", desc, dx, rdx, q.x_size);
  expect_close("backward_weights kernel", desc, dk, rdk, q.kernel_size);
  expect_close("backward_weights bias", desc, db, rdb, k->p.filters);
  tc_aligned_free(ws);
  free(x); free(kern); free(bias); free(dy); free(y); free(dx); free(dk); free(db);
  free(ry); free(rdx); free(rdk); free(rdb);
}

START_TEST(kernels_match_reference_on_random_configs) {
  tc_test_rng r;
  tc_test_rng_init(&r, 2024);
  int same = 0, nchw = 0, strided = 0, dilated = 0, grouped = 0;
  for (int i = 0; i < 500; i++) {
    case_cfg k = draw(&r);
    run_case(&k, &r);
    same += k.p.padding == TC_PADDING_SAME;
    nchw += k.p.data_format == TC_CHANNELS_FIRST;
    strided += k.p.stride_h == 3 || k.p.stride_w == 3;
    dilated += k.p.dilation_h > 1 || k.p.dilation_w > 1;
    grouped += k.p.groups > 1;
  }
  /* The draw must actually cover every feature. */
  ck_assert_int_gt(same, 100);
  ck_assert_int_gt(nchw, 100);
  ck_assert_int_gt(strided, 100);
  ck_assert_int_gt(dilated, 30);
  ck_assert_int_gt(grouped, 20);
}
END_TEST

START_TEST(fixed_shapes_match_tf_sizes) {
  /* TF: same → ceil(in/s); valid → ceil((in - k + 1)/s); pad_top = pad_total/2. */
  struct { int in, k, s, pad, out, lead; } t[] = {
      {28, 4, 2, 1, 14, 1}, {28, 4, 2, 0, 13, 0}, {7, 3, 2, 1, 4, 1}, {7, 3, 2, 0, 3, 0},
      {5, 5, 1, 1, 5, 2}, {5, 5, 3, 0, 1, 0}, {6, 1, 3, 1, 2, 0}, {6, 2, 3, 0, 2, 0},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    tc_conv2d_params p = tc_conv2d_params_default(2, t[i].k, 1);
    p.stride_h = t[i].s;
    p.padding = t[i].pad ? TC_PADDING_SAME : TC_PADDING_VALID;
    tc_conv2d_plan q;
    ck_assert_int_eq(tc_conv2d_plan_create(&q, &p, 1, t[i].in, 3, 1), TC_OK);
    ck_assert_int_eq(q.oh, t[i].out);
    ck_assert_int_eq(q.pad_top, t[i].lead);
  }
}
END_TEST

typedef struct op_ctx {
  tc_tensor *x, *k, *b;
  const tc_conv2d_plan *plan;
} op_ctx;

static tc_status conv_fwd(void *ctx, tc_graph *g, tc_tensor **y) {
  op_ctx *c = ctx;
  return tc_op_conv2d(g, c->x, c->k, c->b, c->plan, y);
}

START_TEST(op_gradients_match_finite_differences) {
  tc_test_rng r;
  tc_test_rng_init(&r, 99);
  for (int i = 0; i < 24; i++) {
    case_cfg k = draw(&r);
    tc_conv2d_plan q;
    ck_assert_int_eq(tc_conv2d_plan_create(&q, &k.p, k.n, k.h, k.w, k.c), TC_OK);
    int cl = k.p.data_format == TC_CHANNELS_LAST;
    int64_t xs[4] = {k.n, cl ? k.h : k.c, cl ? k.w : k.h, cl ? k.c : k.w};
    int64_t ks[4] = {k.p.kernel_h, k.p.kernel_w, k.c / k.p.groups, k.p.filters};
    int64_t bs[1] = {k.p.filters};
    op_ctx c = {tc_test_tensor(&r, 4, xs, -1, 1), tc_test_tensor(&r, 4, ks, -0.5f, 0.5f),
                i % 3 ? tc_test_tensor(&r, 1, bs, -0.5f, 0.5f) : NULL, &q};
    tc_tensor *in[3] = {c.x, c.k, c.b};
    for (int j = 0; j < 3; j++)
      if (in[j])
        ck_assert_int_eq(tc_tensor_require_grad(in[j]), TC_OK);
    const char *names[3] = {"x", "kernel", "bias"};
    tc_fd_check(conv_fwd, &c, in, names, c.b ? 3 : 2, 24, (uint64_t)i);
    tc_tensor_free(c.x);
    tc_tensor_free(c.k);
    tc_tensor_free(c.b);
  }
}
END_TEST

static void expect_plan_error(tc_conv2d_params p, int64_t n, int h, int w, int c,
                              tc_status want, const char *needle) {
  tc_conv2d_plan q;
  ck_assert_int_eq(tc_conv2d_plan_create(&q, &p, n, h, w, c), want);
  ck_assert_msg(strstr(tc_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                tc_last_error(), needle);
}

START_TEST(plan_rejects_bad_arguments) {
  tc_conv2d_params ok = tc_conv2d_params_default(4, 3, 3), p;
  p = ok; p.filters = 0;
  expect_plan_error(p, 1, 5, 5, 2, TC_ERR_SHAPE, "filters must be positive, got 0");
  p = ok; p.kernel_w = -1;
  expect_plan_error(p, 1, 5, 5, 2, TC_ERR_SHAPE, "kernel_size must be positive, got 3x-1");
  p = ok; p.stride_h = 0;
  expect_plan_error(p, 1, 5, 5, 2, TC_ERR_SHAPE, "strides must be positive, got 0x1");
  p = ok; p.dilation_h = 2; p.stride_w = 2;
  expect_plan_error(p, 1, 5, 5, 2, TC_ERR_INVALID_ARG, "dilation_rate 2x1 with strides 1x2");
  p = ok; p.groups = 3;
  expect_plan_error(p, 1, 5, 5, 2, TC_ERR_SHAPE, "groups 3 does not divide filters 4");
  p = ok; p.groups = 2;
  expect_plan_error(p, 1, 5, 5, 3, TC_ERR_SHAPE, "groups 2 does not divide input channels 3");
  p = ok; p.padding = (tc_padding)7;
  expect_plan_error(p, 1, 5, 5, 2, TC_ERR_INVALID_ARG, "unknown padding 7");
  expect_plan_error(ok, 1, 2, 5, 2, TC_ERR_SHAPE,
                    "input height 2 is smaller than the dilated kernel 3");
  expect_plan_error(ok, 0, 5, 5, 2, TC_ERR_SHAPE, "input 0 x 5 x 5 x 2");
  ck_assert_int_eq(tc_conv2d_plan_create(NULL, &ok, 1, 5, 5, 2), TC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(op_rejects_tensors_that_do_not_fit_the_plan) {
  tc_conv2d_params p = tc_conv2d_params_default(4, 3, 3);
  tc_conv2d_plan q;
  ck_assert_int_eq(tc_conv2d_plan_create(&q, &p, 2, 5, 5, 3), TC_OK);
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  tc_tensor *x, *x2, *k, *b, *y;
  ck_assert_int_eq(tc_tensor_create(&x, 4, (int64_t[]){2, 5, 5, 3}), TC_OK);
  ck_assert_int_eq(tc_tensor_create(&x2, 4, (int64_t[]){2, 5, 5, 2}), TC_OK);
  ck_assert_int_eq(tc_tensor_create(&k, 4, (int64_t[]){3, 3, 3, 2}), TC_OK);
  ck_assert_int_eq(tc_tensor_create(&b, 1, (int64_t[]){5}), TC_OK);
  TC_CK_ERROR(tc_op_conv2d(g, x2, k, NULL, &q, &y), TC_ERR_SHAPE, "input has 2 channels, kernel expects 3");
  TC_CK_ERROR(tc_op_conv2d(g, x, k, NULL, &q, &y), TC_ERR_SHAPE, "kernel is (3, 3, 3, 2)");
  tc_tensor_free(k);
  ck_assert_int_eq(tc_tensor_create(&k, 4, (int64_t[]){3, 3, 3, 4}), TC_OK);
  TC_CK_ERROR(tc_op_conv2d(g, x, k, b, &q, &y), TC_ERR_SHAPE, "bias is (5)");
  ck_assert_int_eq(tc_op_conv2d(g, x, k, NULL, NULL, &y), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_op_conv2d(g, x, k, NULL, &q, &y), TC_OK);
  ck_assert_int_eq(y->shape[1], 3);
  tc_tensor_free(x);
  tc_tensor_free(x2);
  tc_tensor_free(k);
  tc_tensor_free(b);
  tc_graph_free(g);
}
END_TEST

int main(void) {
  Suite *s = suite_create("conv2d");
  TCase *tc = tcase_create("conv2d");
  tcase_add_test(tc, kernels_match_reference_on_random_configs);
  tcase_add_test(tc, fixed_shapes_match_tf_sizes);
  tcase_add_test(tc, op_gradients_match_finite_differences);
  tcase_add_test(tc, plan_rejects_bad_arguments);
  tcase_add_test(tc, op_rejects_tensors_that_do_not_fit_the_plan);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
