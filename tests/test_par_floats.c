/* test_par_floats.c — the team's copy, add, zero and scale give what one loop gives, for
 * sizes on both sides of the threshold and ends that are not whole cache lines. */
#include <check.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/par_floats.h"
#include "support/testutil.h"

static const int64_t sizes[] = {0, 1, 15, 17, 1000, TC_PAR_FLOATS_MIN - 1, TC_PAR_FLOATS_MIN,
                                TC_PAR_FLOATS_MIN + 13, 3 * TC_PAR_FLOATS_MIN + 5};

static float *filled(int64_t n, unsigned seed) {
  float *p = malloc((size_t)(n + 1) * sizeof *p);
  ck_assert_ptr_nonnull(p);
  for (int64_t i = 0; i <= n; i++)
    p[i] = (float)((i * 2654435761u + seed) % 1000) / 7.0f - 50.0f;
  return p;
}

/* Runs each operation on n floats (plus a sentinel past the end that must stay) with 1 and
 * with 3 threads, against the plain loop. */
static void check_size(int64_t n, int threads) {
  omp_set_num_threads(threads);
  float *a = filled(n, 1), *b = filled(n, 2), *want = filled(n, 1), *sentinel = filled(n, 1);
  for (int64_t i = 0; i < n; i++)
    want[i] = a[i] + b[i];
  tc_floats_add(a, b, n);
  ck_assert_mem_eq(a, want, (size_t)n * sizeof *a);
  ck_assert_float_eq(a[n], sentinel[n]);

  for (int64_t i = 0; i < n; i++)
    want[i] = b[i] * 0.125f;
  tc_floats_scaled(a, b, 0.125f, n);
  ck_assert_mem_eq(a, want, (size_t)n * sizeof *a);
  ck_assert_float_eq(a[n], sentinel[n]);

  tc_floats_copy(a, sentinel, n);
  ck_assert_mem_eq(a, sentinel, (size_t)(n + 1) * sizeof *a);

  tc_floats_zero(a, n);
  float *zeros = calloc((size_t)n + 1, sizeof *zeros);
  ck_assert_ptr_nonnull(zeros);
  ck_assert_mem_eq(a, zeros, (size_t)n * sizeof *a);
  free(zeros);
  ck_assert_float_eq(a[n], sentinel[n]);
  free(a);
  free(b);
  free(want);
  free(sentinel);
}

START_TEST(team_operations_match_the_plain_loop) {
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    check_size(sizes[k], 1);
    check_size(sizes[k], 3);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("par_floats");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, team_operations_match_the_plain_loop);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
