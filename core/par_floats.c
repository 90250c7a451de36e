/* par_floats.c — large float arrays copied, added and zeroed by the team, in static
 * contiguous blocks (each thread one run of memory; for several runs, one stretch of them
 * laid end to end). */
#include "core/par_floats.h"

#include <omp.h>
#include <string.h>

/* Thread t's share [*lo, *hi) of n, cut at multiples of 16 floats (whole cache lines when
 * the array is 64-byte aligned). */
static void tc_share(int64_t n, int64_t *lo, int64_t *hi) {
  int64_t nt = omp_get_num_threads(), t = omp_get_thread_num(), lines = (n + 15) / 16;
  *lo = lines * t / nt * 16;
  *hi = lines * (t + 1) / nt * 16;
  *lo = *lo < n ? *lo : n;
  *hi = *hi < n ? *hi : n;
}

void tc_floats_copy(float *restrict dst, const float *restrict src, int64_t n) {
#pragma omp parallel if (n >= TC_PAR_FLOATS_MIN)
  {
    int64_t lo, hi;
    tc_share(n, &lo, &hi);
    if (hi > lo)
      memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof *dst);
  }
}

void tc_floats_add(float *restrict a, const float *restrict b, int64_t n) {
#pragma omp parallel if (n >= TC_PAR_FLOATS_MIN)
  {
    int64_t lo, hi;
    tc_share(n, &lo, &hi);
    for (int64_t i = lo; i < hi; i++)
      a[i] += b[i];
  }
}

void tc_floats_zero(float *dst, int64_t n) {
#pragma omp parallel if (n >= TC_PAR_FLOATS_MIN)
  {
    int64_t lo, hi;
    tc_share(n, &lo, &hi);
    if (hi > lo)
      memset(dst + lo, 0, (size_t)(hi - lo) * sizeof *dst);
  }
}

void tc_floats_zero_runs(const tc_float_run *runs, int count) {
  int64_t total = 0;
  for (int i = 0; i < count; i++)
    total += runs[i].n;
#pragma omp parallel if (total >= TC_PAR_FLOATS_MIN)
  {
    int64_t lo, hi, at = 0;
    tc_share(total, &lo, &hi);
    for (int i = 0; i < count && at < hi; at += runs[i].n, i++) {
      int64_t a = lo > at ? lo : at, b = hi < at + runs[i].n ? hi : at + runs[i].n;
      if (a < b)
        memset(runs[i].p + (a - at), 0, (size_t)(b - a) * sizeof(float));
    }
  }
}

void tc_floats_scaled(float *restrict dst, const float *restrict src, float scale, int64_t n) {
#pragma omp parallel if (n >= TC_PAR_FLOATS_MIN)
  {
    int64_t lo, hi;
    tc_share(n, &lo, &hi);
    for (int64_t i = lo; i < hi; i++)
      dst[i] = src[i] * scale;
  }
}
