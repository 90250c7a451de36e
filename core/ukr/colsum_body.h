/* colsum_body.h — the bias gradient's column sums (core/ukr/ukr.h, tc_colsum_fn), one
 * source that colsum_portable.c, colsum_avx2.c and colsum_avx512.c compile for their
 * instruction sets. Every element is summed by the same additions in the same order on
 * each, so the bits agree; only the vector width of the compiled loop differs (16 filters
 * in L1, Zen 3: 6.8 ns a row for baseline x86-64, 2.5 with AVX2). */
#ifndef TC_UKR_COLSUM_BODY_H
#define TC_UKR_COLSUM_BODY_H

#include <stdint.h>
#include <string.h>

#include "core/ukr/ukr.h"

static void colsum(const float *v, int64_t ld, int64_t p0, int64_t p1, int n, double *out) {
  double s[4][TC_COLSUM_MAXN];
  for (int j = 0; j < 4; j++) /* the n columns only: all 8 KiB took a tenth of the time */
    memset(s[j], 0, sizeof(double) * (size_t)n);
  for (int64_t p = p0; p < p1; p++) {
    const float *row = v + p * ld;
    double *acc = s[p & 3];
    for (int k = 0; k < n; k++)
      acc[k] += row[k];
  }
  for (int k = 0; k < n; k++)
    out[k] = (s[0][k] + s[1][k]) + (s[2][k] + s[3][k]);
}

#endif
