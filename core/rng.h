/* rng.h — Philox4x32-10, a counter-based random generator.
 *
 * A stream is fixed by (seed, stream id); the k-th block of 4 words is a pure function of
 * (seed, stream, k), so results never depend on thread count or call order across
 * streams. tc_rng is the sequential reader over one stream; its state (a block counter and
 * a position) is what a checkpoint saves to resume bit-for-bit. */
#ifndef TC_RNG_H
#define TC_RNG_H

#include <stdint.h>

typedef struct tc_rng {
  uint64_t seed;
  uint64_t stream;
  uint64_t block;     /* next block index to generate */
  uint32_t buf[4];    /* current block */
  int pos;            /* next unused word of buf; 4 = empty */
} tc_rng;

/* The raw function: out = Philox4x32-10(counter, key), Random123's constants and round
 * order (known-answer vectors in tests/test_rng.c). Block k of (seed, stream) uses
 * key = {seed lo, seed hi} and counter = {k lo, k hi, stream lo, stream hi}. */
void tc_philox4x32(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

/* Positions r at word 0 of block 0 of (seed, stream). Never fails. None of these calls
 * allocates; a tc_rng must not be shared between threads without a lock (use one stream
 * per thread instead). */
void tc_rng_init(tc_rng *r, uint64_t seed, uint64_t stream);
/* The next word of the stream. */
uint32_t tc_rng_u32(tc_rng *r);
/* Uniform in [0, 1) with 24 random bits (one word: its top 24 bits / 2^24). */
float tc_rng_uniform(tc_rng *r);
/* Standard normal: Box–Muller in double on two words, u1 = (w1 + 1) / 2^32 in (0, 1] and
 * u2 = w2 / 2^32, giving sqrt(-2 ln u1) cos(2 pi u2). The sine half is dropped so the
 * state stays (block, pos). |result| <= 6.67. */
double tc_rng_normal(tc_rng *r);
/* Uniform integer in [0, n) without modulo bias: 64-bit draws (two words each) below
 * 2^64 mod n are rejected. n <= 1 gives 0 and consumes nothing. */
uint64_t tc_rng_below(tc_rng *r, uint64_t n);

#endif
