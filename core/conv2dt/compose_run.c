/* compose_run.c — the kernels of a composed plan (compose.c): each sub-problem's x, y and
 * kernel are copied into the workspace as the NHWC tensors its inner plan reads, the inner
 * plan runs the chosen fast algorithm, and the result is copied back into place. The copies
 * read and write each element once (a blocked transpose for NCHW); they are memory-bound
 * and small against the convolution's FLOPs for real shapes (docs/benchmarks.md). */
#include <string.h>
#ifdef __SSE2__
#include <xmmintrin.h>
#endif

#include "core/conv2dt/compose.h"

/* A sub-grid of a big tensor of (n, H, W, C) in NHWC or NCHW order: rows i0 + di*i
 * (i < h), columns j0 + dj*j (j < w), channels c0 + ch (ch < c). The small side is NHWC
 * (n, h, w, c), contiguous. */
typedef struct grid {
  int64_t n;
  int H, W, C, nchw;
  int i0, di, h, j0, dj, w, c0, c;
} grid;

/* Copies below this many floats stay on one thread. */
#define COPY_PAR_FLOATS 32768
/* Channels and columns per tile of the strided NCHW copies (a tile's rows stay in L1). */
#define TB 16
/* Pixels per tile of the whole-plane NCHW transpose. */
#define PB 256

static int whole(const grid *g) {
  return !g->nchw && g->di == 1 && g->dj == 1 && g->h == g->H && g->w == g->W && g->c == g->C;
}

static grid x_grid(const tc_conv2dt_plan *q, const tc_ct_sub *s) {
  int cg = q->c / q->p.groups;
  grid g = {s->n, q->h, q->w, q->c, q->p.data_format == TC_CHANNELS_FIRST,
            s->ax[0].r, s->ax[0].step, s->ax[0].in, s->ax[1].r, s->ax[1].step, s->ax[1].in,
            s->group * cg, cg};
  return g;
}

static grid y_grid(const tc_conv2dt_plan *q, const tc_ct_sub *s) {
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
static void plane_copy(const tc_conv2dt_plan *q, const grid *g, float *big, float *small,
                       int put) {
  int64_t plane = (int64_t)g->H * g->W, tiles = ceil_div(plane, PB);
  int64_t units = g->n * tiles;
  int par = q->threads > 1 && g->n * plane * g->c >= COPY_PAR_FLOATS;
#pragma omp parallel for schedule(static) num_threads(tc_ct_team(q)) if (par)
  for (int64_t u = 0; u < units; u++) {
    int64_t n = u / tiles, p0 = (u % tiles) * PB;
    float *b = big + (n * g->C + g->c0) * plane + p0;
    float *sm = small ? small + (n * plane + p0) * g->c : NULL;
    tile_copy(b, plane, g->c, (int)(plane - p0 < PB ? plane - p0 : PB), sm, put);
  }
}

/* small = big[grid] (put 0) or big[grid] = small (put 1; small NULL: zeros). */
static void grid_copy(const tc_conv2dt_plan *q, const grid *g, float *big, float *small,
                      int put) {
  if (g->nchw && g->di == 1 && g->dj == 1 && g->h == g->H && g->w == g->W) {
    plane_copy(q, g, big, small, put);
    return;
  }
  int64_t rows = g->n * g->h, row = (int64_t)g->w * g->c;
  int par = q->threads > 1 && rows * row >= COPY_PAR_FLOATS;
#pragma omp parallel for schedule(static) num_threads(tc_ct_team(q)) if (par)
  for (int64_t r = 0; r < rows; r++)
    row_copy(g, big, r / g->h, (int)(r % g->h), small ? small + r * row : NULL, put);
}

/* The sub-problem's input: the big tensor itself where the grid is all of it. */
static const float *grid_in(const tc_conv2dt_plan *q, const grid *g, const float *big,
                            float *buf) {
  if (whole(g))
    return big;
  grid_copy(q, g, (float *)big, buf, 0);
  return buf;
}

/* The group's kernel (kh, kw, F/g, C/g) out of (kh, kw, F/g, C); the kernel itself for
 * groups 1. */
static const float *group_kernel(const tc_conv2dt_plan *q, int group, const float *k,
                                 float *buf) {
  int G = q->p.groups;
  if (G == 1)
    return k;
  int cg = q->c / G;
  int64_t rows = (int64_t)q->p.kernel_h * q->p.kernel_w * (q->p.filters / G);
  for (int64_t r = 0; r < rows; r++)
    memcpy(buf + r * cg, k + r * q->c + (int64_t)group * cg, sizeof(float) * (size_t)cg);
  return buf;
}

/* dk's group slice = part (add 0) or += part (add 1), or zeros (part NULL). */
static void group_dk(const tc_conv2dt_plan *q, int group, const float *part, float *dk,
                     int add) {
  int G = q->p.groups, cg = q->c / G;
  int64_t rows = (int64_t)q->p.kernel_h * q->p.kernel_w * (q->p.filters / G);
  for (int64_t r = 0; r < rows; r++) {
    float *d = dk + r * q->c + (int64_t)group * cg;
    const float *s = part ? part + r * cg : NULL;
    for (int e = 0; e < cg; e++)
      d[e] = !s ? 0.0f : add ? d[e] + s[e] : s[e];
  }
}

typedef struct bufs {
  float *x, *y, *k;
} bufs;

static bufs bufs_of(const tc_conv2dt_plan *q, void *ws) {
  tc_ct_parts p = tc_ct_compose_parts(q);
  unsigned char *b = ws;
  bufs r = {(float *)(b + p.x_off), (float *)(b + p.y_off), (float *)(b + p.k_off)};
  return r;
}

static int dilated(const tc_conv2dt_plan *q) {
  return q->p.dilation_h > 1 || q->p.dilation_w > 1;
}

/* y = the bias (or zeros) everywhere: the output rows no dilated tap reaches keep it. */
static void fill_bias(const tc_conv2dt_plan *q, const float *bias, float *y) {
  int F = q->p.filters, nchw = q->p.data_format == TC_CHANNELS_FIRST;
  int64_t plane = (int64_t)q->oh * q->ow, rows = q->n * (nchw ? F : q->oh);
  int64_t row = nchw ? plane : (int64_t)q->ow * F;
  int par = q->threads > 1 && rows * row >= COPY_PAR_FLOATS;
#pragma omp parallel for schedule(static) num_threads(tc_ct_team(q)) if (par)
  for (int64_t r = 0; r < rows; r++) {
    float *v = y + r * row;
    for (int64_t e = 0; e < row; e++)
      v[e] = !bias ? 0.0f : nchw ? bias[r % F] : bias[e % F];
  }
}

/* Images [n0, n0 + nb) of sub-problem idx; 0 when it has no output. */
static int sub_chunk(const tc_conv2dt_plan *q, int idx, int64_t nb, tc_ct_sub *s,
                     tc_conv2dt_plan *in) {
  int live = tc_ct_sub_at(q, idx, s);
  s->n = nb;
  if (live)
    tc_ct_sub_plan(q, s, in);
  return live;
}

void tc_ct_composed_forward(const tc_conv2dt_plan *q, const float *x, const float *k,
                            const float *bias, float *y, void *ws) {
  bufs b = bufs_of(q, ws);
  int fg = q->p.filters / q->p.groups;
  int64_t chunk = tc_ct_chunk(q), xi = (int64_t)q->h * q->w * q->c;
  int64_t yi = (int64_t)q->oh * q->ow * q->p.filters;
  if (dilated(q))
    fill_bias(q, bias, y);
  for (int64_t n0 = 0; n0 < q->n; n0 += chunk) {
    int64_t nb = q->n - n0 < chunk ? q->n - n0 : chunk;
    for (int i = 0; i < tc_ct_sub_count(q); i++) {
      tc_ct_sub s;
      tc_conv2dt_plan in;
      if (!sub_chunk(q, i, nb, &s, &in))
        continue;
      grid gx = x_grid(q, &s), gy = y_grid(q, &s);
      const float *xs = grid_in(q, &gx, x + n0 * xi, b.x);
      const float *ks = group_kernel(q, s.group, k, b.k);
      tc_ct_run_forward(&in, xs, ks, bias ? bias + (int64_t)s.group * fg : NULL, b.y, ws);
      grid_copy(q, &gy, y + n0 * yi, b.y, 1);
    }
  }
}

void tc_ct_composed_backward_data(const tc_conv2dt_plan *q, const float *dy, const float *k,
                                  float *dx, void *ws) {
  bufs b = bufs_of(q, ws);
  int64_t chunk = tc_ct_chunk(q), xi = (int64_t)q->h * q->w * q->c;
  int64_t yi = (int64_t)q->oh * q->ow * q->p.filters;
  for (int64_t n0 = 0; n0 < q->n; n0 += chunk) {
    int64_t nb = q->n - n0 < chunk ? q->n - n0 : chunk;
    for (int i = 0; i < tc_ct_sub_count(q); i++) {
      tc_ct_sub s;
      tc_conv2dt_plan in;
      int live = sub_chunk(q, i, nb, &s, &in);
      grid gx = x_grid(q, &s), gy = y_grid(q, &s);
      float *dxc = dx + n0 * xi;
      if (!live) { /* inputs whose taps all fall outside the output */
        grid_copy(q, &gx, dxc, NULL, 1);
        continue;
      }
      const float *dys = grid_in(q, &gy, dy + n0 * yi, b.y);
      const float *ks = group_kernel(q, s.group, k, b.k);
      float *dxs = whole(&gx) ? dxc : b.x;
      tc_ct_run_backward_data(&in, dys, ks, dxs, ws);
      if (dxs != dxc)
        grid_copy(q, &gx, dxc, dxs, 1);
    }
  }
}

/* Each group's residues add their partial kernels in residue order; a group that has one
 * sub-problem writes dk directly (groups 1) or through the kernel buffer. The bias
 * gradient comes from the inner plans (the NHWC sums: bit-identical to NHWC) unless
 * dilation leaves output rows outside every sub-problem (then from the outer plan). */
void tc_ct_composed_backward_weights(const tc_conv2dt_plan *q, const float *x, const float *dy,
                                     float *dk, float *dbias, void *ws) {
  bufs b = bufs_of(q, ws);
  int G = q->p.groups, per = tc_ct_sub_count(q) / G, fg = q->p.filters / G;
  int inner_bias = !dilated(q); /* one sub-problem per group, covering its whole output */
  for (int g = 0; g < G; g++) {
    int written = 0;
    for (int i = g * per; i < (g + 1) * per; i++) {
      tc_ct_sub s;
      tc_conv2dt_plan in;
      if (!tc_ct_sub_at(q, i, &s))
        continue;
      tc_ct_sub_plan(q, &s, &in);
      grid gx = x_grid(q, &s), gy = y_grid(q, &s);
      const float *xs = grid_in(q, &gx, x, b.x);
      const float *dys = grid_in(q, &gy, dy, b.y);
      float *part = G == 1 && per == 1 ? dk : b.k;
      tc_ct_run_backward_weights(&in, xs, dys, part, ws);
      if (dbias && inner_bias)
        tc_ct_bias_grad(&in, dys, dbias + (int64_t)g * fg);
      if (part != dk)
        group_dk(q, g, part, dk, written);
      written = 1;
    }
    if (!written)
      group_dk(q, g, NULL, dk, 0);
    inner_bias &= written;
  }
  if (dbias && !inner_bias)
    tc_ct_bias_grad(q, dy, dbias);
}
