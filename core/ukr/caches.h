/* caches.h — the data cache sizes plans size their blocks by: the CPU's identity at plan
 * time, never a timing, so one machine always makes the same choices.
 *
 *   tc_cpu_caches c;
 *   TC_TRY(tc_cpu_caches_get(&c));   // c.l2: bytes of one core's L2
 *
 * Only choices that cannot change a result's bits read them (docs/kernels.md, "What the
 * machine chooses"): how many rows an igemm chunk holds, and when stores bypass the caches.
 */
#ifndef TC_UKR_CACHES_H
#define TC_UKR_CACHES_H

#include <stddef.h>

#include "core/status.h"

typedef struct tc_cpu_caches {
  size_t l1d; /* bytes of one core's L1 data cache */
  size_t l2;  /* bytes of one core's L2 (its share where cores share one) */
  size_t l3;  /* bytes of the L3 (shown only: a VM often reports the host's) */
} tc_cpu_caches;

/* What an unknown size is taken to be: 32 KiB, 512 KiB, 8 MiB. */
#define TC_CACHE_L1D_DEFAULT ((size_t)32 << 10)
#define TC_CACHE_L2_DEFAULT ((size_t)512 << 10)
#define TC_CACHE_L3_DEFAULT ((size_t)8 << 20)

/* The caches of this process: TCONV_CACHES when set (tc_cpu_caches_parse), else what the
 * C library reads from the CPU (sysconf, CPUID on x86), each clamped to a sane range, the
 * defaults above where unknown. Read once per process; tc_cpu_caches_override replaces it.
 * Errors: TC_ERR_INVALID_ARG when TCONV_CACHES is malformed, quoting it. */
tc_status tc_cpu_caches_get(tc_cpu_caches *out);

/* "L1D,L2[,L3]": sizes in bytes, each with an optional K, M or G suffix (powers of 1024),
 * e.g. "48K,1M,32M"; an omitted L3 is the default. Each must lie in its clamp range (L1D
 * 4K-1M, L2 64K-64M, L3 up to 4G). Errors: TC_ERR_INVALID_ARG quoting the string. */
tc_status tc_cpu_caches_parse(const char *s, tc_cpu_caches *out);

/* Plans created after this call size their blocks by *c instead (tests that show the
 * choices change no bits); NULL goes back to the machine's. Not safe against a plan being
 * created on another thread at the same time. */
void tc_cpu_caches_override(const tc_cpu_caches *c);

#endif
