/* adam_portable.c — plain Adam's update loop (adam_body.h) compiled with the baseline flags. */
#include "optim/adam_body.h"

void tc_adam_plain_portable(const tc_adam_args *a, int64_t n) { adam_plain(a, n); }
