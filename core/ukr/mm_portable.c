/* mm_portable.c — the matrix product's panel kernels in plain C (core/ukr/mm.h): the
 * reference order every ISA's kernels reproduce bit for bit. Loops with a contiguous
 * innermost index so the compiler vectorizes them with the baseline's SSE2; nn and tn
 * work on blocks of TC_MM_BLOCK_J columns (8 KB of output rows, in L1) while the
 * reduction index sweeps, so each loaded segment of b (or dc) serves every row. */
#include "core/ukr/mm.h"

#define TC_MM_BLOCK_J 256

static void mm_nn_portable(const float *a, const float *b, float *c, int64_t i0, int64_t i1,
                           int64_t k, int64_t n) {
  for (int64_t j0 = 0; j0 < n; j0 += TC_MM_BLOCK_J) {
    int64_t j1 = j0 + TC_MM_BLOCK_J < n ? j0 + TC_MM_BLOCK_J : n;
    for (int64_t p = 0; p < k; p++) {
      const float *bp = b + p * n;
      for (int64_t i = i0; i < i1; i++) {
        float aip = a[i * k + p];
        float *ci = c + i * n;
        for (int64_t j = j0; j < j1; j++)
          ci[j] += aip * bp[j];
      }
    }
  }
}

/* sum of x[j]*y[j] in 8 interleaved partial sums combined in a fixed order: vectorizable
 * without reassociating (no -ffast-math), and the same bits on every run. */
static float dot(const float *x, const float *y, int64_t n) {
  float lane[8] = {0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; l++)
      lane[l] += x[j + l] * y[j + l];
  float acc = ((lane[0] + lane[4]) + (lane[1] + lane[5])) +
              ((lane[2] + lane[6]) + (lane[3] + lane[7]));
  for (; j < n; j++)
    acc += x[j] * y[j];
  return acc;
}

static void mm_nt_portable(const float *dc, const float *b, float *da, int64_t i0, int64_t i1,
                           int64_t k, int64_t n) {
  for (int64_t i = i0; i < i1; i++)
    for (int64_t p = 0; p < k; p++)
      da[i * k + p] += dot(dc + i * n, b + p * n, n);
}

static void mm_tn_portable(const float *a, const float *dc, float *db, int64_t p0, int64_t p1,
                           int64_t m, int64_t k, int64_t n) {
  for (int64_t j0 = 0; j0 < n; j0 += TC_MM_BLOCK_J) {
    int64_t j1 = j0 + TC_MM_BLOCK_J < n ? j0 + TC_MM_BLOCK_J : n;
    for (int64_t i = 0; i < m; i++) {
      const float *di = dc + i * n;
      for (int64_t p = p0; p < p1; p++) {
        float aip = a[i * k + p];
        float *dp = db + p * n;
        for (int64_t j = j0; j < j1; j++)
          dp[j] += aip * di[j];
      }
    }
  }
}

const tc_mm_kernels tc_mm_portable = {mm_nn_portable, mm_nt_portable, mm_tn_portable};
