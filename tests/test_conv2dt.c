/* test_conv2dt.c — the three transposed-convolution kernels against the double reference,
 * hand-computed cases, thread-count determinism and the plan's error messages. */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/conv2dt.h"
#include "core/conv2dt/internal.h"
#include "core/status.h"
#include "support/ref_conv2dt.h"
#include "support/testutil.h"

/* Tolerance against the double reference. Data lie in [-1, 1). The float kernels sum at
 * most ~225 products per element here (kh*kw*C/groups for forward, kh*kw*F/groups for
 * backward_data, N*H*W for backward_weights; dbias accumulates in double), each addition
 * rounding by at most 2^-24 of a partial sum of size ~1-10, so errors stay around 1e-6
 * (measured worst: 1.2e-6 below the bound over 5000 configurations). 1e-5 absolute (sums
 * that cancel to ~0) plus 1e-5 relative is well above that and far below any indexing
 * error, which moves a whole product of size ~0.01-1. */
#define ATOL 1e-5
#define RTOL 1e-5

typedef struct conv_case {
  tc_conv2dt_params p;
  int64_t n;
  int h, w, c;
} conv_case;

static conv_case make_case(int n, int h, int w, int c, int f, int kh, int kw, int sh, int sw,
                           tc_padding pad, tc_data_format fmt) {
  conv_case cc;
  cc.p = tc_conv2dt_params_default(f, kh, kw);
  cc.p.stride_h = sh;
  cc.p.stride_w = sw;
  cc.p.padding = pad;
  cc.p.data_format = fmt;
  cc.n = n;
  cc.h = h;
  cc.w = w;
  cc.c = c;
  return cc;
}

static void describe(const conv_case *cc, char *buf, size_t cap) {
  const tc_conv2dt_params *p = &cc->p;
  snprintf(buf, cap,
           "n=%lld h=%d w=%d c=%d f=%d k=%dx%d s=%dx%d d=%dx%d op=%dx%d g=%d %s %s",
           (long long)cc->n, cc->h, cc->w, cc->c, p->filters, p->kernel_h, p->kernel_w,
           p->stride_h, p->stride_w, p->dilation_h, p->dilation_w, p->output_padding_h,
           p->output_padding_w, p->groups, tc_padding_name(p->padding),
           tc_data_format_name(p->data_format));
}

static float *rand_buf(tc_test_rng *r, int64_t count) {
  float *v = malloc(sizeof(float) * (size_t)count);
  ck_assert_ptr_nonnull(v);
  tc_test_fill(r, v, count, -1.0f, 1.0f);
  return v;
}

/* Output buffers start as NaN so that an element a kernel forgets to write fails. They are
 * 64-byte aligned, as tensors are: few-filter backward data streams such rows. */
static float *nan_buf(int64_t count) {
  float *v = aligned_alloc(64, (sizeof(float) * (size_t)count + 63) / 64 * 64);
  ck_assert_ptr_nonnull(v);
  for (int64_t i = 0; i < count; i++)
    v[i] = NAN;
  return v;
}

static double *dbl_buf(int64_t count) {
  double *v = malloc(sizeof(double) * (size_t)count);
  ck_assert_ptr_nonnull(v);
  return v;
}

/* The workspace the plan asks for (at least one byte, so that NULL means a failure). */
static void *ws_alloc(const tc_conv2dt_plan *plan) {
  void *ws = malloc(plan->workspace_bytes ? plan->workspace_bytes : 1);
  ck_assert_ptr_nonnull(ws);
  return ws;
}

/* The plan's geometry must agree with the reference's own derivation. */
static void check_plan(const conv_case *cc, const tc_conv2dt_plan *plan, const char *what) {
  int oh, ow, pt, pl;
  const tc_conv2dt_params *p = &cc->p;
  tc_ref_conv2dt_out_dim(cc->h, p->kernel_h, p->stride_h, p->dilation_h, p->output_padding_h,
                         p->padding, &oh, &pt);
  tc_ref_conv2dt_out_dim(cc->w, p->kernel_w, p->stride_w, p->dilation_w, p->output_padding_w,
                         p->padding, &ow, &pl);
  ck_assert_msg(plan->oh == oh && plan->ow == ow && plan->pad_top == pt && plan->pad_left == pl,
                "%s: plan %dx%d pad %d,%d, reference %dx%d pad %d,%d", what, plan->oh, plan->ow,
                plan->pad_top, plan->pad_left, oh, ow, pt, pl);
  ck_assert_int_eq(plan->y_size, cc->n * oh * ow * p->filters);
  ck_assert_int_eq(plan->x_size, cc->n * cc->h * cc->w * cc->c);
  ck_assert_int_eq(plan->kernel_size,
                   (int64_t)p->kernel_h * p->kernel_w * (p->filters / p->groups) * cc->c);
}

static double check_one(const char *kernel, const char *what, const float *a, const double *b,
                        int64_t count, double scale) {
  int64_t worst = 0;
  double e = tc_test_excess(a, b, count, scale * ATOL, scale * RTOL, &worst);
  ck_assert_msg(e <= 0.0, "%s %s: element %lld is %.9g, reference %.9g", kernel, what,
                (long long)worst, (double)a[worst], b[worst]);
  return e;
}

/* Float error grows with the number of products an element sums (up to linearly, as one
 * long chain): the tolerance, set for ~225 products, widens by count/225 beyond that,
 * still far below one misplaced product. */
static double products_scale(double count) { return count > 225.0 ? count / 225.0 : 1.0; }

/* Runs forward, backward_data and backward_weights (+dbias) on seeded data and compares
 * each with the reference; returns the largest excess over tolerance (<= 0). wscale
 * widens backward_weights' tolerance for cases that sum far more than ~225 products per
 * element (float error grows with the number of terms). */
/* What check_case runs instead of the plan's choices: a micro-kernel table (NULL: the
 * plan's) and an algorithm per direction (-1: the plan's). */
static const tc_ukr_table *forced_ukr;
static int forced_algo[TC_CONV2DT_DIRS] = {-1, -1, -1};

static double check_case_scaled(const conv_case *cc, uint64_t seed, double wscale) {
  char what[256];
  describe(cc, what, sizeof what);
  tc_conv2dt_plan plan;
  ck_assert_msg(tc_conv2dt_plan_create(&plan, &cc->p, cc->n, cc->h, cc->w, cc->c) == TC_OK,
                "%s: %s", what, tc_last_error());
  if (forced_ukr)
    plan.ukr = forced_ukr;
  for (int d = 0; d < TC_CONV2DT_DIRS; d++)
    if (forced_algo[d] >= 0)
      ck_assert_msg(tc_conv2dt_plan_force(&plan, (tc_conv2dt_dir)d,
                                          (tc_conv2dt_algo)forced_algo[d]) == TC_OK,
                    "%s: %s", what, tc_last_error());
  check_plan(cc, &plan, what);
  void *ws = ws_alloc(&plan);
  tc_test_rng r;
  tc_test_rng_init(&r, seed);
  int F = cc->p.filters;
  float *x = rand_buf(&r, plan.x_size), *k = rand_buf(&r, plan.kernel_size);
  float *bias = rand_buf(&r, F), *dy = rand_buf(&r, plan.y_size);
  float *y = nan_buf(plan.y_size), *dx = nan_buf(plan.x_size);
  float *dk = nan_buf(plan.kernel_size), *db = nan_buf(F);
  double *ry = dbl_buf(plan.y_size), *rdx = dbl_buf(plan.x_size);
  double *rdk = dbl_buf(plan.kernel_size), *rdb = dbl_buf(F);
  ck_assert_int_eq(tc_conv2dt_forward(&plan, x, k, bias, y, ws), TC_OK);
  ck_assert_int_eq(tc_conv2dt_backward_data(&plan, dy, k, dx, ws), TC_OK);
  ck_assert_int_eq(tc_conv2dt_backward_weights(&plan, x, dy, dk, db, ws), TC_OK);
  tc_ref_conv2dt_forward(&cc->p, cc->n, cc->h, cc->w, cc->c, x, k, bias, ry);
  tc_ref_conv2dt_backward_data(&cc->p, cc->n, cc->h, cc->w, cc->c, dy, k, rdx);
  tc_ref_conv2dt_backward_weights(&cc->p, cc->n, cc->h, cc->w, cc->c, x, dy, rdk, rdb);
  /* forward and backward data sum kh*kw*C/g and kh*kw*F/g products per element */
  const double taps = (double)cc->p.kernel_h * cc->p.kernel_w, groups = cc->p.groups;
  double e = check_one("forward", what, y, ry, plan.y_size, products_scale(taps * cc->c / groups));
  e = fmax(e, check_one("backward_data", what, dx, rdx, plan.x_size,
                        products_scale(taps * F / groups)));
  e = fmax(e, check_one("backward_weights", what, dk, rdk, plan.kernel_size, wscale));
  e = fmax(e, check_one("dbias", what, db, rdb, F, 1.0));
  free(x), free(k), free(bias), free(dy), free(y), free(dx), free(dk), free(db);
  free(ry), free(rdx), free(rdk), free(rdb), free(ws);
  return e;
}

static double check_case(const conv_case *cc, uint64_t seed) {
  return check_case_scaled(cc, seed, 1.0);
}

/* ---- random configurations ---- */

static conv_case random_case(tc_test_rng *r) {
  int g = tc_test_int(r, 0, 1) ? 1 : tc_test_int(r, 1, 3);
  int c = g == 1 ? tc_test_int(r, 1, 9) : g * tc_test_int(r, 1, 3);
  int f = g == 1 ? tc_test_int(r, 1, 9) : g * tc_test_int(r, 1, 3);
  conv_case cc = make_case(tc_test_int(r, 1, 3), tc_test_int(r, 1, 7), tc_test_int(r, 1, 7), c,
                           f, tc_test_int(r, 1, 5), tc_test_int(r, 1, 5), tc_test_int(r, 1, 4),
                           tc_test_int(r, 1, 4), (tc_padding)tc_test_int(r, 0, 1),
                           (tc_data_format)tc_test_int(r, 0, 1));
  cc.p.groups = g;
  cc.p.dilation_h = tc_test_int(r, 0, 1) ? 1 : tc_test_int(r, 1, 3);
  cc.p.dilation_w = tc_test_int(r, 0, 1) ? 1 : tc_test_int(r, 1, 3);
  if (tc_test_int(r, 0, 1)) {
    cc.p.output_padding_h = tc_test_int(r, 0, cc.p.stride_h - 1);
    cc.p.output_padding_w = tc_test_int(r, 0, cc.p.stride_w - 1);
  }
  return cc;
}

/* TF rejects same + explicit output_padding 0 + an even dilated kernel (see conv2dt.c). */
static int tf_rejects(const conv_case *cc) {
  const tc_conv2dt_params *p = &cc->p;
  int dkh = (p->kernel_h - 1) * p->dilation_h + 1, dkw = (p->kernel_w - 1) * p->dilation_w + 1;
  return p->padding == TC_PADDING_SAME &&
         ((p->output_padding_h == 0 && dkh % 2 == 0) ||
          (p->output_padding_w == 0 && dkw % 2 == 0));
}

START_TEST(random_configs_match_reference) {
  tc_test_rng r;
  tc_test_rng_init(&r, 20240611);
  int ran = 0, rejected = 0;
  double worst = -INFINITY;
  for (int t = 0; t < 1000; t++) {
    conv_case cc = random_case(&r);
    if (tf_rejects(&cc)) {
      tc_conv2dt_plan plan;
      ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &cc.p, cc.n, cc.h, cc.w, cc.c),
                       TC_ERR_SHAPE);
      ck_assert_ptr_nonnull(strstr(tc_last_error(), "rejected by TF"));
      rejected++;
      continue;
    }
    worst = fmax(worst, check_case(&cc, 1000 + (uint64_t)t));
    ran++;
  }
  printf("conv2dt random: %d configurations vs reference, %d rejected as TF does; "
         "worst excess over tolerance %.3g\n", ran, rejected, worst);
  ck_assert_int_ge(ran, 800);
}
END_TEST

/* ---- named edge cases ---- */

START_TEST(one_by_one_input) {
  conv_case cc = make_case(2, 1, 1, 3, 4, 3, 3, 2, 2, TC_PADDING_VALID, TC_CHANNELS_LAST);
  check_case(&cc, 1);
  cc.p.padding = TC_PADDING_SAME;
  check_case(&cc, 2);
}
END_TEST

START_TEST(kernel_one) {
  conv_case cc = make_case(2, 4, 5, 3, 2, 1, 1, 1, 1, TC_PADDING_VALID, TC_CHANNELS_LAST);
  check_case(&cc, 3);
  cc.p.stride_h = 3, cc.p.padding = TC_PADDING_SAME;
  check_case(&cc, 4);
}
END_TEST

START_TEST(stride_one) {
  conv_case cc = make_case(1, 5, 6, 4, 3, 3, 4, 1, 1, TC_PADDING_SAME, TC_CHANNELS_LAST);
  check_case(&cc, 5);
  cc.p.padding = TC_PADDING_VALID;
  check_case(&cc, 6);
}
END_TEST

START_TEST(kernel_smaller_than_stride_valid) {
  conv_case cc = make_case(2, 3, 4, 2, 3, 2, 1, 3, 4, TC_PADDING_VALID, TC_CHANNELS_LAST);
  check_case(&cc, 7);
  cc.p.data_format = TC_CHANNELS_FIRST;
  check_case(&cc, 8);
}
END_TEST

START_TEST(kernel_smaller_than_stride_same) {
  conv_case cc = make_case(2, 3, 4, 2, 3, 2, 1, 3, 4, TC_PADDING_SAME, TC_CHANNELS_LAST);
  check_case(&cc, 9);
  cc.p.data_format = TC_CHANNELS_FIRST;
  check_case(&cc, 10);
}
END_TEST

START_TEST(non_square_everything) {
  conv_case cc = make_case(3, 4, 7, 6, 4, 5, 2, 3, 2, TC_PADDING_SAME, TC_CHANNELS_LAST);
  cc.p.dilation_h = 2, cc.p.dilation_w = 3, cc.p.groups = 2;
  cc.p.output_padding_h = 2, cc.p.output_padding_w = 1;
  check_case(&cc, 11);
  cc.p.data_format = TC_CHANNELS_FIRST;
  check_case(&cc, 12);
}
END_TEST

START_TEST(nchw) {
  conv_case cc = make_case(2, 5, 3, 5, 7, 4, 3, 2, 3, TC_PADDING_SAME, TC_CHANNELS_FIRST);
  check_case(&cc, 13);
  cc.p.padding = TC_PADDING_VALID;
  check_case(&cc, 14);
}
END_TEST

START_TEST(kernel_larger_than_input) {
  conv_case cc = make_case(1, 2, 3, 3, 2, 5, 6, 1, 2, TC_PADDING_VALID, TC_CHANNELS_LAST);
  check_case(&cc, 15);
  cc.p.padding = TC_PADDING_SAME;
  check_case(&cc, 16);
  cc.p.data_format = TC_CHANNELS_FIRST;
  check_case(&cc, 17);
}
END_TEST

START_TEST(big_stride) {
  conv_case cc = make_case(2, 3, 2, 2, 3, 3, 4, 9, 7, TC_PADDING_VALID, TC_CHANNELS_LAST);
  check_case(&cc, 18);
  cc.p.padding = TC_PADDING_SAME, cc.p.output_padding_h = 8;
  check_case(&cc, 19);
  cc.p.data_format = TC_CHANNELS_FIRST;
  check_case(&cc, 20);
}
END_TEST

START_TEST(groups_equal_channels) {
  conv_case cc = make_case(2, 3, 3, 6, 6, 3, 3, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST);
  cc.p.groups = 6; /* depthwise */
  check_case(&cc, 21);
  cc.p.data_format = TC_CHANNELS_FIRST;
  check_case(&cc, 22);
}
END_TEST

/* ---- hand-computed cases (H x 1 images, one channel, one filter) ---- */

/* Forward on a column: x has h values, the kernel kh values; y must equal want (exactly:
 * small integers). Returns the plan for further checks. */
static tc_conv2dt_plan column(const tc_conv2dt_params *p, const float *x, int h, const float *k,
                              float bias, const float *want, int oh) {
  tc_conv2dt_plan plan;
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, p, 1, h, 1, 1), TC_OK);
  ck_assert_int_eq(plan.oh, oh);
  ck_assert_int_eq(plan.ow, 1);
  float y[16];
  ck_assert_int_le(oh, 16);
  void *ws = ws_alloc(&plan);
  ck_assert_int_eq(tc_conv2dt_forward(&plan, x, k, &bias, y, ws), TC_OK);
  free(ws);
  for (int i = 0; i < oh; i++)
    ck_assert_msg(y[i] == want[i], "row %d: %g, want %g", i, (double)y[i], (double)want[i]);
  return plan;
}

static tc_conv2dt_params column_params(int kh, int sh, tc_padding pad) {
  tc_conv2dt_params p = tc_conv2dt_params_default(1, kh, 1);
  p.stride_h = sh;
  p.padding = pad;
  return p;
}

START_TEST(single_pixel_stride_two_gives_the_kernel) {
  tc_conv2dt_params p = tc_conv2dt_params_default(1, 2, 2);
  p.stride_h = p.stride_w = 2;
  const float k[4] = {1, 2, 3, 4}, x1 = 1.0f, x2 = 2.0f;
  for (int fmt = 0; fmt < 2; fmt++) {
    p.data_format = (tc_data_format)fmt;
    tc_conv2dt_plan plan;
    ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, 1, 1, 1, 1), TC_OK);
    ck_assert_int_eq(plan.oh, 2);
    ck_assert_int_eq(plan.ow, 2);
    float y[4], dx, dy[4] = {1, 1, 1, 1}, bias = 0.5f;
    void *ws = ws_alloc(&plan);
    ck_assert_int_eq(tc_conv2dt_forward(&plan, &x1, k, NULL, y, ws), TC_OK);
    ck_assert_mem_eq(y, k, sizeof y);
    ck_assert_int_eq(tc_conv2dt_forward(&plan, &x2, k, &bias, y, ws), TC_OK);
    for (int e = 0; e < 4; e++)
      ck_assert_float_eq(y[e], 2 * k[e] + 0.5f);
    ck_assert_int_eq(tc_conv2dt_backward_data(&plan, dy, k, &dx, ws), TC_OK);
    ck_assert_float_eq(dx, 10.0f);
    free(ws);
  }
}
END_TEST

START_TEST(same_k4_s1_crops_one_top_two_bottom) {
  /* full = [1, 12, 123, 234, 340, 400]; pad_total 3: 1 row off the top, 2 off the bottom */
  tc_conv2dt_params p = column_params(4, 1, TC_PADDING_SAME);
  const float x[3] = {1, 10, 100}, k[4] = {1, 2, 3, 4}, want[3] = {12, 123, 234};
  tc_conv2dt_plan plan = column(&p, x, 3, k, 0.0f, want, 3);
  ck_assert_int_eq(plan.pad_top, 1);
}
END_TEST

START_TEST(same_k3_s2_crops_zero_top_one_bottom) {
  /* full = [1, 2, 13, 20, 30]; pad_total 1: nothing off the top, 1 row off the bottom */
  tc_conv2dt_params p = column_params(3, 2, TC_PADDING_SAME);
  const float x[2] = {1, 10}, k[3] = {1, 2, 3}, want[4] = {1, 2, 13, 20};
  tc_conv2dt_plan plan = column(&p, x, 2, k, 0.0f, want, 4);
  ck_assert_int_eq(plan.pad_top, 0);
}
END_TEST

START_TEST(same_with_output_padding_uses_tf_crop) {
  /* k4 s2 op1: OH = 1*2 + 4 - 2*2 + 1 = 3 (Keras); TF then crops (1*2 + 4) - 3 = 3 rows of
   * full = [1, 2, 13, 24, 30, 40]: 1 off the top, 2 off the bottom */
  tc_conv2dt_params p = column_params(4, 2, TC_PADDING_SAME);
  p.output_padding_h = 1;
  const float x[2] = {1, 10}, k[4] = {1, 2, 3, 4}, want[3] = {2, 13, 24};
  tc_conv2dt_plan plan = column(&p, x, 2, k, 0.0f, want, 3);
  ck_assert_int_eq(plan.pad_top, 1);
}
END_TEST

START_TEST(dilation_spreads_the_taps) {
  tc_conv2dt_params p = column_params(2, 1, TC_PADDING_VALID);
  p.dilation_h = 3; /* taps at rows 0 and 3 */
  const float x[1] = {1}, k[2] = {5, 7}, want[4] = {5, 0, 0, 7};
  column(&p, x, 1, k, 0.0f, want, 4);
}
END_TEST

START_TEST(valid_kernel_below_stride_leaves_bias_rows) {
  tc_conv2dt_params p = column_params(1, 3, TC_PADDING_VALID);
  const float x[2] = {1, 10}, k[1] = {2}, want[6] = {2.5f, 0.5f, 0.5f, 20.5f, 0.5f, 0.5f};
  column(&p, x, 2, k, 0.5f, want, 6);
}
END_TEST

/* ---- determinism ---- */

typedef struct outputs {
  float *y, *dx, *dk, *db;
} outputs;

static outputs run_all(const tc_conv2dt_plan *plan, const float *x, const float *k,
                       const float *bias, const float *dy) {
  outputs o = {nan_buf(plan->y_size), nan_buf(plan->x_size), nan_buf(plan->kernel_size),
               nan_buf(plan->p.filters)};
  void *ws = ws_alloc(plan);
  ck_assert_int_eq(tc_conv2dt_forward(plan, x, k, bias, o.y, ws), TC_OK);
  ck_assert_int_eq(tc_conv2dt_backward_data(plan, dy, k, o.dx, ws), TC_OK);
  ck_assert_int_eq(tc_conv2dt_backward_weights(plan, x, dy, o.dk, o.db, ws), TC_OK);
  free(ws);
  return o;
}

static void free_outputs(outputs o) { free(o.y), free(o.dx), free(o.dk), free(o.db); }

/* libomp (LLVM 14) leaks its thread arrays when a team grows past an earlier team of 2 or
 * more (LeakSanitizer reports 1440 bytes a thread at exit, with no tconv frame): a first
 * team of the largest size avoids it. */
static void start_omp_pool(int nthreads) {
  int seen = 0;
#pragma omp parallel num_threads(nthreads) reduction(+ : seen)
  seen += 1;
  ck_assert_int_ge(seen, 1);
}

/* The plan's outputs at 1 thread against 2, 3 and 7 (odd teams split chunks, tasks and
 * slabs unevenly): the same bits. */
static void same_bits_at_1_2_3_7_threads(const tc_conv2dt_plan *plan, uint64_t seed) {
  static const int teams[] = {2, 3, 7};
  start_omp_pool(7);
  tc_test_rng r;
  tc_test_rng_init(&r, seed);
  float *x = rand_buf(&r, plan->x_size), *k = rand_buf(&r, plan->kernel_size);
  float *bias = rand_buf(&r, plan->p.filters), *dy = rand_buf(&r, plan->y_size);
  omp_set_num_threads(1);
  outputs one = run_all(plan, x, k, bias, dy);
  for (int t = 0; t < 3; t++) {
    omp_set_num_threads(teams[t]);
    outputs o = run_all(plan, x, k, bias, dy);
    ck_assert_mem_eq(one.y, o.y, sizeof(float) * (size_t)plan->y_size);
    ck_assert_mem_eq(one.dx, o.dx, sizeof(float) * (size_t)plan->x_size);
    ck_assert_mem_eq(one.dk, o.dk, sizeof(float) * (size_t)plan->kernel_size);
    ck_assert_mem_eq(one.db, o.db, sizeof(float) * (size_t)plan->p.filters);
    free_outputs(o);
  }
  free_outputs(one);
  free(x), free(k), free(bias), free(dy);
}

START_TEST(bit_identical_for_one_two_three_and_seven_threads) {
  for (int fmt = 0; fmt < 2; fmt++) {
    conv_case cc = make_case(4, 9, 7, 8, 10, 4, 3, 2, 2, TC_PADDING_SAME,
                             (tc_data_format)fmt);
    cc.p.groups = 2;
    omp_set_num_threads(7);
    tc_conv2dt_plan plan;
    ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &cc.p, cc.n, cc.h, cc.w, cc.c), TC_OK);
    /* large enough that the kernels do go parallel */
    ck_assert_double_ge(tc_conv2dt_flops(&plan), 131072.0);
    same_bits_at_1_2_3_7_threads(&plan, 77);
  }
}
END_TEST

/* ---- the fast path's tiling edges, on both micro-kernels ---- */

/* Channels and filters around the 6-row and 16-column tiles (1, 7, 9, 17, 65, 129),
 * widths 1, 3, 31, kernels larger than the input, strides 1-3, both paddings: every
 * edge of the chunking, the row groups and the panels. Run once per instruction set:
 * portable C always, AVX2 and AVX-512 where the CPU has them (a test that the CPU cannot
 * run says so by returning early: the portable one still runs). */
/* 1 when every direction of cc's plan runs a fast algorithm. */
static int fast_case(const conv_case *cc) {
  tc_conv2dt_plan plan;
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &cc->p, cc->n, cc->h, cc->w, cc->c), TC_OK);
  for (int d = 0; d < TC_CONV2DT_DIRS; d++)
    if (plan.algo[d] == TC_CONV2DT_DIRECT)
      return 0;
  return 1;
}

static void odd_sizes(tc_isa isa) {
  forced_ukr = tc_ukr_for(isa);
  if (!forced_ukr) /* the CPU lacks it */
    return;
  static const int chans[] = {1, 7, 9, 17, 65, 129}, widths[] = {1, 3, 31};
  int t = 0;
  for (int ci = 0; ci < 6; ci++)
    for (int wi = 0; wi < 3; wi++) {
      int c = chans[ci], f = chans[(ci + wi + 2) % 6], w = widths[wi];
      int k = wi == 0 ? 4 : 3, s = 1 + (ci + wi) % 3; /* k 4 > an input of width 1 */
      conv_case cc = make_case(2, wi == 2 ? 2 : 5, w, c, f, k, k + 1 - wi % 2, s, s,
                               (tc_padding)(t % 2), TC_CHANNELS_LAST);
      ck_assert_int_eq(fast_case(&cc), 1);
      check_case(&cc, 500 + (uint64_t)t++);
    }
  forced_ukr = NULL;
}

START_TEST(odd_sizes_avx512) { odd_sizes(TC_ISA_AVX512); }
END_TEST

START_TEST(odd_sizes_avx2) { odd_sizes(TC_ISA_AVX2); }
END_TEST

START_TEST(odd_sizes_portable) { odd_sizes(TC_ISA_PORTABLE); }
END_TEST

/* Few filters with rows so long that the backward kernels cut each input row into
 * segments of padded dy rows (8 filters x 4 kernel rows: about 1000 pixels a segment),
 * with both paddings: segment edges in the middle of a row and at its ends. Backward
 * weights sums ~4200 products per element here, 20x the usual count: its tolerance is
 * widened to match (still far below one misplaced product). */
START_TEST(few_filters_long_rows) {
  for (int pad = 0; pad < 2; pad++) {
    conv_case cc = make_case(1, 2, 2100, 5, 8, 4, 3, 2, 2, (tc_padding)pad, TC_CHANNELS_LAST);
    check_case_scaled(&cc, 900 + (uint64_t)pad, 20.0);
  }
}
END_TEST

/* Few-filter forward's column form (layout.c: on every ISA), on the AVX2 and the AVX-512
 * kernels where the CPU has them: rows so wide that an image takes several bands, so bands
 * recompute the (kh-1)/sh col rows above them (fsrcnn's 9x9 / 3 and a 5x5 / 2 with 3
 * filters), against the reference and bit for bit at 1, 2, 3 and 7 threads. */
START_TEST(few_filters_forward_column_form_bands) {
  const tc_ukr_table *kernels = tc_ukr_for(_i == 0 ? TC_ISA_AVX2 : TC_ISA_AVX512);
  if (!kernels)
    return;
  start_omp_pool(7); /* the largest team first: libomp (LLVM 14) leaks when teams grow */
  static const int cs[][7] = {{40, 64, 56, 1, 9, 3, 1}, {45, 70, 20, 3, 5, 2, 0}};
  for (int ci = 0; ci < 2; ci++) {
    const int *v = cs[ci];
    conv_case cc = make_case(2, v[0], v[1], v[2], v[3], v[4], v[4], v[5], v[5],
                             (tc_padding)v[6], TC_CHANNELS_LAST);
    forced_ukr = kernels;
    forced_algo[TC_CONV2DT_FORWARD] = TC_CONV2DT_FEW_FILTERS;
    check_case_scaled(&cc, 950 + (uint64_t)ci, 20.0); /* bwd weights: 5000+ products */
    forced_ukr = NULL;
    forced_algo[TC_CONV2DT_FORWARD] = -1;
    omp_set_num_threads(7);
    tc_conv2dt_plan plan;
    ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &cc.p, cc.n, cc.h, cc.w, cc.c), TC_OK);
    plan.ukr = kernels;
    ck_assert_int_eq(tc_conv2dt_plan_force(&plan, TC_CONV2DT_FORWARD, TC_CONV2DT_FEW_FILTERS),
                     TC_OK);
    ck_assert_int_gt(plan.fcol, 0);
    ck_assert_int_lt(plan.fcol, cc.h); /* several bands */
    same_bits_at_1_2_3_7_threads(&plan, 960 + (uint64_t)ci);
  }
}
END_TEST

/* Few-filter forward's dot form, for the shapes the column form does not take (K = kh*kw*F
 * = 484 > 384): 16 lanes along C summed per pixel, against the reference. */
START_TEST(few_filters_forward_dot_form) {
  conv_case cc = make_case(2, 6, 7, 20, 4, 11, 11, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST);
  tc_conv2dt_plan plan;
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &cc.p, cc.n, cc.h, cc.w, cc.c), TC_OK);
  ck_assert_int_eq(plan.algo[TC_CONV2DT_FORWARD], TC_CONV2DT_FEW_FILTERS);
  ck_assert_int_eq(plan.fcol, 0);
  check_case_scaled(&cc, 970, 20.0);
}
END_TEST

/* An explicit crop wider than the kernel's reach: border input pixels get no tap at all,
 * and backward data must still write their zeros (the conv2d layer reads a strided
 * convolution this way). 1x1 kernel, crop 1: dx[i][j] = k . dy[i-1][j-1] inside, 0 on the
 * border; 16 and 3 filters reach the tap-batch and the few-filter kernels. */
START_TEST(pixels_no_tap_reaches_get_zeros) {
  for (int fi = 0; fi < 2; fi++) {
    const int F = fi ? 3 : 16, C = 18, H = 5;
    tc_conv2dt_params p = tc_conv2dt_params_default(F, 1, 1);
    tc_conv2dt_plan plan;
    ck_assert_int_eq(tc_conv2dt_plan_create_explicit(&plan, &p, 2, H, H, C, H - 2, H - 2, 1, 1),
                     TC_OK);
    tc_test_rng r;
    tc_test_rng_init(&r, 31 + (uint64_t)fi);
    float *k = rand_buf(&r, plan.kernel_size), *dy = rand_buf(&r, plan.y_size);
    float *dx = nan_buf(plan.x_size);
    void *ws = ws_alloc(&plan);
    ck_assert_int_eq(tc_conv2dt_backward_data(&plan, dy, k, dx, ws), TC_OK);
    for (int64_t e = 0; e < plan.x_size; e++) {
      int64_t c = e % C, j = e / C % H, i = e / C / H % H, n = e / C / H / H;
      double want = 0.0;
      if (i >= 1 && i < H - 1 && j >= 1 && j < H - 1)
        for (int f = 0; f < F; f++)
          want += (double)k[f * C + c] * dy[((n * (H - 2) + i - 1) * (H - 2) + j - 1) * F + f];
      ck_assert_msg(fabs(dx[e] - want) <= 1e-5, "F=%d dx[%lld] = %g, want %g", F,
                    (long long)e, (double)dx[e], want);
    }
    free(k), free(dy), free(dx), free(ws);
  }
}
END_TEST

/* Few-filter backward data with K = kh*kw*F <= 32, C a multiple of 16 and at least 4 MiB
 * of dx streams dx around the caches (64-byte aligned rows; other rows are stored); the
 * smaller shapes of the same kind store it. */
START_TEST(few_filters_streamed_backward_data) {
  const conv_case cases[] = {
      make_case(64, 16, 16, 64, 1, 4, 4, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(40, 9, 50, 48, 2, 3, 3, 1, 1, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(3, 7, 7, 32, 1, 4, 4, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(2, 6, 6, 80, 1, 2, 2, 2, 2, TC_PADDING_VALID, TC_CHANNELS_LAST)};
  for (int ci = 0; ci < 4; ci++) /* dk sums one product per input pixel */
    check_case_scaled(&cases[ci], 970 + (uint64_t)ci,
                      products_scale((double)cases[ci].n * cases[ci].h * cases[ci].w));
}
END_TEST

/* Backward weights over pixel slabs (more than 512 input pixels, F and C within one block,
 * more than 8 filters): every tap over every pixel chunk, taps that leave the output
 * reading zeros, slab partials added in order; stride 1 and 2, both paddings. */
START_TEST(slab_backward_weights) {
  /* the last three: images small enough that a chunk holds several (bw_slabs.c's
   * shift_images), with filter groups and 64-column blocks that end early */
  const conv_case cases[] = {
      make_case(4, 12, 12, 20, 24, 3, 3, 1, 1, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(3, 16, 16, 13, 17, 4, 4, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(3, 16, 16, 40, 9, 3, 3, 2, 2, TC_PADDING_VALID, TC_CHANNELS_LAST),
      make_case(40, 5, 6, 70, 13, 4, 4, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(24, 7, 7, 33, 16, 3, 3, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(61, 4, 5, 9, 11, 5, 4, 3, 2, TC_PADDING_VALID, TC_CHANNELS_LAST),
      /* 1 x 1 images: a chunk's rows would hold 256, one wide call takes 64 */
      make_case(1100, 1, 1, 20, 7, 4, 4, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST)};
  forced_algo[TC_CONV2DT_BACKWARD_WEIGHTS] = TC_CONV2DT_SLABS;
  for (int ci = 0; ci < 7; ci++)
    check_case_scaled(&cases[ci], 950 + (uint64_t)ci,
                      products_scale((double)cases[ci].n * cases[ci].h * cases[ci].w));
  forced_algo[TC_CONV2DT_BACKWARD_WEIGHTS] = -1;
}
END_TEST

/* Larger random shapes on the fast path (NHWC, groups 1, dilation 1): 1-4 images of
 * 4-20 x 4-20 pixels, 1-48 channels and filters, kernels 1-5, strides 1-3, both paddings,
 * output_padding at times. They reach the slab and region forms of backward weights, the
 * short-K tap batches and the few-filter kernels that the small random configurations
 * above do not; tolerances widen with the number of products summed. */
START_TEST(random_fast_path_shapes) {
  tc_test_rng r;
  tc_test_rng_init(&r, 20261130);
  int ran = 0;
  for (int t = 0; t < 40; t++) {
    conv_case cc = make_case(tc_test_int(&r, 1, 4), tc_test_int(&r, 4, 20),
                             tc_test_int(&r, 4, 20), tc_test_int(&r, 1, 48),
                             tc_test_int(&r, 1, 48), tc_test_int(&r, 1, 5),
                             tc_test_int(&r, 1, 5), tc_test_int(&r, 1, 3), tc_test_int(&r, 1, 3),
                             (tc_padding)tc_test_int(&r, 0, 1), TC_CHANNELS_LAST);
    if (tc_test_int(&r, 0, 2) == 0) {
      cc.p.output_padding_h = tc_test_int(&r, 0, cc.p.stride_h - 1);
      cc.p.output_padding_w = tc_test_int(&r, 0, cc.p.stride_w - 1);
    }
    if (tf_rejects(&cc))
      continue;
    ck_assert(fast_case(&cc));
    check_case_scaled(&cc, 3000 + (uint64_t)t,
                      products_scale((double)cc.n * cc.h * cc.w));
    ran++;
  }
  ck_assert_int_ge(ran, 30);
}
END_TEST

/* backward_weights sums N*H*W = 4*128*128 = 65536 products per element (1x1 kernel,
 * stride 1). Each float addition rounds by at most 2^-24 of the running sum, whose size is
 * bounded by S = sum of |terms|; with the sum split in k-chunks of 256 added to the output
 * in turn, the error stays below about (256 + 65536/256) * 2^-24 * S ~ 3e-5 S. The check
 * allows 1e-4 * S per element: loose enough for float, far below one misplaced product. */
START_TEST(large_reduction_backward_weights) {
  conv_case cc = make_case(4, 128, 128, 8, 8, 1, 1, 1, 1, TC_PADDING_VALID, TC_CHANNELS_LAST);
  tc_conv2dt_plan plan;
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &cc.p, cc.n, cc.h, cc.w, cc.c), TC_OK);
  tc_test_rng r;
  tc_test_rng_init(&r, 99);
  float *x = rand_buf(&r, plan.x_size), *dy = rand_buf(&r, plan.y_size);
  float *dk = nan_buf(plan.kernel_size);
  double *rdk = dbl_buf(plan.kernel_size), *abs_sum = dbl_buf(plan.kernel_size);
  void *ws = ws_alloc(&plan);
  ck_assert_int_eq(tc_conv2dt_backward_weights(&plan, x, dy, dk, NULL, ws), TC_OK);
  int64_t pix = cc.n * cc.h * cc.w;
  for (int f = 0; f < 8; f++)
    for (int c = 0; c < 8; c++) {
      double s = 0.0, a = 0.0;
      for (int64_t p = 0; p < pix; p++) {
        double t = (double)dy[p * 8 + f] * x[p * 8 + c];
        s += t, a += fabs(t);
      }
      rdk[f * 8 + c] = s, abs_sum[f * 8 + c] = a;
    }
  for (int e = 0; e < 64; e++)
    ck_assert_msg(fabs(dk[e] - rdk[e]) <= 1e-4 * abs_sum[e], "dk[%d] = %.9g, reference %.9g",
                  e, (double)dk[e], rdk[e]);
  free(x), free(dy), free(dk), free(rdk), free(abs_sum), free(ws);
}
END_TEST

/* Shapes big enough for several chunks, k-groups and tasks per thread on the fast path:
 * many filters (GEMM tiles), 3 filters (dot kernel, gathered dy), 1 filter with a 9x9
 * stride-3 kernel (several dot-kernel tap batches per row) and 1 filter with a 4x4 kernel
 * over 16200 pixels (backward weights: several pixel slabs, each its own partial sums). */
START_TEST(fast_path_bit_identical_for_one_two_three_and_seven_threads) {
  const conv_case cases[] = {
      make_case(8, 12, 12, 96, 40, 5, 5, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(4, 16, 16, 24, 3, 5, 5, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(2, 20, 20, 13, 1, 9, 9, 3, 3, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(8, 45, 45, 8, 1, 4, 4, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST),
      /* stride 1, short K: kernel rows as wide pairs, rows gathered by tap set */
      make_case(5, 16, 16, 40, 24, 3, 3, 1, 1, TC_PADDING_SAME, TC_CHANNELS_LAST),
      /* 49 taps: more than one tap batch per group */
      make_case(5, 16, 16, 24, 20, 7, 7, 1, 1, TC_PADDING_SAME, TC_CHANNELS_LAST),
      /* few filters, K 16, 4 MiB of dx: streamed */
      make_case(64, 16, 16, 64, 1, 4, 4, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST),
      /* 7 x 7 images: backward weights' chunks of several images (slabs) */
      make_case(48, 7, 7, 40, 16, 4, 4, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST)};
  for (int ci = 0; ci < 8; ci++) {
    const conv_case cc = cases[ci];
    omp_set_num_threads(7); /* the workspace is sized for the threads at plan time */
    tc_conv2dt_plan plan;
    ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &cc.p, cc.n, cc.h, cc.w, cc.c), TC_OK);
    ck_assert(fast_case(&cc));
    same_bits_at_1_2_3_7_threads(&plan, 78 + (uint64_t)ci);
  }
}
END_TEST

/* ---- each algorithm on purpose ---- */

/* Shapes that between them admit every algorithm of every direction: few filters (1, 3, 8),
 * many filters, short and long K, stride 1 and 2, more than 512 pixels (slabs). */
static conv_case algo_shape(int i) {
  const conv_case cases[] = {
      make_case(2, 7, 9, 13, 3, 3, 3, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(3, 12, 12, 20, 24, 3, 3, 1, 1, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(2, 16, 16, 17, 8, 4, 4, 2, 2, TC_PADDING_VALID, TC_CHANNELS_LAST),
      make_case(2, 6, 5, 70, 40, 5, 5, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST),
      make_case(3, 16, 16, 9, 1, 4, 4, 2, 2, TC_PADDING_SAME, TC_CHANNELS_LAST)};
  return cases[i];
}
#define ALGO_SHAPES 5

/* Every (direction, algorithm) that applies to a shape, forced alone and compared with the
 * reference; every algorithm of every direction must have run on some shape. */
START_TEST(each_algorithm_forced_matches_reference) {
  int ran[TC_CONV2DT_DIRS][TC_CONV2DT_ALGOS] = {{0}};
  for (int i = 0; i < ALGO_SHAPES; i++) {
    conv_case cc = algo_shape(i);
    tc_conv2dt_plan plan;
    ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &cc.p, cc.n, cc.h, cc.w, cc.c), TC_OK);
    for (int d = 0; d < TC_CONV2DT_DIRS; d++)
      for (int a = 0; a < TC_CONV2DT_ALGOS; a++) {
        tc_conv2dt_plan q = plan;
        if (tc_conv2dt_plan_force(&q, (tc_conv2dt_dir)d, (tc_conv2dt_algo)a) != TC_OK)
          continue;
        forced_algo[d] = a;
        check_case_scaled(&cc, 4000 + (uint64_t)(i * 16 + d * 5 + a),
                          products_scale((double)cc.n * cc.h * cc.w));
        forced_algo[d] = -1;
        ran[d][a]++;
      }
  }
  static const int want[TC_CONV2DT_DIRS][TC_CONV2DT_ALGOS] = {
      {1, 1, 1, 0, 0}, {1, 1, 1, 0, 0}, {1, 0, 1, 1, 1}};
  for (int d = 0; d < TC_CONV2DT_DIRS; d++)
    for (int a = 0; a < TC_CONV2DT_ALGOS; a++)
      ck_assert_msg(want[d][a] ? ran[d][a] > 0 : ran[d][a] == 0, "%s ran %s on %d shapes",
                    tc_conv2dt_dir_name((tc_conv2dt_dir)d),
                    tc_conv2dt_algo_name((tc_conv2dt_algo)a), ran[d][a]);
}
END_TEST

/* Each forced fast algorithm also gives the same bits at 1, 2, 3 and 7 threads. */
START_TEST(each_algorithm_forced_is_bit_identical_across_threads) {
  for (int i = 0; i < ALGO_SHAPES; i++) {
    conv_case cc = algo_shape(i);
    omp_set_num_threads(7);
    tc_conv2dt_plan plan;
    ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &cc.p, cc.n, cc.h, cc.w, cc.c), TC_OK);
    for (int a = 1; a < TC_CONV2DT_ALGOS; a++) {
      tc_conv2dt_plan q = plan;
      int any = 0;
      for (int d = 0; d < TC_CONV2DT_DIRS; d++)
        any |= tc_conv2dt_plan_force(&q, (tc_conv2dt_dir)d, (tc_conv2dt_algo)a) == TC_OK;
      if (any)
        same_bits_at_1_2_3_7_threads(&q, 5000 + (uint64_t)(i * 8 + a));
    }
  }
}
END_TEST

/* Forcing an algorithm where it does not apply is an error that names the algorithm, the
 * direction and the numbers, and leaves the plan as it was. */
START_TEST(forcing_an_algorithm_that_does_not_apply_is_refused) {
  tc_conv2dt_params p = tc_conv2dt_params_default(16, 3, 3);
  tc_conv2dt_plan plan, before;
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, 2, 8, 8, 24), TC_OK);
  before = plan;
  ck_assert_int_eq(tc_conv2dt_plan_force(&plan, TC_CONV2DT_FORWARD, TC_CONV2DT_FEW_FILTERS),
                   TC_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "'few_filters' does not apply to forward"));
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "has 16"));
  ck_assert_int_eq(tc_conv2dt_plan_force(&plan, TC_CONV2DT_BACKWARD_WEIGHTS, TC_CONV2DT_IGEMM),
                   TC_ERR_UNSUPPORTED);
  ck_assert_int_eq(tc_conv2dt_plan_force(&plan, TC_CONV2DT_FORWARD, TC_CONV2DT_SLABS),
                   TC_ERR_UNSUPPORTED);
  ck_assert_int_eq(tc_conv2dt_plan_force(&plan, TC_CONV2DT_BACKWARD_WEIGHTS, TC_CONV2DT_SLABS),
                   TC_ERR_UNSUPPORTED); /* 128 pixels: one slab */
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "128 pixels"));
  ck_assert_int_eq(tc_conv2dt_plan_force(&plan, (tc_conv2dt_dir)3, TC_CONV2DT_DIRECT),
                   TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2dt_plan_force(&plan, TC_CONV2DT_FORWARD, (tc_conv2dt_algo)-1),
                   TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2dt_plan_force(NULL, TC_CONV2DT_FORWARD, TC_CONV2DT_DIRECT),
                   TC_ERR_INVALID_ARG);
  ck_assert_mem_eq(&plan, &before, sizeof plan);
  p.data_format = TC_CHANNELS_FIRST; /* 81 dilation residue grids: too many to compose */
  p.dilation_h = p.dilation_w = 9;
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, 2, 8, 8, 24), TC_OK);
  ck_assert_int_eq(tc_conv2dt_plan_force(&plan, TC_CONV2DT_FORWARD, TC_CONV2DT_IGEMM),
                   TC_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "sub-problems"));
  ck_assert_int_eq(plan.algo[TC_CONV2DT_FORWARD], TC_CONV2DT_DIRECT);
  ck_assert_int_eq(plan.workspace_bytes, 0);
}
END_TEST

/* The plan says what it chose: fast algorithms by shape, NCHW as NHWC sub-problems. */
START_TEST(plan_describes_its_choice) {
  char buf[256];
  tc_conv2dt_params p = tc_conv2dt_params_default(64, 5, 5);
  p.stride_h = p.stride_w = 2, p.padding = TC_PADDING_SAME;
  tc_conv2dt_plan plan;
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, 8, 8, 8, 128), TC_OK);
  tc_conv2dt_plan_describe(&plan, buf, sizeof buf);
  ck_assert_msg(strstr(buf, "fwd=igemm bwd_data=igemm") && strstr(buf, "isa="), "%s", buf);
  ck_assert_int_eq(tc_conv2dt_plan_force(&plan, TC_CONV2DT_BACKWARD_WEIGHTS, TC_CONV2DT_DIRECT),
                   TC_OK);
  ck_assert_msg(strstr(tc_conv2dt_plan_describe(&plan, buf, sizeof buf), "bwd_weights=direct"),
                "%s", buf);
  p.filters = 1;
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, 8, 8, 8, 16), TC_OK);
  tc_conv2dt_plan_describe(&plan, buf, sizeof buf);
  /* forward's column form, on every ISA (layout.c) */
  ck_assert_int_gt(plan.fcol, 0);
  ck_assert_msg(strstr(buf, "fwd=few_filters:col bwd_data=few_filters bwd_weights=few_filters"),
                "%s", buf);
  p.data_format = TC_CHANNELS_FIRST; /* every few-filter kernel on NCHW in place */
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, 8, 8, 8, 16), TC_OK);
  tc_conv2dt_plan_describe(&plan, buf, sizeof buf);
  ck_assert_msg(strstr(buf, "fwd=few_filters:col:nchw bwd_data=few_filters:nchw "
                            "bwd_weights=few_filters:") &&
                strstr(buf, ":nchw isa=") && strstr(buf, "nhwc_subs=1 private=0"), "%s", buf);
  p.dilation_h = p.dilation_w = 9; /* 81 residue grids at stride 2: direct */
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, 8, 8, 8, 16), TC_OK);
  tc_conv2dt_plan_describe(&plan, buf, sizeof buf);
  ck_assert_msg(strstr(buf, "fwd=direct bwd_data=direct bwd_weights=direct"), "%s", buf);
  ck_assert_str_eq(tc_conv2dt_plan_describe(&plan, buf, 4), "fwd");
}
END_TEST

/* An unknown TCONV_ISA: plan create fails, naming the value and the accepted ones (the
 * choice is made once per process, so a fresh child process sets it first). */
START_TEST(unknown_isa_in_the_environment_is_refused) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    setenv("TCONV_ISA", "avx3", 1);
    unsetenv("TCONV_FORCE_PORTABLE");
    tc_conv2dt_params p = tc_conv2dt_params_default(4, 3, 3);
    tc_conv2dt_plan plan;
    int ok = tc_conv2dt_plan_create(&plan, &p, 1, 4, 4, 4) == TC_ERR_INVALID_ARG &&
             strstr(tc_last_error(), "TCONV_ISA 'avx3'") &&
             strstr(tc_last_error(), "'portable', 'avx2', 'avx512'") &&
             tc_conv2dt_plan_create(&plan, &p, 1, 4, 4, 4) == TC_ERR_INVALID_ARG &&
             strcmp(tc_conv2dt_kernel_isa(), "invalid") == 0;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "plan create accepted TCONV_ISA=avx3 or its message lacks the value");
}
END_TEST

/* ---- errors ---- */

/* plan_create on (n, h, w, c) = (2, 4, 4, 8) must fail with `want` and a message that
 * contains both fragments. */
static void expect_plan_error(const tc_conv2dt_params *p, tc_status want, const char *frag1,
                              const char *frag2) {
  tc_conv2dt_plan plan;
  tc_clear_error();
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, p, 2, 4, 4, 8), want);
  ck_assert_msg(strstr(tc_last_error(), frag1) && strstr(tc_last_error(), frag2),
                "message '%s' lacks '%s' or '%s'", tc_last_error(), frag1, frag2);
}

START_TEST(plan_rejects_bad_params_with_numbers) {
  tc_conv2dt_params d = tc_conv2dt_params_default(6, 3, 3), p;
  p = d, p.padding = (tc_padding)7;
  expect_plan_error(&p, TC_ERR_INVALID_ARG, "padding 7", "TC_PADDING_SAME");
  p = d, p.data_format = (tc_data_format)-2;
  expect_plan_error(&p, TC_ERR_INVALID_ARG, "data_format -2", "TC_CHANNELS_FIRST");
  p = d, p.filters = 0;
  expect_plan_error(&p, TC_ERR_SHAPE, "filters", "got 0");
  p = d, p.kernel_w = -3;
  expect_plan_error(&p, TC_ERR_SHAPE, "kernel_size", "3x-3");
  p = d, p.stride_h = 0;
  expect_plan_error(&p, TC_ERR_SHAPE, "strides", "0x1");
  p = d, p.dilation_w = 0;
  expect_plan_error(&p, TC_ERR_SHAPE, "dilation_rate", "1x0");
  p = d, p.groups = -1;
  expect_plan_error(&p, TC_ERR_SHAPE, "groups", "-1");
  p = d, p.groups = 3;
  expect_plan_error(&p, TC_ERR_SHAPE, "groups 3 does not divide in_channels 8", "");
  p = d, p.groups = 4;
  expect_plan_error(&p, TC_ERR_SHAPE, "groups 4 does not divide filters 6", "");
  p = d, p.stride_h = 2, p.output_padding_h = 2;
  expect_plan_error(&p, TC_ERR_SHAPE, "output_padding_h 2", "stride_h 2");
  p = d, p.output_padding_w = -2;
  expect_plan_error(&p, TC_ERR_SHAPE, "output_padding_w -2", "stride_w 1");
  /* same + output_padding 0 + even kernel: OH = 3*2 = 6 but TF needs ceil(OH/2) == 4 */
  p = d, p.kernel_h = 4, p.stride_h = 2, p.padding = TC_PADDING_SAME, p.output_padding_h = 0;
  expect_plan_error(&p, TC_ERR_SHAPE, "output height 6", "ceil(6/2) != 4");
  p = d, p.kernel_h = 3, p.dilation_h = INT32_MAX;
  expect_plan_error(&p, TC_ERR_SHAPE, "dilated kernel height", "overflows");
  p = d, p.stride_w = INT32_MAX;
  expect_plan_error(&p, TC_ERR_SHAPE, "output width 8589934588", "too large");
}
END_TEST

START_TEST(plan_rejects_bad_inputs_and_null) {
  tc_conv2dt_params p = tc_conv2dt_params_default(4, 3, 3);
  tc_conv2dt_plan plan;
  ck_assert_int_eq(tc_conv2dt_plan_create(NULL, &p, 1, 2, 2, 2), TC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "NULL"));
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, NULL, 1, 2, 2, 2), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, 1, 0, 2, 2), TC_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "h=0"));
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, -5, 2, 2, 2), TC_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "n=-5"));
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, 1, 2, 2, -1), TC_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "c=-1"));
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, INT64_MAX / 4, 1000, 1000, 8),
                   TC_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "input size"));
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "overflows"));
}
END_TEST

START_TEST(kernels_reject_null_pointers) {
  tc_conv2dt_params p = tc_conv2dt_params_default(1, 1, 1);
  tc_conv2dt_plan plan;
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, 1, 1, 1, 1), TC_OK);
  float v = 1.0f, out = 0.0f;
  ck_assert_int_eq(tc_conv2dt_forward(NULL, &v, &v, NULL, &out, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2dt_forward(&plan, NULL, &v, NULL, &out, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2dt_forward(&plan, &v, NULL, NULL, &out, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2dt_forward(&plan, &v, &v, NULL, NULL, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2dt_backward_data(&plan, NULL, &v, &out, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2dt_backward_data(&plan, &v, &v, NULL, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2dt_backward_weights(&plan, &v, NULL, &out, NULL, NULL),
                   TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2dt_backward_weights(&plan, &v, &v, NULL, NULL, NULL),
                   TC_ERR_INVALID_ARG);
  /* a plan that needs a workspace refuses NULL, and says how many bytes it needs */
  ck_assert_uint_gt(plan.workspace_bytes, 0);
  ck_assert_int_eq(tc_conv2dt_forward(&plan, &v, &v, NULL, &out, NULL), TC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "workspace is NULL"));
  ck_assert_int_eq(tc_conv2dt_backward_data(&plan, &v, &v, &out, NULL), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_conv2dt_backward_weights(&plan, &v, &v, &out, NULL, NULL),
                   TC_ERR_INVALID_ARG);
  /* dbias may be NULL */
  void *ws = ws_alloc(&plan);
  ck_assert_int_eq(tc_conv2dt_backward_weights(&plan, &v, &v, &out, NULL, ws), TC_OK);
  ck_assert_float_eq(out, 1.0f);
  free(ws);
}
END_TEST

START_TEST(parse_accepts_any_case_and_quotes_bad_strings) {
  tc_padding pad = TC_PADDING_VALID;
  tc_data_format fmt = TC_CHANNELS_LAST;
  ck_assert_int_eq(tc_padding_parse("SaMe", &pad), TC_OK);
  ck_assert_int_eq(pad, TC_PADDING_SAME);
  ck_assert_int_eq(tc_padding_parse("VALID", &pad), TC_OK);
  ck_assert_int_eq(pad, TC_PADDING_VALID);
  ck_assert_int_eq(tc_padding_parse("full", &pad), TC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "'full'"));
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "'valid', 'same'"));
  ck_assert_int_eq(tc_padding_parse("same ", &pad), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_padding_parse(NULL, &pad), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_data_format_parse("Channels_First", &fmt), TC_OK);
  ck_assert_int_eq(fmt, TC_CHANNELS_FIRST);
  ck_assert_int_eq(tc_data_format_parse("nhwc", &fmt), TC_OK);
  ck_assert_int_eq(fmt, TC_CHANNELS_LAST);
  ck_assert_int_eq(tc_data_format_parse("NCHW", &fmt), TC_OK);
  ck_assert_int_eq(fmt, TC_CHANNELS_FIRST);
  ck_assert_int_eq(tc_data_format_parse("channels_middle", &fmt), TC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "'channels_middle'"));
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "'channels_last', 'channels_first'"));
  ck_assert_int_eq(tc_data_format_parse("", &fmt), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_data_format_parse("nchw", NULL), TC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(names_defaults_and_flops) {
  ck_assert_str_eq(tc_padding_name(TC_PADDING_VALID), "valid");
  ck_assert_str_eq(tc_padding_name(TC_PADDING_SAME), "same");
  ck_assert_str_eq(tc_padding_name((tc_padding)9), "unknown");
  ck_assert_str_eq(tc_data_format_name(TC_CHANNELS_LAST), "channels_last");
  ck_assert_str_eq(tc_data_format_name(TC_CHANNELS_FIRST), "channels_first");
  ck_assert_str_eq(tc_data_format_name((tc_data_format)9), "unknown");
  tc_conv2dt_params p = tc_conv2dt_params_default(16, 5, 4);
  ck_assert_int_eq(p.filters, 16);
  ck_assert_int_eq(p.kernel_h, 5);
  ck_assert_int_eq(p.kernel_w, 4);
  ck_assert_int_eq(p.stride_h, 1);
  ck_assert_int_eq(p.stride_w, 1);
  ck_assert_int_eq(p.padding, TC_PADDING_VALID);
  ck_assert_int_eq(p.data_format, TC_CHANNELS_LAST);
  ck_assert_int_eq(p.output_padding_h, -1);
  ck_assert_int_eq(p.output_padding_w, -1);
  ck_assert_int_eq(p.dilation_h, 1);
  ck_assert_int_eq(p.dilation_w, 1);
  ck_assert_int_eq(p.groups, 1);
  p.groups = 4;
  tc_conv2dt_plan plan;
  ck_assert_int_eq(tc_conv2dt_plan_create(&plan, &p, 64, 4, 4, 8), TC_OK);
  ck_assert_double_eq(tc_conv2dt_flops(&plan), 2.0 * 64 * 4 * 4 * 8 * 4 * 5 * 4);
}
END_TEST

static Suite *conv2dt_suite(void) {
  Suite *s = suite_create("conv2dt");
  TCase *ref = tcase_create("reference");
  tcase_add_test(ref, random_configs_match_reference);
  tcase_add_test(ref, one_by_one_input);
  tcase_add_test(ref, kernel_one);
  tcase_add_test(ref, stride_one);
  tcase_add_test(ref, kernel_smaller_than_stride_valid);
  tcase_add_test(ref, kernel_smaller_than_stride_same);
  tcase_add_test(ref, non_square_everything);
  tcase_add_test(ref, nchw);
  tcase_add_test(ref, kernel_larger_than_input);
  tcase_add_test(ref, big_stride);
  tcase_add_test(ref, groups_equal_channels);
  tcase_add_test(ref, bit_identical_for_one_two_three_and_seven_threads);
  tcase_add_test(ref, odd_sizes_avx512);
  tcase_add_test(ref, odd_sizes_avx2);
  tcase_add_test(ref, odd_sizes_portable);
  tcase_add_test(ref, few_filters_long_rows);
  tcase_add_loop_test(ref, few_filters_forward_column_form_bands, 0, 2);
  tcase_add_test(ref, few_filters_forward_dot_form);
  tcase_add_test(ref, pixels_no_tap_reaches_get_zeros);
  tcase_add_test(ref, few_filters_streamed_backward_data);
  tcase_add_test(ref, slab_backward_weights);
  tcase_add_test(ref, random_fast_path_shapes);
  tcase_add_test(ref, large_reduction_backward_weights);
  tcase_add_test(ref, fast_path_bit_identical_for_one_two_three_and_seven_threads);
  tcase_add_test(ref, each_algorithm_forced_matches_reference);
  tcase_add_test(ref, each_algorithm_forced_is_bit_identical_across_threads);
  suite_add_tcase(s, ref);
  TCase *hand = tcase_create("hand");
  tcase_add_test(hand, single_pixel_stride_two_gives_the_kernel);
  tcase_add_test(hand, same_k4_s1_crops_one_top_two_bottom);
  tcase_add_test(hand, same_k3_s2_crops_zero_top_one_bottom);
  tcase_add_test(hand, same_with_output_padding_uses_tf_crop);
  tcase_add_test(hand, dilation_spreads_the_taps);
  tcase_add_test(hand, valid_kernel_below_stride_leaves_bias_rows);
  suite_add_tcase(s, hand);
  TCase *err = tcase_create("errors");
  tcase_add_test(err, plan_rejects_bad_params_with_numbers);
  tcase_add_test(err, plan_rejects_bad_inputs_and_null);
  tcase_add_test(err, kernels_reject_null_pointers);
  tcase_add_test(err, parse_accepts_any_case_and_quotes_bad_strings);
  tcase_add_test(err, names_defaults_and_flops);
  tcase_add_test(err, forcing_an_algorithm_that_does_not_apply_is_refused);
  tcase_add_test(err, plan_describes_its_choice);
  tcase_add_test(err, unknown_isa_in_the_environment_is_refused);
  suite_add_tcase(s, err);
  return s;
}

int main(void) {
  return tc_test_run(conv2dt_suite());
}
