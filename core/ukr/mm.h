/* mm.h — the row-panel kernels of the 2-D matrix product (core/ops_matmul.c), one set per
 * ISA (core/ukr/mm_portable.c, mm_avx2.c, mm_avx512.c), reached through the ISA's table
 * (tc_ukr_table.mm, core/ukr/ukr.h).
 *
 * Every ISA sums each element exactly as the portable loops do: from its value in the
 * output, the products added one at a time in ascending order of the reduction index,
 * each a multiply then an add (never fused: these files build with -ffp-contract=off and
 * the vector ones use no FMA instruction), and mm_nt's dot products in 8 interleaved
 * partial sums combined by a fixed tree. So the product gives the same bits on every ISA
 * and for any thread count; the vector widths change only the speed. */
#ifndef TC_CORE_UKR_MM_H
#define TC_CORE_UKR_MM_H

#include <stdint.h>

/* The most output rows one nn or tn call takes (the caller's panel). */
#define TC_MM_ROWS 8

typedef struct tc_mm_kernels {
  /* c rows [i0, i1) (at most TC_MM_ROWS) += a (m x k) . b (k x n), row-major. */
  void (*nn)(const float *a, const float *b, float *c, int64_t i0, int64_t i1, int64_t k,
             int64_t n);
  /* da rows [i0, i1) (at most TC_MM_ROWS) += dc (m x n) . b^T, b (k x n). */
  void (*nt)(const float *dc, const float *b, float *da, int64_t i0, int64_t i1, int64_t k,
             int64_t n);
  /* db rows [p0, p1) (at most TC_MM_ROWS) += a^T . dc, a (m x k), dc (m x n). */
  void (*tn)(const float *a, const float *dc, float *db, int64_t p0, int64_t p1, int64_t m,
             int64_t k, int64_t n);
} tc_mm_kernels;

extern const tc_mm_kernels tc_mm_portable, tc_mm_avx2, tc_mm_avx512;

#endif
