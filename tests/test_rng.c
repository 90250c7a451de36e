/* test_rng.c — Philox4x32-10 known answers, stream layout, and the derived draws. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/rng.h"
#include "support/testutil.h"

/* Random123's kat_vectors for philox4x32 with 10 rounds: counter, key, expected. */
static const uint32_t kat[3][10] = {
    {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
     0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
     0x94fdcceb, 0x5001e420, 0x24126ea1},
};

START_TEST(philox_known_answers) {
  for (int v = 0; v < 3; v++) {
    uint32_t out[4];
    tc_philox4x32(&kat[v][0], &kat[v][4], out);
    for (int i = 0; i < 4; i++)
      ck_assert_msg(out[i] == kat[v][6 + i], "vector %d word %d: got %08x, want %08x", v, i,
                    out[i], kat[v][6 + i]);
  }
}
END_TEST

START_TEST(stream_layout_matches_the_raw_function) {
  uint64_t seed = 0x0123456789abcdefull, stream = 0xfedcba9876543210ull;
  tc_rng r;
  tc_rng_init(&r, seed, stream);
  uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  for (uint32_t block = 0; block < 3; block++) {
    uint32_t ctr[4] = {block, 0, (uint32_t)stream, (uint32_t)(stream >> 32)}, out[4];
    tc_philox4x32(ctr, key, out);
    for (int i = 0; i < 4; i++)
      ck_assert_uint_eq(tc_rng_u32(&r), out[i]);
  }
  ck_assert_uint_eq(r.block, 3);
  ck_assert_int_eq(r.pos, 4);
}
END_TEST

START_TEST(deterministic_and_streams_differ) {
  tc_rng a, b, c, d;
  tc_rng_init(&a, 42, 0);
  tc_rng_init(&b, 42, 0);
  tc_rng_init(&c, 42, 1);
  tc_rng_init(&d, 43, 0);
  int same_c = 0, same_d = 0;
  for (int i = 0; i < 1000; i++) {
    uint32_t x = tc_rng_u32(&a);
    ck_assert_uint_eq(x, tc_rng_u32(&b));
    same_c += x == tc_rng_u32(&c);
    same_d += x == tc_rng_u32(&d);
  }
  ck_assert_int_le(same_c, 1);
  ck_assert_int_le(same_d, 1);
}
END_TEST

START_TEST(saved_state_resumes_bit_for_bit) {
  tc_rng a;
  tc_rng_init(&a, 7, 3);
  for (int i = 0; i < 13; i++)
    tc_rng_u32(&a);
  tc_rng saved = a; /* what a checkpoint stores */
  uint32_t expect[10];
  for (int i = 0; i < 10; i++)
    expect[i] = tc_rng_u32(&a);
  for (int i = 0; i < 10; i++)
    ck_assert_uint_eq(tc_rng_u32(&saved), expect[i]);
}
END_TEST

START_TEST(uniform_is_in_range_with_the_right_moments) {
  tc_rng r;
  tc_rng_init(&r, 1, 0);
  const int n = 200000;
  double sum = 0, sq = 0;
  int bad = 0; /* counted, not asserted per draw: ck_assert is slow under ASan */
  for (int i = 0; i < n; i++) {
    float u = tc_rng_uniform(&r);
    bad += !(u >= 0.0f && u < 1.0f) || u * 16777216.0f != floorf(u * 16777216.0f);
    sum += u;
    sq += (double)u * u;
  }
  ck_assert_int_eq(bad, 0); /* in [0, 1), on the 24-bit grid */
  double mean = sum / n, var = sq / n - mean * mean;
  /* Standard error of the mean: sqrt(1/12/n) = 6.5e-4; 5 of them. */
  ck_assert_double_le(fabs(mean - 0.5), 5 * sqrt(1.0 / 12 / n));
  ck_assert_double_le(fabs(var - 1.0 / 12), 0.002);
}
END_TEST

START_TEST(normal_has_unit_moments) {
  tc_rng r;
  tc_rng_init(&r, 2, 5);
  const int n = 200000;
  double sum = 0, sq = 0, quart = 0;
  int bad = 0;
  for (int i = 0; i < n; i++) {
    double x = tc_rng_normal(&r);
    bad += !(isfinite(x) && fabs(x) < 6.7);
    sum += x;
    sq += x * x;
    quart += x * x * x * x;
  }
  ck_assert_int_eq(bad, 0);
  double mean = sum / n, var = sq / n - mean * mean;
  ck_assert_double_le(fabs(mean), 5 / sqrt(n));
  /* var of x² is 2, so the sample variance has standard error sqrt(2/n) = 0.0032. */
  ck_assert_double_le(fabs(var - 1), 5 * sqrt(2.0 / n));
  ck_assert_double_le(fabs(quart / n - 3), 0.1); /* kurtosis of a normal */
}
END_TEST

START_TEST(below_is_uniform_and_in_range) {
  tc_rng r;
  tc_rng_init(&r, 3, 0);
  int count[7] = {0};
  const int n = 70000;
  for (int i = 0; i < n; i++) {
    uint64_t k = tc_rng_below(&r, 7);
    count[k < 7 ? k : 0] += k < 7 ? 1 : n; /* out of range fails the chi-square */
  }
  /* Chi-square with 6 degrees of freedom; 22.5 is its 0.999 quantile. */
  double chi2 = 0;
  for (int k = 0; k < 7; k++)
    chi2 += (count[k] - n / 7.0) * (count[k] - n / 7.0) / (n / 7.0);
  ck_assert_double_le(chi2, 22.5);
  ck_assert_uint_eq(tc_rng_below(&r, 1), 0);
  ck_assert_uint_eq(tc_rng_below(&r, 0), 0);
  uint64_t big = (1ull << 63) + 12345;
  for (int i = 0; i < 100; i++)
    ck_assert_uint_lt(tc_rng_below(&r, big), big);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rng");
  TCase *tc = tcase_create("philox");
  tcase_add_test(tc, philox_known_answers);
  tcase_add_test(tc, stream_layout_matches_the_raw_function);
  tcase_add_test(tc, deterministic_and_streams_differ);
  tcase_add_test(tc, saved_state_resumes_bit_for_bit);
  tcase_add_test(tc, uniform_is_in_range_with_the_right_moments);
  tcase_add_test(tc, normal_has_unit_moments);
  tcase_add_test(tc, below_is_uniform_and_in_range);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
