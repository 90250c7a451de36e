/* mm_avx512.c — the matrix product's panel kernels with 16-lane AVX-512 tiles (compiled
 * with -mavx512f -mavx2 -mfma -ffp-contract=off; chosen with the AVX-512 table). Same bits
 * as the portable ones (core/ukr/mm.h). */
#include <immintrin.h>
#include <stdint.h>

typedef __m512 mm_vec;
typedef __mmask16 mm_mask;
#define MM_LANES 16

static inline mm_mask mm_mask_for(int64_t left) {
  return left >= 16 ? (mm_mask)0xFFFF : (mm_mask)((1u << left) - 1);
}
static inline mm_vec mm_load(const float *p, mm_mask m) { return _mm512_maskz_loadu_ps(m, p); }
static inline void mm_store(float *p, mm_vec v, mm_mask m) { _mm512_mask_storeu_ps(p, m, v); }
static inline mm_vec mm_muladd(mm_vec acc, float a, mm_vec v) {
  return _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(a), v));
}

#include "core/ukr/mm_simd.h"

const tc_mm_kernels tc_mm_avx512 = {mm_nn, mm_nt, mm_tn};
