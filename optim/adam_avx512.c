/* adam_avx512.c — plain Adam's update loop (adam_body.h) compiled with -mavx512f (CMake's
 * rule for *avx512.c). */
#include "optim/adam_body.h"

void tc_adam_plain_avx512(const tc_adam_args *a, int64_t n) { adam_plain(a, n); }
