/* ukr.h — the micro-kernels: three contracts (GEMM, wide, dot), one table of them per
 * instruction set, and the choice of table, made once per process.
 *
 *   const tc_ukr_table *t;
 *   if (tc_ukr_default(&t) != TC_OK) ...;   // widest the CPU has, capped by TCONV_ISA
 *   t->gemm(nt, kc, a, 1, b, bs, ps, c, m, n, 1);
 *
 * Each ISA is one file (core/ukr/portable.c, avx2.c, avx512.c) that defines its kernels
 * and its table; select.c knows the tables and the CPU. Adding an ISA is a table, its
 * file and a line in select.c (docs/architecture.md). The tables are constant and every
 * function here is thread-safe. Nothing above core/ calls these: the transposed
 * convolution's plan records its table (core/conv2dt.h). */
#ifndef TC_UKR_H
#define TC_UKR_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#include "core/ukr/mm.h"

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
static inline int tc_dot_rows(int nf) { return nf <= 1 ? 8 : nf == 2 ? 6 : nf == 3 ? 4 : 2; }

/* The instruction sets the micro-kernels come in, narrowest first. */
typedef enum tc_isa { TC_ISA_PORTABLE = 0, TC_ISA_AVX2 = 1, TC_ISA_AVX512 = 2 } tc_isa;
#define TC_ISA_COUNT 3

/* The GEMM contract over exactly 64 columns (four whole panels, n = 64): each element of
 * C summed exactly as gemm sums it (so the two may share a C tile, bit for bit), with a
 * wider register tile where the ISA has the registers for one (AVX-512: 6 x 64). */
typedef void (*tc_gemm64_ukr_fn)(int nt, int kc, const float *const *a, ptrdiff_t ks,
                                 const float *const *b, ptrdiff_t bs, ptrdiff_t ps,
                                 float *const *c, int m, int add);

/* The bias gradient's column sums: out[k] = (s[0][k] + s[1][k]) + (s[2][k] + s[3][k]) for
 * k < n <= TC_COLSUM_MAXN, where s[j][k] sums in double, rows in order from zero, element
 * k of the rows p0 <= p < p1 with p mod 4 = j (row p at v + p*ld): four chains, so few
 * columns do not wait on one chain of dependent additions. The same bits on every ISA. */
#define TC_COLSUM_MAXN 256
typedef void (*tc_colsum_fn)(const float *v, int64_t ld, int64_t p0, int64_t p1, int n,
                             double *out);
void tc_colsum_portable(const float *v, int64_t ld, int64_t p0, int64_t p1, int n, double *out);
void tc_colsum_avx2(const float *v, int64_t ld, int64_t p0, int64_t p1, int n, double *out);
void tc_colsum_avx512(const float *v, int64_t ld, int64_t p0, int64_t p1, int n, double *out);

/* y[i] = sigmoid(z[i]) or tanh(z[i]) for i < n (core/act_math.h's, element by element;
 * y may be z). The same bits on every ISA. */
typedef void (*tc_smooth_fn)(const float *z, float *y, int64_t n);
void tc_sigmoid_portable(const float *z, float *y, int64_t n);
void tc_sigmoid_avx2(const float *z, float *y, int64_t n);
void tc_sigmoid_avx512(const float *z, float *y, int64_t n);
void tc_tanh_portable(const float *z, float *y, int64_t n);
void tc_tanh_avx2(const float *z, float *y, int64_t n);
void tc_tanh_avx512(const float *z, float *y, int64_t n);

/* One ISA's kernels. Every ISA gives results bit-identical across thread counts;
 * different ISAs round differently. */
typedef struct tc_ukr_table {
  tc_isa isa;
  const char *name; /* "portable", "avx2", "avx512" */
  tc_gemm_ukr_fn gemm;
  tc_wide_ukr_fn wide;
  tc_dot_ukr_fn dot;
  const tc_mm_kernels *mm; /* the matrix product's panels: the same bits on every ISA */
  tc_gemm64_ukr_fn gemm64;  /* NULL where the ISA has no wider tile than gemm's */
  tc_colsum_fn colsum;      /* the same bits on every ISA */
  tc_smooth_fn sigmoid, tanh; /* the same bits on every ISA */
} tc_ukr_table;

extern const tc_ukr_table tc_ukr_portable, tc_ukr_avx2, tc_ukr_avx512;

/* The wide contract through a GEMM kernel (pointer lists, 32 columns per call): the wide
 * kernel of the ISAs without one of their own. */
void tc_wide_by_gemm(tc_gemm_ukr_fn gemm, const tc_wide_steps *s, const float *const *a,
                     float *const *c, int m, int n, int add);

/* The table in use by default, chosen at the first call (once per process, thread-safe):
 * the widest the CPU has (AVX-512F; else AVX2+FMA; else portable C), capped by the
 * environment: TCONV_FORCE_PORTABLE=1 forces the portable kernels, TCONV_ISA=portable|
 * avx2|avx512 sets a ceiling (unset or empty: none). Errors: TC_ERR_INVALID_ARG for any
 * other TCONV_ISA value, naming it and the accepted ones (every call, not only the first). */
tc_status tc_ukr_default(const tc_ukr_table **out);

/* The table of isa when this CPU runs it, else NULL. */
const tc_ukr_table *tc_ukr_for(tc_isa isa);

/* The table of isa capped by what the CPU runs (never NULL). */
const tc_ukr_table *tc_ukr_capped(tc_isa isa);

/* "portable", "avx2", "avx512". */
const char *tc_isa_name(tc_isa isa);

/* The environment's ceiling: force = TCONV_FORCE_PORTABLE, isa = TCONV_ISA (either may be
 * NULL). Errors as tc_ukr_default. Pure: exposed so tests can try every value. */
tc_status tc_ukr_parse_env(const char *force, const char *isa, tc_isa *cap);

#endif
