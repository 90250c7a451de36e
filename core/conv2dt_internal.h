/* conv2dt_internal.h — what core/conv2dt.c, the fast kernels and the tests share, and
 * nothing a user calls.
 *
 * The fast path (conv2dt_fast.c) runs NHWC with groups 1 and dilation 1; everything else
 * keeps the direct kernels of conv2dt.c. Both paths sit behind the three public functions. */
#ifndef TC_CONV2DT_INTERNAL_H
#define TC_CONV2DT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/conv2dt.h"

/* The GEMM micro-kernel, batch-reduce form: an MR x n tile of C gets the products of nt
 * pairs (A_t, B_t) added to it,
 *   c[r][j] += sum_t sum_k a[t*MR + r][k*ks] * B_t(k, j)      r < m <= MR, j < n <= NC,
 * with NC = 2*NR. Row k of B_t is b[t] + k*bs for columns [0, NR) and b[t] + ps + k*bs
 * for columns [NR, 2*NR): bs = NR and ps = kc*NR for packed kc x NR panels, bs = the row
 * length and ps = NR for an activation read in place. Columns >= n of B are never read.
 * a[t*MR + r] are row pointers (rows >= m must still point at readable memory: callers
 * repeat a row), ks the step between two k of one row (1 for rows read straight from an
 * activation, MR for a packed panel); c[r] are row pointers of which only the first m are
 * touched, and only columns j < n. The tile is summed in registers over every pair and
 * added to C once (or, with add = 0, stored over C, which then need not be initialised);
 * each element's order depends on nt, kc and whether n > NR only. */
#define TC_GEMM_MR 6
#define TC_GEMM_NR 16
#define TC_GEMM_NC (2 * TC_GEMM_NR)
typedef void (*tc_gemm_ukr_fn)(int nt, int kc, const float *const *a, ptrdiff_t ks,
                               const float *const *b, ptrdiff_t bs, ptrdiff_t ps,
                               float *const *c, int m, int n, int add);

void tc_gemm_ukr_portable(int nt, int kc, const float *const *a, ptrdiff_t ks,
                          const float *const *b, ptrdiff_t bs, ptrdiff_t ps, float *const *c,
                          int m, int n, int add);
void tc_gemm_ukr_avx512(int nt, int kc, const float *const *a, ptrdiff_t ks,
                        const float *const *b, ptrdiff_t bs, ptrdiff_t ps, float *const *c,
                        int m, int n, int add);
void tc_gemm_ukr_avx2(int nt, int kc, const float *const *a, ptrdiff_t ks,
                      const float *const *b, ptrdiff_t bs, ptrdiff_t ps, float *const *c,
                      int m, int n, int add);


/* The wide micro-kernel (few-filter backward kernels, stride-1 tap batches and regions):
 * an MR x n tile (n <= NW = 64) whose A and B move by fixed steps,
 *   c[r][j] (+)= sum_{t < nt} sum_{k < kc} a[r][t*as + k*ks] * B(t, k, j)   r < m, j < n,
 *   B(t, k, j) = b[t*bt + k*bs + (j / NR)*ps + j % NR],
 * one A pointer per row (rows >= m must still point at readable memory; only rows < m
 * are written), columns >= n of B never read (masked), C stored over (add = 0), added to
 * once (add = 1) or stored over bypassing the caches (add = TC_WIDE_STREAM: the AVX-512
 * kernel streams the full panels of rows that are 64-byte aligned, the others store;
 * the caller fences before anyone else reads C). Each element sums t outer, k inner,
 * from zero. nt <= TC_WIDE_MAXNT. The
 * AVX-512 kernel runs a 6x64 tile (four B loads and six broadcasts feed 24 FMAs, against
 * two and six for twelve in the 6x32 one); the others run the GEMM kernel of their ISA
 * over the same pairs. */
#define TC_WIDE_MAXNT 64
#define TC_WIDE_STREAM 2
#define TC_WIDE_NV 4
#define TC_WIDE_NW (TC_WIDE_NV * TC_GEMM_NR)
typedef struct tc_wide_steps {
  int nt, kc;
  ptrdiff_t as, ks;       /* A: per pair, per k */
  const float *b;
  ptrdiff_t bt, bs, ps;   /* B: per pair, per k, per 16-column panel */
} tc_wide_steps;
typedef void (*tc_wide_ukr_fn)(const tc_wide_steps *s, const float *const *a, float *const *c,
                               int m, int n, int add);
void tc_wide_ukr_portable(const tc_wide_steps *s, const float *const *a, float *const *c, int m,
                          int n, int add);
void tc_wide_ukr_avx2(const tc_wide_steps *s, const float *const *a, float *const *c, int m,
                      int n, int add);
void tc_wide_ukr_avx512(const tc_wide_steps *s, const float *const *a, float *const *c, int m,
                        int n, int add);

/* The dot-product micro-kernel for few filters (forward with F <= 4): C has too few
 * columns for a 16-wide tile, so the vector lanes run along the reduction instead,
 *   y[p][f] += sum_t sum_k a[t*P + p][k] * b[t][f*ldb + k]     p < np <= P, f < nf,
 * with P = tc_dot_rows(nf) pixels per call (a pointer per tap and pixel; pixels >= np
 * must still point at readable memory) and one B pointer per tap (nf rows, ldb apart).
 * Every y[p][f] sums its k in 8 lanes (k mod 8), taps in order, then the lanes in a fixed
 * tree: the order depends on nt, kc and nf only. */
#define TC_DOT_MAXF 4
typedef void (*tc_dot_ukr_fn)(int nt, int kc, const float *const *a, const float *const *b,
                              ptrdiff_t ldb, int nf, float *const *y, int np);
void tc_dot_ukr_portable(int nt, int kc, const float *const *a, const float *const *b,
                         ptrdiff_t ldb, int nf, float *const *y, int np);
void tc_dot_ukr_avx2(int nt, int kc, const float *const *a, const float *const *b,
                     ptrdiff_t ldb, int nf, float *const *y, int np);
void tc_dot_ukr_avx512(int nt, int kc, const float *const *a, const float *const *b,
                       ptrdiff_t ldb, int nf, float *const *y, int np);
static inline int tc_dot_rows(int nf) { return nf <= 1 ? 8 : nf == 2 ? 6 : nf == 3 ? 4 : 2; }

/* The instruction sets the micro-kernels come in, narrowest first. */
typedef enum { TC_ISA_PORTABLE = 0, TC_ISA_AVX2 = 1, TC_ISA_AVX512 = 2 } tc_isa;

/* The kernels in use: the widest the CPU has (AVX-512F; else AVX2+FMA; else portable C),
 * capped by the environment, read at the first call: TCONV_FORCE_PORTABLE=1 forces the
 * portable C kernels, TCONV_ISA=portable|avx2|avx512 sets a ceiling. Every ISA gives
 * results bit-identical across thread counts; different ISAs round differently. */
tc_isa tc_conv2dt_isa(void);
/* Sets the ceiling (a tc_isa; -1: from the environment again) and returns the ISA now in
 * use, which is lower where the CPU lacks the one asked for. Not thread-safe: call
 * between kernels, outside parallel regions (tests and benchmarks). */
tc_isa tc_conv2dt_set_isa(int cap);
const char *tc_isa_name(tc_isa isa);

/* The micro-kernels of tc_conv2dt_isa(). Call them outside parallel regions. */
tc_gemm_ukr_fn tc_gemm_ukr(void);
tc_dot_ukr_fn tc_dot_ukr(void);
tc_wide_ukr_fn tc_wide_ukr(void);

/* 1 when the plan runs on the fast path. */
int tc_conv2dt_fast_applies(const tc_conv2dt_plan *plan);

/* Workspace bytes of the fast path for nthreads threads (0 when it does not apply). */
size_t tc_conv2dt_fast_workspace(const tc_conv2dt_plan *plan, int nthreads);

/* The fast kernels, NHWC, groups 1, dilation 1; same contracts as the public ones. */
void tc_conv2dt_fast_forward(const tc_conv2dt_plan *plan, const float *x, const float *kernel,
                             const float *bias, float *y, void *ws);
void tc_conv2dt_fast_backward_data(const tc_conv2dt_plan *plan, const float *dy,
                                   const float *kernel, float *dx, void *ws);
void tc_conv2dt_fast_backward_weights(const tc_conv2dt_plan *plan, const float *x,
                                      const float *dy, float *dkernel, void *ws);

#endif
