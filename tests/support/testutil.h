/* testutil.h — helpers shared by the Check suites: seeded random fills, comparisons. */
#ifndef TC_TESTUTIL_H
#define TC_TESTUTIL_H

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "core/status.h"
#include "core/tensor.h"

/* The one main of every suite: runs s in a runner (Check's verbosity from CK_VERBOSITY,
 * forking per test as Check does by default), frees it, and returns the process's exit
 * status: EXIT_SUCCESS when every test passed. */
int tc_test_run(Suite *s);

/* A call that must fail with `code` and leave a message that contains `text`; on failure
 * the assertion prints the status and the whole message. */
#define TC_CK_ERROR(call, code, text)                                                        \
  do {                                                                                       \
    tc_status tc_ck_status_ = (call);                                                        \
    ck_assert_msg(tc_ck_status_ == (code), "%s returned %d, expected %s (%d): %s", #call,    \
                  (int)tc_ck_status_, #code, (int)(code), tc_last_error());                  \
    ck_assert_msg(strstr(tc_last_error(), (text)) != NULL,                                   \
                  "%s: the message \"%s\" lacks \"%s\"", #call, tc_last_error(), (text));     \
  } while (0)

/* A small deterministic generator for test data (splitmix64), independent of the library's. */
typedef struct tc_test_rng {
  uint64_t state;
} tc_test_rng;

void tc_test_rng_init(tc_test_rng *r, uint64_t seed);
uint64_t tc_test_rng_next(tc_test_rng *r);
/* Uniform in [lo, hi). */
float tc_test_uniform(tc_test_rng *r, float lo, float hi);
/* Integer in [lo, hi]. */
int tc_test_int(tc_test_rng *r, int lo, int hi);
void tc_test_fill(tc_test_rng *r, float *x, int64_t n, float lo, float hi);

/* Largest |a-b| - (atol + rtol*|b|) over n elements; <= 0 means within tolerance. The index
 * of the worst element goes to *worst when not NULL. */
double tc_test_excess(const float *a, const double *b, int64_t n, double atol, double rtol,
                      int64_t *worst);
double tc_test_excess_f(const float *a, const float *b, int64_t n, double atol, double rtol,
                        int64_t *worst);

/* Creates an owned tensor filled with uniform values in [lo, hi); aborts the test on failure. */
tc_tensor *tc_test_tensor(tc_test_rng *r, int rank, const int64_t *shape, float lo, float hi);

#endif
