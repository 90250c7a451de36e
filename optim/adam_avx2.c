/* adam_avx2.c — plain Adam's update loop (adam_body.h) compiled with -mavx2 -mfma (CMake's
 * rule for *avx2.c). */
#include "optim/adam_body.h"

void tc_adam_plain_avx2(const tc_adam_args *a, int64_t n) { adam_plain(a, n); }
