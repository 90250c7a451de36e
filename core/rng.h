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

/* The raw function: out = Philox4x32-10(counter, key). */
void tc_philox4x32(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

void tc_rng_init(tc_rng *r, uint64_t seed, uint64_t stream);
uint32_t tc_rng_u32(tc_rng *r);
/* Uniform in [0, 1) with 24 random bits. */
float tc_rng_uniform(tc_rng *r);
/* Standard normal (Box–Muller on two uniforms, in double). */
double tc_rng_normal(tc_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t tc_rng_below(tc_rng *r, uint64_t n);

#endif
