/* mm_avx2.c — the matrix product's panel kernels with 8-lane AVX2 tiles (compiled with
 * -mavx2 -mfma -ffp-contract=off; chosen with the AVX2 table). Same bits as the portable
 * ones (core/ukr/mm.h). */
#include <immintrin.h>
#include <stdint.h>

typedef __m256 mm_vec;
/* A full mask loads and stores plainly: vmaskmovps stores are microcoded on AMD (Zen 3:
 * eight per 16-step tile of the latent layer's dB doubled its time). */
typedef struct mm_mask {
  __m256i lanes;
  int full;
} mm_mask;
#define MM_LANES 8

static inline mm_mask mm_mask_for(int64_t left) {
  int lanes = left >= 8 ? 8 : (int)left;
  __m256i lane_ids = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  mm_mask m = {_mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), lane_ids), lanes == 8};
  return m;
}
static inline mm_vec mm_load(const float *p, mm_mask m) {
  return m.full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m.lanes);
}
static inline void mm_store(float *p, mm_vec v, mm_mask m) {
  if (m.full)
    _mm256_storeu_ps(p, v);
  else
    _mm256_maskstore_ps(p, m.lanes, v);
}
static inline mm_vec mm_muladd(mm_vec acc, float a, mm_vec v) {
  return _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(a), v));
}

#include "core/ukr/mm_simd.h"

const tc_mm_kernels tc_mm_avx2 = {mm_nn, mm_nt, mm_tn};
