/* rng.c — Philox4x32-10 (Salmon et al., SC'11; constants of Random123) and the
 * sequential reader over one (seed, stream). */
#include "core/rng.h"

#include <math.h>

/* Random123's multipliers and Weyl key increments for Philox4x32. */
#define TC_PHILOX_M0 0xD2511F53u
#define TC_PHILOX_M1 0xCD9E8D57u
#define TC_PHILOX_W0 0x9E3779B9u
#define TC_PHILOX_W1 0xBB67AE85u

static void tc_philox_round(uint32_t ctr[4], const uint32_t key[2]) {
  uint64_t p0 = (uint64_t)TC_PHILOX_M0 * ctr[0];
  uint64_t p1 = (uint64_t)TC_PHILOX_M1 * ctr[2];
  uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
  uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
  uint32_t c1 = ctr[1], c3 = ctr[3];
  ctr[0] = hi1 ^ c1 ^ key[0];
  ctr[1] = lo1;
  ctr[2] = hi0 ^ c3 ^ key[1];
  ctr[3] = lo0;
}

void tc_philox4x32(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c[4] = {counter[0], counter[1], counter[2], counter[3]};
  uint32_t k[2] = {key[0], key[1]};
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k[0] += TC_PHILOX_W0;
      k[1] += TC_PHILOX_W1;
    }
    tc_philox_round(c, k);
  }
  for (int i = 0; i < 4; i++)
    out[i] = c[i];
}

void tc_rng_init(tc_rng *r, uint64_t seed, uint64_t stream) {
  r->seed = seed;
  r->stream = stream;
  r->block = 0;
  for (int i = 0; i < 4; i++)
    r->buf[i] = 0;
  r->pos = 4;
}

/* Block k of (seed, stream): key = seed, counter = (k lo, k hi, stream lo, stream hi). */
static void tc_rng_refill(tc_rng *r) {
  uint32_t key[2] = {(uint32_t)r->seed, (uint32_t)(r->seed >> 32)};
  uint32_t ctr[4] = {(uint32_t)r->block, (uint32_t)(r->block >> 32), (uint32_t)r->stream,
                     (uint32_t)(r->stream >> 32)};
  tc_philox4x32(ctr, key, r->buf);
  r->block++;
  r->pos = 0;
}

uint32_t tc_rng_u32(tc_rng *r) {
  if (r->pos >= 4)
    tc_rng_refill(r);
  return r->buf[r->pos++];
}

float tc_rng_uniform(tc_rng *r) {
  /* 24 bits is what a float mantissa holds: every value is exact and < 1. */
  return (float)(tc_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

double tc_rng_normal(tc_rng *r) {
  /* u1 in (0, 1] keeps log finite; one value per pair of words (the sine half is
   * dropped) so that the reader's state stays just (block, pos). */
  double u1 = ((double)tc_rng_u32(r) + 1.0) * (1.0 / 4294967296.0);
  double u2 = (double)tc_rng_u32(r) * (1.0 / 4294967296.0);
  const double two_pi = 6.283185307179586476925286766559;
  return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

static uint64_t tc_rng_u64(tc_rng *r) {
  uint64_t lo = tc_rng_u32(r);
  uint64_t hi = tc_rng_u32(r);
  return (hi << 32) | lo;
}

uint64_t tc_rng_below(tc_rng *r, uint64_t n) {
  if (n <= 1)
    return 0;
  /* Reject the lowest 2^64 mod n values so every residue is equally likely. */
  uint64_t threshold = (0 - n) % n;
  for (;;) {
    uint64_t x = tc_rng_u64(r);
    if (x >= threshold)
      return x % n;
  }
}
