/* few_bd_nchw.c — few-filter backward data on NCHW dy and dx in place (the gathered form;
 * few_bd.c has NHWC and the tile form; the choice between the forms is here), with channels as
 * the tile's rows and pixels as its columns, so each micro-kernel tile lands in C planes as
 * runs of up to 64 pixels and nothing is transposed:
 *   dx[c][p] = sum over kernel rows a, then (b, f) of k[a][b][f][c] * G[(a*kw + b)*F + f][p],
 * G the gathered dy of the call's 64 pixels (a pixel's kh*kw*F tap values as a column,
 * zero where a tap falls outside the output; gathered from the band's padded dy rows of
 * few_bd.c just before the call, so it is in L1 and the workspace does not grow with the
 * image: gathering a whole band first measured 0.82 / 0.93 / 0.63 of NHWC on dcgan4 /
 * fsrcnn / fmnist2, per call 0.87-0.92 / 1.02-1.03 / 0.69, paired). A rows are the
 * weights transposed once per call (C x K, so a channel group's weights stay in L1; read
 * in place with a step of C they did not), B is G (one row per k, 64 pixels a call). Each
 * element sums kernel rows outer, (b, f) inner, from zero, as the NHWC kernel does, and a
 * product's operands commute: the bits of NHWC. Measured against the tile form:
 * docs/kernels.md. */
#include <omp.h>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "core/conv2dt/compose.h"

/* A thread's slot: the padded dy rows of a band (as NHWC's), then the gathered dy of one
 * call's pixels (K x 64: at most 96 KiB whatever the image's width). */
static size_t gathered_bytes(const fgeom *g) {
  return align_up(sizeof(float) * (size_t)tc_ct_small_k(g) * TC_WIDE_NW);
}

static size_t slot_bytes(const fgeom *g) {
  return tc_ct_small_thread_bytes(g) + gathered_bytes(g);
}

/* The weights transposed, C x K: a channel's K values contiguous. */
static size_t weights_bytes(const fgeom *g) {
  return align_up(sizeof(float) * (size_t)g->c * (size_t)tc_ct_small_k(g));
}

size_t tc_ct_few_bd_gathered_bytes(const tc_conv2dt_plan *q) {
  fgeom g = fgeom_of(q);
  return weights_bytes(&g) + (size_t)q->threads * slot_bytes(&g);
}

/* One kernel row's taps for a row of wn pixels: G row bf (ld apart) gets, for each pixel j,
 * src[j*step + bf], bf < kwf. Pixels' windows overlap where step < kwf, so this is a
 * transpose of wn rows step apart: 4 x 4 blocks with SSE where the compiler targets it,
 * the rest one at a time (value by value, the gather took a third of dcgan4's kernel time:
 * NCHW / NHWC 0.69-0.79 against 0.84-0.85 with the blocks, paired). tc_ct_transpose
 * (transpose_tile.c) does the same copy in another loop order: called here (the same
 * bits) it ran dcgan4's NCHW backward data 1-3 % slower, interleaved in one process (batch
 * 64 and 16, 1 and 2 threads, Zen 3); hence the copy of its own. */
static void gather_row(const float *src, int64_t step, int wn, int kwf, float *g, int64_t ld) {
  int j = 0;
#if defined(__SSE2__)
  for (; j + 4 <= wn; j += 4) {
    int bf = 0;
    for (; bf + 4 <= kwf; bf += 4) {
      __m128 r0 = _mm_loadu_ps(src + j * step + bf), r1 = _mm_loadu_ps(src + (j + 1) * step + bf);
      __m128 r2 = _mm_loadu_ps(src + (j + 2) * step + bf);
      __m128 r3 = _mm_loadu_ps(src + (j + 3) * step + bf);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _mm_storeu_ps(g + bf * ld + j, r0), _mm_storeu_ps(g + (bf + 1) * ld + j, r1);
      _mm_storeu_ps(g + (bf + 2) * ld + j, r2), _mm_storeu_ps(g + (bf + 3) * ld + j, r3);
    }
    for (; bf < kwf; bf++)
      for (int q = j; q < j + 4; q++)
        g[bf * ld + q] = src[q * step + bf];
  }
#endif
  for (; j < wn; j++)
    for (int bf = 0; bf < kwf; bf++)
      g[bf * ld + j] = src[j * step + bf];
}

/* dst[j] = src[j * step], j < wn, the step a constant where it is 1, 2 or 3, which the
 * compiler turns into shuffles: with one filter a tap's values are every sw-th of a row,
 * and this beat gather_row's 4 x 4 blocks on fmnist2 (kw = 4, rows of 14 pixels: NCHW /
 * NHWC 0.74-0.75 against 0.59, paired). */
static inline __attribute__((always_inline)) void strided_copy(const float *src, float *dst,
                                                               int wn, const int64_t step) {
  for (int j = 0; j < wn; j++)
    dst[j] = src[j * step];
}

static void copy_every(const float *src, float *dst, int wn, int64_t step) {
  switch (step) {
  case 1: strided_copy(src, dst, wn, 1); break;
  case 2: strided_copy(src, dst, wn, 2); break;
  case 3: strided_copy(src, dst, wn, 3); break;
  default: strided_copy(src, dst, wn, step); break;
  }
}

/* Kernel row a's taps of pixels [j, j+n) of band row i into G's rows (ld apart); len is
 * a padded dy row's floats (tc_ct_pad_row_len, worked out once a band: per piece it took
 * 6 % of fmnist2's NCHW backward data). */
static void gather_piece(const fgeom *g, const float *pad, int64_t len, int i, int j, int n,
                         int a, float *G, int64_t ld) {
  const int64_t step = (int64_t)g->sw * g->f;
  const int kwf = g->kw * g->f;
  const float *src = pad + (int64_t)(i * g->sh + a) * len + j * step;
  float *dst = G + (int64_t)a * kwf * ld;
  if (g->f > 1) {
    gather_row(src, step, n, kwf, dst, ld);
    return;
  }
  for (int b = 0; b < kwf; b++)
    copy_every(src + b, dst + b * ld, n, step);
}

/* G[k][q - p0] (K x 64) for the band's pixels [p0, p0+np), q = i*wn + j, which may span
 * band rows. */
static void gather_chunk(const fgeom *g, const float *pad, int64_t len, int wn, int64_t p0,
                         int np, float *G) {
  for (int64_t q = p0; q < p0 + np;) {
    int i = (int)(q / wn), j = (int)(q % wn);
    int n = (int)(wn - j < p0 + np - q ? wn - j : p0 + np - q);
    for (int a = 0; a < g->kh; a++)
      gather_piece(g, pad, len, i, j, n, a, G + (q - p0), TC_WIDE_NW);
    q += n;
  }
}

/* The gathered chunk G (np <= 64 pixels) into every plane at offset off from dxb. */
static void run_columns(const fgeom *g, const float *kt, const float *G, int np, float *dxb,
                        int64_t off, tc_wide_ukr_fn wide) {
  const int64_t plane = (int64_t)g->h * g->w;
  const int K = tc_ct_small_k(g);
  /* one pair of all K: A and B step uniformly over (a, b, f), so the sums are those of
   * kernel rows outer, (b, f) inner, without a pair loop around short k loops */
  tc_wide_steps st = {1, K, 0, 1, G, 0, TC_WIDE_NW, TC_GEMM_NR};
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int c0 = 0; c0 < g->c; c0 += TC_GEMM_MR) {
    int m = imin(TC_GEMM_MR, g->c - c0);
    for (int r = 0; r < TC_GEMM_MR; r++) {
      int c = c0 + (r < m ? r : m - 1);
      a6[r] = kt + (int64_t)c * K;
      c6[r] = dxb + c * plane + off;
    }
    wide(&st, a6, c6, m, np, 0);
  }
}

/* A band's dx: one run of pixels per band when its rows are whole (consecutive in the
 * planes), else one per row, 64 pixels a call (gathered just before), stored through the
 * caches: a plane's runs start wherever the band does, so streamed 64-byte lines would be
 * split between calls (streamed against not, Zen 3, medians of 31-51 alternating calls at 1
 * and 2 threads: dcgan4 0.88-0.94, fmnist2 0.84-0.93, fsrcnn 1.00). */
static void band_planes(const fgeom *g, const float *kt, const float *pad, float *G, int rows,
                        int wn, float *dxb, tc_wide_ukr_fn wide) {
  const int whole = wn == g->w, runs = whole ? 1 : rows;
  const int64_t run = whole ? (int64_t)rows * wn : wn, len = tc_ct_pad_row_len(g);
  for (int r = 0; r < runs; r++)
    for (int64_t p0 = 0; p0 < run; p0 += TC_WIDE_NW) {
      int np = (int)(run - p0 < TC_WIDE_NW ? run - p0 : TC_WIDE_NW);
      gather_chunk(g, pad, len, wn, r * run + p0, np, G);
      run_columns(g, kt, G, np, dxb, (int64_t)r * g->w + p0, wide);
    }
}

void tc_ct_few_backward_data_nchw(const tc_conv2dt_plan *plan, const float *dy, const float *k,
                                  float *dx, void *ws) {
  const fgeom gg = fgeom_of(plan), *g = &gg;
  const int wseg = tc_ct_row_seg(g), band = tc_ct_bd_band(g);
  const int nseg = (int)ceil_div(g->w, wseg), nband = (int)ceil_div(g->h, band);
  const int64_t tasks = g->n * nband * nseg, plane = (int64_t)g->h * g->w;
  const int K = tc_ct_small_k(g);
  float *kt = (float *)ws;
  tc_wide_ukr_fn wide = plan->ukr->wide;
#pragma omp parallel num_threads(tc_ct_team(plan))
  {
    float *pad = (float *)(void *)((unsigned char *)ws + weights_bytes(g) +
                                   (size_t)omp_get_thread_num() * slot_bytes(g));
    float *G = pad + tc_ct_small_thread_bytes(g) / sizeof(float);
#pragma omp for schedule(static)
    for (int c = 0; c < g->c; c++)
      for (int q = 0; q < K; q++)
        kt[(int64_t)c * K + q] = k[(int64_t)q * g->c + c];
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; t++) {
      int64_t n = t / ((int64_t)nband * nseg);
      int i0 = (int)(t / nseg % nband) * band, j0 = (int)(t % nseg) * wseg;
      int rows = imin(band, g->h - i0), wn = imin(wseg, g->w - j0);
      tc_ct_pad_dy_rows(g, dy, 1, n, i0 * g->sh - g->pt, (rows - 1) * g->sh + g->kh, j0, wn,
                        pad);
      band_planes(g, kt, pad, G, rows, wn, dx + n * g->c * plane + (int64_t)i0 * g->w + j0, wide);
    }
  }
}

/* The tile form where the wide kernel is AVX-512's (measured there, Zen 5: docs/kernels.md),
 * the gathered form elsewhere (AVX2, Zen 3, NCHW / NHWC paired in one process, medians of
 * 3 runs: dcgan4 0.59 -> 0.91, fsrcnn 0.57 -> 0.98, fmnist2 0.48 -> 0.63). The same bits. */
int tc_ct_nchw_bd_tiles(const tc_conv2dt_plan *q) {
  return q->ukr && q->ukr->isa == TC_ISA_AVX512;
}

/* Either form's workspace, so that one plan can run both (the tests compare them). */
size_t tc_ct_few_bd_nchw_bytes(const tc_conv2dt_plan *q) {
  size_t tiles = tc_ct_few_bd_tiles_bytes(q), gathered = tc_ct_few_bd_gathered_bytes(q);
  return tiles > gathered ? tiles : gathered;
}

void tc_ct_few_backward_data(const tc_conv2dt_plan *plan, const float *dy, const float *k,
                             float *dx, void *ws) {
  if (plan->p.data_format == TC_CHANNELS_FIRST && !tc_ct_nchw_bd_tiles(plan))
    tc_ct_few_backward_data_nchw(plan, dy, k, dx, ws);
  else
    tc_ct_few_backward_data_rows(plan, dy, k, dx, ws);
}
