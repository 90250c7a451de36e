/* mm_simd.h — the matrix product's panel kernels for one vector ISA, included by
 * core/ukr/mm_avx2.c and mm_avx512.c after they define the vector type and its five
 * operations (mm_vec, mm_mask, MM_LANES, mm_mask_for, mm_load, mm_store, mm_muladd: a
 * multiply then an add, never an FMA). The order of every sum is the portable loops'
 * (core/ukr/mm.h): only which lanes compute it changes.
 *
 * nn and tn keep a tile of up to TC_MM_ROWS output rows x one vector of columns in
 * registers while the reduction index sweeps: per step one vector load and one broadcast
 * per row, where the portable loops load and store the output row each time. */
#ifndef TC_CORE_UKR_MM_SIMD_H
#define TC_CORE_UKR_MM_SIMD_H

#include <immintrin.h>

#include "core/ukr/mm.h"

/* c[r][:] += sum over t < steps of a[r*ars + t*ats] * v[t*vs][:], r < rows, the lanes of m. */
static void mm_tile(int rows, const float *a, int64_t ars, int64_t ats, const float *v,
                    int64_t vs, int64_t steps, float *c, int64_t ldc, mm_mask m) {
  if (rows == TC_MM_ROWS) {
    mm_vec acc[TC_MM_ROWS];
#pragma GCC unroll 8
    for (int r = 0; r < TC_MM_ROWS; r++)
      acc[r] = mm_load(c + r * ldc, m);
    for (int64_t t = 0; t < steps; t++) {
      mm_vec vt = mm_load(v + t * vs, m);
      const float *at = a + t * ats;
#pragma GCC unroll 8
      for (int r = 0; r < TC_MM_ROWS; r++)
        acc[r] = mm_muladd(acc[r], at[r * ars], vt);
    }
#pragma GCC unroll 8
    for (int r = 0; r < TC_MM_ROWS; r++)
      mm_store(c + r * ldc, acc[r], m);
    return;
  }
  for (int r = 0; r < rows; r++) { /* a short last panel: one row at a time */
    mm_vec acc = mm_load(c + r * ldc, m);
    for (int64_t t = 0; t < steps; t++)
      acc = mm_muladd(acc, a[r * ars + t * ats], mm_load(v + t * vs, m));
    mm_store(c + r * ldc, acc, m);
  }
}

static void mm_nn(const float *a, const float *b, float *c, int64_t i0, int64_t i1, int64_t k,
                  int64_t n) {
  for (int64_t j = 0; j < n; j += MM_LANES)
    mm_tile((int)(i1 - i0), a + i0 * k, k, 1, b + j, n, k, c + i0 * n + j, n,
            mm_mask_for(n - j));
}

static void mm_tn(const float *a, const float *dc, float *db, int64_t p0, int64_t p1,
                  int64_t m, int64_t k, int64_t n) {
  for (int64_t j = 0; j < n; j += MM_LANES)
    mm_tile((int)(p1 - p0), a + p0, 1, k, dc + j, n, m, db + p0 * n + j, n,
            mm_mask_for(n - j));
}

/* The portable dot (8 partial sums, lane l taking j = l mod 8, then a fixed tree, then the
 * tail one by one) for four rows of b at once: their chains are independent, x is loaded
 * once. 8 lanes on every vector ISA, since the partial sums are 8. */
static void mm_dot4(const float *x, const float *b, int64_t n, int count, float *out) {
  __m256 lane[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                    _mm256_setzero_ps()};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 xv = _mm256_loadu_ps(x + j);
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++)
      if (q < count)
        lane[q] = _mm256_add_ps(lane[q], _mm256_mul_ps(xv, _mm256_loadu_ps(b + q * n + j)));
  }
  for (int q = 0; q < count; q++) {
    float l[8];
    _mm256_storeu_ps(l, lane[q]);
    float acc = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
    for (int64_t t = j; t < n; t++)
      acc += x[t] * b[q * n + t];
    out[q] += acc;
  }
}

/* The tree of eight dots' partial sums at once: lane q of the result is
 * ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7])) of lane[q], the sums
 * mm_dot4 forms one dot at a time (a + b == b + a exactly, so only the pairing matters). */
static __m256 mm_tree8(const __m256 lane[8]) {
  __m256 s[4]; /* s[h] = halves of lane[2h] | lane[2h+1] added: l[j] + l[j+4], j < 4 */
#pragma GCC unroll 4
  for (int h = 0; h < 4; h++)
    s[h] = _mm256_add_ps(_mm256_permute2f128_ps(lane[2 * h], lane[2 * h + 1], 0x20),
                         _mm256_permute2f128_ps(lane[2 * h], lane[2 * h + 1], 0x31));
  /* pairs (s0 + s1), (s2 + s3), then their sum: results q = 0, 2, 4, 6 | 1, 3, 5, 7 */
  __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(s[0], s[1]), _mm256_hadd_ps(s[2], s[3]));
  return _mm256_permutevar8x32_ps(t, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* mm_dot4 for eight rows of b, their trees formed side by side (n >= 8): the tree of one
 * dot cost more than its products where n is 32 (the autoencoder's latent layer). */
static void mm_dot8(const float *x, const float *b, int64_t n, float *out) {
  __m256 lane[8];
#pragma GCC unroll 8
  for (int q = 0; q < 8; q++)
    lane[q] = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 xv = _mm256_loadu_ps(x + j);
#pragma GCC unroll 8
    for (int q = 0; q < 8; q++)
      lane[q] = _mm256_add_ps(lane[q], _mm256_mul_ps(xv, _mm256_loadu_ps(b + q * n + j)));
  }
  if (j == n) { /* no tail: the eight out += acc in one vector add */
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_loadu_ps(out), mm_tree8(lane)));
    return;
  }
  float acc[8];
  _mm256_storeu_ps(acc, mm_tree8(lane));
  for (int q = 0; q < 8; q++) {
    for (int64_t t = j; t < n; t++)
      acc[q] += x[t] * b[q * n + t];
    out[q] += acc[q];
  }
}

/* n < 8 (a logit's single column): the partial sums stay zero and their tree gives +0, so
 * each element is out[p] += ((+0 + x[0]*b[p][0]) + x[1]*b[p][1]) ...; one vector of p at a
 * time, b's column j read with stride n. The +0 start is kept: it turns a -0 product into
 * +0, as the portable sum does. */
static void mm_nt_short(const float *x, const float *b, float *out, int64_t k, int64_t n) {
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    __m256 acc = _mm256_setzero_ps();
    __m256i rows = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                      _mm256_set1_epi32((int)n));
    for (int64_t j = 0; j < n; j++)
      acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(x[j]),
                                             _mm256_i32gather_ps(b + p * n + j, rows, 4)));
    _mm256_storeu_ps(out + p, _mm256_add_ps(_mm256_loadu_ps(out + p), acc));
  }
  for (; p < k; p++) {
    float acc = 0.0f;
    for (int64_t j = 0; j < n; j++)
      acc += x[j] * b[p * n + j];
    out[p] += acc;
  }
}

/* Eight rows of b at a time against every row of the panel, so those rows are read from
 * memory once per panel, not once per row of da (b is 200 KB in the autoencoder's latent
 * layer: re-read from L2 for each of 16 rows, its nt ran at 19 GFLOP/s on Zen 3). */
static void mm_nt(const float *dc, const float *b, float *da, int64_t i0, int64_t i1,
                  int64_t k, int64_t n) {
  if (n < 8) {
    for (int64_t i = i0; i < i1; i++)
      mm_nt_short(dc + i * n, b, da + i * k, k, n);
    return;
  }
  int64_t p = 0;
  for (; p + 8 <= k; p += 8)
    for (int64_t i = i0; i < i1; i++)
      mm_dot8(dc + i * n, b + p * n, n, da + i * k + p);
  for (; p < k; p += 4)
    for (int64_t i = i0; i < i1; i++)
      mm_dot4(dc + i * n, b + p * n, n, k - p < 4 ? (int)(k - p) : 4, da + i * k + p);
}

#endif
