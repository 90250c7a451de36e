/* smooth_avx512.c — sigmoid and tanh over an array (smooth_body.h) for the avx512 table,
 * compiled for its instruction set (-mavx512f, CMake's rule for *avx512.c). */
#include "core/ukr/smooth_body.h"

void tc_sigmoid_avx512(const float *z, float *y, int64_t n) { sigmoid_run(z, y, n); }

void tc_tanh_avx512(const float *z, float *y, int64_t n) { tanh_run(z, y, n); }
