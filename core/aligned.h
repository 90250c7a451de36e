/* aligned.h — 64-byte aligned heap blocks, for the tensors, the arena and kernel workspaces.
 *
 *   float *buf = tc_aligned_alloc(n * sizeof(float));   // NULL when out of memory
 *   tc_aligned_free(buf);                               // NULL does nothing
 *
 * Below both core/tensor.h and core/arena.h, so neither needs the other for it. */
#ifndef TC_ALIGNED_H
#define TC_ALIGNED_H

#include <stddef.h>

/* Alignment of tensor data, arena blocks and workspaces: one cache line, one zmm register. */
#define TC_ALIGN 64

/* From this many bytes on a block is 2 MiB aligned and sized, and asked of the kernel as
 * transparent huge pages (madvise; core/aligned.c says why). */
#define TC_HUGE_FROM ((size_t)4 << 20)

/* An uninitialised TC_ALIGN-aligned block of bytes rounded up to a multiple of TC_ALIGN
 * (of 2 MiB from TC_HUGE_FROM on; a distinct block for 0), or NULL when the system is out
 * of memory. Thread-safe. */
void *tc_aligned_alloc(size_t bytes);
void tc_aligned_free(void *p);

#endif
