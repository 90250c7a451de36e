/* colsum_avx512.c — the bias gradient's column sums (colsum_body.h) for the avx512 table,
 * compiled for its instruction set (-mavx512f, CMake's rule for *avx512.c). */
#include "core/ukr/colsum_body.h"

void tc_colsum_avx512(const float *v, int64_t ld, int64_t p0, int64_t p1, int n, double *out) {
  colsum(v, ld, p0, p1, n, out);
}
