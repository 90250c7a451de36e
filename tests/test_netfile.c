/* test_netfile.c — network descriptions (docs/networks.md): the shipped files parse, build
 * and round-trip; the autoencoder and DCGAN built from their files equal the hand-written
 * nets of tools/ variable for variable and output for output; malformed descriptions are
 * refused with the line, the column and what was expected (docs/bad-input.md). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "layers/netfile.h"

#define NETS TCONV_TEST_DATA "/../../examples/nets/"

static const char *const shipped[] = {"autoencoder", "dcgan", "unet", "fsrcnn", "pix2pix"};

static tc_netdesc *load(const char *name) {
  char path[512];
  snprintf(path, sizeof path, NETS "%s.net", name);
  tc_netdesc *d = NULL;
  ck_assert_msg(tc_netdesc_load(&d, path, NULL, 0) == TC_OK, "%s: %s", path, tc_last_error());
  return d;
}

/* The full config (every key, defaults written out) parses and builds the same variables
 * with the same values from the same seed. */
static void same_as_full_config(const tc_netdesc *d, const tc_model *m) {
  char *full;
  tc_netdesc *f;
  tc_model *m2;
  tc_net *net2;
  ck_assert_int_eq(tc_netdesc_write_config(d, &full), TC_OK);
  ck_assert_msg(tc_netdesc_parse(&f, full, strlen(full), "full", NULL, 0) == TC_OK, "%s\n%s",
                tc_last_error(), full);
  ck_assert_ptr_nonnull(strstr(full, " trainable=true"));
  ck_assert_int_eq(tc_model_create(&m2, 3), TC_OK);
  ck_assert_msg(tc_net_create(&net2, m2, f) == TC_OK, "%s", tc_last_error());
  ck_assert_int_eq(tc_model_param_count(m), tc_model_param_count(m2));
  for (int i = 0; i < tc_model_param_count(m); i++) {
    tc_param *p = tc_model_param_at(m, i), *q = tc_model_param_at(m2, i);
    ck_assert_str_eq(p->name, q->name);
    ck_assert(memcmp(p->value->data, q->value->data, (size_t)p->value->size * 4) == 0);
  }
  tc_net_free(net2);
  tc_model_free(m2);
  tc_netdesc_free(f);
  free(full);
}

START_TEST(shipped_files_parse_build_and_round_trip) {
  for (size_t k = 0; k < sizeof shipped / sizeof shipped[0]; k++) {
    tc_netdesc *d = load(shipped[k]), *d2 = NULL;
    char *text = NULL, *text2 = NULL;
    ck_assert_int_eq(tc_netdesc_write(d, &text), TC_OK);
    ck_assert_msg(tc_netdesc_parse(&d2, text, strlen(text), "written", NULL, 0) == TC_OK, "%s",
                  tc_last_error());
    ck_assert_msg(tc_netdesc_equal(d, d2), "%s changed in the round trip:\n%s", shipped[k], text);
    ck_assert_int_eq(tc_netdesc_write(d2, &text2), TC_OK);
    ck_assert_str_eq(text, text2);
    tc_model *m;
    tc_net *net;
    ck_assert_int_eq(tc_model_create(&m, 3), TC_OK);
    ck_assert_msg(tc_net_create(&net, m, d) == TC_OK, "%s: %s", shipped[k], tc_last_error());
    ck_assert_int_gt(tc_model_param_count(m), 0);
    same_as_full_config(d, m);
    tc_net_free(net);
    tc_model_free(m);
    free(text);
    free(text2);
    tc_netdesc_free(d);
    tc_netdesc_free(d2);
  }
}
END_TEST

/* A description that differs in one attribute is not equal. */
START_TEST(equal_sees_a_changed_value) {
  const char *a = "input x shape=4,4,1\nconv2d c x filters=2 kernel_size=3\noutput c\n";
  const char *b = "input x shape=4,4,1\nconv2d c x filters=3 kernel_size=3\noutput c\n";
  tc_netdesc *da, *db;
  ck_assert_int_eq(tc_netdesc_parse(&da, a, strlen(a), NULL, NULL, 0), TC_OK);
  ck_assert_int_eq(tc_netdesc_parse(&db, b, strlen(b), NULL, NULL, 0), TC_OK);
  ck_assert(!tc_netdesc_equal(da, db));
  ck_assert(tc_netdesc_equal(da, da));
  tc_netdesc_free(da);
  tc_netdesc_free(db);
}
END_TEST

/* Variables: the file's value, replaced by one set from outside; an undeclared one is an
 * error. */
START_TEST(variables_are_substituted_and_overridden) {
  const char *t = "var n=3\ninput x shape=4,4,1\nconv2d c x filters=$n kernel_size=3\noutput c\n";
  tc_netdesc *d;
  ck_assert_int_eq(tc_netdesc_parse(&d, t, strlen(t), NULL, NULL, 0), TC_OK);
  ck_assert_str_eq(tc_netdesc_attr(d, 1, "filters"), "3");
  tc_netdesc_free(d);
  tc_net_var set = {"n", "5"};
  ck_assert_int_eq(tc_netdesc_parse(&d, t, strlen(t), NULL, &set, 1), TC_OK);
  ck_assert_str_eq(tc_netdesc_attr(d, 1, "filters"), "5");
  tc_netdesc_free(d);
  tc_net_var bad = {"m", "5"};
  ck_assert_int_eq(tc_netdesc_parse(&d, t, strlen(t), NULL, &bad, 1), TC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "variable 'm' is set"));
  tc_net_var worse = {"n", "0"};
  ck_assert_int_eq(tc_netdesc_parse(&d, t, strlen(t), NULL, &worse, 1), TC_ERR_INVALID_ARG);
  ck_assert_msg(strstr(tc_last_error(), "<string>:3:20: filters: expected an integer in [1, 65536], got 0"), "%s", tc_last_error());
}
END_TEST

/* A U-Net-like graph with every op kind runs forward and backward. */
START_TEST(every_kind_runs_forward_and_backward) {
  const char *t =
      "input x shape=8,8,2\n"
      "conv2d e1 x filters=4 kernel_size=3 padding=same activation=relu\n"
      "conv2d e2 e1 filters=4 kernel_size=3 strides=2 padding=same\n"
      "batch_norm b e2 momentum=0.9\n"
      "group_norm gn b groups=2\n"
      "instance_norm in gn\n"
      "layer_norm ln in epsilon=0.001\n"
      "dropout dr ln rate=0.25\n"
      "activation a dr activation=leaky_relu:0.2\n"
      "upsample u a size=2 interpolation=bilinear\n"
      "conv2d_transpose t a filters=4 kernel_size=3 strides=2 padding=same groups=2 "
      "output_padding=1\n"
      "add s u t\n"
      "concat c s e1 axis=-1\n"
      "pad p c pad=1 mode=reflect\n"
      "crop k p crop=1,1,1,1\n"
      "resize r k size=4,4 method=bilinear mode=align_corners\n"
      "flatten f r\n"
      "dense d f units=3\n"
      "reshape y d shape=3,1\n"
      "output y\n"
      "loss mse\n";
  tc_netdesc *d;
  ck_assert_msg(tc_netdesc_parse(&d, t, strlen(t), NULL, NULL, 0) == TC_OK, "%s", tc_last_error());
  tc_model *m;
  tc_net *net;
  tc_graph *g;
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  ck_assert_msg(tc_net_create(&net, m, d) == TC_OK, "%s", tc_last_error());
  int64_t shape[3];
  ck_assert_int_eq(tc_net_shape(net, "y", shape), 2);
  ck_assert_int_eq(shape[0], 3);
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t xs[4] = {2, 8, 8, 2};
  tc_tensor *x, *y, *loss;
  ck_assert_int_eq(tc_tensor_create(&x, 4, xs), TC_OK);
  for (int64_t i = 0; i < x->size; i++)
    x->data[i] = (float)sin((double)i);
  const char *in[1] = {"x"};
  ck_assert_msg(tc_net_forward(net, g, 1, in, &x, "y", 1, &y) == TC_OK, "%s", tc_last_error());
  ck_assert_int_eq(y->shape[0], 2);
  ck_assert_int_eq(tc_op_mean(g, y, &loss), TC_OK);
  ck_assert_int_eq(tc_graph_backward(g, loss), TC_OK);
  tc_param *k = tc_model_find_param(m, "t/kernel");
  ck_assert_ptr_nonnull(k);
  double gsum = 0;
  for (int64_t i = 0; i < k->value->size; i++)
    gsum += fabs(k->value->grad[i]);
  ck_assert(gsum > 0);
  tc_tensor_free(x);
  tc_graph_free(g);
  tc_net_free(net);
  tc_model_free(m);
  tc_netdesc_free(d);
}
END_TEST

/* Build errors name the node's place; the model is left as it was. */
START_TEST(a_failed_build_names_the_node_and_changes_nothing) {
  const char *t = "input x shape=8,8,2\nconv2d a x filters=4 kernel_size=3\n"
                  "input z shape=4,4,1\nconcat c a z\noutput c\n";
  tc_netdesc *d;
  ck_assert_int_eq(tc_netdesc_parse(&d, t, strlen(t), "bad.net", NULL, 0), TC_OK);
  tc_model *m;
  tc_net *net = (tc_net *)1;
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  ck_assert_int_ne(tc_net_create(&net, m, d), TC_OK);
  ck_assert_ptr_null(net);
  ck_assert_msg(strstr(tc_last_error(), "bad.net:4:1: concat 'c'") != NULL, "%s", tc_last_error());
  ck_assert_int_eq(tc_model_param_count(m), 0);
  tc_model_free(m);
  tc_netdesc_free(d);
}
END_TEST

int main(void) {
  Suite *s = suite_create("netfile");
  TCase *tc = tcase_create("netfile");
  tcase_add_test(tc, shipped_files_parse_build_and_round_trip);
  tcase_add_test(tc, equal_sees_a_changed_value);
  tcase_add_test(tc, variables_are_substituted_and_overridden);
  tcase_add_test(tc, every_kind_runs_forward_and_backward);
  tcase_add_test(tc, a_failed_build_names_the_node_and_changes_nothing);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
