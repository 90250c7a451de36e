/* smooth_portable.c — sigmoid and tanh over an array (smooth_body.h) for the portable table,
 * compiled with the baseline flags. */
#include "core/ukr/smooth_body.h"

void tc_sigmoid_portable(const float *z, float *y, int64_t n) { sigmoid_run(z, y, n); }

void tc_tanh_portable(const float *z, float *y, int64_t n) { tanh_run(z, y, n); }
