/* smooth_avx2.c — sigmoid and tanh over an array (smooth_body.h) for the avx2 table,
 * compiled for its instruction set (-mavx2 -mfma, CMake's rule for *avx2.c). */
#include "core/ukr/smooth_body.h"

void tc_sigmoid_avx2(const float *z, float *y, int64_t n) { sigmoid_run(z, y, n); }

void tc_tanh_avx2(const float *z, float *y, int64_t n) { tanh_run(z, y, n); }
