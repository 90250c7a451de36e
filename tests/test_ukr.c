/* test_ukr.c — the micro-kernels themselves, on every instruction set this CPU runs, against
 * a double loop: every tile edge (rows 1-6, columns 1-32, one and two panels), A read in
 * place and packed, odd and even kc, one and three (A, B) pairs, added to C and stored over
 * it; nothing outside the tile may change and no B column past the tile may be read.
 * The dot kernel likewise for 1-4 filters, every pixel count and channel tails, and the
 * wide kernel for rows 1-6, columns 1-64, 1-5 pairs, A steps 1-6, B packed and in place,
 * C stored, added and streamed. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/conv2dt_internal.h"
#include "support/testutil.h"

#define SENTINEL 1234.5f
#define LDC 80 /* C rows wider than a tile (and 64-byte multiples): the columns past n must
                  stay as they are */

/* Sums of at most 64 products of values in [-1, 1): float error ~1e-6. */
static void expect_close(double got, double want, const char *what, int r, int j) {
  ck_assert_msg(fabs(got - want) <= 1e-5 + 1e-5 * fabs(want), "%s[%d][%d] = %.9g, want %.9g",
                what, r, j, got, want);
}

/* 1 for an element outside the m x n tile, which must still hold the sentinel. */
static int outside_tile(float v, int r, int j, int m, int n) {
  if (r < m && j < n)
    return 0;
  ck_assert_msg(v == SENTINEL, "c[%d][%d] outside the %dx%d tile changed", r, j, m, n);
  return 1;
}

/* One call: nt pairs of kc x (m rows, n columns). packed: A as an MR-interleaved panel
 * (step MR) and B as packed panels far apart; else A rows and B rows read in place, B
 * exactly kc rows of n columns in its own allocation (so a read past column n would leave
 * it: the sanitizer build catches that). */
static void check_gemm_call(tc_gemm_ukr_fn ukr, int nt, int kc, int m, int n, int packed,
                            int add, tc_test_rng *rng) {
  enum { MR = TC_GEMM_MR, NR = TC_GEMM_NR, NT = 3 };
  const int ks = packed ? MR : 1;
  const ptrdiff_t bs = packed ? NR : n, ps = packed ? kc * NR + 8 : NR;
  const size_t bsize = packed ? (size_t)(2 * ps) : (size_t)(kc * n);
  float *a = malloc(sizeof(float) * (size_t)(NT * MR * kc));
  float *bbuf[NT];
  float c[MR][LDC];
  tc_test_fill(rng, a, NT * MR * kc, -1, 1);
  const float *rows[NT * MR], *bt[NT];
  float *crow[MR];
  for (int t = 0; t < nt; t++) {
    bbuf[t] = malloc(sizeof(float) * bsize);
    tc_test_fill(rng, bbuf[t], (int64_t)bsize, -1, 1);
    bt[t] = bbuf[t];
    const float *at = a + (ptrdiff_t)t * MR * kc;
    for (int r = 0; r < MR; r++) {
      int src = r < m ? r : 0; /* rows past m repeat a row, as callers do */
      rows[t * MR + r] = packed ? at + src : at + (ptrdiff_t)src * kc;
    }
  }
  for (int r = 0; r < MR; r++) {
    crow[r] = c[r];
    for (int j = 0; j < LDC; j++)
      c[r][j] = r < m && j < n ? 0.25f * (float)j : SENTINEL;
  }
  ukr(nt, kc, rows, ks, bt, bs, ps, crow, m, n, add);
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < LDC; j++) {
      if (outside_tile(c[r][j], r, j, m, n))
        continue;
      double want = add ? 0.25 * j : 0.0;
      for (int t = 0; t < nt; t++)
        for (int k = 0; k < kc; k++)
          want += (double)rows[t * MR + r][k * ks] * bt[t][(j < NR ? 0 : ps) + k * bs + j % NR];
      expect_close(c[r][j], want, "c", r, j);
    }
  for (int t = 0; t < nt; t++)
    free(bbuf[t]);
  free(a);
}

static int set_isa_or_skip(tc_isa isa) {
  if (tc_conv2dt_set_isa((int)isa) == isa)
    return 1;
  tc_conv2dt_set_isa(-1); /* the CPU lacks it: the narrower ISAs' tests still run */
  return 0;
}

static void gemm_edges(tc_isa isa) {
  if (!set_isa_or_skip(isa))
    return;
  tc_gemm_ukr_fn ukr = tc_gemm_ukr();
  tc_test_rng rng;
  tc_test_rng_init(&rng, 11);
  static const int kcs[] = {1, 2, 3, 16, 37};
  for (int ki = 0; ki < 5; ki++)
    for (int m = 1; m <= TC_GEMM_MR; m++)
      for (int n = 1; n <= TC_GEMM_NC; n++)
        for (int packed = 0; packed < 2; packed++)
          for (int nt = 1; nt <= 3; nt += 2)
            check_gemm_call(ukr, nt, kcs[ki], m, n, packed, (m + n + nt) % 2, &rng);
  tc_conv2dt_set_isa(-1);
}

/* One wide call: nt pairs of kc steps, A rows as apart per pair and ks per step; B packed
 * (panels ps apart, with a gap) or read in place (ps = 16, rows bs = n + 3 apart, the
 * allocation ending at the last element the tile may read). */
static void check_wide_call(tc_wide_ukr_fn wide, int nt, int kc, int ks, int m, int n,
                            int packed, int add, tc_test_rng *rng) {
  enum { MR = TC_GEMM_MR, NR = TC_GEMM_NR };
  const int npan = (n + NR - 1) / NR;
  const ptrdiff_t as = (ptrdiff_t)kc * ks + 3;
  tc_wide_steps st = {nt, kc, as, ks, NULL, 0, 0, 0};
  st.bs = packed ? NR : n + 3;
  st.bt = packed ? (ptrdiff_t)kc * NR : (ptrdiff_t)kc * st.bs;
  st.ps = packed ? (ptrdiff_t)nt * kc * NR + 8 : NR;
  const size_t bsize = packed ? (size_t)(npan * st.ps)
                               : (size_t)((nt - 1) * st.bt + (kc - 1) * st.bs + n);
  float *a = malloc(sizeof(float) * (size_t)(MR * nt * as));
  float *b = malloc(sizeof(float) * bsize);
  _Alignas(64) float c[MR][LDC]; /* aligned rows: TC_WIDE_STREAM streams them */
  tc_test_fill(rng, a, MR * nt * as, -1, 1);
  tc_test_fill(rng, b, (int64_t)bsize, -1, 1);
  st.b = b;
  const float *rows[MR];
  float *crow[MR];
  for (int r = 0; r < MR; r++) {
    rows[r] = a + (ptrdiff_t)(r < m ? r : 0) * nt * as; /* rows past m repeat a row */
    crow[r] = c[r];
    for (int j = 0; j < LDC; j++)
      c[r][j] = r < m && j < n ? 0.25f * (float)j : SENTINEL;
  }
  wide(&st, rows, crow, m, n, add);
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < LDC; j++) {
      if (outside_tile(c[r][j], r, j, m, n))
        continue;
      double want = add == 1 ? 0.25 * j : 0.0;
      for (int t = 0; t < nt; t++)
        for (int k = 0; k < kc; k++)
          want += (double)rows[r][t * as + k * ks] *
                  b[t * st.bt + k * st.bs + (j / NR) * st.ps + j % NR];
      expect_close(c[r][j], want, "c", r, j);
    }
  free(b);
  free(a);
}

static void wide_edges(tc_isa isa) {
  if (!set_isa_or_skip(isa))
    return;
  tc_wide_ukr_fn wide = tc_wide_ukr();
  tc_test_rng rng;
  tc_test_rng_init(&rng, 13);
  static const int shapes[][3] = {{1, 1, 1}, {1, 16, 1}, {3, 4, 2}, {4, 4, 1}, {5, 15, 6}};
  for (int si = 0; si < 5; si++)
    for (int m = 1; m <= TC_GEMM_MR; m++)
      for (int n = 1; n <= TC_WIDE_NW; n++)
        for (int packed = 0; packed < 2; packed++)
          check_wide_call(wide, shapes[si][0], shapes[si][1], shapes[si][2], m, n, packed,
                          (m + n + si) % 3, &rng); /* store, add, stream */
  tc_conv2dt_set_isa(-1);
}

/* nt taps, kc channels, nf filters, np pixels of the kernel's P. */
static void check_dot_call(tc_dot_ukr_fn dot, int nt, int kc, int nf, int np,
                           tc_test_rng *rng) {
  const int P = tc_dot_rows(nf), ldb = kc + 3;
  float *x = malloc(sizeof(float) * (size_t)(nt * P * kc));
  float *w = malloc(sizeof(float) * (size_t)(nt * nf * ldb));
  tc_test_fill(rng, x, nt * P * kc, -1, 1);
  tc_test_fill(rng, w, nt * nf * ldb, -1, 1);
  const float *a[8 * 4], *bk[4];
  float y[8][TC_DOT_MAXF + 1];
  float *yp[8];
  for (int t = 0; t < nt; t++) {
    bk[t] = w + (ptrdiff_t)t * nf * ldb;
    for (int p = 0; p < P; p++)
      a[t * P + p] = x + ((ptrdiff_t)t * P + (p < np ? p : 0)) * kc;
  }
  for (int p = 0; p < 8; p++) {
    yp[p] = y[p];
    for (int f = 0; f <= TC_DOT_MAXF; f++)
      y[p][f] = p < np && f < nf ? 0.5f : SENTINEL;
  }
  dot(nt, kc, a, bk, ldb, nf, yp, np);
  for (int p = 0; p < 8; p++)
    for (int f = 0; f <= TC_DOT_MAXF; f++) {
      if (p >= np || f >= nf) {
        ck_assert_msg(y[p][f] == SENTINEL, "y[%d][%d] outside %d pixels x %d filters changed",
                      p, f, np, nf);
        continue;
      }
      double want = 0.5;
      for (int t = 0; t < nt; t++)
        for (int k = 0; k < kc; k++)
          want += (double)a[t * P + p][k] * bk[t][f * ldb + k];
      expect_close(y[p][f], want, "y", p, f);
    }
  free(x), free(w);
}

static void dot_edges(tc_isa isa) {
  if (!set_isa_or_skip(isa))
    return;
  tc_dot_ukr_fn dot = tc_dot_ukr();
  tc_test_rng rng;
  tc_test_rng_init(&rng, 12);
  static const int kcs[] = {1, 7, 8, 15, 16, 17, 33, 56};
  for (int ki = 0; ki < 8; ki++)
    for (int nf = 1; nf <= TC_DOT_MAXF; nf++)
      for (int np = 1; np <= tc_dot_rows(nf); np++)
        for (int nt = 1; nt <= 3; nt += 2)
          check_dot_call(dot, nt, kcs[ki], nf, np, &rng);
  tc_conv2dt_set_isa(-1);
}

START_TEST(gemm_portable) { gemm_edges(TC_ISA_PORTABLE); }
END_TEST
START_TEST(gemm_avx2) { gemm_edges(TC_ISA_AVX2); }
END_TEST
START_TEST(gemm_avx512) { gemm_edges(TC_ISA_AVX512); }
END_TEST
START_TEST(dot_portable) { dot_edges(TC_ISA_PORTABLE); }
END_TEST
START_TEST(dot_avx2) { dot_edges(TC_ISA_AVX2); }
END_TEST
START_TEST(dot_avx512) { dot_edges(TC_ISA_AVX512); }
END_TEST

START_TEST(wide_portable) { wide_edges(TC_ISA_PORTABLE); }
END_TEST
START_TEST(wide_avx2) { wide_edges(TC_ISA_AVX2); }
END_TEST
START_TEST(wide_avx512) { wide_edges(TC_ISA_AVX512); }
END_TEST

/* The environment's ceiling and the names. */
START_TEST(isa_choice_follows_the_ceiling) {
  tc_isa widest = tc_conv2dt_set_isa(TC_ISA_AVX512);
  ck_assert_int_eq(tc_conv2dt_set_isa(TC_ISA_PORTABLE), TC_ISA_PORTABLE);
  ck_assert_str_eq(tc_conv2dt_kernel_isa(), "portable");
  ck_assert_int_le(tc_conv2dt_set_isa(TC_ISA_AVX2), TC_ISA_AVX2);
  ck_assert_int_le(tc_conv2dt_set_isa(TC_ISA_AVX2), widest);
  ck_assert_str_eq(tc_isa_name(TC_ISA_AVX512), "avx512");
  tc_conv2dt_set_isa(-1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("ukr");
  TCase *tc = tcase_create("kernels");
  tcase_add_test(tc, gemm_portable);
  tcase_add_test(tc, gemm_avx2);
  tcase_add_test(tc, gemm_avx512);
  tcase_add_test(tc, dot_portable);
  tcase_add_test(tc, dot_avx2);
  tcase_add_test(tc, dot_avx512);
  tcase_add_test(tc, wide_portable);
  tcase_add_test(tc, wide_avx2);
  tcase_add_test(tc, wide_avx512);
  tcase_add_test(tc, isa_choice_follows_the_ceiling);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
