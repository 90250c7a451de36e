/* test_ukr.c — the micro-kernels themselves, on every instruction set this CPU runs, against
 * a double loop: every tile edge (rows 1-6, columns 1-32, one and two panels), A read in
 * place and packed, odd and even kc, one and three (A, B) pairs, added to C and stored over
 * it; nothing outside the tile may change and no B column past the tile may be read.
 * The dot kernel likewise for 1-4 filters, every pixel count and channel tails, and the
 * wide kernel for rows 1-6, columns 1-64, 1-5 pairs, A steps 1-6, B packed and in place,
 * C stored, added and streamed; the column sums and the sigmoid and tanh loops bit for bit
 * against their contracts. Each call's elements are checked whole and the worst
 * one asserted once (a Check assertion per element made the suite 25 times slower). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/act_math.h"
#include "core/ukr/ukr.h"
#include "support/testutil.h"

#define SENTINEL 1234.5f
#define LDC 80 /* C rows wider than a tile (and 64-byte multiples): the columns past n must
                  stay as they are */

/* A call's worst element: the largest excess over the tolerance (sums of at most 64
 * products of values in [-1, 1): float error ~1e-6), and the first element outside the
 * tile that no longer holds the sentinel. */
typedef struct worst {
  double excess, got, want;
  int r, j, changed, cr, cj;
} worst;

static worst worst_none(void) {
  worst w = {-INFINITY, 0, 0, 0, 0, 0, 0, 0};
  return w;
}

static void note_close(worst *w, double got, double want, int r, int j) {
  double e = fabs(got - want) - (1e-5 + 1e-5 * fabs(want));
  if (!(e <= w->excess)) /* NaN counts as the worst */
    w->excess = isnan(e) ? INFINITY : e, w->got = got, w->want = want, w->r = r, w->j = j;
}

/* 1 for an element outside the m x n tile, which must still hold the sentinel. */
static int outside_tile(worst *w, float v, int r, int j, int m, int n) {
  if (r < m && j < n)
    return 0;
  if (v != SENTINEL && !w->changed)
    w->changed = 1, w->cr = r, w->cj = j;
  return 1;
}

static void expect_worst(const worst *w, const char *what, int m, int n) {
  ck_assert_msg(!w->changed, "%s[%d][%d] outside the %dx%d tile changed", what, w->cr, w->cj,
                m, n);
  ck_assert_msg(w->excess <= 0.0, "%s[%d][%d] = %.9g, want %.9g", what, w->r, w->j, w->got,
                w->want);
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
  worst w = worst_none();
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < LDC; j++) {
      if (outside_tile(&w, c[r][j], r, j, m, n))
        continue;
      double want = add ? 0.25 * j : 0.0;
      for (int t = 0; t < nt; t++)
        for (int k = 0; k < kc; k++)
          want += (double)rows[t * MR + r][k * ks] * bt[t][(j < NR ? 0 : ps) + k * bs + j % NR];
      note_close(&w, c[r][j], want, r, j);
    }
  expect_worst(&w, "c", m, n);
  for (int t = 0; t < nt; t++)
    free(bbuf[t]);
  free(a);
}

/* The table of isa, or NULL where the CPU lacks it (the narrower ISAs' tests still run). */
static const tc_ukr_table *table_or_skip(tc_isa isa) { return tc_ukr_for(isa); }

static void gemm_edges(tc_isa isa) {
  const tc_ukr_table *table = table_or_skip(isa);
  if (!table)
    return;
  tc_gemm_ukr_fn ukr = table->gemm;
  tc_test_rng rng;
  tc_test_rng_init(&rng, 11);
  static const int kcs[] = {1, 2, 3, 16, 37};
  for (int ki = 0; ki < 5; ki++)
    for (int m = 1; m <= TC_GEMM_MR; m++)
      for (int n = 1; n <= TC_GEMM_NC; n++)
        for (int packed = 0; packed < 3; packed++)
          for (int nt = 1; nt <= 3; nt += 2)
            check_gemm_call(ukr, nt, kcs[ki], m, n, packed, (m + n + nt) % 2, &rng);
}

/* One wide call: nt pairs of kc steps, A rows as apart per pair and ks per step; B packed
 * (panels ps apart, with a gap; packed = 2: a gap of one row between pairs too) or read in
 * place (ps = 16, rows bs = n + 3 apart, the allocation ending at the last element the tile
 * may read). */
static void check_wide_call(tc_wide_ukr_fn wide, tc_gemm_ukr_fn twin, int nt, int kc, int ks,
                            int m, int n, int packed, int add, tc_test_rng *rng) {
  enum { MR = TC_GEMM_MR, NR = TC_GEMM_NR };
  const int npan = (n + NR - 1) / NR;
  const ptrdiff_t as = (ptrdiff_t)kc * ks + 3;
  tc_wide_steps st = {nt, kc, as, ks, NULL, 0, 0, 0};
  st.bs = packed ? NR : n + 3;
  st.bt = packed ? (ptrdiff_t)(kc + (packed == 2)) * NR : (ptrdiff_t)kc * st.bs;
  st.ps = packed ? (ptrdiff_t)nt * st.bt + 8 : NR;
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
  _Alignas(64) float c2[MR][LDC];
  float *crow2[MR];
  for (int r = 0; r < MR; r++)
    crow2[r] = memcpy(c2[r], c[r], sizeof c[r]);
  wide(&st, rows, crow, m, n, add);
  if (twin) { /* the same bits as the GEMM kernel over the same pairs */
    tc_wide_by_gemm(twin, &st, rows, crow2, m, n, add);
    for (int r = 0; r < MR; r++)
      ck_assert_msg(memcmp(c[r], c2[r], sizeof c[r]) == 0,
                    "wide and tc_wide_by_gemm differ: row %d, nt %d kc %d ks %d m %d n %d "
                    "packed %d add %d", r, nt, kc, ks, m, n, packed, add);
  }
  worst w = worst_none();
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < LDC; j++) {
      if (outside_tile(&w, c[r][j], r, j, m, n))
        continue;
      double want = add == 1 ? 0.25 * j : 0.0;
      for (int t = 0; t < nt; t++)
        for (int k = 0; k < kc; k++)
          want += (double)rows[r][t * as + k * ks] *
                  b[t * st.bt + k * st.bs + (j / NR) * st.ps + j % NR];
      note_close(&w, c[r][j], want, r, j);
    }
  expect_worst(&w, "c", m, n);
  free(b);
  free(a);
}

static void wide_edges(tc_isa isa) {
  const tc_ukr_table *table = table_or_skip(isa);
  if (!table)
    return;
  tc_wide_ukr_fn wide = table->wide;
  tc_test_rng rng;
  tc_test_rng_init(&rng, 13);
  static const int shapes[][3] = {{1, 1, 1}, {1, 16, 1}, {3, 4, 2}, {4, 4, 1}, {5, 15, 6},
                                  {1, 256, 1}}; /* the last: igemm's long-K taps (KC) */
  for (int si = 0; si < 6; si++)
    for (int m = 1; m <= TC_GEMM_MR; m++)
      for (int n = 1; n <= TC_WIDE_NW; n++) {
        /* AVX-512's GEMM splits a single last 16-column panel's chains (its 6x16 tile);
         * wherever it does not, the wide 6x64 tile must give its bits: igemm hands it whole
         * 64-column groups in place of two 6x32 calls. */
        int split = isa == TC_ISA_AVX512 && n % 32 != 0 && n % 32 <= 16;
        tc_gemm_ukr_fn twin = split ? NULL : table->gemm;
        for (int packed = 0; packed < 3; packed++)
          check_wide_call(wide, twin, shapes[si][0], shapes[si][1], shapes[si][2], m, n,
                          packed, (m + n + si) % 3, &rng); /* store, add, stream */
      }
}

/* nt taps, kc channels, nf filters, np pixels of the kernel's P. */
static void check_dot_call(tc_dot_ukr_fn dot, int nt, int kc, int nf, int np,
                           tc_test_rng *rng) {
  const int P = tc_dot_rows(nf), ldb = kc + 3;
  float *x = malloc(sizeof(float) * (size_t)(nt * P * kc));
  float *wt = malloc(sizeof(float) * (size_t)(nt * nf * ldb));
  tc_test_fill(rng, x, nt * P * kc, -1, 1);
  tc_test_fill(rng, wt, nt * nf * ldb, -1, 1);
  const float *a[8 * 4], *bk[4];
  float y[8][TC_DOT_MAXF + 1];
  float *yp[8];
  for (int t = 0; t < nt; t++) {
    bk[t] = wt + (ptrdiff_t)t * nf * ldb;
    for (int p = 0; p < P; p++)
      a[t * P + p] = x + ((ptrdiff_t)t * P + (p < np ? p : 0)) * kc;
  }
  for (int p = 0; p < 8; p++) {
    yp[p] = y[p];
    for (int f = 0; f <= TC_DOT_MAXF; f++)
      y[p][f] = p < np && f < nf ? 0.5f : SENTINEL;
  }
  dot(nt, kc, a, bk, ldb, nf, yp, np);
  worst w = worst_none();
  for (int p = 0; p < 8; p++)
    for (int f = 0; f <= TC_DOT_MAXF; f++) {
      if (outside_tile(&w, y[p][f], p, f, np, nf))
        continue;
      double want = 0.5;
      for (int t = 0; t < nt; t++)
        for (int k = 0; k < kc; k++)
          want += (double)a[t * P + p][k] * bk[t][f * ldb + k];
      note_close(&w, y[p][f], want, p, f);
    }
  expect_worst(&w, "y", np, nf);
  free(x), free(wt);
}

/* gemm64 over 64 columns against two gemm calls of 32 (B's panels 2 * ps further on for the
 * second): the same bits, packed or in place, storing or adding; and so against the
 * reference through the gemm tests. */
static void check_gemm64_call(const tc_ukr_table *t, int nt, int kc, int m, int packed,
                              int add, tc_test_rng *rng) {
  enum { MR = TC_GEMM_MR, NR = TC_GEMM_NR, NT = 3, N = 4 * TC_GEMM_NR };
  const int ks = packed ? MR : 1;
  const ptrdiff_t bs = packed ? NR : N, ps = packed ? kc * NR + 8 : NR;
  const size_t bsize = packed ? (size_t)(4 * ps) : (size_t)(kc * N);
  float *a = malloc(sizeof(float) * (size_t)(NT * MR * kc)), *bbuf[NT];
  const float *rows[NT * MR], *bt[NT], *bt2[NT];
  tc_test_fill(rng, a, NT * MR * kc, -1, 1);
  for (int q = 0; q < nt; q++) {
    bbuf[q] = malloc(sizeof(float) * bsize);
    tc_test_fill(rng, bbuf[q], (int64_t)bsize, -1, 1);
    bt[q] = bbuf[q], bt2[q] = bbuf[q] + 2 * ps;
    for (int r = 0; r < MR; r++)
      rows[q * MR + r] = a + (ptrdiff_t)q * MR * kc + (packed ? (r < m ? r : 0)
                                                              : (ptrdiff_t)(r < m ? r : 0) * kc);
  }
  float c[MR][LDC], c2[MR][LDC], *crow[MR], *crow2[MR], *crow2h[MR];
  for (int r = 0; r < MR; r++) {
    for (int j = 0; j < LDC; j++)
      c[r][j] = c2[r][j] = r < m && j < N ? 0.25f * (float)j : SENTINEL;
    crow[r] = c[r], crow2[r] = c2[r], crow2h[r] = c2[r] + 2 * NR;
  }
  t->gemm64(nt, kc, rows, ks, bt, bs, ps, crow, m, add);
  t->gemm(nt, kc, rows, ks, bt, bs, ps, crow2, m, 2 * NR, add);
  t->gemm(nt, kc, rows, ks, bt2, bs, ps, crow2h, m, 2 * NR, add);
  for (int r = 0; r < MR; r++)
    ck_assert_msg(memcmp(c[r], c2[r], sizeof c[r]) == 0, "%s gemm64 and gemm differ: row %d, "
                  "nt %d kc %d m %d packed %d add %d", t->name, r, nt, kc, m, packed, add);
  for (int q = 0; q < nt; q++)
    free(bbuf[q]);
  free(a);
}

START_TEST(gemm64_gives_the_bits_of_gemm) {
  tc_test_rng rng;
  tc_test_rng_init(&rng, 14);
  int tested = 0;
  for (tc_isa isa = TC_ISA_PORTABLE; isa < TC_ISA_COUNT; isa++) {
    const tc_ukr_table *t = tc_ukr_for(isa);
    if (!t || !t->gemm64)
      continue;
    static const int kcs[] = {1, 7, 64, 256};
    for (int ki = 0; ki < 4; ki++)
      for (int m = 1; m <= TC_GEMM_MR; m++)
        for (int nt = 1; nt <= 3; nt++)
          for (int packed = 0; packed < 3; packed++)
            check_gemm64_call(t, nt, kcs[ki], m, packed, (m + nt + ki) % 2, &rng);
    tested++;
  }
  /* AVX-512 has one; where the CPU has none of the tables that do, nothing to compare */
  ck_assert(tested > 0 || tc_ukr_for(TC_ISA_AVX512) == NULL);
}
END_TEST

/* The tables of the ISAs this CPU runs, portable first; returns how many. */
static int cpu_tables(const tc_ukr_table *out[TC_ISA_COUNT]) {
  int count = 0;
  for (tc_isa isa = TC_ISA_PORTABLE; isa < TC_ISA_COUNT; isa++)
    if (tc_ukr_for(isa) != NULL)
      out[count++] = tc_ukr_for(isa);
  return count;
}

/* The bias gradient's column sums: every table's gives the bits of the contract written
 * out here (four chains by row mod 4, in row order, then (s0 + s1) + (s2 + s3)), for
 * ranges that start and end anywhere in a chain and widths around the vector lanes. */
START_TEST(colsum_is_the_contract_on_every_isa) {
  enum { ROWS = 203, LD = 300 };
  float *v = malloc(sizeof(float) * ROWS * LD);
  ck_assert_ptr_nonnull(v);
  tc_test_rng rng;
  tc_test_rng_init(&rng, 15);
  tc_test_fill(&rng, v, ROWS * LD, -1.0f, 1.0f);
  for (int i = 0; i < ROWS * LD; i++) /* magnitudes 2^-40 .. 2^40: double sums round, so */
    v[i] = ldexpf(v[i], (i * 37) % 81 - 40); /* another order gives other bits */
  static const int widths[] = {1, 3, 8, 13, 16, 33, 64, 255, TC_COLSUM_MAXN};
  static const int64_t ranges[][2] = {{0, ROWS}, {1, 2}, {5, 6}, {3, 150}, {7, 8}, {2, 203}};
  const tc_ukr_table *tables[TC_ISA_COUNT];
  int count = cpu_tables(tables);
  for (int ti = 0; ti < count; ti++) {
    const tc_ukr_table *t = tables[ti];
    for (int wi = 0; wi < 9; wi++)
      for (int ri = 0; ri < 6; ri++) {
        int n = widths[wi];
        int64_t p0 = ranges[ri][0], p1 = ranges[ri][1];
        double got[TC_COLSUM_MAXN], want[TC_COLSUM_MAXN];
        t->colsum(v + (wi % 3), LD, p0, p1, n, got);
        for (int k = 0; k < n; k++) {
          double c[4] = {0.0, 0.0, 0.0, 0.0};
          for (int64_t p = p0; p < p1; p++)
            c[p & 3] += v[p * LD + wi % 3 + k];
          want[k] = (c[0] + c[1]) + (c[2] + c[3]);
        }
        ck_assert_msg(memcmp(got, want, sizeof(double) * (size_t)n) == 0,
                      "%s colsum: n %d rows [%lld, %lld)", t->name, n, (long long)p0,
                      (long long)p1);
      }
  }
  ck_assert_int_gt(count, 0);
  free(v);
}
END_TEST

/* sigmoid and tanh: every table's loop gives the bits of core/act_math.h's element
 * function (compiled here, baseline), for lengths around every vector width and in place,
 * on values across the range: zeros, the polynomial's edge, overflow, infinities, NaN. */
START_TEST(smooth_gives_the_bits_of_act_math_on_every_isa) {
  enum { N = 301 };
  static const float special[] = {0.0f,  -0.0f,    0.625f,   -0.625f,    1e-30f,  -1e-40f,
                                  43.6f, -43.7f,   87.4f,    -88.0f,     1e30f,   -1e30f,
                                  INFINITY, -INFINITY, NAN,   0.6249999f, 20.0f,  -9.5f};
  float z[N], got[N], want[N];
  tc_test_rng rng;
  tc_test_rng_init(&rng, 16);
  tc_test_fill(&rng, z, N, -1.0f, 1.0f);
  for (int i = 0; i < N; i++)
    z[i] = i < (int)(sizeof special / sizeof *special) ? special[i] : ldexpf(z[i], i % 9 - 2);
  static const int lengths[] = {1, 3, 7, 8, 9, 15, 16, 17, 33, N};
  const tc_ukr_table *tables[TC_ISA_COUNT];
  int count = cpu_tables(tables);
  for (int ti = 0; ti < count; ti++) {
    const tc_ukr_table *t = tables[ti];
    for (int f = 0; f < 2; f++)
      for (int li = 0; li < 10; li++) {
        int n = lengths[li], start = li % 3; /* unaligned starts too */
        if (start + n > N)
          start = 0;
        for (int i = 0; i < n; i++)
          want[i] = f ? tc_tanh(z[start + i]) : tc_sigmoid(z[start + i]);
        (f ? t->tanh : t->sigmoid)(z + start, got, n);
        ck_assert_msg(memcmp(got, want, sizeof(float) * (size_t)n) == 0, "%s %s: n %d",
                      t->name, f ? "tanh" : "sigmoid", n);
        memcpy(got, z + start, sizeof(float) * (size_t)n);
        (f ? t->tanh : t->sigmoid)(got, got, n);
        ck_assert_msg(memcmp(got, want, sizeof(float) * (size_t)n) == 0,
                      "%s %s in place: n %d", t->name, f ? "tanh" : "sigmoid", n);
      }
  }
  ck_assert_int_gt(count, 0);
}
END_TEST

static void dot_edges(tc_isa isa) {
  const tc_ukr_table *table = table_or_skip(isa);
  if (!table)
    return;
  tc_dot_ukr_fn dot = table->dot;
  tc_test_rng rng;
  tc_test_rng_init(&rng, 12);
  static const int kcs[] = {1, 7, 8, 15, 16, 17, 33, 56};
  for (int ki = 0; ki < 8; ki++)
    for (int nf = 1; nf <= TC_DOT_MAXF; nf++)
      for (int np = 1; np <= tc_dot_rows(nf); np++)
        for (int nt = 1; nt <= 3; nt += 2)
          check_dot_call(dot, nt, kcs[ki], nf, np, &rng);
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

/* The tables: one per ISA the CPU runs, capped at the CPU, with their names. */
START_TEST(isa_tables_follow_the_cpu) {
  ck_assert_ptr_eq(tc_ukr_for(TC_ISA_PORTABLE), &tc_ukr_portable);
  const tc_ukr_table *widest = tc_ukr_capped(TC_ISA_AVX512);
  ck_assert_ptr_eq(tc_ukr_for(widest->isa), widest);
  ck_assert_ptr_eq(tc_ukr_capped(TC_ISA_PORTABLE), &tc_ukr_portable);
  ck_assert_int_le(tc_ukr_capped(TC_ISA_AVX2)->isa, TC_ISA_AVX2);
  ck_assert_ptr_null(tc_ukr_for((tc_isa)TC_ISA_COUNT));
  ck_assert_str_eq(tc_isa_name(TC_ISA_AVX512), "avx512");
  ck_assert_str_eq(tc_isa_name(TC_ISA_PORTABLE), "portable");
  for (int i = 0; i < TC_ISA_COUNT; i++) {
    const tc_ukr_table *t = tc_ukr_capped((tc_isa)i);
    ck_assert(t->gemm && t->wide && t->dot);
  }
}
END_TEST

/* The environment's ceiling: the three names, TCONV_FORCE_PORTABLE=1 over any TCONV_ISA,
 * unset or empty for none, and any other value an error that names it and the accepted
 * ones (docs/bad-input.md). */
START_TEST(isa_environment_is_parsed_strictly) {
  tc_isa cap;
  ck_assert_int_eq(tc_ukr_parse_env(NULL, "avx2", &cap), TC_OK);
  ck_assert_int_eq(cap, TC_ISA_AVX2);
  ck_assert_int_eq(tc_ukr_parse_env(NULL, "portable", &cap), TC_OK);
  ck_assert_int_eq(cap, TC_ISA_PORTABLE);
  ck_assert_int_eq(tc_ukr_parse_env(NULL, "avx512", &cap), TC_OK);
  ck_assert_int_eq(cap, TC_ISA_AVX512);
  ck_assert_int_eq(tc_ukr_parse_env(NULL, NULL, &cap), TC_OK);
  ck_assert_int_eq(cap, TC_ISA_AVX512);
  ck_assert_int_eq(tc_ukr_parse_env(NULL, "", &cap), TC_OK);
  ck_assert_int_eq(cap, TC_ISA_AVX512);
  ck_assert_int_eq(tc_ukr_parse_env("1", "avx3", &cap), TC_OK);
  ck_assert_int_eq(cap, TC_ISA_PORTABLE);
  static const char *bad[] = {"avx3", "AVX2", "sse", " avx2", "widest"};
  for (int i = 0; i < 5; i++) {
    ck_assert_int_eq(tc_ukr_parse_env(NULL, bad[i], &cap), TC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(tc_last_error(), bad[i]));
    ck_assert_ptr_nonnull(strstr(tc_last_error(), "'portable', 'avx2', 'avx512'"));
  }
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
  tcase_add_test(tc, gemm64_gives_the_bits_of_gemm);
  tcase_add_test(tc, colsum_is_the_contract_on_every_isa);
  tcase_add_test(tc, smooth_gives_the_bits_of_act_math_on_every_isa);
  tcase_add_test(tc, isa_tables_follow_the_cpu);
  tcase_add_test(tc, isa_environment_is_parsed_strictly);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
