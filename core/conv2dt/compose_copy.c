/* compose_copy.c — the copies of a composed plan (compose_run.c): a sub-problem's x, y or
 * their gradients between the big tensor (NHWC or NCHW; every d-th row and column of a
 * dilation residue; a group's channels) and the contiguous NHWC tensors its inner plan
 * reads and writes. Each element is read and written once (a blocked transpose for NCHW);
 * the copies are memory-bound. A copy runs on `team` threads where it is large enough to
 * pay for them, on the calling thread with team 1. */
#include <string.h>
#ifdef __SSE2__
#include <xmmintrin.h>
#endif

#include "core/conv2dt/compose.h"

typedef tc_ct_grid grid;

/* Channels and columns per tile of the strided NCHW copies (a tile's rows stay in L1). */
#define TB 16
/* Pixels per tile of the whole-plane NCHW transpose: 1 KiB runs of each channel plane.
 * Tiles small enough to keep their NHWC side in L1 (32 pixels at 128 channels) measured 8 %
 * slower on whole-batch copies, whose reads come from memory. */
#define PB 256

int tc_ct_grid_whole(const grid *g) {
  return !g->nchw && g->di == 1 && g->dj == 1 && g->h == g->H && g->w == g->W && g->c == g->C;
}

grid tc_ct_x_grid(const tc_conv2dt_plan *q, const tc_ct_sub *s) {
  int cg = q->c / q->p.groups;
  grid g = {s->n, q->h, q->w, q->c, q->p.data_format == TC_CHANNELS_FIRST,
            s->ax[0].r, s->ax[0].step, s->ax[0].in, s->ax[1].r, s->ax[1].step, s->ax[1].in,
            s->group * cg, cg};
  return g;
}

grid tc_ct_y_grid(const tc_conv2dt_plan *q, const tc_ct_sub *s) {
  int fg = q->p.filters / q->p.groups;
  grid g = {s->n, q->oh, q->ow, q->p.filters, q->p.data_format == TC_CHANNELS_FIRST,
            s->ax[0].base, s->ax[0].dil, s->ax[0].out, s->ax[1].base, s->ax[1].dil,
            s->ax[1].out, s->group * fg, fg};
  return g;
}

/* Small row i of image n (w*c floats) from or to the big tensor; put with src NULL writes
 * zeros. NCHW goes by TB x TB tiles of (channels, columns). */
static void row_copy(const grid *g, float *big, int64_t n, int i, float *small, int put) {
  int64_t bi = g->i0 + (int64_t)g->di * i;
  if (!g->nchw) {
    float *b = big + ((n * g->H + bi) * g->W + g->j0) * g->C + g->c0;
    size_t run = g->dj == 1 && g->c == g->C ? (size_t)g->w * g->c : (size_t)g->c;
    int64_t step = g->dj == 1 && g->c == g->C ? 0 : (int64_t)g->dj * g->C;
    for (int j = 0; j < g->w; j += step ? 1 : g->w) {
      float *bj = b + j * step, *sj = small ? small + (int64_t)j * g->c : NULL;
      if (!put)
        memcpy(sj, bj, sizeof(float) * run);
      else if (sj)
        memcpy(bj, sj, sizeof(float) * run);
      else
        memset(bj, 0, sizeof(float) * run);
    }
    return;
  }
  int64_t plane = (int64_t)g->H * g->W;
  float *b = big + (n * g->C + g->c0) * plane + bi * g->W + g->j0;
  for (int c0 = 0; c0 < g->c; c0 += TB)
    for (int j0 = 0; j0 < g->w; j0 += TB) {
      int c1 = imin(c0 + TB, g->c), j1 = imin(j0 + TB, g->w);
      for (int ch = c0; ch < c1; ch++) {
        float *bc = b + ch * plane;
        for (int j = j0; j < j1; j++) {
          float *bv = bc + (int64_t)j * g->dj;
          if (!put)
            small[(int64_t)j * g->c + ch] = *bv;
          else
            *bv = small ? small[(int64_t)j * g->c + ch] : 0.0f;
        }
      }
    }
}

/* pn pixels (at most PB) of an NCHW image's channels [0, c) (planes `plane` apart) from
 * or to the NHWC pixels of small: 4 channels at a time, each a run of pn floats on the big
 * side (4 streams, not one per channel: planes are often a power of two apart and would
 * evict each other), 4 x 4 blocks through SSE registers (x86-64's baseline); the rest one
 * float at a time. */
static void tile_copy(float *big, int64_t plane, int c, int pn, float *small, int put) {
  int ch = 0;
#ifdef __SSE2__
  if (small)
    for (; ch + 4 <= c; ch += 4) {
      int p = 0;
      for (; p + 4 <= pn; p += 4) {
        float *b = big + ch * plane + p, *sm = small + (int64_t)p * c + ch;
        __m128 r0, r1, r2, r3;
        if (!put) {
          r0 = _mm_loadu_ps(b), r1 = _mm_loadu_ps(b + plane);
          r2 = _mm_loadu_ps(b + 2 * plane), r3 = _mm_loadu_ps(b + 3 * plane);
        } else {
          r0 = _mm_loadu_ps(sm), r1 = _mm_loadu_ps(sm + c);
          r2 = _mm_loadu_ps(sm + 2 * c), r3 = _mm_loadu_ps(sm + 3 * c);
        }
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        if (!put) {
          _mm_storeu_ps(sm, r0), _mm_storeu_ps(sm + c, r1);
          _mm_storeu_ps(sm + 2 * c, r2), _mm_storeu_ps(sm + 3 * c, r3);
        } else {
          _mm_storeu_ps(b, r0), _mm_storeu_ps(b + plane, r1);
          _mm_storeu_ps(b + 2 * plane, r2), _mm_storeu_ps(b + 3 * plane, r3);
        }
      }
      for (; p < pn; p++)
        for (int e = ch; e < ch + 4; e++) {
          float *bv = big + e * plane + p, *sv = small + (int64_t)p * c + e;
          if (!put)
            *sv = *bv;
          else
            *bv = *sv;
        }
    }
#endif
  for (; ch < c; ch++)
    for (int p = 0; p < pn; p++) {
      float *bv = big + ch * plane + p;
      if (!put)
        small[(int64_t)p * c + ch] = *bv;
      else
        *bv = small ? small[(int64_t)p * c + ch] : 0.0f;
    }
}

/* An NCHW grid of whole planes (no stride, every row and column): image by image, the
 * plane as one run of pixels in PB-pixel tiles. */
static void plane_copy(const grid *g, float *big, float *small, int put, int team) {
  int64_t plane = (int64_t)g->H * g->W, tiles = ceil_div(plane, PB);
  int64_t units = g->n * tiles;
  int par = team > 1 && g->n * plane * g->c >= TC_CT_COPY_PAR_FLOATS;
#pragma omp parallel for schedule(static) num_threads(team) if (par)
  for (int64_t u = 0; u < units; u++) {
    int64_t n = u / tiles, p0 = (u % tiles) * PB;
    float *b = big + (n * g->C + g->c0) * plane + p0;
    float *sm = small ? small + (n * plane + p0) * g->c : NULL;
    tile_copy(b, plane, g->c, (int)(plane - p0 < PB ? plane - p0 : PB), sm, put);
  }
}

void tc_ct_grid_copy(const grid *g, float *big, float *small, int put, int team) {
  if (g->nchw && g->di == 1 && g->dj == 1 && g->h == g->H && g->w == g->W) {
    plane_copy(g, big, small, put, team);
    return;
  }
  int64_t rows = g->n * g->h, row = (int64_t)g->w * g->c;
  int par = team > 1 && rows * row >= TC_CT_COPY_PAR_FLOATS;
#pragma omp parallel for schedule(static) num_threads(team) if (par)
  for (int64_t r = 0; r < rows; r++)
    row_copy(g, big, r / g->h, (int)(r % g->h), small ? small + r * row : NULL, put);
}

const float *tc_ct_grid_in(const grid *g, const float *big, float *buf, int team) {
  if (tc_ct_grid_whole(g))
    return big;
  tc_ct_grid_copy(g, (float *)big, buf, 0, team);
  return buf;
}
