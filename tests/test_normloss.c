/* test_normloss.c — layer / group / instance norm and the losses on hand-computed cases
 * (values and gradients), the public gradient checker itself (it must catch a wrong
 * backward and handle kinks), and the rejections (docs/bad-input.md, "Ops"). */
#include <check.h>
#include <math.h>
#include <string.h>

#include "core/gradcheck.h"
#include "core/ops.h"
#include "core/ops_losses.h"
#include "core/ops_norm.h"
#include "layers/batch_norm.h"
#include "support/opcheck.h"
#include "support/testutil.h"

#define CLOSE 1e-6

/* ---- norms --------------------------------------------------------------------------- */

/* Two elements a < b: xhat = ∓d/s with d = (b-a)/2, s = sqrt(d² + eps); by hand,
 * d y0 / d a = eps / (2 s³) and d y0 / d b = -eps / (2 s³). */
START_TEST(layer_norm_two_elements_by_hand) {
  const double eps = 1e-3, d = 1.0, s = sqrt(d * d + eps);
  tc_graph *g = tc_oc_graph();
  tc_tensor *x = tc_oc_tensor(2, (int64_t[]){1, 2}, (float[]){1, 3}, 1);
  tc_tensor *gamma = tc_oc_tensor(1, (int64_t[]){2}, (float[]){2, 3}, 1);
  tc_tensor *beta = tc_oc_tensor(1, (int64_t[]){2}, (float[]){0.5f, -1}, 1), *y;
  ck_assert_int_eq(tc_op_layer_norm(g, x, gamma, beta, 1, (int[]){-1}, (float)eps, &y), TC_OK);
  tc_oc_expect("y", y->data, (double[]){-2 * d / s + 0.5, 3 * d / s - 1}, 2, CLOSE);
  tc_oc_backward(g, y, (float[]){1, 0});
  tc_oc_expect("dx", x->grad, (double[]){2 * eps / (2 * s * s * s), -2 * eps / (2 * s * s * s)}, 2,
               CLOSE);
  tc_oc_expect("dgamma", gamma->grad, (double[]){-d / s, 0}, 2, CLOSE);
  tc_oc_expect("dbeta", beta->grad, (double[]){1, 0}, 2, CLOSE);
  tc_tensor_free(x);
  tc_tensor_free(gamma);
  tc_tensor_free(beta);
  tc_graph_free(g);
}
END_TEST

/* Groups of [1, 3] and [10, 14] (NHWC, 4 channels, 2 groups); instance norm on NCHW
 * channels [0, 2] and the constant [5, 5] (variance 0: only epsilon keeps it finite). */
START_TEST(group_and_instance_norm_by_hand) {
  const double eps = 1e-3;
  tc_graph *g = tc_oc_graph();
  tc_tensor *x = tc_oc_tensor(4, (int64_t[]){1, 1, 1, 4}, (float[]){1, 3, 10, 14}, 1), *y;
  ck_assert_int_eq(tc_op_group_norm(g, x, NULL, NULL, 2, (float)eps, 0, &y), TC_OK);
  double s1 = sqrt(1 + eps), s2 = sqrt(4 + eps);
  tc_oc_expect("gn", y->data, (double[]){-1 / s1, 1 / s1, -2 / s2, 2 / s2}, 4, CLOSE);
  tc_oc_backward(g, y, NULL); /* Σ y is constant per group: zero gradient */
  tc_oc_expect("gn dx", x->grad, (double[]){0, 0, 0, 0}, 4, CLOSE);
  tc_graph_reset(g);
  tc_tensor *xi = tc_oc_tensor(4, (int64_t[]){1, 2, 1, 2}, (float[]){0, 2, 5, 5}, 1);
  ck_assert_int_eq(tc_op_instance_norm(g, xi, NULL, NULL, (float)eps, 1, &y), TC_OK);
  tc_oc_expect("in", y->data, (double[]){-1 / s1, 1 / s1, 0, 0}, 4, CLOSE);
  tc_oc_backward(g, y, (float[]){0, 0, 1, 0});
  /* A constant group: d y / d x = (I - 1/m) / sqrt(eps). */
  tc_oc_expect("in dx", xi->grad, (double[]){0, 0, 0.5 / sqrt(eps), -0.5 / sqrt(eps)}, 4, 1e-3);
  tc_tensor_free(x);
  tc_tensor_free(xi);
  tc_graph_free(g);
}
END_TEST

/* ---- losses -------------------------------------------------------------------------- */

typedef tc_status (*loss_fn)(tc_graph *, tc_tensor *, tc_tensor *, tc_tensor **);
static tc_status mae(tc_graph *g, tc_tensor *p, tc_tensor *l, tc_tensor **y) {
  return tc_op_mae(g, p, l, TC_REDUCE_MEAN, y);
}
static tc_status huber1(tc_graph *g, tc_tensor *p, tc_tensor *l, tc_tensor **y) {
  return tc_op_huber(g, p, l, 1.0f, TC_REDUCE_MEAN, y);
}
static tc_status hinge01(tc_graph *g, tc_tensor *p, tc_tensor *l, tc_tensor **y) {
  return tc_op_hinge(g, p, l, 1, TC_REDUCE_MEAN, y);
}
static tc_status bce(tc_graph *g, tc_tensor *p, tc_tensor *l, tc_tensor **y) {
  return tc_op_bce(g, p, l, TC_REDUCE_SUM, y);
}
static tc_status sig_ls(tc_graph *g, tc_tensor *p, tc_tensor *l, tc_tensor **y) {
  return tc_op_sigmoid_cross_entropy(g, p, l, 0.2f, TC_REDUCE_MEAN, y);
}
static tc_status soft_ls(tc_graph *g, tc_tensor *p, tc_tensor *l, tc_tensor **y) {
  return tc_op_softmax_cross_entropy(g, p, l, 0.5f, TC_REDUCE_MEAN, y);
}

START_TEST(losses_by_hand) {
  const double ln2 = log(2.0), e7 = 1e-7;
  struct {
    const char *name;
    loss_fn f;
    int n;
    float p[4], l[4];
    double loss, dp[4];
  } cases[] = {
      {"mae", mae, 3, {1, 2, 3}, {0, 2, 5}, 1.0, {1.0 / 3, 0, -1.0 / 3}},
      {"huber", huber1, 2, {0.5f, -3}, {0, 0}, (0.125 + 2.5) / 2, {0.25, -0.5}},
      {"hinge", hinge01, 3, {0.5f, -2, 2}, {1, 0, 0}, 3.5 / 3, {-1.0 / 3, 0, 1.0 / 3}},
      {"bce", bce, 2, {0.5f, 1}, {1, 1}, -log(0.5 + e7) - log(1 - e7 + e7), {-1 / (0.5 + e7), 0}},
      {"sigmoid_xent", sig_ls, 2, {0, 0}, {1, 0}, ln2, {(0.5 - 0.9) / 2, (0.5 - 0.1) / 2}},
      {"softmax_xent", soft_ls, 4, {0, 0, 3, 3}, {1, 0, 0, 1}, ln2, {-0.125, 0.125, 0.125, -0.125}},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    tc_graph *g = tc_oc_graph();
    int64_t shape[2] = {cases[k].n / (k == 5 ? 2 : 1), k == 5 ? 2 : 1};
    tc_tensor *p = tc_oc_tensor(2, shape, cases[k].p, 1), *l = tc_oc_tensor(2, shape, cases[k].l, 0);
    tc_tensor *y;
    ck_assert_msg(cases[k].f(g, p, l, &y) == TC_OK, "%s: %s", cases[k].name, tc_last_error());
    ck_assert_int_eq(y->rank, 0);
    tc_oc_expect(cases[k].name, y->data, &cases[k].loss, 1, CLOSE);
    ck_assert_int_eq(tc_graph_backward(g, y), TC_OK);
    tc_oc_expect(cases[k].name, p->grad, cases[k].dp, cases[k].n, CLOSE);
    tc_tensor_free(p);
    tc_tensor_free(l);
    tc_graph_free(g);
  }
}
END_TEST

/* ---- the public gradient checker ------------------------------------------------------ */

/* y = 2x recorded with a backward that pretends dy/dx = 3: the checker must say so. */
static tc_status wrong_backward(tc_node *n) {
  for (int64_t i = 0; i < n->in[0]->size; i++)
    n->in[0]->grad[i] += 3.0f * n->out->grad[i];
  return TC_OK;
}
static tc_status wrong_op(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  (void)ctx;
  TC_TRY(tc_graph_new_output(g, y, in[0]->rank, in[0]->shape, in, 1));
  for (int64_t i = 0; i < in[0]->size; i++)
    (*y)->data[i] = 2.0f * in[0]->data[i];
  return tc_graph_record(g, "wrong", wrong_backward, *y, in, 1, NULL);
}
static tc_status relu_op(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  (void)ctx;
  return tc_op_relu(g, in[0], y);
}
static tc_status layer_norm_op(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  (void)ctx;
  return tc_op_layer_norm(g, in[0], in[1], in[2], 1, (int[]){-1}, 1e-3f, y);
}

START_TEST(gradcheck_catches_a_wrong_backward) {
  tc_tensor *x = tc_oc_tensor(1, (int64_t[]){3}, (float[]){0.1f, -0.4f, 0.7f}, 1);
  tc_gradcheck_report r;
  ck_assert_int_eq(tc_gradcheck(wrong_op, NULL, &x, NULL, 1, NULL, &r), TC_OK);
  ck_assert_int_eq(r.passed, 0);
  ck_assert_int_eq(r.checked, 3);
  ck_assert_double_gt(r.worst_excess, 10.0);
  ck_assert_ptr_nonnull(strstr(r.worst, "din0"));
  tc_tensor_free(x);
}
END_TEST

/* relu at exactly 0 and at 0.004 (inside the first step of 0.01): the first is a kink
 * judged by the subgradient rule, the second resolves at a smaller step. */
START_TEST(gradcheck_handles_kinks) {
  tc_tensor *x = tc_oc_tensor(1, (int64_t[]){3}, (float[]){0.0f, 0.004f, -0.5f}, 1);
  tc_gradcheck_report r;
  ck_assert_int_eq(tc_gradcheck(relu_op, NULL, &x, NULL, 1, NULL, &r), TC_OK);
  ck_assert_msg(r.passed, "%s", r.worst);
  ck_assert_int_eq(r.kinks, 1);
  ck_assert_int_eq(r.checked, 2);
  tc_tensor_free(x);
}
END_TEST

START_TEST(gradcheck_passes_a_user_graph_and_rejects_bad_args) {
  float v[8] = {0.3f, -1.2f, 0.8f, 0.1f, 1.5f, -0.7f, 0.2f, 0.9f};
  tc_tensor *in[3] = {tc_oc_tensor(2, (int64_t[]){2, 4}, v, 1),
                      tc_oc_tensor(1, (int64_t[]){4}, v + 4, 1),
                      tc_oc_tensor(1, (int64_t[]){4}, v, 1)};
  const char *names[3] = {"x", "gamma", "beta"};
  tc_gradcheck_opts o = tc_gradcheck_opts_default();
  tc_gradcheck_report r;
  ck_assert_int_eq(tc_gradcheck(layer_norm_op, NULL, in, names, 3, &o, &r), TC_OK);
  ck_assert_msg(r.passed, "%s", r.worst);
  ck_assert_int_eq(r.checked, 16);
  o.step = 0.0;
  ck_assert_int_eq(tc_gradcheck(layer_norm_op, NULL, in, names, 3, &o, &r), TC_ERR_INVALID_ARG);
  tc_tensor *plain = tc_oc_tensor(1, (int64_t[]){4}, v, 0);
  TC_CK_ERROR(tc_gradcheck(relu_op, NULL, &plain, NULL, 1, NULL, &r), TC_ERR_INVALID_ARG, "requires_grad");
  for (int k = 0; k < 3; k++)
    tc_tensor_free(in[k]);
  tc_tensor_free(plain);
}
END_TEST

/* ---- rejections ---------------------------------------------------------------------- */


START_TEST(norms_and_losses_reject_bad_input) {
  tc_graph *g = tc_oc_graph();
  float v[24] = {0};
  tc_tensor *x = tc_oc_tensor(4, (int64_t[]){1, 2, 3, 4}, v, 1), *y;
  tc_tensor *g3 = tc_oc_tensor(1, (int64_t[]){3}, v, 1);
  tc_tensor *l = tc_oc_tensor(4, (int64_t[]){1, 2, 3, 3}, v, 0);
  TC_OC_REJECT(g, tc_op_layer_norm(g, x, g3, NULL, 1, (int[]){-1}, 1e-3f, &y), TC_ERR_SHAPE,
                "gamma has 3 elements, the normalized axes need 4");
  TC_OC_REJECT(g, tc_op_layer_norm(g, x, NULL, NULL, 2, (int[]){3, -1}, 1e-3f, &y),
                TC_ERR_SHAPE, "listed twice");
  TC_OC_REJECT(g, tc_op_layer_norm(g, x, NULL, NULL, 1, (int[]){4}, 1e-3f, &y), TC_ERR_SHAPE,
                "axis 4 is out of range");
  TC_OC_REJECT(g, tc_op_layer_norm(g, x, NULL, NULL, 1, (int[]){-1}, 0.0f, &y),
                TC_ERR_INVALID_ARG, "epsilon must be a positive number");
  TC_OC_REJECT(g, tc_op_group_norm(g, x, NULL, NULL, 3, 1e-3f, 0, &y), TC_ERR_SHAPE,
                "4 channels do not split into 3 groups");
  TC_OC_REJECT(g, tc_op_instance_norm(g, g3, NULL, NULL, 1e-3f, 0, &y), TC_ERR_SHAPE,
                "got rank 1");
  TC_OC_REJECT(g, tc_op_mae(g, x, l, TC_REDUCE_MEAN, &y), TC_ERR_SHAPE,
                "predictions (1, 2, 3, 4) and labels (1, 2, 3, 3) differ");
  TC_OC_REJECT(g, tc_op_huber(g, x, x, 0.0f, TC_REDUCE_MEAN, &y), TC_ERR_INVALID_ARG,
                "delta must be a positive number");
  TC_OC_REJECT(g, tc_op_sigmoid_cross_entropy(g, x, x, 1.5f, TC_REDUCE_MEAN, &y),
                TC_ERR_INVALID_ARG, "label_smoothing 1.5 is outside [0, 1]");
  TC_OC_REJECT(g, tc_op_softmax_cross_entropy(g, x, l, 0.0f, TC_REDUCE_MEAN, &y), TC_ERR_SHAPE,
                "differ");
  TC_OC_REJECT(g, tc_op_hinge(g, x, x, 1, (tc_loss_reduction)7, &y), TC_ERR_INVALID_ARG,
                "reduction 7 is unknown");
  tc_tensor_free(x);
  tc_tensor_free(g3);
  tc_tensor_free(l);
  tc_graph_free(g);
}
END_TEST

/* Keras BatchNormalization's renorm and virtual_batch_size are refused by name. */
START_TEST(batch_norm_refuses_renorm_and_virtual_batch_size) {
  tc_model *m;
  tc_batch_norm *bn = NULL;
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  tc_batch_norm_config c = tc_batch_norm_config_default();
  ck_assert_int_eq(c.renorm, 0);
  ck_assert_int_eq(c.virtual_batch_size, 0);
  c.renorm = 1;
  TC_CK_ERROR(tc_batch_norm_create(&bn, m, &c, 4), TC_ERR_UNSUPPORTED, "renorm is not implemented");
  c.renorm = 0;
  c.virtual_batch_size = 8;
  TC_CK_ERROR(tc_batch_norm_create(&bn, m, &c, 4), TC_ERR_UNSUPPORTED, "virtual_batch_size is not implemented");
  ck_assert_ptr_null(bn);
  c.virtual_batch_size = 0;
  ck_assert_int_eq(tc_batch_norm_create(&bn, m, &c, 4), TC_OK); /* the name was not taken */
  ck_assert_ptr_nonnull(tc_model_find_param(m, "batch_normalization/gamma"));
  tc_batch_norm_free(bn);
  tc_model_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("normloss");
  TCase *tc = tcase_create("ops");
  tcase_add_test(tc, layer_norm_two_elements_by_hand);
  tcase_add_test(tc, group_and_instance_norm_by_hand);
  tcase_add_test(tc, losses_by_hand);
  tcase_add_test(tc, gradcheck_catches_a_wrong_backward);
  tcase_add_test(tc, gradcheck_handles_kinks);
  tcase_add_test(tc, gradcheck_passes_a_user_graph_and_rejects_bad_args);
  tcase_add_test(tc, norms_and_losses_reject_bad_input);
  tcase_add_test(tc, batch_norm_refuses_renorm_and_virtual_batch_size);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
