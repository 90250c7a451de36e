/* gemm.c — the portable GEMM micro-kernel and the run-time choice between it and the
 * AVX2+FMA one (gemm_avx2.c). Contract in conv2dt_internal.h. */
#include <stdlib.h>
#include <string.h>

#include "core/conv2dt_internal.h"

/* Same tile and summation order as the AVX2 kernel (a zeroed tile, k ascending, added to C
 * at the end); without FMA the roundings differ, so the two agree to float accuracy, not
 * bit for bit. Plain loops over a 6x16 array that the compiler vectorises with SSE2. */
void tc_gemm_ukr_portable(int kc, const float *const *a, ptrdiff_t ks, const float *b,
                          float *const *c, int m, int n) {
  float acc[TC_GEMM_MR][TC_GEMM_NR];
  memset(acc, 0, sizeof acc);
  for (ptrdiff_t k = 0; k < kc; k++, b += TC_GEMM_NR)
    for (int r = 0; r < TC_GEMM_MR; r++) {
      float ar = a[r][k * ks];
      for (int j = 0; j < TC_GEMM_NR; j++)
        acc[r][j] += ar * b[j];
    }
  for (int r = 0; r < m; r++)
    for (int j = 0; j < n; j++)
      c[r][j] += acc[r][j];
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

/* -1: not chosen yet; 0: AVX2; 1: portable. */
static int portable_state = -1;

/* 1 when the CPU lacks AVX2 or FMA. */
static int cpu_needs_portable(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return 0;
#endif
  return 1;
}

static int choose_portable(void) {
  const char *env = getenv("TCONV_FORCE_PORTABLE");
  return (env && strcmp(env, "1") == 0) || cpu_needs_portable();
}

void tc_conv2dt_set_portable(int force) {
  if (force > 0)
    portable_state = 1;
  else if (force == 0)
    portable_state = cpu_needs_portable();
  else
    portable_state = choose_portable();
}

int tc_conv2dt_portable_in_use(void) {
  if (portable_state < 0)
    portable_state = choose_portable();
  return portable_state;
}

tc_dot_ukr_fn tc_dot_ukr(void) {
  return tc_conv2dt_portable_in_use() ? tc_dot_ukr_portable : tc_dot_ukr_avx2;
}

tc_gemm_ukr_fn tc_gemm_ukr(void) {
  return tc_conv2dt_portable_in_use() ? tc_gemm_ukr_portable : tc_gemm_ukr_avx2;
}
