/* test_layoutops.c — concat, slice, split, pad, crop, transpose, resize, upsample and
 * dropout on hand-computed cases (values and gradients), their gradient checks through
 * the public tc_gradcheck, and their rejections (docs/bad-input.md, "Ops"). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gradcheck.h"
#include "core/ops_dropout.h"
#include "core/ops_layout.h"
#include "core/ops_resize.h"
#include "support/opcheck.h"
#include "tools/conform.h"
#include "tools/gradcheck_ops.h"
#include "support/testutil.h"

#define EXACT 0.0
#define CLOSE 1e-6

/* ---- concat -------------------------------------------------------------------------- */

START_TEST(concat_channels_values_and_gradients) {
  tc_graph *g = tc_oc_graph();
  tc_tensor *a = tc_oc_tensor(3, (int64_t[]){1, 2, 1}, (float[]){1, 2}, 1);
  tc_tensor *b = tc_oc_tensor(3, (int64_t[]){1, 2, 2}, (float[]){3, 4, 5, 6}, 1);
  tc_tensor *y, *in[2] = {a, b};
  ck_assert_int_eq(tc_op_concat(g, 2, in, -1, &y), TC_OK);
  ck_assert_int_eq(y->shape[2], 3);
  tc_oc_expect("y", y->data, (double[]){1, 3, 4, 2, 5, 6}, 6, EXACT);
  tc_oc_backward(g, y, (float[]){10, 11, 12, 13, 14, 15});
  tc_oc_expect("da", a->grad, (double[]){10, 13}, 2, EXACT);
  tc_oc_expect("db", b->grad, (double[]){11, 12, 14, 15}, 4, EXACT);
  tc_tensor_free(a);
  tc_tensor_free(b);
  tc_graph_free(g);
}
END_TEST

/* A channel concat of NHWC images large enough for the backward's parallel loop (8 x 32 x
 * 32 pixels, runs of 5 and 7 channels): each input's gradient is its columns of dy. */
START_TEST(concat_large_channel_runs_gradients) {
  enum { P = 8 * 32 * 32, CA = 5, CB = 7, CY = CA + CB };
  float *va = calloc(P * CA, sizeof *va), *vb = calloc(P * CB, sizeof *vb);
  float *gy = malloc(P * CY * sizeof *gy);
  ck_assert(va && vb && gy);
  for (int i = 0; i < P * CY; i++)
    gy[i] = (float)(i % 1000) * 0.5f;
  tc_tensor *a = tc_oc_tensor(4, (int64_t[]){8, 32, 32, CA}, va, 1);
  tc_tensor *b = tc_oc_tensor(4, (int64_t[]){8, 32, 32, CB}, vb, 1);
  tc_tensor *y, *in[2] = {a, b};
  tc_graph *g = tc_oc_graph();
  ck_assert_int_eq(tc_op_concat(g, 2, in, -1, &y), TC_OK);
  tc_oc_backward(g, y, gy);
  for (int p = 0; p < P; p++) {
    for (int c = 0; c < CA; c++)
      ck_assert_float_eq(a->grad[p * CA + c], gy[p * CY + c]);
    for (int c = 0; c < CB; c++)
      ck_assert_float_eq(b->grad[p * CB + c], gy[p * CY + CA + c]);
  }
  tc_graph_free(g);
  tc_tensor_free(a), tc_tensor_free(b);
  free(va), free(vb), free(gy);
}
END_TEST

/* Six inputs: more than the tape's old limit of 4 inputs per node; each gets its gradient. */
START_TEST(concat_of_six_inputs_records_all) {
  tc_graph *g = tc_oc_graph();
  tc_tensor *in[6], *y;
  for (int k = 0; k < 6; k++)
    in[k] = tc_oc_tensor(1, (int64_t[]){1}, (float[]){(float)k}, 1);
  ck_assert_int_eq(tc_op_concat(g, 6, in, 0, &y), TC_OK);
  tc_oc_expect("y", y->data, (double[]){0, 1, 2, 3, 4, 5}, 6, EXACT);
  tc_oc_backward(g, y, (float[]){7, 8, 9, 10, 11, 12});
  for (int k = 0; k < 6; k++) {
    ck_assert_float_eq(in[k]->grad[0], 7.0f + (float)k);
    tc_tensor_free(in[k]);
  }
  tc_graph_free(g);
}
END_TEST

START_TEST(slice_split_crop_transpose_values) {
  tc_graph *g = tc_oc_graph();
  tc_tensor *x = tc_oc_tensor(2, (int64_t[]){2, 3}, (float[]){0, 1, 2, 3, 4, 5}, 1), *p[2];
  ck_assert_int_eq(tc_op_split(g, x, 1, 2, (int64_t[]){1, 2}, p), TC_OK);
  tc_oc_expect("split0", p[0]->data, (double[]){0, 3}, 2, EXACT);
  tc_oc_expect("split1", p[1]->data, (double[]){1, 2, 4, 5}, 4, EXACT);
  tc_oc_backward(g, p[1], (float[]){1, 2, 3, 4});
  tc_oc_expect("dx", x->grad, (double[]){0, 1, 2, 0, 3, 4}, 6, EXACT);
  tc_graph_reset(g);
  float img[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  tc_tensor *im = tc_oc_tensor(4, (int64_t[]){1, 3, 3, 1}, img, 0), *y;
  ck_assert_int_eq(tc_op_crop2d(g, im, 1, 0, 0, 1, 0, &y), TC_OK);
  tc_oc_expect("crop", y->data, (double[]){3, 4, 6, 7}, 4, EXACT);
  tc_tensor *im_cf = tc_oc_tensor(4, (int64_t[]){1, 1, 3, 3}, img, 0); /* NCHW, one channel */
  ck_assert_int_eq(tc_op_crop2d(g, im_cf, 1, 0, 0, 1, 1, &y), TC_OK);
  tc_oc_expect("crop nchw", y->data, (double[]){3, 4, 6, 7}, 4, EXACT);
  tc_tensor *t = tc_oc_tensor(4, (int64_t[]){1, 1, 2, 3}, img, 0);
  ck_assert_int_eq(tc_op_nhwc_to_nchw(g, t, &y), TC_OK);
  ck_assert_int_eq(y->shape[1], 3);
  tc_oc_expect("nchw", y->data, (double[]){0, 3, 1, 4, 2, 5}, 6, EXACT);
  ck_assert_int_eq(tc_op_nchw_to_nhwc(g, y, &y), TC_OK);
  tc_oc_expect("back", y->data, (double[]){0, 1, 2, 3, 4, 5}, 6, EXACT);
  tc_tensor_free(x);
  tc_tensor_free(im);
  tc_tensor_free(im_cf);
  tc_tensor_free(t);
  tc_graph_free(g);
}
END_TEST

/* ---- pad ----------------------------------------------------------------------------- */

START_TEST(pad_modes_values_and_folded_gradients) {
  struct {
    tc_pad_mode mode;
    double y[6], dx[3];
  } want[3] = {
      {TC_PAD_CONSTANT, {9, 9, 1, 2, 3, 9}, {1, 1, 1}},
      {TC_PAD_REFLECT, {3, 2, 1, 2, 3, 2}, {1, 3, 2}},
      {TC_PAD_SYMMETRIC, {2, 1, 1, 2, 3, 3}, {2, 2, 2}},
  };
  for (int m = 0; m < 3; m++) {
    tc_graph *g = tc_oc_graph();
    tc_tensor *x = tc_oc_tensor(1, (int64_t[]){3}, (float[]){1, 2, 3}, 1), *y;
    ck_assert_int_eq(tc_op_pad(g, x, (int64_t[]){2, 1}, want[m].mode, 9.0f, &y), TC_OK);
    tc_oc_expect(tc_pad_mode_name(want[m].mode), y->data, want[m].y, 6, EXACT);
    tc_oc_backward(g, y, NULL);
    tc_oc_expect("dx", x->grad, want[m].dx, 3, EXACT);
    tc_tensor_free(x);
    tc_graph_free(g);
  }
  tc_pad_mode pm;
  ck_assert_int_eq(tc_pad_mode_parse("REFLECT", &pm), TC_OK);
  ck_assert_int_eq(pm, TC_PAD_REFLECT);
  ck_assert_int_eq(tc_pad_mode_parse("wrap", &pm), TC_ERR_INVALID_ARG);
}
END_TEST

/* ---- resize -------------------------------------------------------------------------- */

/* [0, 1] resized to width 4 in each mode, and the gradient of all-ones. */
START_TEST(resize_bilinear_modes_by_hand) {
  struct {
    tc_resize_mode mode;
    double y[4], dx[2];
  } want[3] = {
      {TC_RESIZE_HALF_PIXEL, {0, 0.25, 0.75, 1}, {2, 2}},
      {TC_RESIZE_LEGACY, {0, 0.5, 1, 1}, {1.5, 2.5}},
      {TC_RESIZE_ALIGN_CORNERS, {0, 1.0 / 3, 2.0 / 3, 1}, {2, 2}},
  };
  for (int m = 0; m < 3; m++) {
    tc_graph *g = tc_oc_graph();
    tc_tensor *x = tc_oc_tensor(4, (int64_t[]){1, 1, 2, 1}, (float[]){0, 1}, 1), *y;
    ck_assert_int_eq(tc_op_resize(g, x, 1, 4, TC_RESIZE_BILINEAR, want[m].mode, 0, &y), TC_OK);
    tc_oc_expect(tc_resize_mode_name(want[m].mode), y->data, want[m].y, 4, CLOSE);
    tc_oc_backward(g, y, NULL);
    tc_oc_expect("dx", x->grad, want[m].dx, 2, CLOSE);
    tc_tensor_free(x);
    tc_graph_free(g);
  }
}
END_TEST

/* [10, 20, 30] down to width 2: floor((i+.5)·1.5), floor(i·1.5), round(i·2). */
START_TEST(resize_nearest_modes_by_hand) {
  struct {
    tc_resize_mode mode;
    double y[2], dx[3];
  } want[3] = {
      {TC_RESIZE_HALF_PIXEL, {10, 30}, {1, 0, 2}},
      {TC_RESIZE_LEGACY, {10, 20}, {1, 2, 0}},
      {TC_RESIZE_ALIGN_CORNERS, {10, 30}, {1, 0, 2}},
  };
  for (int m = 0; m < 3; m++) {
    tc_graph *g = tc_oc_graph();
    tc_tensor *x = tc_oc_tensor(4, (int64_t[]){1, 1, 1, 3}, (float[]){10, 20, 30}, 1), *y;
    /* NCHW: one channel, H = 1, W = 3. */
    ck_assert_int_eq(tc_op_resize(g, x, 1, 2, TC_RESIZE_NEAREST, want[m].mode, 1, &y), TC_OK);
    tc_oc_expect(tc_resize_mode_name(want[m].mode), y->data, want[m].y, 2, EXACT);
    tc_oc_backward(g, y, (float[]){1, 2});
    tc_oc_expect("dx", x->grad, want[m].dx, 3, EXACT);
    tc_tensor_free(x);
    tc_graph_free(g);
  }
}
END_TEST

START_TEST(upsample_nearest_repeats_and_sums) {
  tc_graph *g = tc_oc_graph();
  tc_tensor *x = tc_oc_tensor(4, (int64_t[]){1, 1, 2, 1}, (float[]){1, 2}, 1), *y;
  ck_assert_int_eq(tc_op_upsample2d(g, x, 2, 2, TC_RESIZE_NEAREST, 0, &y), TC_OK);
  ck_assert_int_eq(y->shape[1], 2);
  ck_assert_int_eq(y->shape[2], 4);
  tc_oc_expect("y", y->data, (double[]){1, 1, 2, 2, 1, 1, 2, 2}, 8, EXACT);
  tc_oc_backward(g, y, (float[]){1, 2, 3, 4, 5, 6, 7, 8});
  tc_oc_expect("dx", x->grad, (double[]){14, 22}, 2, EXACT);
  tc_tensor_free(x);
  tc_graph_free(g);
}
END_TEST

/* ---- dropout ------------------------------------------------------------------------- */

START_TEST(dropout_mask_scale_inference_and_resume) {
  enum { N = 10000 };
  static float ones[N];
  for (int i = 0; i < N; i++)
    ones[i] = 1.0f;
  tc_graph *g = tc_oc_graph();
  tc_tensor *x = tc_oc_tensor(1, (int64_t[]){N}, ones, 1), *y, *y2;
  tc_rng r, check;
  tc_rng_init(&r, 42, 5);
  check = r;
  ck_assert_int_eq(tc_op_dropout(g, x, 0.25f, 1, &r, &y), TC_OK);
  int kept = 0;
  for (int i = 0; i < N; i++) {
    int keep = tc_rng_uniform(&check) >= 0.25f;
    ck_assert_float_eq(y->data[i], keep ? 1.0f / 0.75f : 0.0f);
    kept += keep;
  }
  ck_assert_int_gt(kept, 7200); /* 7500 expected; 3 standard deviations are 130 */
  ck_assert_int_lt(kept, 7800);
  tc_oc_backward(g, y, NULL);
  for (int i = 0; i < N; i++)
    ck_assert_float_eq(x->grad[i], y->data[i]);
  /* Resume: a copy of the stream state (what a checkpoint saves) draws the same mask. */
  tc_graph_reset(g);
  tc_rng saved = r;
  ck_assert_int_eq(tc_op_dropout(g, x, 0.5f, 1, &r, &y), TC_OK);
  ck_assert_int_eq(tc_op_dropout(g, x, 0.5f, 1, &saved, &y2), TC_OK);
  ck_assert_mem_eq(y->data, y2->data, N * sizeof(float));
  /* Inference: the identity, and no draw. */
  tc_rng before = r;
  ck_assert_int_eq(tc_op_dropout(g, x, 0.5f, 0, &r, &y), TC_OK);
  ck_assert_mem_eq(y->data, x->data, N * sizeof(float));
  ck_assert_mem_eq(&before, &r, sizeof r);
  tc_tensor_free(x);
  tc_graph_free(g);
}
END_TEST

/* ---- gradient checks ----------------------------------------------------------------- */

START_TEST(every_op_passes_the_gradient_check) {
  for (int i = 0; i < tc_gradcheck_ops_count(); i++) {
    tc_gradcheck_report rep;
    ck_assert_msg(tc_gradcheck_ops_run(i, 3, &rep) == TC_OK, "%s: %s", tc_gradcheck_ops_name(i),
                  tc_last_error());
    ck_assert_msg(rep.passed, "%s: %s (%.3g of tolerance)", tc_gradcheck_ops_name(i), rep.worst,
                  rep.worst_excess);
  }
}
END_TEST

/* ---- rejections ---------------------------------------------------------------------- */


START_TEST(layout_ops_reject_bad_input) {
  tc_graph *g = tc_oc_graph();
  float v[36] = {0}; /* the largest tensor below, (1, 3, 3, 4) */
  tc_tensor *a = tc_oc_tensor(4, (int64_t[]){1, 2, 3, 4}, v, 1);
  tc_tensor *b = tc_oc_tensor(4, (int64_t[]){1, 3, 3, 4}, v, 1), *y, *p[5];
  tc_tensor *ab[2] = {a, b};
  TC_OC_REJECT(g, tc_op_concat(g, 2, ab, -1, &y), TC_ERR_SHAPE, "differ on axis 1");
  TC_OC_REJECT(g, tc_op_concat(g, 2, ab, 4, &y), TC_ERR_SHAPE, "axis 4 is out of range");
  TC_OC_REJECT(g, tc_op_concat(g, 0, ab, 0, &y), TC_ERR_INVALID_ARG, "at least 1 input");
  TC_OC_REJECT(g, tc_op_slice(g, a, (int64_t[]){0, 1, 0, 0}, (int64_t[]){1, 2, 1, 1}, &y),
                TC_ERR_SHAPE, "axis 1: begin 1, size 2");
  TC_OC_REJECT(g, tc_op_split(g, a, 3, 3, NULL, p), TC_ERR_SHAPE, "not divisible by 3");
  TC_OC_REJECT(g, tc_op_split(g, a, 3, 2, (int64_t[]){1, 2}, p), TC_ERR_SHAPE, "sum to 3");
  TC_OC_REJECT(g, tc_op_pad(g, a, (int64_t[]){0, 0, -1, 0, 0, 0, 0, 0}, TC_PAD_CONSTANT, 0, &y),
                TC_ERR_SHAPE, "padding -1 is negative");
  TC_OC_REJECT(g, tc_op_pad(g, a, (int64_t[]){0, 0, 2, 0, 0, 0, 0, 0}, TC_PAD_REFLECT, 0, &y),
                TC_ERR_SHAPE, "reflect padding 2 is too large for a dim of 2");
  TC_OC_REJECT(g, tc_op_pad(g, a, (int64_t[]){0, 0, 0, 0, 0, 4, 0, 0}, TC_PAD_SYMMETRIC, 0, &y),
                TC_ERR_SHAPE, "symmetric padding 4 is too large for a dim of 3");
  TC_OC_REJECT(g, tc_op_crop2d(g, a, 1, 1, 0, 0, 0, &y), TC_ERR_SHAPE, "leaves nothing");
  TC_OC_REJECT(g, tc_op_crop2d(g, a, -1, 0, 0, 0, 0, &y), TC_ERR_SHAPE, "must be >= 0");
  TC_OC_REJECT(g, tc_op_transpose(g, a, (int[]){0, 1, 1, 3}, &y), TC_ERR_SHAPE,
                "not a permutation");
  TC_OC_REJECT(g, tc_op_resize(g, a, 0, 4, TC_RESIZE_BILINEAR, TC_RESIZE_HALF_PIXEL, 0, &y),
                TC_ERR_SHAPE, "output size 0x4");
  TC_OC_REJECT(g, tc_op_upsample2d(g, a, 0, 2, TC_RESIZE_NEAREST, 0, &y), TC_ERR_INVALID_ARG,
                "factors 0x2");
  tc_tensor *flat = tc_oc_tensor(1, (int64_t[]){4}, v, 1);
  TC_OC_REJECT(g, tc_op_upsample2d(g, flat, 2, 2, TC_RESIZE_NEAREST, 0, &y), TC_ERR_SHAPE,
                "rank 4");
  tc_resize_mode rm;
  ck_assert_int_eq(tc_resize_mode_parse("bicubic", &rm), TC_ERR_INVALID_ARG);
  tc_rng r;
  tc_rng_init(&r, 1, 1);
  TC_OC_REJECT(g, tc_op_dropout(g, a, 1.0f, 1, &r, &y), TC_ERR_INVALID_ARG, "rate 1");
  TC_OC_REJECT(g, tc_op_dropout(g, a, 0.5f, 1, NULL, &y), TC_ERR_INVALID_ARG, "needs an rng");
  tc_tensor_free(a);
  tc_tensor_free(b);
  tc_tensor_free(flat);
  tc_graph_free(g);
}
END_TEST

/* ---- kind op cases that must fail ---------------------------------------------------- */

static tc_conform_verdict run_op_case(const char *text, tc_conform_outcome *o) {
  char path[] = "/tmp/tconv_opcase_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  tc_casefile *f;
  tc_case *c;
  ck_assert_int_eq(tc_casefile_open(&f, path), TC_OK);
  ck_assert_int_eq(tc_casefile_next(f, &c), TC_OK);
  tc_conform_run(c, o);
  tc_casefile_close(f);
  unlink(path);
  return o->verdict;
}

START_TEST(op_cases_fail_when_wrong) {
  tc_conform_outcome o;
  const char *head = "case p\nattr kind op\nattr op pad\nattr mode reflect\nattr paddings 1 1\n"
                     "tensor x 1 3\n1 2 3\ntensor G 1 5\n1 1 1 1 1\ntensor y 1 5\n2 1 2 3 2\n";
  char text[512];
  snprintf(text, sizeof text, "%stensor grad.x 1 3\n1 3 1\nend\n", head);
  ck_assert_int_eq(run_op_case(text, &o), TC_CONFORM_PASS);
  snprintf(text, sizeof text, "%stensor grad.x 1 3\n1 2 1\nend\n", head);
  ck_assert_int_eq(run_op_case(text, &o), TC_CONFORM_FAIL);
  ck_assert_str_eq(o.tensor, "grad.x");
  ck_assert_int_eq(run_op_case("case q\nattr kind op\nattr op cosine\ntensor x 1 1\n1\n"
                               "tensor G 1 1\n1\nend\n", &o), TC_CONFORM_FAIL);
  ck_assert_ptr_nonnull(strstr(o.note, "cosine"));
  ck_assert_int_eq(run_op_case("case r\nattr kind op\nattr op resize_nearest\nattr size 2 2\n"
                               "attr align_corners 1\nattr half_pixel_centers 1\n"
                               "tensor x 4 1 1 1 1\n1\ntensor G 4 1 2 2 1\n1 1 1 1\nend\n", &o),
                   TC_CONFORM_FAIL);
  ck_assert_ptr_nonnull(strstr(o.note, "both 1"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("layoutops");
  TCase *tc = tcase_create("ops");
  tcase_add_test(tc, concat_channels_values_and_gradients);
  tcase_add_test(tc, concat_of_six_inputs_records_all);
  tcase_add_test(tc, concat_large_channel_runs_gradients);
  tcase_add_test(tc, slice_split_crop_transpose_values);
  tcase_add_test(tc, pad_modes_values_and_folded_gradients);
  tcase_add_test(tc, resize_bilinear_modes_by_hand);
  tcase_add_test(tc, resize_nearest_modes_by_hand);
  tcase_add_test(tc, upsample_nearest_repeats_and_sums);
  tcase_add_test(tc, dropout_mask_scale_inference_and_resume);
  tcase_add_test(tc, every_op_passes_the_gradient_check);
  tcase_add_test(tc, layout_ops_reject_bad_input);
  tcase_add_test(tc, op_cases_fail_when_wrong);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
