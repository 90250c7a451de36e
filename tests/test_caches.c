/* test_caches.c — the cache sizes plans read (TCONV_CACHES parsing), and that the choices
 * made from them change how work is cut but never a result's bits. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conv2dt.h"
#include "core/status.h"
#include "core/ukr/caches.h"
#include "support/testutil.h"

START_TEST(cache_strings_are_parsed_strictly) {
  tc_cpu_caches c;
  ck_assert_int_eq(tc_cpu_caches_parse("48K,1M,32M", &c), TC_OK);
  ck_assert_uint_eq(c.l1d, 48u << 10);
  ck_assert_uint_eq(c.l2, 1u << 20);
  ck_assert_uint_eq(c.l3, 32u << 20);
  ck_assert_int_eq(tc_cpu_caches_parse("32768,262144", &c), TC_OK);
  ck_assert_uint_eq(c.l2, 256u << 10);
  ck_assert_uint_eq(c.l3, TC_CACHE_L3_DEFAULT);
  const char *bad[] = {"", "48K", "48K,", "48K,1M,", "48K,1M,32M,1G", "48Q,1M", "x,1M",
                       "48K,1M junk", "1K,1M", "48K,16K", "48K,1G", "-1,1M",
                       "99999999999999999999,1M", "48K,,1M"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_msg(tc_cpu_caches_parse(bad[i], &c) == TC_ERR_INVALID_ARG, "'%s' accepted",
                  bad[i]);
    ck_assert_msg(strstr(tc_last_error(), "TCONV_CACHES"), "'%s': %s", bad[i],
                  tc_last_error());
  }
  ck_assert_int_eq(tc_cpu_caches_parse(NULL, &c), TC_ERR_INVALID_ARG);
}
END_TEST

typedef struct outs {
  float *y, *dx, *dk, *db;
} outs;

static outs run_plan(const tc_conv2dt_plan *q, const float *x, const float *k, const float *b,
                     const float *dy) {
  outs o = {malloc(sizeof(float) * (size_t)q->y_size), malloc(sizeof(float) * (size_t)q->x_size),
            malloc(sizeof(float) * (size_t)q->kernel_size),
            malloc(sizeof(float) * (size_t)q->p.filters)};
  void *ws = malloc(q->workspace_bytes ? q->workspace_bytes : 1);
  ck_assert(o.y && o.dx && o.dk && o.db && ws);
  ck_assert_int_eq(tc_conv2dt_forward(q, x, k, b, o.y, ws), TC_OK);
  ck_assert_int_eq(tc_conv2dt_backward_data(q, dy, k, o.dx, ws), TC_OK);
  ck_assert_int_eq(tc_conv2dt_backward_weights(q, x, dy, o.dk, o.db, ws), TC_OK);
  free(ws);
  return o;
}

/* The plan made for caches c, for shape (n, h, w, c, f, k, stride). */
static tc_conv2dt_plan plan_for(const tc_cpu_caches *c, int64_t n, int h, int w, int ch, int f,
                                int k, int s) {
  tc_cpu_caches_override(c);
  tc_conv2dt_params p = tc_conv2dt_params_default(f, k, k);
  p.stride_h = p.stride_w = s;
  p.padding = TC_PADDING_SAME;
  tc_conv2dt_plan q;
  ck_assert_msg(tc_conv2dt_plan_create(&q, &p, n, h, w, ch) == TC_OK, "%s", tc_last_error());
  tc_cpu_caches_override(NULL);
  return q;
}

/* A small L2 against a large one: fewer rows per igemm chunk, and few-filter backward data
 * streams dx from a smaller size; the same bits. Input rows per band of the few-filter
 * column form would change bits (bands from a 64 KiB against an 8 MiB L2 did), so they
 * stay fixed whatever the caches: the test checks that too. */
START_TEST(cache_sizes_change_no_bits) {
  static const int shapes[][7] = {{8, 16, 16, 64, 96, 4, 2},  /* igemm */
                                  {6, 40, 40, 32, 3, 5, 2},   /* few filters: column form */
                                  {16, 28, 28, 64, 8, 2, 2}}; /* streams dx (3.2 MB, K 32)
                                                                 on the small L2 only */
  const tc_cpu_caches small = {32 << 10, 64 << 10, 1 << 20};
  const tc_cpu_caches large = {48 << 10, 8 << 20, 64 << 20};
  int mc_differs = 0, stream_differs = 0;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    const int *s = shapes[i];
    tc_conv2dt_plan a = plan_for(&small, s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
    tc_conv2dt_plan b = plan_for(&large, s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
    mc_differs |= a.mc != b.mc;
    ck_assert_int_eq(a.fcol, b.fcol);
    stream_differs |= a.stream_bytes != b.stream_bytes;
    tc_test_rng r;
    tc_test_rng_init(&r, 500 + i);
    float *x = malloc(sizeof(float) * (size_t)a.x_size);
    float *k = malloc(sizeof(float) * (size_t)a.kernel_size);
    float *bias = malloc(sizeof(float) * (size_t)a.p.filters);
    float *dy = malloc(sizeof(float) * (size_t)a.y_size);
    ck_assert(x && k && bias && dy);
    tc_test_fill(&r, x, a.x_size, -1.0f, 1.0f);
    tc_test_fill(&r, k, a.kernel_size, -1.0f, 1.0f);
    tc_test_fill(&r, bias, a.p.filters, -1.0f, 1.0f);
    tc_test_fill(&r, dy, a.y_size, -1.0f, 1.0f);
    outs oa = run_plan(&a, x, k, bias, dy), ob = run_plan(&b, x, k, bias, dy);
    ck_assert_msg(!memcmp(oa.y, ob.y, sizeof(float) * (size_t)a.y_size), "shape %zu: y", i);
    ck_assert_msg(!memcmp(oa.dx, ob.dx, sizeof(float) * (size_t)a.x_size), "shape %zu: dx", i);
    ck_assert_msg(!memcmp(oa.dk, ob.dk, sizeof(float) * (size_t)a.kernel_size), "shape %zu: dk",
                  i);
    ck_assert_msg(!memcmp(oa.db, ob.db, sizeof(float) * (size_t)a.p.filters), "shape %zu: db",
                  i);
    free(oa.y), free(oa.dx), free(oa.dk), free(oa.db);
    free(ob.y), free(ob.dx), free(ob.dk), free(ob.db);
    free(x), free(k), free(bias), free(dy);
  }
  ck_assert_msg(mc_differs && stream_differs, "the two cache sizes made the same choices "
                "(chunk rows %d, streaming %d): the test compares nothing", mc_differs,
                stream_differs);
}
END_TEST

START_TEST(plans_name_their_caches) {
  const tc_cpu_caches c = {48 << 10, 2 << 20, 32 << 20};
  tc_conv2dt_plan q = plan_for(&c, 4, 8, 8, 64, 64, 3, 2);
  char buf[512];
  ck_assert_ptr_nonnull(strstr(tc_conv2dt_plan_describe(&q, buf, sizeof buf), "l2=2048K mc="));
  ck_assert_uint_eq(q.cache_l2, 2u << 20);
}
END_TEST

int main(void) {
  Suite *s = suite_create("caches");
  TCase *tc = tcase_create("caches");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, cache_strings_are_parsed_strictly);
  tcase_add_test(tc, cache_sizes_change_no_bits);
  tcase_add_test(tc, plans_name_their_caches);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
