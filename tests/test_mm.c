/* test_mm.c — the matrix product's panel kernels (core/ukr/mm.h): each ISA's kernels the
 * CPU runs give exactly the portable kernels' bits (the contract: same order, no FMA) and
 * match a double-precision reference, on shapes with every kind of edge (rows short of a
 * panel, columns short of a vector, dot products short of 8, reduction length 1), adding
 * onto outputs that are not zero (gradients accumulate). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ukr/ukr.h"
#include "support/testutil.h"

enum { MM_NN, MM_NT, MM_TN };

/* out (rows x cols) += the product `which` of a (m x k) and b (k x n) or dc (m x n), by the
 * kernels of mm over every panel, as core/ops_matmul.c calls them. */
static void run_product(const tc_mm_kernels *mm, int which, const float *a, const float *b,
                        const float *dc, float *out, int64_t m, int64_t k, int64_t n) {
  if (which == MM_NN)
    for (int64_t i0 = 0; i0 < m; i0 += TC_MM_ROWS)
      mm->nn(a, b, out, i0, i0 + TC_MM_ROWS < m ? i0 + TC_MM_ROWS : m, k, n);
  else if (which == MM_NT)
    for (int64_t i0 = 0; i0 < m; i0 += TC_MM_ROWS)
      mm->nt(dc, b, out, i0, i0 + TC_MM_ROWS < m ? i0 + TC_MM_ROWS : m, k, n);
  else
    for (int64_t p0 = 0; p0 < k; p0 += TC_MM_ROWS)
      mm->tn(a, dc, out, p0, p0 + TC_MM_ROWS < k ? p0 + TC_MM_ROWS : k, m, k, n);
}

/* The same product in double, onto the same starting values. */
static void reference(int which, const float *a, const float *b, const float *dc,
                      const float *start, double *want, int64_t m, int64_t k, int64_t n) {
  int64_t rows = which == MM_TN ? k : m, cols = which == MM_NN ? n : which == MM_NT ? k : n;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) {
      double s = start[r * cols + c];
      if (which == MM_NN)
        for (int64_t p = 0; p < k; p++)
          s += (double)a[r * k + p] * b[p * n + c];
      else if (which == MM_NT)
        for (int64_t j = 0; j < n; j++)
          s += (double)dc[r * n + j] * b[c * n + j];
      else
        for (int64_t i = 0; i < m; i++)
          s += (double)a[i * k + r] * dc[i * n + c];
      want[r * cols + c] = s;
    }
}

static void check_shape(int64_t m, int64_t k, int64_t n, tc_test_rng *rng) {
  float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(k * n));
  float *dc = malloc(sizeof(float) * (size_t)(m * n));
  int64_t most = m * n;
  most = m * k > most ? m * k : most;
  most = k * n > most ? k * n : most;
  float *start = malloc(sizeof(float) * (size_t)most), *portable = malloc(sizeof(float) * (size_t)most);
  float *got = malloc(sizeof(float) * (size_t)most);
  double *want = malloc(sizeof(double) * (size_t)most);
  tc_test_fill(rng, a, m * k, -1, 1);
  tc_test_fill(rng, b, k * n, -1, 1);
  tc_test_fill(rng, dc, m * n, -1, 1);
  /* Signed zeros, so that a sum that starts from -0 instead of +0 shows in the bits. */
  for (int64_t i = 0; i < m * k; i += 5)
    a[i] = -0.0f;
  for (int64_t i = 0; i < k * n; i += 3)
    b[i] = -0.0f;
  for (int64_t i = 0; i < m * n; i += 4)
    dc[i] = -0.0f;
  for (int which = MM_NN; which <= MM_TN; which++) {
    int64_t size = which == MM_NN ? m * n : which == MM_NT ? m * k : k * n;
    tc_test_fill(rng, start, size, -2, 2);
    for (int64_t i = 0; i < size; i += 2)
      start[i] = -0.0f;
    memcpy(portable, start, sizeof(float) * (size_t)size);
    run_product(&tc_mm_portable, which, a, b, dc, portable, m, k, n);
    reference(which, a, b, dc, start, want, m, k, n);
    int64_t reduce = which == MM_NN ? k : which == MM_NT ? n : m;
    double excess = tc_test_excess(portable, want, size, 1e-5 * (double)reduce, 1e-5, NULL);
    ck_assert_msg(excess <= 0, "portable %d at m=%lld k=%lld n=%lld: %g past the tolerance",
                  which, (long long)m, (long long)k, (long long)n, excess);
    for (tc_isa isa = TC_ISA_AVX2; isa < TC_ISA_COUNT; isa++) {
      const tc_ukr_table *t = tc_ukr_for(isa);
      if (!t) /* the CPU lacks it: the narrower ISAs still run */
        continue;
      memcpy(got, start, sizeof(float) * (size_t)size);
      run_product(t->mm, which, a, b, dc, got, m, k, n);
      ck_assert_msg(memcmp(got, portable, sizeof(float) * (size_t)size) == 0,
                    "%s product %d at m=%lld k=%lld n=%lld differs from the portable bits",
                    t->name, which, (long long)m, (long long)k, (long long)n);
    }
  }
  free(a), free(b), free(dc), free(start), free(portable), free(got), free(want);
}

START_TEST(every_isa_gives_the_portable_bits) {
  tc_test_rng rng;
  tc_test_rng_init(&rng, 21);
  static const int64_t sizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 70};
  for (int mi = 0; mi < 11; mi++)
    for (int ki = 0; ki < 11; ki += 2)
      for (int ni = 1; ni < 11; ni += 3)
        check_shape(sizes[mi], sizes[ki], sizes[ni], &rng);
  for (int64_t n = 1; n <= 8; n++) /* short rows of dc: the nt kernels' own path below 8 */
    check_shape(5, 37, n, &rng);
  check_shape(16, 6272, 1, &rng); /* the DCGAN discriminator's logit */
  check_shape(16, 3136, 32, &rng); /* the default autoencoder's two dense layers */
  check_shape(16, 32, 3136, &rng);
}
END_TEST

START_TEST(every_table_has_product_kernels) {
  for (tc_isa isa = TC_ISA_PORTABLE; isa < TC_ISA_COUNT; isa++) {
    const tc_ukr_table *t = tc_ukr_for(isa);
    if (t)
      ck_assert(t->mm && t->mm->nn && t->mm->nt && t->mm->tn);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("mm");
  TCase *tc = tcase_create("kernels");
  tcase_add_test(tc, every_isa_gives_the_portable_bits);
  tcase_add_test(tc, every_table_has_product_kernels);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
