/* conv2dt_fast.c — the three transposed-convolution kernels as implicit GEMMs on the
 * batch-reduce micro-kernel (gemm.c, gemm_avx2.c, gemm_avx512.c; dot kernels for few
 * filters), for NHWC, groups 1, dilation 1. docs/kernels.md has the whole design.
 *
 * Forward: output pixel (oi, oj) with oi + pt = q*sh + rh only receives taps a = rh + t*sh
 * from input row i = q - t, so each of the sh*sw output phases (rh, rw) is an ordinary
 * convolution: y_phase[pix][:] = bias + sum over its taps (t, u) of x[q-t][p-u][:] (1 x C)
 * times k[a][b] transposed (C x F). No zero insertion, no scatter: every output row is
 * owned by one thread. Backward data is a plain strided convolution: dx[i][j][:] = sum over
 * all taps of dy[i*sh+a-pt][j*sw+b-pl][:] (1 x F) times k[a][b] (F x C).
 * Both are driven by run_igemm: C rows (output pixels) in chunks, one thread per chunk;
 * per tap the (A row, C row) pairs whose source pixel exists are listed (or, for short
 * K, a group's taps batched into one call), and the micro-kernel reads A rows straight
 * from the activation (contiguous channels) against weights packed once per call block
 * into the shared part of the workspace.
 * Backward weights: per tap, dk[a][b] (F x C) = dy_tap^T (F x P) . x_tap (P x C) over the
 * P = N*H*W pixels the tap maps inside the output. Where dk is small, fixed pixel slabs
 * each sum every tap into their own partial dk (x packed once per chunk for all taps);
 * else one task per (taps, F block, C block) reduces over all P, so no output is shared.
 * Few filters (F <= 8) have their own forms at the end of the file.
 *
 * Every output element is summed in an order that depends on the shape only (k-group,
 * tap, k, slab), never on the thread count or the chunking: results are bit-identical for
 * any number of threads. */
#include <omp.h>
#include <string.h>

#include "core/conv2dt_internal.h"

#define MC_MAX 192          /* C rows per chunk: the chunk's C tile (x NC) stays in L2 */
#define NC_MAX 256          /* columns of C per block (16 panels) */
#define KC 256              /* k per micro-kernel call: 6 A rows + one B panel fit L1 */
#define B_BUDGET (4 << 20)  /* bytes of packed weights shared by the team */
#define KP 256              /* backward weights: pixels per packed chunk */
#define FB 192         /* backward weights: filters per task (32 row groups) */
#define CB 256         /* backward weights: channels per task (16 panels) */
#define REGION_FLOATS (2 * KP * FB) /* backward weights: packed dy of a chunk (>= KP x FB) */
#define MAX_TAPS (B_BUDGET / (TC_GEMM_NR * 4)) /* more taps and B would outgrow the budget */
#define ALIGN 64

typedef struct fgeom {
  int64_t n;
  int h, w, c, f, kh, kw, sh, sw, oh, ow, pt, pl;
} fgeom;

static fgeom fgeom_of(const tc_conv2dt_plan *q) {
  fgeom g = {q->n,          q->h,          q->w,          q->c,          q->p.filters,
             q->p.kernel_h, q->p.kernel_w, q->p.stride_h, q->p.stride_w, q->oh,
             q->ow,         q->pad_top,    q->pad_left};
  return g;
}

static int imin(int a, int b) { return a < b ? a : b; }
static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static size_t align_up(size_t v) { return (v + ALIGN - 1) / ALIGN * ALIGN; }

/* dst[0:w] = src[0:avail] then zeros (avail may exceed w). */
static inline void copy_pad(float *dst, const float *src, int avail, int w) {
  if (avail >= w) {
    memcpy(dst, src, sizeof(float) * (size_t)w);
    return;
  }
  memcpy(dst, src, sizeof(float) * (size_t)avail);
  memset(dst + avail, 0, sizeof(float) * (size_t)(w - avail));
}

/* ---- blocking, shared by the plan (workspace size) and the kernels ---- */

/* B is packed for all taps of a call block: taps x kcg x nc floats within B_BUDGET. */
typedef struct blocking {
  int taps, kdim, ndim; /* taps of the largest phase, K per tap, N */
  int nc, kcg;          /* N per block (multiple of 16), K per group */
} blocking;

static blocking block_igemm(int taps, int kdim, int ndim) {
  blocking b = {taps, kdim, ndim, 0, 0};
  b.nc = (int)imin((int)ceil_div(ndim, TC_GEMM_NR) * TC_GEMM_NR, NC_MAX);
  int64_t kmax = B_BUDGET / ((int64_t)(taps > 0 ? taps : 1) * b.nc * 4);
  if (kmax < 1)
    kmax = 1;
  int64_t groups = ceil_div(kdim, kmax);
  b.kcg = (int)ceil_div(kdim, groups);
  return b;
}

static size_t blocking_bytes(const blocking *b) {
  return align_up((size_t)b->taps * (size_t)b->kcg * (size_t)b->nc * sizeof(float));
}

static blocking block_forward(const fgeom *g) {
  int taps = (int)(ceil_div(g->kh, g->sh) * ceil_div(g->kw, g->sw));
  return block_igemm(taps, g->c, g->f);
}

static blocking block_backward_data(const fgeom *g) {
  return block_igemm(g->kh * g->kw, g->f, g->c);
}

/* Per-thread scratch of run_igemm: row coordinates, pointer lists and the tap-set order of
 * one chunk. */
static size_t igemm_thread_bytes(void) {
  return align_up(MC_MAX * (3 * sizeof(int64_t) + 7 * sizeof(int) + 3 * sizeof(float *)));
}

/* Per-thread scratch of backward weights: packed dy (KP x FB) and x (KP x CB). */
static size_t bwdw_thread_bytes(void) {
  return align_up(((size_t)REGION_FLOATS + (size_t)KP * CB) * sizeof(float));
}

/* ---- few filters ----
 * Forward with F <= TC_DOT_MAXF runs the dot kernel (lanes along C). Backward data and
 * backward weights with F <= SMALL_F and kh*kw*F <= SMALL_K put all taps into one
 * reduction: an input pixel's gathered dy row (kh*kw*F values, zero where a tap falls
 * outside the output) times the weights as a (kh*kw*F x C) matrix, so C fills the tile
 * columns and the GEMM's K is taps*F instead of F. */
#define SMALL_F 8
#define SMALL_K 384

static int small_fwd(const fgeom *g) { return g->f <= TC_DOT_MAXF; }

static int small_k(const fgeom *g) { return g->kh * g->kw * g->f; }

static int small_bwd(const fgeom *g) { return g->f <= SMALL_F && small_k(g) <= SMALL_K; }

static int64_t panels(int n) { return ceil_div(n, TC_GEMM_NR); }

/* Backward data's packed weights: panel j holds (taps*F, 16). */
static size_t small_bd_b_bytes(const fgeom *g) {
  return align_up((size_t)small_k(g) * (size_t)panels(g->c) * TC_GEMM_NR * sizeof(float));
}

static int small_bd(const fgeom *g) {
  return small_bwd(g) && g->kh <= TC_WIDE_MAXNT && small_bd_b_bytes(g) <= (size_t)B_BUDGET;
}

/* Both few-filter backward kernels work on input-row segments: the segment's pixels and,
 * copied once and zero-padded at both ends, the kh dy rows its kernel rows reach, which
 * stay within SEG_FLOATS. */
#define SEG_FLOATS 65536

static int row_seg(const fgeom *g) {
  int64_t per_row = (int64_t)g->kh * g->f;
  int64_t ws = (SEG_FLOATS / per_row - g->kw) / g->sw + 1;
  ws = ws < 1 ? 1 : ws > g->w ? g->w : ws;
  return (int)ws;
}

/* Floats of one padded dy row of a segment. */
static int64_t pad_row_len(const fgeom *g) {
  return ((int64_t)(row_seg(g) - 1) * g->sw + g->kw) * g->f;
}

/* Backward weights, few filters: segments of the same width go to the micro-kernel in
 * batches of about BATCH_PIX pixels (at most BATCH_MAX segments, their padded rows within
 * 2 * SEG_FLOATS); a fixed number of slabs of segments (a function of the shape only)
 * each sum into their own partial dk (K x C). */
#define BATCH_PIX 256
#define BATCH_MAX 64 /* <= TC_WIDE_MAXNT: a batch is one call's pairs */
#define SLABS_MAX 8            /* segment slabs, a function of the shape only */
#define PART_BUDGET (4 << 20)  /* bytes of partial sums shared by the team */

static int bw_batch(const fgeom *g) {
  int64_t nb = BATCH_PIX / row_seg(g), fit = 2 * SEG_FLOATS / ((int64_t)g->kh * pad_row_len(g));
  nb = nb < fit ? nb : fit;
  nb = nb < BATCH_MAX ? nb : BATCH_MAX;
  return nb < 1 ? 1 : (int)nb;
}

static int64_t row_units(const fgeom *g) {
  return g->n * g->h * ceil_div(g->w, row_seg(g));
}

static int small_slabs(const fgeom *g) {
  int64_t s = ceil_div(row_units(g) * row_seg(g), 2 * KP);
  int64_t fit = PART_BUDGET / ((int64_t)g->c * small_k(g) * (int64_t)sizeof(float));
  s = s < SLABS_MAX ? s : SLABS_MAX;
  s = s < fit ? s : fit;
  return s < 1 ? 1 : (int)s;
}

/* Backward weights over pixel slabs (not few filters): one filter block and one channel
 * block, and S partial dk (kh*kw*F*C each) within SLAB_BUDGET, S >= 2; else 0. The budget
 * keeps one thread's whole workspace (partials + 640 KiB of packing) under 8 MiB; S is a
 * function of the shape only, never of the thread count. */
#define SLAB_BUDGET (7 << 20)
static int bw_slabs(const fgeom *g) {
  if (small_bwd(g) || g->f > FB || g->c > CB)
    return 0;
  int64_t dkf = (int64_t)g->kh * g->kw * g->f * g->c;
  int64_t s = ceil_div(g->n * g->h * g->w, 2 * KP);
  s = s < SLABS_MAX ? s : SLABS_MAX;
  s = s < SLAB_BUDGET / (dkf * (int64_t)sizeof(float)) ? s : SLAB_BUDGET / (dkf * 4);
  while (s & (s - 1)) /* a power of two: 3 slabs on 2 threads would leave one idle a third */
    s &= s - 1;
  return s >= 2 ? (int)s : 0;
}

static size_t part_bytes(const fgeom *g) {
  if (small_bwd(g))
    return align_up((size_t)small_slabs(g) * (size_t)g->c * (size_t)small_k(g) * sizeof(float));
  return align_up((size_t)bw_slabs(g) * (size_t)g->kh * (size_t)g->kw * (size_t)g->f *
                  (size_t)g->c * sizeof(float));
}

/* The padded dy rows of one segment (backward data) or of a batch (backward weights). */
static size_t small_thread_bytes(const fgeom *g) {
  if (!small_bwd(g))
    return 0;
  size_t rows = (size_t)g->kh * (size_t)pad_row_len(g);
  return align_up(rows * (size_t)bw_batch(g) * sizeof(float));
}

static size_t thread_bytes(const fgeom *g) {
  size_t a = igemm_thread_bytes(), b = bwdw_thread_bytes(), c = small_thread_bytes(g);
  a = a > b ? a : b;
  return a > c ? a : c;
}

/* The packed weights of whichever kernel needs most, then a row of C zeros (the dot
 * kernel's stand-in for a source pixel outside the input). */
static size_t zero_row_offset(const fgeom *g) {
  blocking f = block_forward(g), d = block_backward_data(g);
  size_t a = blocking_bytes(&f), b = blocking_bytes(&d);
  size_t m = a > b ? a : b;
  if (small_bd(g) && small_bd_b_bytes(g) > m)
    m = small_bd_b_bytes(g);
  return m;
}

/* The shared part of the workspace holds what one kernel needs at a time: the packed
 * weights and the zero row (forward, backward data) or, from offset 0, the partial sums
 * (backward weights). */
static size_t shared_bytes(const fgeom *g) {
  size_t fwd = zero_row_offset(g) + (small_fwd(g) ? align_up((size_t)g->c * sizeof(float)) : 0);
  size_t parts = part_bytes(g);
  return fwd > parts ? fwd : parts;
}

int tc_conv2dt_fast_applies(const tc_conv2dt_plan *plan) {
  const tc_conv2dt_params *p = &plan->p;
  return p->data_format == TC_CHANNELS_LAST && p->groups == 1 && p->dilation_h == 1 &&
         p->dilation_w == 1 && (int64_t)p->kernel_h * p->kernel_w <= MAX_TAPS;
}

size_t tc_conv2dt_fast_workspace(const tc_conv2dt_plan *plan, int nthreads) {
  if (!tc_conv2dt_fast_applies(plan))
    return 0;
  fgeom g = fgeom_of(plan);
  return shared_bytes(&g) + (size_t)(nthreads > 0 ? nthreads : 1) * thread_bytes(&g);
}

/* Threads for a call: what OpenMP offers, capped by what the workspace was sized for
 * (omp_get_max_threads() at plan time), 1 for calls too small to pay for a team. */
static int team_size(const tc_conv2dt_plan *plan) {
  if (tc_conv2dt_flops(plan) < 131072.0)
    return 1;
  fgeom g = fgeom_of(plan);
  size_t planned = (plan->workspace_bytes - shared_bytes(&g)) / thread_bytes(&g);
  int t = omp_get_max_threads();
  return (size_t)t < planned ? t : (int)planned;
}

/* ---- implicit GEMM driver (forward phases, backward data) ---- */

/* One GEMM: C rows are the pixels (n, u, v) of a qh x qw grid per image; tap (t, s)
 * reads A row at source pixel (u - t, v - s) (forward) or (u*sh + t - pt, v*sw + s - pl)
 * (backward data) of the A activation when that pixel exists. */
typedef struct igemm {
  const fgeom *g;
  int fwd;            /* 1: forward output phase (rh, rw); 0: backward data */
  int rh, rw, th, tw; /* phase, taps along h and w */
  int u0, v0, qh, qw; /* forward: first q of the phase along h, w; grid size */
  int64_t m;          /* C rows: n * qh * qw */
  int arow_len, crow_len; /* channels of an A pixel and of a C pixel */
  const float *a, *k, *bias;
  float *c;
  blocking bl;
  tc_gemm_ukr_fn ukr;
  tc_wide_ukr_fn wide; /* backward data at stride 1 along w: a kernel row per pair */
  int rowb;            /* B by kernel rows (see b_at) */
} igemm;

/* Per-thread lists for one chunk. */
typedef struct rows {
  int64_t *n;
  int *u, *v;
  float **crow;       /* C row of every chunk row, at column n0 */
  const float **ap;   /* the current tap's A rows, at k0 */
  float **cp;         /* and their C rows */
  int64_t *key;       /* tap batches: the rows' tap sets as numbers, */
  int *order;         /* the rows in the order of those sets, */
  int64_t *off;       /* each row's first source (tap 0, 0; outside the image at times) */
  int (*span)[4];     /* and its existing taps [t0, t1) x [s0, s1) */
} rows;

static rows rows_at(unsigned char *ws) {
  rows r;
  r.n = (int64_t *)ws;
  r.u = (int *)(r.n + MC_MAX);
  r.v = r.u + MC_MAX;
  r.crow = (float **)(void *)(r.v + MC_MAX);
  r.ap = (const float **)(r.crow + MC_MAX);
  r.cp = (float **)(r.ap + MC_MAX);
  r.key = (int64_t *)(void *)(r.cp + MC_MAX);
  r.off = r.key + MC_MAX;
  r.order = (int *)(r.off + MC_MAX);
  r.span = (int(*)[4])(r.order + MC_MAX);
  return r;
}

/* Kernel element (t, s) of tap list index, as the (a, b) of k[a][b]. */
static void tap_ab(const igemm *G, int t, int s, int *a, int *b) {
  *a = G->fwd ? G->rh + t * G->g->sh : t;
  *b = G->fwd ? G->rw + s * G->g->sw : s;
}

/* Panel j of tap's packed B (kcg x 16), and the step between two panels of a tap. With
 * rowb the taps of a kernel row follow each other inside each panel (panel j of row t:
 * tw blocks of kcg x 16), so a whole kernel row is one (tw*kcg x 16) panel. */
static const float *b_at(const igemm *G, const float *bp, int tap, int j) {
  int64_t npb = G->bl.nc / TC_GEMM_NR, blk = (int64_t)G->bl.kcg * TC_GEMM_NR;
  if (G->rowb)
    return bp + ((tap / G->tw * npb + j) * G->tw + tap % G->tw) * blk;
  return bp + (tap * npb + j) * blk;
}

static ptrdiff_t b_ps(const igemm *G) {
  return (ptrdiff_t)(G->rowb ? G->tw : 1) * G->bl.kcg * TC_GEMM_NR;
}

/* B block for taps x [k0, k0+kcg) x [n0, n0+nc): panel j of tap holds (kcg, 16).
 * Forward: B[c][f] = k[a][b][f][c]; backward data: B[f][c] = k[a][b][f][c]. */
static void pack_b_panel(const igemm *G, int tap, int j, int k0, int n0, float *bp) {
  const fgeom *g = G->g;
  int a, b, kc = imin(G->bl.kcg, G->bl.kdim - k0);
  tap_ab(G, tap / G->tw, tap % G->tw, &a, &b);
  const float *kt = G->k + ((int64_t)a * g->kw + b) * g->f * g->c;
  float *dst = (float *)b_at(G, bp, tap, j);
  int col0 = n0 + j * TC_GEMM_NR, ncol = imin(TC_GEMM_NR, G->bl.ndim - col0);
  if (!G->fwd) { /* B rows are rows of k: copy them, zero past the last column */
    for (int kk = 0; kk < kc; kk++)
      copy_pad(dst + kk * TC_GEMM_NR, kt + (int64_t)(k0 + kk) * g->c + col0, ncol, TC_GEMM_NR);
    return;
  }
  for (int jj = 0; jj < TC_GEMM_NR; jj++)
    for (int kk = 0; kk < kc; kk++)
      dst[kk * TC_GEMM_NR + jj] = jj < ncol ? kt[(int64_t)(col0 + jj) * g->c + k0 + kk] : 0.0f;
}

/* Chunk rows [r0, r1): their coordinates and C rows; on the first k-group the C columns
 * [n0, n0+ncv) start as the bias (forward) or zero. */
static void chunk_rows(const igemm *G, int64_t r0, int64_t r1, int n0, int ncv, int first,
                       rows *R) {
  const fgeom *g = G->g;
  int64_t per_img = (int64_t)G->qh * G->qw;
  for (int64_t r = r0; r < r1; r++) {
    int64_t i = r - r0, n = r / per_img;
    int u = (int)(r % per_img / G->qw), v = (int)(r % G->qw);
    R->n[i] = n, R->u[i] = u, R->v[i] = v;
    int64_t oi = G->fwd ? (int64_t)(G->u0 + u) * g->sh + G->rh - g->pt : u;
    int64_t oj = G->fwd ? (int64_t)(G->v0 + v) * g->sw + G->rw - g->pl : v;
    int64_t hh = G->fwd ? g->oh : g->h, ww = G->fwd ? g->ow : g->w;
    float *row = G->c + ((n * hh + oi) * ww + oj) * G->crow_len + n0;
    R->crow[i] = row;
    if (first)
      for (int f = 0; f < ncv; f++)
        row[f] = G->bias ? G->bias[n0 + f] : 0.0f;
  }
}

/* Short K per tap (<= SHORT_K: few filters or channels on the reduction side): one call
 * per tap would add the C tile for every few k, so a 6-row group's taps go to the
 * micro-kernel in batches instead, summed in registers; a row whose source pixel does not
 * exist reads zeros, a tap none of the group's rows reaches is left out. */
#define SHORT_K 64
#define TAP_BATCH 32
static const float zero_k[SHORT_K];

/* The A row of chunk row i for tap (t, s) at column k0, or zeros. */
static const float *tap_source(const igemm *G, const rows *R, int i, int t, int s, int k0) {
  const fgeom *g = G->g;
  int hh = G->fwd ? g->h : g->oh, ww = G->fwd ? g->w : g->ow;
  int64_t si, sj;
  if (G->fwd)
    si = (int64_t)G->u0 + R->u[i] - t, sj = (int64_t)G->v0 + R->v[i] - s;
  else
    si = (int64_t)R->u[i] * g->sh + t - g->pt, sj = (int64_t)R->v[i] * g->sw + s - g->pl;
  if (si < 0 || si >= hh || sj < 0 || sj >= ww)
    return zero_k;
  return G->a + ((R->n[i] * hh + si) * ww + sj) * G->arow_len + k0;
}

/* The (A row, C row) pairs of tap (t, s) among the chunk's cnt rows; returns how many. */
static int tap_pairs(const igemm *G, int t, int s, int cnt, int k0, rows *R) {
  int m = 0;
  for (int i = 0; i < cnt; i++) {
    const float *src = tap_source(G, R, i, t, s, k0);
    if (src == zero_k)
      continue;
    R->ap[m] = src;
    R->cp[m++] = R->crow[i];
  }
  return m;
}

/* All micro-kernel calls of one tap's pairs against its packed panels. */
static void tap_gemm(const igemm *G, const float *bt, int kc, int cnt, int ncv, rows *R) {
  int npan = (int)ceil_div(ncv, TC_GEMM_NR);
  for (int kb = 0; kb < kc; kb += KC) {
    int kk = imin(KC, kc - kb);
    for (int i = 0; i < cnt; i += TC_GEMM_MR) {
      int m = imin(TC_GEMM_MR, cnt - i);
      const float *a6[TC_GEMM_MR];
      float *c6[TC_GEMM_MR];
      for (int r = 0; r < TC_GEMM_MR; r++)
        a6[r] = R->ap[i + (r < m ? r : 0)] + kb;
      /* the next group's A rows are read in place from the activation: fetch them now */
      for (int r = i + TC_GEMM_MR; r < cnt && r < i + 2 * TC_GEMM_MR; r++)
        for (int e = 0; e < kk; e += 16)
          __builtin_prefetch(R->ap[r] + kb + e);
      for (int j = 0; j < npan; j += 2) {
        for (int r = 0; r < TC_GEMM_MR; r++)
          c6[r] = R->cp[i + (r < m ? r : 0)] + j * TC_GEMM_NR;
        const float *bj = bt + ((int64_t)j * G->bl.kcg + kb) * TC_GEMM_NR;
        G->ukr(1, kk, a6, 1, &bj, TC_GEMM_NR, (ptrdiff_t)G->bl.kcg * TC_GEMM_NR, c6, m,
               imin(TC_GEMM_NC, ncv - j * TC_GEMM_NR), 1);
      }
    }
  }
}

/* One chunk for the block (n0, k0): every tap in order, so each C element sums its taps
 * in the same order whatever the chunking. */
static void run_chunk(const igemm *G, const float *bp, int64_t r0, int64_t r1, int n0, int k0,
                      rows *R) {
  int ncv = imin(G->bl.nc, G->bl.ndim - n0), kc = imin(G->bl.kcg, G->bl.kdim - k0);
  int cnt = (int)(r1 - r0), npan = G->bl.nc / TC_GEMM_NR;
  chunk_rows(G, r0, r1, n0, ncv, k0 == 0, R);
  for (int t = 0; t < G->th; t++)
    for (int s = 0; s < G->tw; s++) {
      int m = tap_pairs(G, t, s, cnt, k0, R);
      const float *bt = bp + (int64_t)(t * G->tw + s) * npan * G->bl.kcg * TC_GEMM_NR;
      if (m > 0)
        tap_gemm(G, bt, kc, m, ncv, R);
    }
}

static void batch_gemm(const igemm *G, const float *bp, const float *const *a, const int *taps,
                       int nt, int i, int m, int kc, int ncv, int add, rows *R) {
  const float *bt[TAP_BATCH];
  float *c6[TC_GEMM_MR];
  int npan = (int)ceil_div(ncv, TC_GEMM_NR);
  for (int j = 0; j < npan; j += 2) {
    for (int q = 0; q < nt; q++)
      bt[q] = b_at(G, bp, taps[q], j);
    for (int r = 0; r < TC_GEMM_MR; r++)
      c6[r] = R->crow[R->order[i + imin(r, m - 1)]] + j * TC_GEMM_NR;
    G->ukr(nt, kc, a, 1, bt, TC_GEMM_NR, b_ps(G), c6, m, imin(TC_GEMM_NC, ncv - j * TC_GEMM_NR),
           add);
  }
}

/* Where a 6-row group's taps read: row r's tap (t, s) is at off[r] + t*tstep + s*sstep
 * floats from A when t is in [t0[r], t1[r]) and s in [s0[r], s1[r]), else outside. */
typedef struct group_src {
  int64_t off[TC_GEMM_MR], tstep, sstep;
  int t0[TC_GEMM_MR], t1[TC_GEMM_MR], s0[TC_GEMM_MR], s1[TC_GEMM_MR];
} group_src;

/* Taps [lo, hi) of range [0, taps) whose source base + dir*t lies in [0, len). */
static void valid_taps(int64_t base, int dir, int len, int taps, int *lo, int *hi) {
  int64_t a = dir > 0 ? -base : base - len + 1, b = dir > 0 ? len - base : base + 1;
  a = a < 0 ? 0 : a;
  b = b > taps ? taps : b;
  *lo = (int)(a < b ? a : 0), *hi = (int)(a < b ? b : 0);
}

static void group_sources(const igemm *G, const rows *R, int i, int m, int k0, group_src *S) {
  int ww = G->fwd ? G->g->w : G->g->ow;
  S->sstep = (int64_t)(G->fwd ? -1 : 1) * G->arow_len, S->tstep = S->sstep * ww;
  for (int r = 0; r < TC_GEMM_MR; r++) {
    int q = R->order[i + imin(r, m - 1)];
    S->off[r] = R->off[q] + k0;
    S->t0[r] = R->span[q][0], S->t1[r] = R->span[q][1];
    S->s0[r] = R->span[q][2], S->s1[r] = R->span[q][3];
  }
}

/* Taps a group of rows order[i..i+m) runs: the box around their sets of existing taps. */
static int64_t group_taps(const rows *R, const int *order, int i, int m) {
  int t0 = INT32_MAX, t1 = 0, s0 = INT32_MAX, s1 = 0;
  for (int r = i; r < i + m; r++) {
    const int *sp = R->span[order ? order[r] : r];
    t0 = imin(t0, sp[0]), t1 = sp[1] > t1 ? sp[1] : t1;
    s0 = imin(s0, sp[2]), s1 = sp[3] > s1 ? sp[3] : s1;
  }
  return t1 > t0 && s1 > s0 ? (int64_t)(t1 - t0) * (s1 - s0) : 0;
}

/* Taps all 6-row groups of the chunk run, in the given order (NULL: the chunk's). */
static int64_t chunk_taps(const rows *R, const int *order, int cnt) {
  int64_t sum = 0;
  for (int i = 0; i < cnt; i += TC_GEMM_MR)
    sum += group_taps(R, order, i, imin(TC_GEMM_MR, cnt - i));
  return sum;
}

/* Each row's first source and existing taps, and the order the chunk's rows go to the
 * micro-kernel in. A 6-row group runs every tap any of its rows has, so where border and
 * inner pixels mix (7x7 images, 4x4 kernels: 12 % of the products are zeros) the rows are
 * gathered by their tap set, stably, smallest key first. That order costs locality (the
 * sets scatter over the image), so it is taken only where it saves over 4 % of the taps.
 * Each row's sums do not depend on its group. */
#define MAX_SETS 16
static void order_by_taps(const igemm *G, int cnt, rows *R) {
  const fgeom *g = G->g;
  int hh = G->fwd ? g->h : g->oh, ww = G->fwd ? g->w : g->ow, dir = G->fwd ? -1 : 1;
  int64_t sets[MAX_SETS];
  int nsets = 0;
  for (int i = 0; i < cnt; i++) {
    int64_t si = G->fwd ? (int64_t)G->u0 + R->u[i] : (int64_t)R->u[i] * g->sh - g->pt;
    int64_t sj = G->fwd ? (int64_t)G->v0 + R->v[i] : (int64_t)R->v[i] * g->sw - g->pl;
    int *sp = R->span[i];
    valid_taps(si, dir, hh, G->th, &sp[0], &sp[1]);
    valid_taps(sj, dir, ww, G->tw, &sp[2], &sp[3]);
    R->off[i] = ((R->n[i] * hh + si) * ww + sj) * G->arow_len;
    int64_t key = ((int64_t)sp[0] * (G->th + 1) + sp[1]) * (G->tw + 1) + sp[2];
    R->key[i] = key = key * (G->tw + 1) + sp[3];
    int j = 0;
    while (j < nsets && sets[j] < key)
      j++;
    if (nsets < 0 || (j < nsets && sets[j] == key))
      continue;
    if (nsets == MAX_SETS) { /* too many sets: keep the chunk's order */
      nsets = -1;
      continue;
    }
    memmove(sets + j + 1, sets + j, sizeof(int64_t) * (size_t)(nsets - j));
    sets[j] = key, nsets++;
  }
  int q = 0;
  for (int k = 0; k < nsets; k++)
    for (int i = 0; i < cnt; i++)
      if (R->key[i] == sets[k])
        R->order[q++] = i;
  if (nsets <= 0 || (!G->rowb && chunk_taps(R, R->order, cnt) * 25 > chunk_taps(R, NULL, cnt) * 24))
    for (int i = 0; i < cnt; i++)
      R->order[i] = i;
}

/* A group whose rows all have every tap, with B by kernel rows: each kernel row is one
 * pair of kw*F contiguous values (stride 1 along w puts the kw taps' dy pixels side by
 * side), 64 columns per wide-kernel call. */
static void group_rows_wide(const igemm *G, const float *bp, const group_src *S, int i, int m,
                            int ncv, int add, rows *R) {
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int r = 0; r < TC_GEMM_MR; r++)
    a6[r] = G->a + S->off[r];
  for (int j = 0; j * TC_GEMM_NR < ncv; j += TC_WIDE_NV) {
    for (int r = 0; r < TC_GEMM_MR; r++)
      c6[r] = R->crow[R->order[i + imin(r, m - 1)]] + j * TC_GEMM_NR;
    const float *b0 = b_at(G, bp, 0, j);
    tc_wide_steps st = {G->th, G->tw * G->bl.kcg, S->tstep, 1, b0,
                        b_at(G, bp, G->tw, j) - b0, TC_GEMM_NR, b_ps(G)};
    G->wide(&st, a6, c6, m, imin(TC_WIDE_NW, ncv - j * TC_GEMM_NR), add);
  }
}

static int whole_group(const igemm *G, const group_src *S) {
  for (int r = 0; r < TC_GEMM_MR; r++)
    if (S->t0[r] != 0 || S->t1[r] != G->th || S->s0[r] != 0 || S->s1[r] != G->tw)
      return 0;
  return 1;
}

/* A group's taps in order, in batches of taps [32b, 32b + 32); a tap none of its rows
 * reaches is left out. Backward data stores the first batch over C (no zeroing pass);
 * returns whether any batch ran. */
static int group_gemm(const igemm *G, const float *bp, int i, int m, int k0, int kc, int ncv,
                      int add, rows *R) {
  const float *a[TC_GEMM_MR * TAP_BATCH];
  int taps[TAP_BATCH], nt = 0, ran = 0;
  group_src S;
  group_sources(G, R, i, m, k0, &S);
  if (G->rowb && G->th > 1 && whole_group(G, &S)) {
    group_rows_wide(G, bp, &S, i, m, ncv, add, R);
    return 1;
  }
  for (int t = 0; t < G->th; t++)
    for (int s = 0; s < G->tw; s++) {
      int any = 0, tap = t * G->tw + s;
      for (int r = 0; r < TC_GEMM_MR; r++) {
        int ok = t >= S.t0[r] && t < S.t1[r] && s >= S.s0[r] && s < S.s1[r];
        a[nt * TC_GEMM_MR + r] = ok ? G->a + (S.off[r] + t * S.tstep + s * S.sstep) : zero_k;
        any |= ok;
      }
      if (any)
        taps[nt++] = tap;
      /* batches end at fixed taps, not after TAP_BATCH included ones: a pixel's partial
       * sums then do not depend on which rows share its group (a tap no row reaches, or
       * one that reads zeros, adds nothing) */
      if (nt > 0 && ((tap + 1) % TAP_BATCH == 0 || tap + 1 == G->th * G->tw)) {
        batch_gemm(G, bp, a, taps, nt, i, m, kc, ncv, add || ran, R);
        nt = 0, ran = 1;
      }
    }
  return ran;
}

static void run_chunk_batched(const igemm *G, const float *bp, int64_t r0, int64_t r1, int n0,
                              int k0, rows *R) {
  int ncv = imin(G->bl.nc, G->bl.ndim - n0), kc = imin(G->bl.kcg, G->bl.kdim - k0);
  int cnt = (int)(r1 - r0), add = G->fwd || k0 > 0;
  chunk_rows(G, r0, r1, n0, ncv, k0 == 0 && G->fwd, R);
  order_by_taps(G, cnt, R);
  for (int i = 0; i < cnt; i += TC_GEMM_MR) {
    int m = imin(TC_GEMM_MR, cnt - i);
    if (!group_gemm(G, bp, i, m, k0, kc, ncv, add, R) && !add)
      for (int r = i; r < i + m; r++) /* no tap reaches these pixels */
        memset(R->crow[R->order[r]], 0, sizeof(float) * (size_t)ncv);
  }
}

/* The whole GEMM, called by every thread of the team (worksharing inside). */
static void run_igemm(const igemm *G, float *bp, rows *R) {
  int nthr = omp_get_num_threads();
  int64_t nch = ceil_div(G->m, MC_MAX);
  nch = ceil_div(nch, nthr) * nthr; /* balance the team; the sums do not depend on it */
  int64_t chunk = ceil_div(ceil_div(G->m, nch), TC_GEMM_MR) * TC_GEMM_MR;
  nch = ceil_div(G->m, chunk);
  int taps = G->th * G->tw, npan = G->bl.nc / TC_GEMM_NR;
  int kgroups = taps > 0 ? (int)ceil_div(G->bl.kdim, G->bl.kcg) : 1;
  for (int n0 = 0; n0 < G->bl.ndim; n0 += G->bl.nc)
    for (int kg = 0; kg < kgroups; kg++) {
      int k0 = kg * G->bl.kcg;
#pragma omp for schedule(dynamic, 1)
      for (int64_t t = 0; t < (int64_t)taps * npan; t++)
        pack_b_panel(G, (int)(t / npan), (int)(t % npan), k0, n0, bp);
#pragma omp for schedule(dynamic, 1)
      for (int64_t ch = 0; ch < nch; ch++) {
        int64_t r1 = ch * chunk + chunk < G->m ? ch * chunk + chunk : G->m;
        if (G->bl.kcg <= SHORT_K)
          run_chunk_batched(G, bp, ch * chunk, r1, n0, k0, R);
        else
          run_chunk(G, bp, ch * chunk, r1, n0, k0, R);
      }
    }
}

/* ---- forward and backward data ---- */

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* The GEMM of output phase (rh, rw): q = u0.. with oi = q*sh + rh - pt inside [0, OH). */
static igemm forward_phase(const fgeom *g, int rh, int rw, const float *x, const float *k,
                           const float *bias, float *y, tc_gemm_ukr_fn ukr) {
  igemm G;
  memset(&G, 0, sizeof G);
  G.g = g, G.fwd = 1, G.rh = rh, G.rw = rw, G.ukr = ukr;
  G.th = rh < g->kh ? (int)ceil_div(g->kh - rh, g->sh) : 0;
  G.tw = rw < g->kw ? (int)ceil_div(g->kw - rw, g->sw) : 0;
  G.u0 = (int)floor_div(g->pt - rh + g->sh - 1, g->sh);
  G.v0 = (int)floor_div(g->pl - rw + g->sw - 1, g->sw);
  int64_t uh = floor_div((int64_t)g->oh - 1 + g->pt - rh, g->sh);
  int64_t vw = floor_div((int64_t)g->ow - 1 + g->pl - rw, g->sw);
  G.qh = uh >= G.u0 ? (int)(uh - G.u0 + 1) : 0;
  G.qw = vw >= G.v0 ? (int)(vw - G.v0 + 1) : 0;
  G.m = g->n * G.qh * G.qw;
  G.arow_len = g->c, G.crow_len = g->f;
  G.a = x, G.k = k, G.bias = bias, G.c = y;
  G.bl = block_forward(g);
  return G;
}

/* Workspace: [shared packed B][thread 0 scratch][thread 1 scratch]... */
static rows thread_rows(const fgeom *g, void *ws) {
  unsigned char *base = (unsigned char *)ws + shared_bytes(g);
  return rows_at(base + (size_t)omp_get_thread_num() * thread_bytes(g));
}

/* The few-filter kernels (end of this file). */
static void small_forward(const tc_conv2dt_plan *plan, const fgeom *g, const float *x,
                          const float *k, const float *bias, float *y, void *ws);
static void small_backward_data(const tc_conv2dt_plan *plan, const fgeom *g, const float *dy,
                                const float *k, float *dx, void *ws);
static void small_backward_weights(const tc_conv2dt_plan *plan, const fgeom *g,
                                   const float *x, const float *dy, float *dk, void *ws);

void tc_conv2dt_fast_forward(const tc_conv2dt_plan *plan, const float *x, const float *kernel,
                             const float *bias, float *y, void *ws) {
  /* x: (N,H,W,C) NHWC; kernel: (kh,kw,F,C); bias: (F) or NULL; y: (N,OH,OW,F) */
  fgeom g = fgeom_of(plan);
  if (small_fwd(&g)) {
    small_forward(plan, &g, x, kernel, bias, y, ws);
    return;
  }
  tc_gemm_ukr_fn ukr = tc_gemm_ukr();
#pragma omp parallel num_threads(team_size(plan))
  {
    rows R = thread_rows(&g, ws);
    for (int rh = 0; rh < g.sh; rh++)
      for (int rw = 0; rw < g.sw; rw++) {
        igemm G = forward_phase(&g, rh, rw, x, kernel, bias, y, ukr);
        if (G.m > 0)
          run_igemm(&G, (float *)ws, &R);
      }
  }
}

void tc_conv2dt_fast_backward_data(const tc_conv2dt_plan *plan, const float *dy,
                                   const float *kernel, float *dx, void *ws) {
  /* dy: (N,OH,OW,F) NHWC; kernel: (kh,kw,F,C); dx: (N,H,W,C) */
  fgeom g = fgeom_of(plan);
  if (small_bd(&g)) {
    small_backward_data(plan, &g, dy, kernel, dx, ws);
    return;
  }
  igemm G;
  memset(&G, 0, sizeof G);
  G.g = &g, G.fwd = 0, G.th = g.kh, G.tw = g.kw, G.qh = g.h, G.qw = g.w;
  G.m = g.n * g.h * g.w;
  G.arow_len = g.f, G.crow_len = g.c;
  G.a = dy, G.k = kernel, G.c = dx, G.ukr = tc_gemm_ukr(), G.wide = tc_wide_ukr();
  G.bl = block_backward_data(&g);
  /* kernel rows as wide pairs: the kw taps' dy pixels side by side, one k-group; only
   * where a row sums in the same order through either kernel: one tap batch, and no last
   * single panel (the GEMM kernel's 6x16 tile splits even and odd k) */
  G.rowb = g.sw == 1 && G.bl.kcg == g.f && G.bl.kcg <= SHORT_K &&
           g.kh * g.kw <= TAP_BATCH && (g.c % TC_GEMM_NC == 0 || g.c % TC_GEMM_NC > TC_GEMM_NR);
#pragma omp parallel num_threads(team_size(plan))
  {
    rows R = thread_rows(&g, ws);
    run_igemm(&G, (float *)ws, &R);
  }
}

/* ---- backward weights ---- */

/* Input indices i whose output i*s + off lies in [0, out): [*lo, *hi). */
static void tap_range(int64_t off, int s, int in, int out, int *lo, int *hi) {
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t last = out - 1 - off;
  int64_t h = last < 0 ? 0 : last / s + 1;
  if (h > in)
    h = in;
  *lo = (int)l;
  *hi = (int)(h > l ? h : l);
}

/* One task's output: taps (a, b) of a block of kernel rows [a0, a1) and columns [b0, b1)
 * that all map the same input pixels inside the output (rows [i0, i1), columns [j0, j1)),
 * the task's share [t0, t1) of those taps in row-major order, filters [f0, f0+fb) and
 * channels [c0, c0+cb). x is packed once per pixel chunk for all of the task's taps. */
typedef struct wtask {
  int a0, a1, b0, b1, t0, t1, f0, fb, c0, cb;
  int i0, i1, j0, j1;
} wtask;

/* dst[0:W] = src[0:avail] then zeros; W is a constant at every call, so the full case
 * compiles to a few vector moves instead of a memcpy call. */
static inline void copy_w(float *dst, const float *src, int avail, const int W) {
  if (avail >= W) {
    memcpy(dst, src, sizeof(float) * (size_t)W);
    return;
  }
  int e = 0;
  for (; e < avail; e++)
    dst[e] = src[e];
  for (; e < W; e++)
    dst[e] = 0.0f;
}

/* Pixel p0 of the task's grid (n, i in [i0, i1), j in [j0, j1)). */
static void task_pixel(const wtask *T, int64_t p0, int64_t *n, int *i, int *j) {
  int ni = T->i1 - T->i0, nj = T->j1 - T->j0;
  *n = p0 / ((int64_t)ni * nj);
  *i = T->i0 + (int)(p0 / nj % ni), *j = T->j0 + (int)(p0 % nj);
}

static inline void task_next(const wtask *T, int64_t *n, int *i, int *j) {
  if (++*j == T->j1) {
    *j = T->j0;
    if (++*i == T->i1)
      *i = T->i0, ++*n;
  }
}

/* Pixels ahead whose rows the packing loops prefetch: their rows come from DRAM or L3,
 * and without it each row's misses stall the copy. */
#define PF_AHEAD 6

static inline void prefetch_row(const float *v, int len) {
  for (int e = 0; e < len; e += 16)
    __builtin_prefetch(v + e);
}

/* x's channels of pixels [p0, p0+kp) as 16-wide panels (k, 16), zero-padded, KP apart. */
static void pack_x(const fgeom *g, const wtask *T, const float *x, int64_t p0, int kp,
                   float *pb) {
  int npan = (int)ceil_div(T->cb, TC_GEMM_NR), i, j, pi, pj;
  int64_t n, pn;
  task_pixel(T, p0, &n, &i, &j);
  task_pixel(T, p0, &pn, &pi, &pj);
  for (int p = 0; p < PF_AHEAD && p < kp; p++)
    task_next(T, &pn, &pi, &pj);
  for (int p = 0; p < kp; p++, task_next(T, &n, &i, &j)) {
    if (p + PF_AHEAD < kp) {
      prefetch_row(x + ((pn * g->h + pi) * g->w + pj) * g->c + T->c0, T->cb);
      task_next(T, &pn, &pi, &pj);
    }
    const float *xv = x + ((n * g->h + i) * g->w + j) * g->c + T->c0;
    for (int jp = 0; jp < npan; jp++)
      copy_w(pb + ((int64_t)jp * KP + p) * TC_GEMM_NR, xv + jp * TC_GEMM_NR,
             T->cb - jp * TC_GEMM_NR, TC_GEMM_NR);
  }
}

/* dy's filters that tap (a, b) reaches from pixels [p0, p0+kp), as MR-wide groups. */
static void pack_dy(const fgeom *g, const wtask *T, int a, int b, const float *dy, int64_t p0,
                    int kp, float *pa) {
  int ngr = (int)ceil_div(T->fb, TC_GEMM_MR), i, j, pi, pj;
  int64_t n, pn;
  task_pixel(T, p0, &n, &i, &j);
  task_pixel(T, p0, &pn, &pi, &pj);
  for (int p = 0; p < PF_AHEAD && p < kp; p++)
    task_next(T, &pn, &pi, &pj);
  for (int p = 0; p < kp; p++, task_next(T, &n, &i, &j)) {
    if (p + PF_AHEAD < kp) {
      int64_t qi = (int64_t)pi * g->sh + a - g->pt, qj = (int64_t)pj * g->sw + b - g->pl;
      if (qi >= 0 && qi < g->oh && qj >= 0 && qj < g->ow)
        prefetch_row(dy + ((pn * g->oh + qi) * g->ow + qj) * g->f + T->f0, T->fb);
      task_next(T, &pn, &pi, &pj);
    }
    int64_t oi = (int64_t)i * g->sh + a - g->pt, oj = (int64_t)j * g->sw + b - g->pl;
    if (oi < 0 || oi >= g->oh || oj < 0 || oj >= g->ow) { /* slabs: a tap outside the output */
      for (int gi = 0; gi < ngr; gi++)
        memset(pa + ((int64_t)gi * KP + p) * TC_GEMM_MR, 0, sizeof(float) * TC_GEMM_MR);
      continue;
    }
    const float *dyv = dy + ((n * g->oh + oi) * g->ow + oj) * g->f + T->f0;
    for (int gi = 0; gi < ngr; gi++)
      copy_w(pa + ((int64_t)gi * KP + p) * TC_GEMM_MR, dyv + gi * TC_GEMM_MR,
             T->fb - gi * TC_GEMM_MR, TC_GEMM_MR);
  }
}

/* tile (rows x cols, row stride ldc) += pa^T . pb over kp pixels: pa holds the rows as
 * MR-wide groups (k, MR) gs pixels apart, pb the columns as 16-wide panels (k, 16) KP
 * apart. Panel
 * outer: one B panel (16 KiB) stays in L1 while the A groups stream from L2. */
static void packed_gemm(int kp, const float *pa, int64_t gs, int rows, const float *pb, int cols,
                        float *tile, int64_t ldc, tc_gemm_ukr_fn ukr) {
  int ngr = (int)ceil_div(rows, TC_GEMM_MR), npan = (int)ceil_div(cols, TC_GEMM_NR);
  for (int jp = 0; jp < npan; jp += 2)
    for (int gi = 0; gi < ngr; gi++) {
      int m = imin(TC_GEMM_MR, rows - gi * TC_GEMM_MR);
      const float *a6[TC_GEMM_MR];
      float *c6[TC_GEMM_MR];
      for (int r = 0; r < TC_GEMM_MR; r++) {
        a6[r] = pa + (int64_t)gi * gs * TC_GEMM_MR + r;
        c6[r] = tile + (int64_t)(gi * TC_GEMM_MR + (r < m ? r : 0)) * ldc + jp * TC_GEMM_NR;
      }
      const float *bj = pb + (int64_t)jp * KP * TC_GEMM_NR;
      ukr(1, kp, a6, TC_GEMM_MR, &bj, TC_GEMM_NR, KP * TC_GEMM_NR, c6, m,
          imin(TC_GEMM_NC, cols - jp * TC_GEMM_NR), 1);
    }
}

/* The task's dk tiles: each its tap's sum over the shared pixels, KP at a time in pixel
 * order (the order depends on the tap's pixel range only, not on the task split). */
static void weights_task(const fgeom *g, const wtask *T, const float *x, const float *dy,
                         float *dk, float *pa, float *pb, tc_gemm_ukr_fn ukr) {
  int tb = T->b1 - T->b0;
  for (int t = T->t0; t < T->t1; t++) {
    float *tile = dk + (((int64_t)(T->a0 + t / tb) * g->kw + T->b0 + t % tb) * g->f + T->f0) *
                           g->c + T->c0;
    for (int f = 0; f < T->fb; f++)
      memset(tile + (int64_t)f * g->c, 0, sizeof(float) * (size_t)T->cb);
  }
  int64_t npix = g->n * (T->i1 - T->i0) * (T->j1 - T->j0);
  for (int64_t p0 = 0; p0 < npix; p0 += KP) {
    int kp = (int)(npix - p0 < KP ? npix - p0 : KP);
    pack_x(g, T, x, p0, kp, pb);
    for (int t = T->t0; t < T->t1; t++) {
      int a = T->a0 + t / tb, b = T->b0 + t % tb;
      float *tile = dk + (((int64_t)a * g->kw + b) * g->f + T->f0) * g->c + T->c0;
      pack_dy(g, T, a, b, dy, p0, kp, pa);
      packed_gemm(kp, pa, KP, T->fb, pb, T->cb, tile, g->c, ukr);
    }
  }
}

/* Slab chunks of whole input rows: rows per chunk such that the chunk has at most KP
 * pixels and the dy region its taps reach, ((rows-1)*sh + kh) x ((W-1)*sw + kw) pixels of
 * F (rounded up to MR) filters, fits REGION_FLOATS. 0 (pack per tap instead) unless the
 * stride is 1, where every dy pixel serves all kh*kw taps (measured: with stride 2 the
 * shorter micro-kernel calls cost more than the packing saves), or when W > KP. */
static int region_rows(const fgeom *g) {
  if (g->w > KP || g->sh != 1 || g->sw != 1)
    return 0;
  int64_t pw = (int64_t)(g->w - 1) * g->sw + g->kw, fpad = ceil_div(g->f, TC_GEMM_MR) * TC_GEMM_MR;
  int rows = KP / g->w;
  while (rows > 0 && ((int64_t)(rows - 1) * g->sh + g->kh) * pw * fpad > REGION_FLOATS)
    rows--;
  return rows;
}

/* dy of image n at rows oi0 + q*di (q < nr) and columns oj0 + c*dj (c < nc), as MR-wide
 * filter groups gs pixels apart: pixel (q, c) of group gi at pa + (gi*gs + q*nc + c)*MR,
 * zero outside the output. */
static void pack_dy_grid(const fgeom *g, const float *dy, int64_t n, int64_t oi0, int di,
                         int nr, int64_t oj0, int dj, int nc, int64_t gs, float *pa) {
  const int ngr = (int)ceil_div(g->f, TC_GEMM_MR);
  for (int q = 0; q < nr; q++) {
    int64_t oi = oi0 + (int64_t)q * di;
    for (int c = 0; c < nc; c++) {
      int64_t oj = oj0 + (int64_t)c * dj, p = (int64_t)q * nc + c;
      if (oi < 0 || oi >= g->oh || oj < 0 || oj >= g->ow) {
        for (int gi = 0; gi < ngr; gi++)
          memset(pa + (gi * gs + p) * TC_GEMM_MR, 0, sizeof(float) * TC_GEMM_MR);
        continue;
      }
      const float *v = dy + ((n * g->oh + oi) * g->ow + oj) * g->f;
      if (oj + PF_AHEAD * dj < g->ow) /* the row's pixel ahead: the copy stalls without */
        prefetch_row(v + (int64_t)PF_AHEAD * dj * g->f, g->f);
      for (int gi = 0; gi < ngr; gi++)
        copy_w(pa + (gi * gs + p) * TC_GEMM_MR, v + gi * TC_GEMM_MR, g->f - gi * TC_GEMM_MR,
               TC_GEMM_MR);
    }
  }
}

/* The dy region of input rows [i0, i0+rows) of image n (stride 1): region pixel (q, c) is
 * dy pixel (i0 - pt + q, c - pl), rsz = ph*pw pixels per filter group. */
static void pack_dy_region(const fgeom *g, const float *dy, int64_t n, int i0, int rows,
                           float *pa) {
  const int pw = (g->w - 1) * g->sw + g->kw, ph = (rows - 1) * g->sh + g->kh;
  pack_dy_grid(g, dy, n, (int64_t)i0 * g->sh - g->pt, 1, ph, -g->pl, 1, pw, (int64_t)ph * pw,
               pa);
}

/* One chunk: every tap's dk[a][b] += its shifted dy region rows (step sw*MR along a row,
 * one pair per input row) times the chunk's packed x rows, 64 columns per wide-kernel
 * call. Column block outer, so the block's x panels stay in cache while the taps and
 * filter groups run. */
static void region_gemm(const fgeom *g, int rows, const float *pa, const float *pb,
                        float *part, tc_wide_ukr_fn wide) {
  const int pw = (g->w - 1) * g->sw + g->kw, ph = (rows - 1) * g->sh + g->kh;
  const int64_t rsz = (int64_t)ph * pw;
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int jp = 0; jp * TC_GEMM_NR < g->c; jp += TC_WIDE_NV)
    for (int a = 0; a < g->kh; a++)
      for (int b = 0; b < g->kw; b++)
        for (int f0 = 0; f0 < g->f; f0 += TC_GEMM_MR) {
          int m = imin(TC_GEMM_MR, g->f - f0);
          const float *grp = pa + (int64_t)(f0 / TC_GEMM_MR) * rsz * TC_GEMM_MR;
          for (int r = 0; r < TC_GEMM_MR; r++) {
            a6[r] = grp + ((int64_t)a * pw + b) * TC_GEMM_MR + r;
            c6[r] = part + (((int64_t)a * g->kw + b) * g->f + f0 + imin(r, m - 1)) * g->c +
                    jp * TC_GEMM_NR;
          }
          /* pair t: input row t of the chunk, its dy rows sh*t further on */
          tc_wide_steps st = {rows, g->w, (ptrdiff_t)g->sh * pw * TC_GEMM_MR,
                              (ptrdiff_t)g->sw * TC_GEMM_MR, pb + (int64_t)jp * KP * TC_GEMM_NR,
                              (ptrdiff_t)g->w * TC_GEMM_NR, TC_GEMM_NR, KP * TC_GEMM_NR};
          wide(&st, a6, c6, m, imin(TC_WIDE_NW, g->c - jp * TC_GEMM_NR), 1);
        }
}

/* Stride > 1, whole-row chunks: tap a0 + t*sh reads at input row i what tap a0 reads at
 * row i + t, so one packing of dy for (a0, b) over th - 1 extra rows serves every tap of
 * that kernel-row class, shifted by t rows (k stays contiguous: the chunk is whole rows).
 * Rows per chunk: at most KP pixels, the packed rows within REGION_FLOATS; 0 (one packing
 * per tap instead) for stride 1, which has the region form, for kh <= sh, or W > KP. */
static int shift_rows(const fgeom *g) {
  int64_t th = ceil_div(g->kh, g->sh), fpad = ceil_div(g->f, TC_GEMM_MR) * TC_GEMM_MR;
  if (g->w > KP || (g->sh == 1 && g->sw == 1) || th < 2) /* th 1: nothing to share */
    return 0;
  int rows = KP / g->w;
  while (rows > 0 && (rows + th - 1) * g->w * fpad > REGION_FLOATS)
    rows--;
  return rows;
}

/* dk = the S partials (count floats each) added in slab order; worksharing inside, called
 * by every thread of the team. */
static void add_slabs(const float *part, int S, int64_t count, float *dk) {
  enum { BLOCK = 2048 }; /* slab by slab over a block: contiguous, vectorised adds */
#pragma omp for schedule(static)
  for (int64_t e0 = 0; e0 < count; e0 += BLOCK) {
    int64_t e1 = e0 + BLOCK < count ? e0 + BLOCK : count;
    memcpy(dk + e0, part + e0, sizeof(float) * (size_t)(e1 - e0));
    for (int s = 1; s < S; s++) {
      const float *ps = part + (int64_t)s * count;
      for (int64_t e = e0; e < e1; e++)
        dk[e] += ps[e];
    }
  }
}

/* Slab s of S of every input pixel (the whole grid; a tap that leaves the output reads
 * zeros) into part: x packed once per chunk for every tap. With whole-row chunks the dy
 * region of the chunk is packed once too and every tap reads it shifted; else each tap's
 * dy is packed in turn (its rows then come from L2). */
static void slab_weights(const fgeom *g, const float *x, const float *dy, int s, int S,
                         float *part, float *pa, float *pb, tc_gemm_ukr_fn ukr,
                         tc_wide_ukr_fn wide) {
  wtask T = {0, g->kh, 0, g->kw, 0, g->kh * g->kw, 0, g->f, 0, g->c, 0, g->h, 0, g->w};
  memset(part, 0, sizeof(float) * (size_t)g->kh * (size_t)g->kw * (size_t)g->f * (size_t)g->c);
  const int rr = region_rows(g);
  if (rr > 0) {
    const int64_t nrows = g->n * g->h, r0s = nrows * s / S, r1s = nrows * (s + 1) / S;
    for (int64_t r0 = r0s; r0 < r1s;) {
      int64_t n = r0 / g->h;
      int i0 = (int)(r0 % g->h);
      int rows = (int)imin(rr, g->h - i0);
      rows = (int)(r1s - r0 < rows ? r1s - r0 : rows);
      pack_x(g, &T, x, r0 * g->w, rows * g->w, pb);
      pack_dy_region(g, dy, n, i0, rows, pa);
      region_gemm(g, rows, pa, pb, part, wide);
      r0 += rows;
    }
    return;
  }
  const int sr = shift_rows(g);
  if (sr > 0) {
    const int64_t nrows = g->n * g->h, r0s = nrows * s / S, r1s = nrows * (s + 1) / S;
    const int th = (int)ceil_div(g->kh, g->sh);
    for (int64_t r0 = r0s; r0 < r1s;) {
      int64_t n = r0 / g->h;
      int i0 = (int)(r0 % g->h);
      int rows = (int)imin(sr, g->h - i0);
      rows = (int)(r1s - r0 < rows ? r1s - r0 : rows);
      int64_t gs = (int64_t)(rows + th - 1) * g->w;
      pack_x(g, &T, x, r0 * g->w, rows * g->w, pb);
      for (int a0 = 0; a0 < g->sh && a0 < g->kh; a0++)
        for (int b = 0; b < g->kw; b++) {
          int ta = (int)ceil_div(g->kh - a0, g->sh); /* taps a0 + t*sh */
          /* what the virtual tap (a0, b) reaches from rows [i0, i0 + rows + ta - 1): rows
           * past the image included, their dy rows may still exist */
          pack_dy_grid(g, dy, n, (int64_t)i0 * g->sh + a0 - g->pt, g->sh, rows + ta - 1,
                       b - g->pl, g->sw, g->w, gs, pa);
          for (int t = 0; t < ta; t++) {
            int a = a0 + t * g->sh;
            packed_gemm(rows * g->w, pa + (int64_t)t * g->w * TC_GEMM_MR, gs, g->f, pb, g->c,
                        part + ((int64_t)a * g->kw + b) * g->f * g->c, g->c, ukr);
          }
        }
      r0 += rows;
    }
    return;
  }
  const int64_t npix = g->n * g->h * g->w, p0s = npix * s / S, p1s = npix * (s + 1) / S;
  for (int64_t p0 = p0s; p0 < p1s; p0 += KP) {
    int kp = (int)(p1s - p0 < KP ? p1s - p0 : KP);
    pack_x(g, &T, x, p0, kp, pb);
    for (int a = 0; a < g->kh; a++)
      for (int b = 0; b < g->kw; b++) {
        pack_dy(g, &T, a, b, dy, p0, kp, pa);
        packed_gemm(kp, pa, KP, g->f, pb, g->c, part + ((int64_t)a * g->kw + b) * g->f * g->c,
                    g->c, ukr);
      }
  }
}

/* Backward weights over S pixel slabs: each into its own partial dk, added in slab order. */
static void slabs_backward_weights(const tc_conv2dt_plan *plan, const fgeom *g, const float *x,
                                   const float *dy, float *dk, void *ws) {
  const int S = bw_slabs(g);
  const int64_t dkf = (int64_t)g->kh * g->kw * g->f * g->c;
  float *part = (float *)ws;
  tc_gemm_ukr_fn ukr = tc_gemm_ukr();
  tc_wide_ukr_fn wide = tc_wide_ukr();
#pragma omp parallel num_threads(team_size(plan))
  {
    unsigned char *mine = (unsigned char *)ws + shared_bytes(g) +
                          (size_t)omp_get_thread_num() * thread_bytes(g);
    float *pa = (float *)(void *)mine, *pb = pa + (size_t)REGION_FLOATS;
#pragma omp for schedule(dynamic, 1)
    for (int s = 0; s < S; s++)
      slab_weights(g, x, dy, s, S, part + s * dkf, pa, pb, ukr, wide);
    add_slabs(part, S, dkf, dk);
  }
}

/* End of the run of kernel rows from a0 whose taps map the same input rows (the range
 * moves monotonically with a, so equal ranges are contiguous). */
static int range_run(int a0, int k, int pad, int s, int in, int out, int *lo, int *hi) {
  tap_range((int64_t)a0 - pad, s, in, out, lo, hi);
  int a1 = a0 + 1, l, h;
  for (; a1 < k; a1++) {
    tap_range((int64_t)a1 - pad, s, in, out, &l, &h);
    if (l != *lo || h != *hi)
      break;
  }
  return a1;
}

/* Blocks of backward weights: filters and channels split evenly (fb a multiple of MR, cb
 * of 16), and at most cap taps per task. */
typedef struct wplan {
  int nfb, fb, ncb, cb, cap;
} wplan;

static wplan wplan_of(const fgeom *g, int cap) {
  wplan w;
  w.nfb = (int)ceil_div(g->f, FB);
  w.fb = (int)(ceil_div(ceil_div(g->f, w.nfb), TC_GEMM_MR) * TC_GEMM_MR);
  w.nfb = (int)ceil_div(g->f, w.fb);
  w.ncb = (int)ceil_div(g->c, CB);
  w.cb = (int)(ceil_div(ceil_div(g->c, w.ncb), TC_GEMM_NR) * TC_GEMM_NR);
  w.ncb = (int)ceil_div(g->c, w.cb);
  w.cap = cap;
  return w;
}

/* Task t of the enumeration (range block, tap share, filter block, channel block); with
 * t < 0 returns the number of tasks in T->t0. */
static int task_of(const fgeom *g, const wplan *w, int64_t t, wtask *T) {
  int64_t k = 0;
  for (int a0 = 0, a1; a0 < g->kh; a0 = a1) {
    int i0, i1, j0, j1;
    a1 = range_run(a0, g->kh, g->pt, g->sh, g->h, g->oh, &i0, &i1);
    for (int b0 = 0, b1; b0 < g->kw; b0 = b1) {
      b1 = range_run(b0, g->kw, g->pl, g->sw, g->w, g->ow, &j0, &j1);
      int empty = i1 <= i0 || j1 <= j0; /* these taps reach no output: dk is zero */
      int taps = (a1 - a0) * (b1 - b0);
      int64_t shares = ceil_div(taps, w->cap), here = shares * w->nfb * w->ncb;
      if (t >= k && t < k + here) {
        int64_t r = t - k;
        int sh = (int)(r / ((int64_t)w->nfb * w->ncb)), fbi = (int)(r / w->ncb % w->nfb);
        int cbi = (int)(r % w->ncb);
        T->a0 = a0, T->a1 = a1, T->b0 = b0, T->b1 = b1;
        T->t0 = (int)(sh * taps / shares), T->t1 = (int)((sh + 1) * taps / shares);
        T->f0 = fbi * w->fb, T->fb = imin(w->fb, g->f - T->f0);
        T->c0 = cbi * w->cb, T->cb = imin(w->cb, g->c - T->c0);
        T->i0 = i0, T->i1 = empty ? i0 : i1, T->j0 = j0, T->j1 = empty ? j0 : j1;
        return 1;
      }
      k += here;
    }
  }
  T->t0 = (int)k;
  return 0;
}

void tc_conv2dt_fast_backward_weights(const tc_conv2dt_plan *plan, const float *x,
                                      const float *dy, float *dkernel, void *ws) {
  /* x: (N,H,W,C) NHWC; dy: (N,OH,OW,F); dkernel: (kh,kw,F,C) */
  fgeom g = fgeom_of(plan);
  if (small_bwd(&g)) {
    small_backward_weights(plan, &g, x, dy, dkernel, ws);
    return;
  }
  if (bw_slabs(&g)) {
    slabs_backward_weights(plan, &g, x, dy, dkernel, ws);
    return;
  }
  tc_gemm_ukr_fn ukr = tc_gemm_ukr();
  int nthr = team_size(plan);
  /* Up to 4 taps share a packed x; fewer where that leaves too few tasks for the team.
   * The split changes who computes a tile, not how it is summed. */
  wplan w = wplan_of(&g, 4);
  wtask T;
  for (; w.cap > 1; w.cap /= 2) {
    task_of(&g, &w, -1, &T);
    if (T.t0 >= 3 * nthr)
      break;
  }
  task_of(&g, &w, -1, &T);
  int64_t ntasks = T.t0;
#pragma omp parallel num_threads(nthr)
  {
    unsigned char *mine = (unsigned char *)ws + shared_bytes(&g) +
                          (size_t)omp_get_thread_num() * thread_bytes(&g);
    float *pa = (float *)(void *)mine, *pb = pa + (size_t)KP * FB;
    wtask U;
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < ntasks; t++)
      if (task_of(&g, &w, t, &U))
        weights_task(&g, &U, x, dy, dkernel, pa, pb, ukr);
  }
}

/* ---- few filters ---- */

#define DOT_PTRS 256 /* activation pointers per dot-kernel call; taps are batched to fit */

/* The dot-kernel calls of one batch of taps (x row xr[t] of tap t, column offset sc[t],
 * weights bk[t]) over every pixel of the row, P at a time. */
static void fwd_row_batch(const igemm *G, int nt, const float *const *xr, const int *sc,
                          const float *const *bk, float *yrow, const float *zero,
                          tc_dot_ukr_fn dot) {
  const fgeom *g = G->g;
  const int P = tc_dot_rows(g->f);
  const int64_t ystep = (int64_t)g->sw * g->f;
  const float *ap[DOT_PTRS];
  float *yp[8];
  for (int v = 0; v < G->qw; v += P) {
    int np = imin(P, G->qw - v);
    for (int p = 0; p < P; p++)
      yp[p] = yrow + (v + (p < np ? p : np - 1)) * ystep;
    for (int t = 0; t < nt; t++) {
      int64_t sj = (int64_t)G->v0 + v - sc[t];
      const float **at = ap + t * P;
      if (sj >= 0 && sj + P <= g->w) { /* every source inside the input row */
        const float *base = xr[t] + sj * g->c;
        for (int p = 0; p < P; p++)
          at[p] = base + (int64_t)p * g->c;
      } else {
        for (int p = 0; p < P; p++) {
          int64_t q = sj + (p < np ? p : np - 1);
          at[p] = q >= 0 && q < g->w ? xr[t] + q * g->c : zero;
        }
      }
    }
    dot(nt, g->c, ap, bk, g->c, g->f, yp, np);
  }
}

/* Output row u of phase G in image n: y = bias + every tap's dot products, taps in order,
 * in batches of DOT_PTRS / P (a fixed split: the sums depend on the shape only). A source
 * pixel outside the input reads the zero row. */
static void small_fwd_row(const igemm *G, int64_t n, int u, const float *zero,
                          tc_dot_ukr_fn dot) {
  const fgeom *g = G->g;
  const int tb = DOT_PTRS / tc_dot_rows(g->f);
  const float *xr[DOT_PTRS], *bk[DOT_PTRS];
  int sc[DOT_PTRS];
  int64_t oi = (int64_t)(G->u0 + u) * g->sh + G->rh - g->pt;
  int64_t oj0 = (int64_t)G->v0 * g->sw + G->rw - g->pl;
  float *yrow = G->c + ((n * g->oh + oi) * g->ow + oj0) * g->f;
  for (int v = 0; v < G->qw; v++)
    for (int f = 0; f < g->f; f++)
      yrow[(int64_t)v * g->sw * g->f + f] = G->bias ? G->bias[f] : 0.0f;
  int nt = 0;
  for (int t = 0; t < G->th; t++) {
    int64_t si = (int64_t)G->u0 + u - t;
    if (si < 0 || si >= g->h)
      continue;
    for (int s = 0; s < G->tw; s++) {
      int a, b;
      tap_ab(G, t, s, &a, &b);
      xr[nt] = G->a + (n * g->h + si) * g->w * g->c;
      sc[nt] = s;
      bk[nt] = G->k + ((int64_t)a * g->kw + b) * g->f * g->c;
      if (++nt == tb) {
        fwd_row_batch(G, nt, xr, sc, bk, yrow, zero, dot);
        nt = 0;
      }
    }
  }
  if (nt > 0)
    fwd_row_batch(G, nt, xr, sc, bk, yrow, zero, dot);
}

/* Forward with F <= TC_DOT_MAXF: rows (image n, phase row u) over the team, every phase
 * of a row in turn, so the few input rows they all read stay in cache. */
static void small_forward(const tc_conv2dt_plan *plan, const fgeom *g, const float *x,
                          const float *k, const float *bias, float *y, void *ws) {
  float *zero = (float *)(void *)((unsigned char *)ws + zero_row_offset(g));
  tc_dot_ukr_fn dot = tc_dot_ukr();
  int64_t qh = 0; /* the most rows of any phase */
  for (int rh = 0; rh < g->sh; rh++) {
    igemm G = forward_phase(g, rh, 0, x, k, bias, y, NULL);
    qh = G.qh > qh ? G.qh : qh;
  }
  int64_t nrows = g->n * qh;
#pragma omp parallel num_threads(team_size(plan))
  {
#pragma omp single
    memset(zero, 0, sizeof(float) * (size_t)g->c);
#pragma omp for schedule(dynamic, 4)
    for (int64_t r = 0; r < nrows; r++)
      for (int rh = 0; rh < g->sh; rh++)
        for (int rw = 0; rw < g->sw; rw++) {
          igemm G = forward_phase(g, rh, rw, x, k, bias, y, NULL);
          if (r % qh < G.qh)
            small_fwd_row(&G, r / qh, (int)(r % qh), zero, dot);
        }
  }
}

/* Backward data, few filters, a band of input rows at a time (one segment of each): pixel
 * (n, i, j) and kernel row a read dy row oi = i*sh + a - pt from column j*sw - pl on,
 * kw*F contiguous values, against kernel rows [a*kw*F, (a+1)*kw*F) of the weights viewed
 * as (kh*kw*F x C). Copying the dy rows the band reaches once, zero-padded at both ends,
 * lets every pixel read its A rows in place (rows of neighbouring pixels overlap when
 * sh < kh); the wide micro-kernel sums all kernel rows of a 6-pixel group in registers (a
 * kernel row whose dy row lies outside the output reads zeros). */

/* nrows padded dy rows for pixels [j0, j0+wn) of an input row: row r holds dy row oi0 + r,
 * columns j0*sw - pl + q, q < (wn-1)*sw + kw, zero outside the output (a whole zero row
 * where dy row oi0 + r does not exist), pad_row_len apart. */
static void pad_dy_rows(const fgeom *g, const float *dy, int64_t n, int oi0, int nrows, int j0,
                        int wn, float *pad) {
  const int64_t len = pad_row_len(g), q_n = (int64_t)(wn - 1) * g->sw + g->kw;
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
    const float *src = dy + ((n * g->oh + oi) * g->ow + c0 + lo) * g->f;
    memset(row, 0, sizeof(float) * (size_t)(lo * g->f));
    memcpy(row + lo * g->f, src, sizeof(float) * (size_t)((hi - lo) * g->f));
    memset(row + hi * g->f, 0, sizeof(float) * (size_t)((q_n - hi) * g->f));
  }
}

/* Input rows per band: about BATCH_PIX pixels, their padded dy rows within the thread's
 * share of the workspace (kh rows for each of bw_batch segments). */
static int bd_band(const fgeom *g) {
  int64_t rows = ceil_div(BATCH_PIX, row_seg(g));
  int64_t fit = ((int64_t)g->kh * bw_batch(g) - g->kh) / g->sh + 1;
  rows = rows < fit ? rows : fit;
  rows = rows < g->h ? rows : g->h;
  return rows < 1 ? 1 : (int)rows;
}

/* Streamed dx: with K = kh*kw*F of at most STREAM_K products per element the kernel is
 * bound by writing dx, and storing it around the caches spares reading every line first
 * (fmnist2, K = 16, 6.4 MB of dx: +37 %). dx is then not in cache for whoever reads it
 * next: with longer K the stores measured faster through the caches (dcgan4, K = 75: -4 %
 * streamed), and so did a whole training step whose dx fits in cache (the autoencoder's
 * last layer, 0.8 MB: about -3 %), hence STREAM_BYTES. */
#define STREAM_K 32
#define STREAM_BYTES (4 << 20)

static int bd_streams(const fgeom *g) {
  return small_k(g) <= STREAM_K && g->c % TC_GEMM_NR == 0 &&
         g->n * g->h * g->w * g->c * (int64_t)sizeof(float) >= STREAM_BYTES;
}

/* dx of a band of rows x wn pixels (dx of the first at dxb): its pixels row by row, 6 at
 * a time across row ends (rows of 14 would leave most of a last group idle), every
 * kernel row and 64 columns per call, stored over dx (streamed, see bd_streams). Stored
 * through the caches, the dx lines of the next group are prefetched: the stores would
 * otherwise wait on them. */
static void bd_band_run(const fgeom *g, const float *bp, const float *pad, int rows, int wn,
                        float *dxb, tc_wide_ukr_fn wide) {
  const int K = small_k(g), kwf = g->kw * g->f, stream = bd_streams(g);
  const int64_t len = pad_row_len(g), npix = (int64_t)rows * wn;
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  int i = 0, j = 0; /* the next pixel */
  for (int64_t p0 = 0; p0 < npix; p0 += TC_GEMM_MR) {
    int m = (int)(npix - p0 < TC_GEMM_MR ? npix - p0 : TC_GEMM_MR);
    for (int r = 0; r < m; r++) {
      a6[r] = pad + ((int64_t)i * g->sh * len + (int64_t)j * g->sw * g->f);
      c6[r] = dxb + ((int64_t)i * g->w + j) * g->c;
      if (++j == wn)
        j = 0, i++;
    }
    for (int r = m; r < TC_GEMM_MR; r++) /* rows past m repeat the last pixel */
      a6[r] = a6[m - 1], c6[r] = c6[m - 1];
    for (const char *p = (const char *)(c6[m - 1] + g->c),
                    *e = (const char *)(c6[m - 1] + (TC_GEMM_MR + 1) * (int64_t)g->c);
         !stream && p < e; p += 64)
      __builtin_prefetch(p, 1, 3);
    for (int c0 = 0; c0 < g->c; c0 += TC_WIDE_NW) {
      tc_wide_steps st = {g->kh, kwf, len, 1, bp + (int64_t)(c0 / TC_GEMM_NR) * K * TC_GEMM_NR,
                          (ptrdiff_t)kwf * TC_GEMM_NR, TC_GEMM_NR, (ptrdiff_t)K * TC_GEMM_NR};
      wide(&st, a6, c6, m, imin(TC_WIDE_NW, g->c - c0), stream ? TC_WIDE_STREAM : 0);
      for (int r = 0; r < TC_GEMM_MR; r++)
        c6[r] += TC_WIDE_NW;
    }
  }
#if defined(__x86_64__) || defined(__i386__)
  if (stream) /* streamed stores are weakly ordered: done before the team's barrier */
    __builtin_ia32_sfence();
#endif
}

static void small_backward_data(const tc_conv2dt_plan *plan, const fgeom *g, const float *dy,
                                const float *k, float *dx, void *ws) {
  const int K = small_k(g), npan = (int)panels(g->c), wseg = row_seg(g), band = bd_band(g);
  const int nseg = (int)ceil_div(g->w, wseg), nband = (int)ceil_div(g->h, band);
  const int64_t tasks = g->n * nband * nseg;
  float *bp = (float *)ws;
  tc_wide_ukr_fn wide = tc_wide_ukr();
#pragma omp parallel num_threads(team_size(plan))
  {
    float *pad = (float *)(void *)((unsigned char *)ws + shared_bytes(g) +
                                   (size_t)omp_get_thread_num() * thread_bytes(g));
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
      pad_dy_rows(g, dy, n, i0 * g->sh - g->pt, (rows - 1) * g->sh + g->kh, j0, wn, pad);
      bd_band_run(g, bp, pad, rows, wn, dx + ((n * g->h + i0) * g->w + j0) * g->c, wide);
    }
  }
}

/* Backward weights, few filters: with the segments' padded dy rows, dk row (a*kw + b)*F
 * + f is, over the segment's pixels j, the dy values pad_a[(j*sw + b)*F + f] (step sw*F)
 * times the x rows of those pixels (step C): both operands read in place, no gather. */

/* One batch of nb segments of wn pixels (padded rows kh * len apart, x rows of segment t
 * at x0 + t*xs): part (K x C) rows [0, K), columns [c0, c1) += their products. */
static void bw_batch_gemm(const fgeom *g, const float *pad, const float *x0, int64_t xs, int nb,
                          int wn, int c0, int c1, float *part, tc_wide_ukr_fn wide) {
  const int K = small_k(g), F = g->f, kwf = g->kw * F;
  const int64_t len = pad_row_len(g), unit = (int64_t)g->kh * len;
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int r0 = 0; r0 < K; r0 += TC_GEMM_MR) {
    int m = imin(TC_GEMM_MR, K - r0);
    for (int r = 0; r < TC_GEMM_MR; r++) {
      int rr = r0 + imin(r, m - 1), a = rr / kwf, off = rr % kwf; /* off = b*F + f */
      a6[r] = pad + a * len + off;
    }
    for (int j = c0; j < c1; j += TC_WIDE_NW) {
      for (int r = 0; r < TC_GEMM_MR; r++)
        c6[r] = part + (int64_t)(r0 + imin(r, m - 1)) * g->c + j;
      tc_wide_steps st = {nb, wn, unit, (ptrdiff_t)g->sw * F, x0 + j, xs, g->c, TC_GEMM_NR};
      wide(&st, a6, c6, m, imin(TC_WIDE_NW, c1 - j), 1);
    }
  }
}

/* Segments [u0, u1) (segment u: image, row, column block) into part, columns [c0, c1):
 * consecutive segments of the same width in batches of up to bw_batch(). Their x rows are
 * wseg*C apart: a row's segments follow each other, and a row's last segment has the
 * same width as the next row's first only when it ends the row. */
static void bw_slab(const fgeom *g, const float *x, const float *dy, int64_t u0, int64_t u1,
                    int c0, int c1, float *part, float *pad, tc_wide_ukr_fn wide) {
  const int wseg = row_seg(g), nseg = (int)ceil_div(g->w, wseg), nbmax = bw_batch(g);
  const int64_t unit = (int64_t)g->kh * pad_row_len(g), xs = (int64_t)wseg * g->c;
  const float *x0 = NULL;
  int nb = 0, wb = 0;
  for (int64_t u = u0; u < u1; u++) {
    int64_t n = u / ((int64_t)g->h * nseg);
    int i = (int)(u / nseg % g->h), j0 = (int)(u % nseg) * wseg, wn = imin(wseg, g->w - j0);
    if (nb > 0 && (nb == nbmax || wn != wb)) {
      bw_batch_gemm(g, pad, x0, xs, nb, wb, c0, c1, part, wide);
      nb = 0;
    }
    if (nb == 0)
      x0 = x + ((n * g->h + i) * g->w + j0) * g->c;
    pad_dy_rows(g, dy, n, i * g->sh - g->pt, g->kh, j0, wn, pad + nb * unit);
    nb++;
    wb = wn;
  }
  if (nb > 0)
    bw_batch_gemm(g, pad, x0, xs, nb, wb, c0, c1, part, wide);
}

/* Backward weights, few filters: dk (kh*kw*F x C) summed per slab of segments into the
 * slab's partial, the partials then added in slab order: the same sums for any number of
 * threads, and every dy row copied once per segment. */
static void small_backward_weights(const tc_conv2dt_plan *plan, const fgeom *g,
                                   const float *x, const float *dy, float *dk, void *ws) {
  const int K = small_k(g), S = small_slabs(g);
  const int64_t units = row_units(g), kc = (int64_t)K * g->c;
  float *part = (float *)ws;
  tc_wide_ukr_fn wide = tc_wide_ukr();
  int nthr = team_size(plan), npairs = (int)ceil_div(g->c, TC_GEMM_NC);
  /* column blocks only where the slabs alone leave threads idle */
  int ncb = S >= 2 * nthr ? 1 : imin(npairs, (int)ceil_div(2 * nthr, S));
  int ppb = (int)ceil_div(npairs, ncb);
  ncb = (int)ceil_div(npairs, ppb);
#pragma omp parallel num_threads(nthr)
  {
    float *pad = (float *)(void *)((unsigned char *)ws + shared_bytes(g) +
                                   (size_t)omp_get_thread_num() * thread_bytes(g));
#pragma omp for schedule(dynamic, 1)
    for (int t = 0; t < S * ncb; t++) {
      int s = t / ncb, c0 = t % ncb * ppb * TC_GEMM_NC, c1 = imin(g->c, c0 + ppb * TC_GEMM_NC);
      float *ps = part + (int64_t)s * kc;
      for (int r = 0; r < K; r++)
        memset(ps + (int64_t)r * g->c + c0, 0, sizeof(float) * (size_t)(c1 - c0));
      bw_slab(g, x, dy, units * s / S, units * (s + 1) / S, c0, c1, ps, pad, wide);
    }
    add_slabs(part, S, kc, dk);
  }
}
