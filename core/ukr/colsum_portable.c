/* colsum_portable.c — the bias gradient's column sums (colsum_body.h) for the portable table,
 * compiled with the baseline flags. */
#include "core/ukr/colsum_body.h"

void tc_colsum_portable(const float *v, int64_t ld, int64_t p0, int64_t p1, int n, double *out) {
  colsum(v, ld, p0, p1, n, out);
}
