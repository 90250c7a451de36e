/* colsum_avx2.c — the bias gradient's column sums (colsum_body.h) for the avx2 table,
 * compiled for its instruction set (-mavx2 -mfma, CMake's rule for *avx2.c). */
#include "core/ukr/colsum_body.h"

void tc_colsum_avx2(const float *v, int64_t ld, int64_t p0, int64_t p1, int n, double *out) {
  colsum(v, ld, p0, p1, n, out);
}
