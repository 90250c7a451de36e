/* portable.c — the micro-kernels in plain C and their table: the fallback on any CPU, and
 * the wide contract through a GEMM kernel that the AVX2 table shares. Contracts in
 * core/ukr/ukr.h. */
#include <string.h>

#include "core/ukr/ukr.h"

/* Same tile and summation order as the AVX2 kernel (a zeroed tile, k ascending, added to C
 * at the end, one panel at a time); without FMA the roundings differ, so the two agree to
 * float accuracy, not bit for bit. Plain loops over a 6x16 array that the compiler
 * vectorises with SSE2. */
static void portable_panel(int nt, int kc, const float *const *a, ptrdiff_t ks,
                           const float *const *b, ptrdiff_t bs, ptrdiff_t off,
                           float *const *c, int c0, int m, int n, int add) {
  float acc[TC_GEMM_MR][TC_GEMM_NR], brow[TC_GEMM_NR];
  memset(acc, 0, sizeof acc);
  memset(brow, 0, sizeof brow);
  for (int t = 0; t < nt; t++) {
    const float *const *at = a + (ptrdiff_t)t * TC_GEMM_MR;
    const float *bt = b[t] + off;
    for (ptrdiff_t k = 0; k < kc; k++, bt += bs) {
      memcpy(brow, bt, sizeof(float) * (size_t)n); /* columns >= n are never read */
      for (int r = 0; r < TC_GEMM_MR; r++) {
        float ar = at[r][k * ks];
        for (int j = 0; j < TC_GEMM_NR; j++)
          acc[r][j] += ar * brow[j];
      }
    }
  }
  for (int r = 0; r < m; r++)
    for (int j = 0; j < n; j++)
      c[r][c0 + j] = add ? c[r][c0 + j] + acc[r][j] : acc[r][j];
}

void tc_gemm_ukr_portable(int nt, int kc, const float *const *a, ptrdiff_t ks,
                          const float *const *b, ptrdiff_t bs, ptrdiff_t ps, float *const *c,
                          int m, int n, int add) {
  portable_panel(nt, kc, a, ks, b, bs, 0, c, 0, m, n < TC_GEMM_NR ? n : TC_GEMM_NR, add);
  if (n > TC_GEMM_NR)
    portable_panel(nt, kc, a, ks, b, bs, ps, c, TC_GEMM_NR, m, n - TC_GEMM_NR, add);
}

/* The wide kernel through a 6x32 GEMM kernel: the steps turned into pointer lists, 32
 * columns per call. */
void tc_wide_by_gemm(tc_gemm_ukr_fn ukr, const tc_wide_steps *s, const float *const *a,
                     float *const *c, int m, int n, int add) {
  const float *at[TC_GEMM_MR * TC_WIDE_MAXNT], *bt[TC_WIDE_MAXNT];
  float *ct[TC_GEMM_MR];
  for (int t = 0; t < s->nt; t++)
    for (int r = 0; r < TC_GEMM_MR; r++)
      at[t * TC_GEMM_MR + r] = a[r] + (ptrdiff_t)t * s->as;
  for (int r = 0; r < TC_GEMM_MR; r++)
    ct[r] = c[r];
  for (int j = 0; j < n; j += TC_GEMM_NC) {
    for (int t = 0; t < s->nt; t++)
      bt[t] = s->b + (ptrdiff_t)(j / TC_GEMM_NR) * s->ps + (ptrdiff_t)t * s->bt;
    ukr(s->nt, s->kc, at, s->ks, bt, s->bs, s->ps, ct, m,
        n - j < TC_GEMM_NC ? n - j : TC_GEMM_NC, add == 1);
    for (int r = 0; r < TC_GEMM_MR; r++)
      ct[r] += TC_GEMM_NC;
  }
}

static void wide_ukr_portable(const tc_wide_steps *s, const float *const *a, float *const *c,
                              int m, int n, int add) {
  tc_wide_by_gemm(tc_gemm_ukr_portable, s, a, c, m, n, add);
}

/* The dot kernel's portable twin: the same 8 lanes per (pixel, filter) and the same lane
 * tree as the AVX2 one; without FMA it rounds differently. */
void tc_dot_ukr_portable(int nt, int kc, const float *const *a, const float *const *b,
                         ptrdiff_t ldb, int nf, float *const *y, int np) {
  enum { P = 8 };
  const int rows = tc_dot_rows(nf);
  float acc[P][TC_DOT_MAXF][8];
  memset(acc, 0, sizeof acc);
  for (int t = 0; t < nt; t++)
    for (int p = 0; p < rows; p++) {
      const float *x = a[t * rows + p];
      for (int f = 0; f < nf; f++) {
        const float *k = b[t] + f * ldb;
        for (int i = 0; i < kc; i++)
          acc[p][f][i & 7] += x[i] * k[i];
      }
    }
  for (int p = 0; p < np; p++)
    for (int f = 0; f < nf; f++) {
      const float *l = acc[p][f];
      y[p][f] += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }
}

const tc_ukr_table tc_ukr_portable = {TC_ISA_PORTABLE, "portable", tc_gemm_ukr_portable,
                                      wide_ukr_portable, tc_dot_ukr_portable, &tc_mm_portable,
                                      NULL, tc_colsum_portable,
    tc_sigmoid_portable, tc_tanh_portable};
