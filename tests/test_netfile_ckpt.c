/* test_netfile_ckpt.c — self-describing checkpoints (meta/net and its texts, rebuilt by
 * tc_ckpt_load_net; older checkpoints still load), '/' scopes in layer names, partial
 * weight import from a plain .npz with a name map, and PyTorch's ConvTranspose2d layout
 * against a direct PyTorch-semantics loop. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io/npz.h"
#include "layers/conv2d_transpose.h"
#include "optim/checkpoint_net.h"
#include "optim/weights_import.h"
#include "support/testutil.h"

static const char *net_text =
    "var act=elu\n"
    "input z shape=6\n"
    "dense generator/dense z units=32 activation=$act\n"
    "reshape generator/grid generator/dense shape=2,2,8\n"
    "batch_norm generator/bn generator/grid\n"
    "conv2d_transpose generator/conv2d_transpose generator/bn filters=3 kernel_size=3 "
    "strides=2 padding=same activation=tanh\n"
    "output generator/conv2d_transpose\n"
    "loss mse\n";

static void tmp(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "/tmp/tconv_netckpt_%d_%s.npz", (int)getpid(), name);
}

static void build(tc_netdesc **d, tc_model **m, tc_net **net, uint64_t seed) {
  ck_assert_msg(tc_netdesc_parse(d, net_text, strlen(net_text), NULL, NULL, 0) == TC_OK, "%s",
                tc_last_error());
  ck_assert_int_eq(tc_model_create(m, seed), TC_OK);
  ck_assert_msg(tc_net_create(net, *m, *d) == TC_OK, "%s", tc_last_error());
}

static tc_tensor *forward(tc_net *net, tc_graph *g, tc_tensor *z) {
  const char *in[1] = {"z"};
  tc_tensor *y;
  ck_assert_int_eq(tc_net_forward(net, g, 1, in, &z, "generator/conv2d_transpose", 0, &y), TC_OK);
  return y;
}

START_TEST(a_checkpoint_rebuilds_its_network_alone) {
  tc_netdesc *d, *d2;
  tc_model *m, *m2;
  tc_net *net, *net2;
  build(&d, &m, &net, 11);
  ck_assert_ptr_nonnull(tc_model_find_param(m, "generator/conv2d_transpose/kernel"));
  char *text, path[256], *back;
  ck_assert_int_eq(tc_netdesc_write(d, &text), TC_OK);
  tmp(path, sizeof path, "self");
  tc_ckpt_meta meta = {.step = 3, .net = text, .net_source = net_text,
                       .net_vars = "# none\n", .train_options = "batch=8\n"};
  tc_rng_init(&meta.rng, 11, 0);
  ck_assert_msg(tc_ckpt_save(path, m, NULL, 0, &meta) == TC_OK, "%s", tc_last_error());
  ck_assert_int_eq(tc_ckpt_read_text(path, "meta/net", &back), TC_OK);
  ck_assert_str_eq(back, text);
  free(back);
  ck_assert_int_eq(tc_ckpt_read_text(path, "meta/train_options", &back), TC_OK);
  ck_assert_str_eq(back, "batch=8\n");
  free(back);
  ck_assert_msg(tc_ckpt_load_net(path, &d2, &m2, &net2) == TC_OK, "%s", tc_last_error());
  ck_assert(tc_netdesc_equal(d, d2));
  for (int i = 0; i < tc_model_param_count(m); i++) {
    tc_param *p = tc_model_param_at(m, i), *q = tc_model_param_at(m2, i);
    ck_assert_str_eq(p->name, q->name);
    ck_assert(memcmp(p->value->data, q->value->data, (size_t)p->value->size * 4) == 0);
  }
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  int64_t zs[2] = {2, 6};
  tc_test_rng r;
  tc_test_rng_init(&r, 3);
  tc_tensor *z = tc_test_tensor(&r, 2, zs, -1, 1);
  tc_tensor *y1 = forward(net, g, z), *y2 = forward(net2, g, z);
  ck_assert(memcmp(y1->data, y2->data, (size_t)y1->size * 4) == 0);
  /* a load into the model (the ordinary path) accepts the text arrays */
  ck_assert_int_eq(tc_ckpt_load(path, m, NULL, 0, NULL, 0), TC_OK);
  tc_tensor_free(z);
  tc_graph_free(g);
  tc_net_free(net2);
  tc_model_free(m2);
  tc_netdesc_free(d2);
  /* an older checkpoint: no meta/net; it loads, and load_net says what is missing */
  meta.net = NULL;
  ck_assert_int_eq(tc_ckpt_save(path, m, NULL, 0, &meta), TC_OK);
  ck_assert_int_eq(tc_ckpt_load(path, m, NULL, 0, NULL, 0), TC_OK);
  ck_assert_int_eq(tc_ckpt_load_net(path, &d2, &m2, &net2), TC_ERR_NOT_FOUND);
  ck_assert_ptr_null(m2);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "has no array 'meta/net'"));
  /* meta/net that is not text */
  float f[2] = {1, 2};
  int64_t fs[1] = {2};
  tc_npz_entry e[1] = {{"meta/net", TC_NPZ_F32, 1, fs, f}};
  ck_assert_int_eq(tc_npz_write(path, e, 1), TC_OK);
  ck_assert_int_eq(tc_ckpt_read_text(path, "meta/net", &back), TC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "'meta/net' is not text"));
  ck_assert_int_eq(tc_ckpt_load_net(path, &d2, &m2, &net2), TC_ERR_FORMAT);
  unlink(path);
  free(text);
  tc_net_free(net);
  tc_model_free(m);
  tc_netdesc_free(d);
}
END_TEST

START_TEST(scopes_in_layer_names) {
  tc_model *m;
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  char out[TC_NAME_MAX];
  ck_assert_int_eq(tc_model_claim_name(m, "x", "gen/up1", out), TC_OK);
  ck_assert_int_eq(tc_model_claim_name(m, "x", "gen/up2", out), TC_OK);
  ck_assert_int_eq(tc_model_claim_name(m, "x", "gen", out), TC_ERR_EXISTS);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "would share the scope 'gen/'"));
  ck_assert_int_eq(tc_model_claim_name(m, "x", "gen/up1/more", out), TC_ERR_EXISTS);
  const char *bad[] = {"/a", "a/", "a//b", "a b"};
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(tc_model_claim_name(m, "x", bad[i], out), TC_ERR_INVALID_ARG);
  tc_model_free(m);
}
END_TEST

START_TEST(a_plain_npz_imports_partially_by_name) {
  tc_model *m;
  tc_conv2d_transpose *l;
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(2, 3, 3);
  c.name = "dec1";
  ck_assert_int_eq(tc_conv2d_transpose_create(&l, m, &c, 4), TC_OK);
  tc_param *k = tc_model_find_param(m, "dec1/kernel"), *b = tc_model_find_param(m, "dec1/bias");
  float kernel[72], other[5] = {1, 2, 3, 4, 5};
  for (int i = 0; i < 72; i++)
    kernel[i] = (float)i * 0.5f;
  int64_t ks[4] = {3, 3, 2, 4}, os[1] = {5};
  tc_npz_entry e[2] = {{"generator/conv2d_transpose/kernel", TC_NPZ_F32, 4, ks, kernel},
                       {"unrelated", TC_NPZ_F32, 1, os, other}};
  char path[256];
  tmp(path, sizeof path, "import");
  ck_assert_int_eq(tc_npz_write(path, e, 2), TC_OK);
  float bias0 = b->value->data[0];
  tc_name_map map[1] = {{"dec1/kernel", "generator/conv2d_transpose/kernel"}};
  int n = -1;
  ck_assert_msg(tc_model_import_npz(m, path, map, 1, &n) == TC_OK, "%s", tc_last_error());
  ck_assert_int_eq(n, 1);
  ck_assert(memcmp(k->value->data, kernel, sizeof kernel) == 0);
  ck_assert(b->value->data[0] == bias0);
  /* the wrong shape, an unknown variable or key: refused, nothing copied */
  k->value->data[0] = 42.0f;
  tc_name_map wrong[1] = {{"dec1/bias", "generator/conv2d_transpose/kernel"}};
  ck_assert_int_eq(tc_model_import_npz(m, path, wrong, 1, &n), TC_ERR_SHAPE);
  ck_assert_int_eq(tc_model_import_npz(m, path, map, 1, NULL), TC_OK);
  k->value->data[0] = 42.0f;
  tc_name_map two[2] = {map[0], wrong[0]};
  ck_assert_int_eq(tc_model_import_npz(m, path, two, 2, &n), TC_ERR_SHAPE);
  ck_assert(k->value->data[0] == 42.0f);
  tc_name_map nov[1] = {{"dec9/kernel", "unrelated"}}, nok[1] = {{"dec1/bias", "nope"}};
  ck_assert_int_eq(tc_model_import_npz(m, path, nov, 1, &n), TC_ERR_NOT_FOUND);
  ck_assert_int_eq(tc_model_import_npz(m, path, nok, 1, &n), TC_ERR_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "no array 'nope'"));
  unlink(path);
  tc_conv2d_transpose_free(l);
  tc_model_free(m);
}
END_TEST

/* PyTorch's definition: out[n, co, i*s+y, j*s+x] += in[n, ci, i, j] * w[ci, co, y, x]
 * (padding 0), against the layer with the converted kernel (valid padding, NHWC). */
START_TEST(torch_conv_transpose_weights_convert_to_tf) {
  enum { N = 2, CIN = 3, COUT = 4, H = 3, W = 2, K = 3, S = 2 };
  const int OH = (H - 1) * S + K, OW = (W - 1) * S + K;
  tc_test_rng r;
  tc_test_rng_init(&r, 9);
  float wt[CIN * COUT * K * K], x[N * CIN * H * W];
  tc_test_fill(&r, wt, CIN * COUT * K * K, -1, 1);
  tc_test_fill(&r, x, N * CIN * H * W, -1, 1);
  double *ref = calloc((size_t)N * COUT * OH * OW, sizeof *ref);
  for (int n = 0; n < N; n++)
    for (int ci = 0; ci < CIN; ci++)
      for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
          for (int co = 0; co < COUT; co++)
            for (int y = 0; y < K; y++)
              for (int xx = 0; xx < K; xx++)
                ref[((n * COUT + co) * OH + i * S + y) * OW + j * S + xx] +=
                    (double)x[((n * CIN + ci) * H + i) * W + j] *
                    wt[((ci * COUT + co) * K + y) * K + xx];
  tc_model *m;
  tc_conv2d_transpose *l;
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  tc_conv2d_transpose_config c = tc_conv2d_transpose_config_default(COUT, K, K);
  c.strides[0] = c.strides[1] = S;
  c.use_bias = 0;
  ck_assert_int_eq(tc_conv2d_transpose_create(&l, m, &c, CIN), TC_OK);
  tc_torch_conv2d_transpose_to_tf(wt, CIN, COUT, K, K, tc_conv2d_transpose_kernel(l)->value->data);
  int64_t xs[4] = {N, H, W, CIN};
  tc_tensor *xt, *y;
  ck_assert_int_eq(tc_tensor_create(&xt, 4, xs), TC_OK);
  for (int n = 0; n < N; n++)
    for (int ci = 0; ci < CIN; ci++)
      for (int i = 0; i < H * W; i++)
        xt->data[(n * H * W + i) * CIN + ci] = x[(n * CIN + ci) * H * W + i];
  tc_graph *g;
  ck_assert_int_eq(tc_graph_create(&g), TC_OK);
  ck_assert_int_eq(tc_conv2d_transpose_forward(l, g, xt, &y), TC_OK);
  ck_assert_int_eq(y->shape[1], OH);
  ck_assert_int_eq(y->shape[2], OW);
  double worst = 0;
  for (int n = 0; n < N; n++)
    for (int co = 0; co < COUT; co++)
      for (int p = 0; p < OH * OW; p++)
        worst = fmax(worst, fabs(y->data[(n * OH * OW + p) * COUT + co] -
                                 ref[(n * COUT + co) * OH * OW + p]));
  ck_assert_msg(worst < 1e-5, "max |tconv - torch| = %g", worst);
  free(ref);
  tc_tensor_free(xt);
  tc_graph_free(g);
  tc_conv2d_transpose_free(l);
  tc_model_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("netfile_ckpt");
  TCase *tc = tcase_create("netfile_ckpt");
  tcase_add_test(tc, a_checkpoint_rebuilds_its_network_alone);
  tcase_add_test(tc, scopes_in_layer_names);
  tcase_add_test(tc, a_plain_npz_imports_partially_by_name);
  tcase_add_test(tc, torch_conv_transpose_weights_convert_to_tf);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
