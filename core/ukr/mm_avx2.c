/* mm_avx2.c — the matrix product's panel kernels with 8-lane AVX2 tiles (compiled with
 * -mavx2 -mfma -ffp-contract=off; chosen with the AVX2 table). Same bits as the portable
 * ones (core/ukr/mm.h). */
#include <immintrin.h>
#include <stdint.h>

typedef __m256 mm_vec;
typedef __m256i mm_mask;
#define MM_LANES 8

static inline mm_mask mm_mask_for(int64_t left) {
  int lanes = left >= 8 ? 8 : (int)left;
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline mm_vec mm_load(const float *p, mm_mask m) { return _mm256_maskload_ps(p, m); }
static inline void mm_store(float *p, mm_vec v, mm_mask m) { _mm256_maskstore_ps(p, m, v); }
static inline mm_vec mm_muladd(mm_vec acc, float a, mm_vec v) {
  return _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(a), v));
}

#include "core/ukr/mm_simd.h"

const tc_mm_kernels tc_mm_avx2 = {mm_nn, mm_nt, mm_tn};
