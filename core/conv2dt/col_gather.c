/* col_gather.c — the few-filter column form's output rows (few_fwd_col.c, NHWC, and
 * few_fwd_col_nchw.c, NCHW) from colT, the band's products transposed: colT[(a*kw + b)*F +
 * f][p] = x[pixel p] . k[a][b][f], a row of ld floats per (tap, filter), pixel p = (row
 * - r0)*W + column. An output element is the bias plus the colT values of its taps, a
 * ascending then b ascending (a tap whose source pixel is outside the input adds nothing).
 *
 * Outputs of one phase rw (oj + pl = q*sw + rw) are a step sw apart in y and, tap by tap,
 * read consecutive colT elements (j = q - m for tap b = rw + m*sw): OUT_V of them are
 * summed side by side, each in the order of the scalar loop, so the same bits. Where a
 * tap of a block would read outside the row the scalar loop sums the outputs instead. */
#include <string.h>

#include "core/conv2dt/internal.h"

int64_t tc_ct_colt_ld(const fgeom *g, int rows) {
  return ceil_div((int64_t)(rows + (g->kh - 1) / g->sh) * g->w, TC_GEMM_NR) * TC_GEMM_NR;
}

#define OUT_V 16

/* Phase rw's outputs: q in [*lo, *hi] (oj = q*sw + rw - pl within [0, ow)), and those
 * whose taps all read inside the row, [*ia, *ib), at least OUT_V / 2 of them (rows of 14,
 * fmnist2: 13 a phase) or none (*ia = *ib = *hi + 1). */
static void phase_range(const fgeom *g, int rw, int *lo, int *hi, int *ia, int *ib) {
  const int taps = rw < g->kw ? (g->kw - rw + g->sw - 1) / g->sw : 0;
  const int64_t last = (int64_t)g->ow - 1 + g->pl - rw;
  *lo = g->pl - rw <= 0 ? 0 : (int)ceil_div(g->pl - rw, g->sw);
  *hi = last < 0 ? -1 : (int)(last / g->sw);
  int a = *lo > taps - 1 ? *lo : taps - 1, b = (*hi < g->w - 1 ? *hi : g->w - 1) + 1;
  if (!taps || b - a < OUT_V / 2)
    a = b = *hi + 1;
  *ia = a, *ib = b;
}

/* Output q of phase rw, filter f, one term at a time. */
static float one_output(const fgeom *g, const float *const *src, const int *ka, int rows, int f,
                        int64_t ld, int rw, int q, float b0) {
  float acc = b0;
  for (int t = 0; t < rows; t++)
    for (int b = rw, j = q; b < g->kw && j >= 0; b += g->sw, j--)
      if (j < g->w)
        acc += src[t][((int64_t)(ka[t] * g->kw + b) * g->f + f) * ld + j];
  return acc;
}

/* Four lanes of a block (GCC and Clang vector extensions: SSE on x86-64, whatever the
 * target has elsewhere); lane v sums output v's terms in the scalar order. Written as a
 * loop over floats, the compiler kept 16 scalar accumulators. */
typedef float lanes4 __attribute__((vector_size(16)));

/* V outputs of phase rw from q0 on, filter f (yr: the output row, step apart). */
static inline __attribute__((always_inline)) void
phase_block(const fgeom *g, const float *const *src, const int *ka, int rows, int f, int64_t ld,
            int rw, int q0, float b0, float *yr, int64_t step, const int V) {
  lanes4 acc[OUT_V / 4];
  for (int v = 0; v < V / 4; v++)
    acc[v] = (lanes4){b0, b0, b0, b0};
  for (int t = 0; t < rows; t++)
    for (int b = rw, m = 0; b < g->kw; b += g->sw, m++) {
      const float *s = src[t] + ((int64_t)(ka[t] * g->kw + b) * g->f + f) * ld + q0 - m;
      for (int v = 0; v < V / 4; v++) {
        lanes4 in;
        memcpy(&in, s + 4 * v, sizeof in);
        acc[v] += in;
      }
    }
  float sums[OUT_V], *out = yr + ((int64_t)q0 * g->sw + rw - g->pl) * step;
  memcpy(sums, acc, sizeof(float) * (size_t)V);
  for (int v = 0; v < V; v++)
    out[(int64_t)v * g->sw * step] = sums[v];
}

/* Phase rw's outputs q in [q0, q1) (at least OUT_V / 2 of them): blocks of OUT_V, one of
 * OUT_V / 2, and the last few in a block of OUT_V / 2 ending at q1 (recomputing some
 * outputs: the same values). */
static void phase_blocks(const fgeom *g, const float *const *src, const int *ka, int rows, int f,
                         int64_t ld, int rw, int q0, int q1, float b0, float *yr, int64_t step) {
  for (; q1 - q0 >= OUT_V; q0 += OUT_V)
    phase_block(g, src, ka, rows, f, ld, rw, q0, b0, yr, step, OUT_V);
  if (q1 - q0 >= OUT_V / 2) {
    phase_block(g, src, ka, rows, f, ld, rw, q0, b0, yr, step, OUT_V / 2);
    q0 += OUT_V / 2;
  }
  if (q1 > q0)
    phase_block(g, src, ka, rows, f, ld, rw, q1 - OUT_V / 2, b0, yr, step, OUT_V / 2);
}

void tc_ct_col_out_row(const fgeom *g, int64_t n, int oi, int r0, const float *colt, int64_t ld,
                       const float *bias, float *y, int nchw) {
  const float *src[64];
  int ka[64];
  int64_t ri[64];
  const int rows = tc_ct_col_taps(g, oi, ka, ri);
  const int64_t step = nchw ? 1 : g->f;
  for (int t = 0; t < rows; t++)
    src[t] = colt + (ri[t] - r0) * g->w;
  for (int f = 0; f < g->f; f++) {
    float *yr = nchw ? y + ((n * g->f + f) * g->oh + oi) * g->ow
                     : y + (n * g->oh + oi) * g->ow * g->f + f;
    const float b0 = bias ? bias[f] : 0.0f;
    for (int rw = 0; rw < g->sw; rw++) {
      int lo, hi, ia, ib;
      phase_range(g, rw, &lo, &hi, &ia, &ib);
#define AT(q) yr[((int64_t)(q) * g->sw + rw - g->pl) * step] /* output q of the phase */
      for (int q = lo; q < ia && q <= hi; q++)
        AT(q) = one_output(g, src, ka, rows, f, ld, rw, q, b0);
      if (ib > ia)
        phase_blocks(g, src, ka, rows, f, ld, rw, ia, ib, b0, yr, step);
      for (int q = ib > lo ? ib : lo; q <= hi; q++)
        AT(q) = one_output(g, src, ka, rows, f, ld, rw, q, b0);
#undef AT
    }
  }
}
