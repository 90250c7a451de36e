/* testutil.c — seeded fills and tolerance checks for the suites. */
#include "support/testutil.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

void tc_test_rng_init(tc_test_rng *r, uint64_t seed) { r->state = seed * 0x9E3779B97F4A7C15ull + 1; }

uint64_t tc_test_rng_next(tc_test_rng *r) {
  uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float tc_test_uniform(tc_test_rng *r, float lo, float hi) {
  double u = (double)(tc_test_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
  return (float)(lo + (hi - lo) * u);
}

int tc_test_int(tc_test_rng *r, int lo, int hi) {
  return lo + (int)(tc_test_rng_next(r) % (uint64_t)(hi - lo + 1));
}

void tc_test_fill(tc_test_rng *r, float *x, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; i++)
    x[i] = tc_test_uniform(r, lo, hi);
}

double tc_test_excess(const float *a, const double *b, int64_t n, double atol, double rtol,
                      int64_t *worst) {
  double max_excess = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    double e = fabs((double)a[i] - b[i]) - (atol + rtol * fabs(b[i]));
    if (isnan(a[i]) || isnan(b[i]))
      e = INFINITY;
    if (e > max_excess) {
      max_excess = e;
      if (worst)
        *worst = i;
    }
  }
  return max_excess;
}

double tc_test_excess_f(const float *a, const float *b, int64_t n, double atol, double rtol,
                        int64_t *worst) {
  double max_excess = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    double e = fabs((double)a[i] - (double)b[i]) - (atol + rtol * fabs((double)b[i]));
    if (isnan(a[i]) || isnan(b[i]))
      e = INFINITY;
    if (e > max_excess) {
      max_excess = e;
      if (worst)
        *worst = i;
    }
  }
  return max_excess;
}

tc_tensor *tc_test_tensor(tc_test_rng *r, int rank, const int64_t *shape, float lo, float hi) {
  tc_tensor *t = NULL;
  ck_assert_int_eq(tc_tensor_create(&t, rank, shape), TC_OK);
  tc_test_fill(r, t->data, t->size, lo, hi);
  return t;
}

int tc_test_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
