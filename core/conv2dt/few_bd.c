/* few_bd.c — backward data with few filters (F <= 8, kh*kw*F <= 384): all taps in one
 * reduction, an input pixel's gathered dy row (kh*kw*F values, zero where a tap falls
 * outside the output) times the weights as a (kh*kw*F x C) matrix, so C fills the tile
 * columns and the GEMM's K is taps*F instead of F. */
#include <omp.h>
#include <string.h>

#include "core/conv2dt/compose.h"

/* Backward data, few filters, a band of input rows at a time (one segment of each): pixel
 * (n, i, j) and kernel row a read dy row oi = i*sh + a - pt from column j*sw - pl on,
 * kw*F contiguous values, against kernel rows [a*kw*F, (a+1)*kw*F) of the weights viewed
 * as (kh*kw*F x C). Copying the dy rows the band reaches once, zero-padded at both ends,
 * lets every pixel read its A rows in place (rows of neighbouring pixels overlap when
 * sh < kh); the wide micro-kernel sums all kernel rows of a 6-pixel group in registers (a
 * kernel row whose dy row lies outside the output reads zeros). NCHW plans run the same
 * products in one of two forms, both with the bits of NHWC: here the padded rows read NCHW
 * dy and dx goes through a tile of pixels transposed into the planes (AVX-512), or, in
 * few_bd_nchw.c, channels are the tile's rows (the other ISAs); few_bd_nchw.c chooses. */

/* count pixels of dy row oi of image n from column col on, F values each, into dst in
 * NHWC order (from NCHW dy: F planes interleaved; with F = 1 the two layouts agree). */
static void copy_dy_run(const fgeom *g, const float *dy, int64_t n, int64_t oi, int64_t col,
                        int64_t count, float *dst, int nchw) {
  if (!nchw || g->f == 1) {
    memcpy(dst, dy + ((n * g->oh + oi) * g->ow + col) * g->f,
           sizeof(float) * (size_t)(count * g->f));
    return;
  }
  for (int f = 0; f < g->f; f++) {
    const float *src = dy + ((n * g->f + f) * g->oh + oi) * g->ow + col;
    for (int64_t q = 0; q < count; q++)
      dst[q * g->f + f] = src[q];
  }
}

/* nrows padded dy rows for pixels [j0, j0+wn) of an input row: row r holds dy row oi0 + r,
 * columns j0*sw - pl + q, q < (wn-1)*sw + kw, zero outside the output (a whole zero row
 * where dy row oi0 + r does not exist), pad_row_len apart; dy NHWC, or NCHW (nchw = 1). */
void tc_ct_pad_dy_rows(const fgeom *g, const float *dy, int nchw, int64_t n, int oi0,
                       int nrows, int j0, int wn, float *pad) {
  const int64_t len = tc_ct_pad_row_len(g), q_n = (int64_t)(wn - 1) * g->sw + g->kw;
  const int64_t c0 = (int64_t)j0 * g->sw - g->pl; /* dy column of q = 0 */
  int64_t lo = c0 < 0 ? -c0 : 0, hi = g->ow - c0;
  hi = hi > q_n ? q_n : hi;
  hi = hi < lo ? lo : hi;
  for (int r = 0; r < nrows; r++) {
    int64_t oi = (int64_t)oi0 + r;
    float *row = pad + r * len;
    if (oi < 0 || oi >= g->oh) {
      memset(row, 0, sizeof(float) * (size_t)(q_n * g->f));
      continue;
    }
    memset(row, 0, sizeof(float) * (size_t)(lo * g->f));
    copy_dy_run(g, dy, n, oi, c0 + lo, hi - lo, row + lo * g->f, nchw);
    memset(row + hi * g->f, 0, sizeof(float) * (size_t)((q_n - hi) * g->f));
  }
}

/* Input rows per band: about BATCH_PIX pixels, their padded dy rows within the thread's
 * share of the workspace (kh rows for each of bw_batch segments). */
int tc_ct_bd_band(const fgeom *g) {
  int64_t rows = ceil_div(BATCH_PIX, tc_ct_row_seg(g));
  int64_t fit = ((int64_t)g->kh * tc_ct_bw_batch(g) - g->kh) / g->sh + 1;
  rows = rows < fit ? rows : fit;
  rows = rows < g->h ? rows : g->h;
  return rows < 1 ? 1 : (int)rows;
}

/* Streamed dx: with K = kh*kw*F of at most STREAM_K products per element the kernel is
 * bound by writing dx, and storing it around the caches spares reading every line first
 * (fmnist2, K = 16, 6.4 MB of dx: +37 %). dx is then not in cache for whoever reads it
 * next: with longer K the stores measured faster through the caches (dcgan4, K = 75: -4 %
 * streamed), and so did a whole training step whose dx fits in cache (the autoencoder's
 * last layer, 0.8 MB: about -3 %), hence plan->stream_bytes (tc_ct_stream_bytes). */
#define STREAM_K 32

/* NCHW streams whatever K, from half NHWC's size (L2 x threads): each plane's run of a
 * block is written whole, where NHWC's stores come from a 6 x 64 tile (Zen 5: dcgan4, K =
 * 75, +18-20 % streamed at 1 and 2 threads; fsrcnn's 3.7 MB at 2 threads 169 -> 235
 * GFLOP/s, medians of 5 alternations). */
static int nchw_streams(const fgeom *g, int64_t stream_bytes) {
  return g->n * g->h * g->w * g->c * (int64_t)sizeof(float) >= stream_bytes / 2;
}

static int bd_streams(const fgeom *g, int64_t stream_bytes) {
  return tc_ct_small_k(g) <= STREAM_K && g->c % TC_GEMM_NR == 0 &&
         g->n * g->h * g->w * g->c * (int64_t)sizeof(float) >= stream_bytes;
}

/* NCHW: pixels per block of the tile (8 groups), stored transposed together so that each
 * plane gets a run of up to 48 floats (a group alone wrote 6 floats into each of C planes:
 * dcgan4 62 against 200 GFLOP/s at 2 threads). */
#define BD_BLOCK (8 * TC_GEMM_MR)

/* Where a band's dx goes: NHWC rows from dxb on, or (nchw) image n's planes from dxb,
 * pixel pix0 of the band's first, each block's products first into tile (BD_BLOCK rows of
 * C). */
typedef struct bd_out {
  float *dxb;
  int64_t pix0;
  int nchw;
  float *tile;
} bd_out;

/* The tile's first np pixels into the planes: each run of pixels consecutive in the plane
 * transposed at once. */
static void store_block(const fgeom *g, const bd_out *o, const int64_t *pix, int np,
                        int stream) {
  const int64_t plane = (int64_t)g->h * g->w;
  for (int s = 0, e; s < np; s = e) {
    for (e = s + 1; e < np && pix[e] == pix[e - 1] + 1; e++)
      ;
    tc_ct_transpose(o->tile + (int64_t)s * g->c, g->c, e - s, g->c, o->dxb + o->pix0 + pix[s],
                    plane, stream);
  }
}

/* dx of a band of rows x wn pixels: its pixels row by row, 6 at a time across row ends
 * (rows of 14 would leave most of a last group idle), every kernel row and 64 columns per
 * call, stored over dx (NHWC: streamed, see bd_streams; NCHW: through the tile). Stored
 * through the caches, the dx lines of the next group are prefetched: the stores would
 * otherwise wait on them. */
static void bd_band_run(const fgeom *g, const float *bp, const float *pad, int rows, int wn,
                        const bd_out *o, tc_wide_ukr_fn wide, int stream) {
  const int K = tc_ct_small_k(g), kwf = g->kw * g->f;
  const int64_t len = tc_ct_pad_row_len(g), npix = (int64_t)rows * wn;
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  int64_t pix[BD_BLOCK];
  int i = 0, j = 0, nb = 0; /* the next pixel; pixels in the tile */
  for (int64_t p0 = 0; p0 < npix; p0 += TC_GEMM_MR) {
    int m = (int)(npix - p0 < TC_GEMM_MR ? npix - p0 : TC_GEMM_MR);
    for (int r = 0; r < m; r++) {
      a6[r] = pad + ((int64_t)i * g->sh * len + (int64_t)j * g->sw * g->f);
      pix[nb + r] = (int64_t)i * g->w + j;
      c6[r] = o->nchw ? o->tile + (nb + r) * g->c : o->dxb + pix[nb + r] * g->c;
      if (++j == wn)
        j = 0, i++;
    }
    for (int r = m; r < TC_GEMM_MR; r++) /* rows past m repeat the last pixel */
      a6[r] = a6[m - 1], c6[r] = c6[m - 1];
    for (const char *p = (const char *)(c6[m - 1] + g->c),
                    *e = (const char *)(c6[m - 1] + (TC_GEMM_MR + 1) * (int64_t)g->c);
         !stream && !o->nchw && p < e; p += 64)
      __builtin_prefetch(p, 1, 3);
    for (int c0 = 0; c0 < g->c; c0 += TC_WIDE_NW) {
      tc_wide_steps st = {g->kh, kwf, len, 1, bp + (int64_t)(c0 / TC_GEMM_NR) * K * TC_GEMM_NR,
                          (ptrdiff_t)kwf * TC_GEMM_NR, TC_GEMM_NR, (ptrdiff_t)K * TC_GEMM_NR};
      wide(&st, a6, c6, m, imin(TC_WIDE_NW, g->c - c0), stream && !o->nchw ? TC_WIDE_STREAM : 0);
      for (int r = 0; r < TC_GEMM_MR; r++)
        c6[r] += TC_WIDE_NW;
    }
    if (o->nchw && ((nb += m) == BD_BLOCK || p0 + m == npix)) {
      store_block(g, o, pix, nb, stream);
      nb = 0;
    }
  }
#if defined(__x86_64__) || defined(__i386__)
  if (stream) /* streamed stores are weakly ordered: done before the team's barrier */
    __builtin_ia32_sfence();
#endif
}

/* NCHW in place: against the composed path's chunks (shared on one thread, private on
 * two), Zen 5, medians of alternating runs: 1 thread fmnist2 46 -> 85, dcgan4 112 -> 135,
 * fsrcnn 104 -> 129 GFLOP/s; 2 threads fmnist2 83 -> 141, dcgan4 215 -> 247, fsrcnn 166 ->
 * 182. Without streaming the planes, two threads ran 0.6-0.9x of private chunks (every dx
 * line read for ownership before it is written). The same bits either way. */
int tc_ct_nchw_few_bd(const tc_conv2dt_plan *q) {
  return tc_ct_plain_nchw_few(q, TC_CONV2DT_BACKWARD_DATA);
}

/* An NCHW plan's workspace: the packed weights, then per thread its padded dy rows and
 * its tile (BD_BLOCK x C). */
static size_t nchw_slot_bytes(const fgeom *g) {
  return tc_ct_small_thread_bytes(g) + align_up(sizeof(float) * BD_BLOCK * (size_t)g->c);
}

/* The tile form's workspace: the packed weights, then a slot per thread. */
size_t tc_ct_few_bd_tiles_bytes(const tc_conv2dt_plan *q) {
  fgeom g = fgeom_of(q);
  return tc_ct_small_bd_b_bytes(&g) + (size_t)q->threads * nchw_slot_bytes(&g);
}

static float *thread_pad(const tc_conv2dt_plan *plan, const fgeom *g, void *ws, int nchw) {
  if (!nchw)
    return (float *)(void *)tc_ct_thread_ws(plan, ws);
  return (float *)(void *)((unsigned char *)ws + tc_ct_small_bd_b_bytes(g) +
                           (size_t)omp_get_thread_num() * nchw_slot_bytes(g));
}

/* Backward data, few filters, NHWC or NCHW through tiles (the same products in the same
 * order, so the same bits; NCHW dy is read by the padded rows, dx written through each
 * group's tile). */
void tc_ct_few_backward_data_rows(const tc_conv2dt_plan *plan, const float *dy, const float *k,
                                  float *dx, void *ws) {
  const fgeom gg = fgeom_of(plan), *g = &gg;
  const int K = tc_ct_small_k(g), npan = (int)panels(g->c);
  const int wseg = tc_ct_row_seg(g), band = tc_ct_bd_band(g);
  const int nseg = (int)ceil_div(g->w, wseg), nband = (int)ceil_div(g->h, band);
  const int64_t tasks = g->n * nband * nseg;
  const int nchw = plan->p.data_format == TC_CHANNELS_FIRST;
  float *bp = (float *)ws;
  tc_wide_ukr_fn wide = plan->ukr->wide;
  const int stream = nchw ? nchw_streams(g, plan->stream_bytes) : bd_streams(g, plan->stream_bytes);
#pragma omp parallel num_threads(tc_ct_team(plan))
  {
    float *pad = thread_pad(plan, g, ws, nchw);
    float *tile = pad + tc_ct_small_thread_bytes(g) / sizeof(float);
#pragma omp for schedule(dynamic, 1)
    for (int j = 0; j < npan; j++)
      for (int r = 0; r < K; r++)
        copy_pad(bp + ((int64_t)j * K + r) * TC_GEMM_NR, k + (int64_t)r * g->c + j * TC_GEMM_NR,
                 g->c - j * TC_GEMM_NR, TC_GEMM_NR);
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; t++) {
      int64_t n = t / ((int64_t)nband * nseg);
      int i0 = (int)(t / nseg % nband) * band, j0 = (int)(t % nseg) * wseg;
      int rows = imin(band, g->h - i0), wn = imin(wseg, g->w - j0);
      tc_ct_pad_dy_rows(g, dy, nchw, n, i0 * g->sh - g->pt, (rows - 1) * g->sh + g->kh, j0,
                        wn, pad);
      bd_out o = {nchw ? dx + n * g->c * g->h * g->w : dx + ((n * g->h + i0) * g->w + j0) * g->c,
                  (int64_t)i0 * g->w + j0, nchw, tile};
      bd_band_run(g, bp, pad, rows, wn, &o, wide, stream);
    }
  }
}
