/* test_netfile_models.c — the autoencoder and DCGAN that `tconv train` builds from the
 * shipped descriptions (examples/nets/) equal the hand-written C nets they replaced
 * (tests/support/ref_nets.c): the same variables in the same order with the same bits, and
 * the same outputs bit for bit, with and without layer options on the command line. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/ref_nets.h"
#include "tools/net_autoencoder.h"
#include "tools/net_dcgan.h"

static tc_train_opts opts(tc_model_kind kind, int with_options) {
  tc_train_opts o;
  memset(&o, 0, sizeof o);
  o.model = kind;
  o.seed = 5;
  o.latent = kind == TC_MODEL_DCGAN ? 64 : 32;
  o.layer = tc_layer_common_default();
  o.layer.activation = tc_activation_make(TC_ACT_RELU);
  if (with_options) {
    o.layer_text[0] = "elu:0.5";
    o.layer_text[1] = "he_normal";
    o.layer_text[3] = "l2:0.01";
    o.layer_text[6] = "max_norm:2";
    ck_assert_int_eq(tc_activation_parse(o.layer_text[0], &o.layer.activation), TC_OK);
    ck_assert_int_eq(tc_initializer_parse(o.layer_text[1], &o.layer.kernel_initializer), TC_OK);
    ck_assert_int_eq(tc_regularizer_parse(o.layer_text[3], &o.layer.kernel_regularizer), TC_OK);
    ck_assert_int_eq(tc_constraint_parse(o.layer_text[6], &o.layer.kernel_constraint), TC_OK);
  }
  return o;
}

static void same_models(const tc_model *a, const tc_model *b) {
  ck_assert_int_eq(tc_model_param_count(a), tc_model_param_count(b));
  for (int i = 0; i < tc_model_param_count(a); i++) {
    tc_param *p = tc_model_param_at(a, i), *q = tc_model_param_at(b, i);
    ck_assert_str_eq(p->name, q->name);
    ck_assert_int_eq(p->value->size, q->value->size);
    ck_assert_int_eq(p->trainable, q->trainable);
    ck_assert_int_eq(p->regularizer.kind, q->regularizer.kind);
    ck_assert_int_eq(p->constraint.kind, q->constraint.kind);
    ck_assert_msg(memcmp(p->value->data, q->value->data, (size_t)p->value->size * 4) == 0,
                  "%s differs", p->name);
  }
}

static tc_tensor *filled(int rank, const int64_t *shape, double phase) {
  tc_tensor *t;
  ck_assert_int_eq(tc_tensor_create(&t, rank, shape), TC_OK);
  for (int64_t i = 0; i < t->size; i++)
    t->data[i] = (float)(0.5 + 0.5 * sin(phase + 0.37 * (double)i));
  return t;
}

static void same_tensors(const tc_tensor *a, const tc_tensor *b) {
  ck_assert_int_eq(a->size, b->size);
  ck_assert(memcmp(a->data, b->data, (size_t)a->size * 4) == 0);
}

static void autoencoder_equal(int with_options) {
  tc_train_opts o = opts(TC_MODEL_AUTOENCODER, with_options);
  tc_autoencoder a;
  ref_autoencoder r;
  ck_assert_msg(tc_autoencoder_create(&a, &o, 28, 28) == TC_OK, "%s", tc_last_error());
  ck_assert_int_eq(ref_autoencoder_create(&r, &o, 28, 28), TC_OK);
  same_models(a.model, r.model);
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t xs[4] = {3, 28, 28, 1}, zs[2] = {3, 32};
  tc_tensor *x = filled(4, xs, 0.1), *z = filled(2, zs, 0.7), *y1, *y2, *d1, *d2;
  ck_assert_int_eq(tc_autoencoder_forward(&a, g, x, &y1), TC_OK);
  ck_assert_int_eq(ref_autoencoder_forward(&r, g, x, &y2), TC_OK);
  same_tensors(y1, y2);
  ck_assert_int_eq(tc_autoencoder_decode(&a, g, z, &d1), TC_OK);
  ck_assert_int_eq(ref_autoencoder_decode(&r, g, z, &d2), TC_OK);
  same_tensors(d1, d2);
  tc_tensor_free(x);
  tc_tensor_free(z);
  tc_graph_free(g);
  tc_autoencoder_free(&a);
  ref_autoencoder_free(&r);
}

START_TEST(the_shipped_autoencoder_is_the_hand_written_one) {
  autoencoder_equal(0);
  autoencoder_equal(1);
}
END_TEST

static void dcgan_equal(int with_options) {
  tc_train_opts o = opts(TC_MODEL_DCGAN, with_options);
  tc_dcgan a;
  ref_dcgan r;
  ck_assert_msg(tc_dcgan_create(&a, &o, 28, 28) == TC_OK, "%s", tc_last_error());
  ck_assert_int_eq(ref_dcgan_create(&r, &o, 28, 28), TC_OK);
  same_models(a.model, r.model);
  ck_assert_int_eq(a.latent, 64);
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t xs[4] = {4, 28, 28, 1}, zs[2] = {4, 64};
  tc_tensor *x = filled(4, xs, 0.2), *z = filled(2, zs, 0.3), *y1, *y2;
  for (int training = 1; training >= 0; training--) {
    ck_assert_int_eq(tc_dcgan_generate(&a, g, z, training, &y1), TC_OK);
    ck_assert_int_eq(ref_dcgan_generate(&r, g, z, training, &y2), TC_OK);
    same_tensors(y1, y2);
    same_models(a.model, r.model); /* batch norm's moving statistics too */
  }
  ck_assert_int_eq(tc_dcgan_discriminate(&a, g, x, &y1), TC_OK);
  ck_assert_int_eq(ref_dcgan_discriminate(&r, g, x, &y2), TC_OK);
  same_tensors(y1, y2);
  tc_dcgan_freeze_discriminator(&a, 1);
  ck_assert_int_eq(a.n_d_weights, 6);
  ck_assert_int_eq(tc_model_find_param(a.model, "discriminator_logit/kernel")->trainable, 0);
  ck_assert_int_eq(tc_model_find_param(a.model, "generator_up2/kernel")->trainable, 1);
  tc_dcgan_freeze_discriminator(&a, 0);
  ck_assert_int_eq(tc_model_find_param(a.model, "discriminator_logit/kernel")->trainable, 1);
  tc_tensor_free(x);
  tc_tensor_free(z);
  tc_graph_free(g);
  tc_dcgan_free(&a);
  ref_dcgan_free(&r);
}

START_TEST(the_shipped_dcgan_is_the_hand_written_one) {
  dcgan_equal(0);
  dcgan_equal(1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("netfile_models");
  TCase *tc = tcase_create("netfile_models");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, the_shipped_autoencoder_is_the_hand_written_one);
  tcase_add_test(tc, the_shipped_dcgan_is_the_hand_written_one);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
