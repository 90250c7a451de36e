/* aligned.c — 64-byte aligned heap blocks (core/aligned.h). */
#include "core/aligned.h"

#include <stdlib.h>

void *tc_aligned_alloc(size_t bytes) {
  size_t rounded = (bytes + TC_ALIGN - 1) / TC_ALIGN * TC_ALIGN;
  if (rounded == 0)
    rounded = TC_ALIGN;
  return aligned_alloc(TC_ALIGN, rounded);
}

void tc_aligned_free(void *p) { free(p); }
