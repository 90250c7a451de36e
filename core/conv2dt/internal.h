/* internal.h — what the files of core/conv2dt/ share, and nothing a user calls: the
 * geometry every fast kernel unpacks, the blocking constants, the workspace layout, and
 * each algorithm's applies / run entry points. docs/kernels.md has the whole design.
 *
 * Fast algorithms (igemm, few_filters, tasks, slabs) run NHWC, groups 1, dilation 1 on
 * the micro-kernels of core/ukr/ (compose.c gives them NCHW, groups and dilation as such
 * sub-problems); direct runs everything. The workspace is one shared
 * part (plan->shared_bytes: packed weights, partial sums, few_filters' zero row) then
 * plan->thread_bytes per thread; tc_conv2dt_plan_create sizes it for the algorithms it
 * chose (layout.c). Every output element is summed in an order that depends on the shape
 * only (k-group, tap, k, slab), never on the thread count or the chunking: results are
 * bit-identical for any number of threads. */
#ifndef TC_CONV2DT_INTERNAL_H
#define TC_CONV2DT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/conv2dt.h"
#include "core/ukr/ukr.h"

#define MC_MIN 48           /* C rows per igemm chunk, the least (layout.c) */
#define MC_MAX 768          /* and the most */
#define NC_MAX 256          /* columns of C per block (16 panels) */
#define KC 256              /* k per micro-kernel call: 6 A rows + one B panel fit L1 */
#define B_BUDGET (4 << 20)  /* bytes of packed weights shared by the team */
#define KP 256              /* backward weights: pixels per packed chunk */
#define FB 192         /* backward weights: filters per task (32 row groups) */
#define CB 256         /* backward weights: channels per task (16 panels) */
#define REGION_FLOATS (2 * KP * FB) /* backward weights: packed dy of a chunk (>= KP x FB) */
#define MAX_TAPS (B_BUDGET / (TC_GEMM_NR * 4)) /* more taps and B would outgrow the budget */
#define ALIGN 64
#define SLABS_MAX 8         /* pixel or segment slabs, a function of the shape only */
#define SHORT_K 64          /* igemm: K per tap at most this: tap batches (igemm.c) */
#define TAP_BATCH 32
#define SEG_FLOATS 65536    /* few_filters backward: floats of a segment's padded dy rows */
#define BATCH_PIX 256       /* few_filters backward: pixels per micro-kernel batch */

/* Below this many FLOPs a call takes microseconds and a parallel region's wake-up and
 * barrier cost more than they save (much more on an oversubscribed machine). */
#define TC_CONV2DT_PARALLEL_FLOPS 131072.0

/* The plan unpacked into named locals (NHWC, groups 1, dilation 1). */
typedef struct fgeom {
  int64_t n;
  int h, w, c, f, kh, kw, sh, sw, oh, ow, pt, pl;
} fgeom;

static inline fgeom fgeom_of(const tc_conv2dt_plan *q) {
  fgeom g = {q->n,          q->h,          q->w,          q->c,          q->p.filters,
             q->p.kernel_h, q->p.kernel_w, q->p.stride_h, q->p.stride_w, q->oh,
             q->ow,         q->pad_top,    q->pad_left};
  return g;
}

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static inline size_t align_up(size_t v) { return (v + ALIGN - 1) / ALIGN * ALIGN; }
static inline int64_t panels(int n) { return ceil_div(n, TC_GEMM_NR); }

/* dst[0:w] = src[0:avail] then zeros (avail may exceed w). */
static inline void copy_pad(float *dst, const float *src, int avail, int w) {
  if (avail >= w) {
    memcpy(dst, src, sizeof(float) * (size_t)w);
    return;
  }
  memcpy(dst, src, sizeof(float) * (size_t)avail);
  memset(dst + avail, 0, sizeof(float) * (size_t)(w - avail));
}

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

/* Pixels ahead whose rows the packing loops prefetch: their rows come from DRAM or L3,
 * and without it each row's misses stall the copy. */
#define PF_AHEAD 6

static inline void prefetch_row(const float *v, int len) {
  for (int e = 0; e < len; e += 16)
    __builtin_prefetch(v + e);
}

/* [*lo, *hi): the input indices i whose output i*s + off lies inside [0, out). */
static inline void tap_range(int64_t off, int s, int in, int out, int *lo, int *hi) {
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t last = out - 1 - off; /* i*s <= last */
  int64_t h = last < 0 ? 0 : last / s + 1;
  if (h > in)
    h = in;
  *lo = (int)l;
  *hi = (int)(h > l ? h : l);
}

/* This thread's part of the workspace. */
unsigned char *tc_ct_thread_ws(const tc_conv2dt_plan *plan, void *ws);
/* Threads for a call: what OpenMP offers, capped by plan->threads. */
int tc_ct_team(const tc_conv2dt_plan *plan);

/* ---- layout.c: blocking and workspace, functions of the shape ---- */

/* igemm packs B for all taps of a call block: taps x kcg x nc floats within B_BUDGET. */
typedef struct blocking {
  int taps, kdim, ndim; /* taps of the largest phase, K per tap, N */
  int nc, kcg;          /* N per block (multiple of 16), K per group */
} blocking;
blocking tc_ct_block_forward(const fgeom *g);
blocking tc_ct_block_backward_data(const fgeom *g);
int tc_ct_rowb(const fgeom *g, const blocking *bl);
int tc_ct_small_k(const fgeom *g);
int tc_ct_row_seg(const fgeom *g);
int64_t tc_ct_pad_row_len(const fgeom *g);
int tc_ct_bw_batch(const fgeom *g);
int64_t tc_ct_row_units(const fgeom *g);
int tc_ct_small_slabs(const fgeom *g);
int tc_ct_slabs_count(const fgeom *g);
int tc_ct_fwd_col_rows(const fgeom *g);
/* col_gather.c: colT's row length for a band of rows (and the (kh-1)/sh rows above),
 * 16-aligned; output row oi of image n from the band's colT (its first row r0), into y in
 * NCHW (nchw = 1) or NHWC. */
int64_t tc_ct_colt_ld(const fgeom *g, int rows);
void tc_ct_col_out_row(const fgeom *g, int64_t n, int oi, int r0, const float *colt, int64_t ld,
                       const float *bias, float *y, int nchw);
/* The column form's output row oi (both layouts): the kernel rows a, ascending, whose input
 * row i = (oi + pt - a) / sh exists (at most 64), in ka and their i in ri; the count. */
static inline int tc_ct_col_taps(const fgeom *g, int oi, int ka[64], int64_t ri[64]) {
  const int64_t x = (int64_t)oi + g->pt;
  int rows = 0;
  for (int a = (int)(x % g->sh); a < g->kh && rows < 64; a += g->sh) {
    int64_t i = (x - a) / g->sh;
    if (i < 0 || i >= g->h)
      continue;
    ri[rows] = i;
    ka[rows++] = a;
  }
  return rows;
}
int64_t tc_ct_stream_bytes(size_t l2, int threads);
/* Fills plan->shared_bytes, thread_bytes, zero_row, the blocking and workspace_bytes for
 * plan->algo and plan->threads. */
void tc_ct_layout(tc_conv2dt_plan *plan);
/* The algorithm of dir unless forced. */
tc_conv2dt_algo tc_ct_choose(const tc_conv2dt_plan *plan, tc_conv2dt_dir dir);

/* ---- applies: NULL when the algorithm runs this direction of the plan, else why not
 * (a sentence with the numbers, written into why) ---- */
const char *tc_ct_applies(const tc_conv2dt_plan *plan, tc_conv2dt_dir dir, tc_conv2dt_algo algo,
                          char *why, size_t cap);

/* ---- run: same contracts as the public kernels, on checked pointers ---- */
void tc_ct_direct_forward(const tc_conv2dt_plan *plan, const float *x, const float *k,
                          const float *bias, float *y);
void tc_ct_direct_backward_data(const tc_conv2dt_plan *plan, const float *dy, const float *k,
                                float *dx);
void tc_ct_direct_backward_weights(const tc_conv2dt_plan *plan, const float *x, const float *dy,
                                   float *dk);
void tc_ct_bias_grad(const tc_conv2dt_plan *plan, const float *dy, float *dbias);
/* The bias gradient of an NCHW plan's dy summed as its NHWC twin sums it (its bits). */
void tc_ct_bias_grad_nhwc_order(const tc_conv2dt_plan *plan, const float *dy, float *dbias);

void tc_ct_igemm_forward(const tc_conv2dt_plan *plan, const float *x, const float *k,
                         const float *bias, float *y, void *ws);
void tc_ct_igemm_backward_data(const tc_conv2dt_plan *plan, const float *dy, const float *k,
                               float *dx, void *ws);
void tc_ct_few_forward(const tc_conv2dt_plan *plan, const float *x, const float *k,
                       const float *bias, float *y, void *ws);
void tc_ct_few_forward_col(const tc_conv2dt_plan *plan, const float *x, const float *k,
                           const float *bias, float *y, void *ws);
void tc_ct_few_backward_data(const tc_conv2dt_plan *plan, const float *dy, const float *k,
                             float *dx, void *ws);
void tc_ct_few_backward_weights(const tc_conv2dt_plan *plan, const float *x, const float *dy,
                                float *dk, void *ws);
void tc_ct_tasks_backward_weights(const tc_conv2dt_plan *plan, const float *x, const float *dy,
                                  float *dk, void *ws);
void tc_ct_slabs_backward_weights(const tc_conv2dt_plan *plan, const float *x, const float *dy,
                                  float *dk, void *ws);

/* ---- shared between algorithm files ---- */

/* igemm.c: the GEMM of forward output phase (rh, rw) (few_filters forward walks them). */
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
  tc_gemm64_ukr_fn gemm64; /* whole 64-column groups in one call, where the ISA has one */
  int rowb;            /* B by kernel rows (see b_at) */
  int batched;         /* K per tap <= SHORT_K: tap batches (igemm_batched.c) */
  int by_class;        /* batched: rows class by class (tc_ct_igemm_by_class) */
  int mc;              /* C rows per chunk (plan->mc) */
} igemm;
/* Kernel element (t, s) of tap list index, as the (a, b) of k[a][b]. */
static inline void tap_ab(const igemm *G, int t, int s, int *a, int *b) {
  *a = G->fwd ? G->rh + t * G->g->sh : t;
  *b = G->fwd ? G->rw + s * G->g->sw : s;
}
igemm tc_ct_forward_phase(const fgeom *g, int rh, int rw, const float *x, const float *k,
                          const float *bias, float *y, tc_gemm_ukr_fn ukr);
/* Panel j of tap's packed B (kcg x 16), and the step between two panels of a tap. With
 * rowb the taps of a kernel row follow each other inside each panel (panel j of row t:
 * tw blocks of kcg x 16), so a whole kernel row is one (tw*kcg x 16) panel. */
static inline const float *b_at(const igemm *G, const float *bp, int tap, int j) {
  int64_t npb = G->bl.nc / TC_GEMM_NR, blk = (int64_t)G->bl.kcg * TC_GEMM_NR;
  if (G->rowb)
    return bp + ((tap / G->tw * npb + j) * G->tw + tap % G->tw) * blk;
  return bp + (tap * npb + j) * blk;
}
static inline ptrdiff_t b_ps(const igemm *G) {
  return (ptrdiff_t)(G->rowb ? G->tw : 1) * G->bl.kcg * TC_GEMM_NR;
}
/* igemm_batched.c: the short-K form's rows [r0, r1) for the block (n0, k0), and whether
 * its rows go class by class (a function of the igemm's geometry). */
void tc_ct_igemm_run_batched(const igemm *G, const float *bp, int64_t r0, int64_t r1, int n0,
                             int k0);
int tc_ct_igemm_by_class(const igemm *G);

/* bw_pack.c: one backward-weights task's output: taps (a, b) of a block of kernel rows
 * [a0, a1) and columns [b0, b1) that all map the same input pixels inside the output (rows
 * [i0, i1), columns [j0, j1)), the task's share [t0, t1) of those taps in row-major
 * order, filters [f0, f0+fb) and channels [c0, c0+cb). */
typedef struct wtask {
  int a0, a1, b0, b1, t0, t1, f0, fb, c0, cb;
  int i0, i1, j0, j1;
} wtask;
void tc_ct_pack_x(const fgeom *g, const wtask *T, const float *x, int64_t p0, int kp, float *pb);
void tc_ct_pack_dy(const fgeom *g, const wtask *T, int a, int b, const float *dy, int64_t p0,
                   int kp, float *pa);
void tc_ct_packed_gemm(int kp, const float *pa, int64_t gs, int rows, const float *pb, int cols,
                       float *tile, int64_t ldc, const tc_ukr_table *ukr);
/* transpose_tile.c: out[k*ld + r] = in[r*ldi + k] for r < rows, k < cols; stream = 1:
 * aligned groups of 4 around the caches (fence before anyone reads out). */
void tc_ct_transpose(const float *in, int ldi, int rows, int cols, float *out, int64_t ld,
                     int stream);
/* bw_slabs.c: dk = the S partials added in slab order (worksharing inside). */
void tc_ct_add_slabs(const float *part, int S, int64_t count, float *dk);
/* layout.c: few-filter backward data's packed weights; a thread's padded dy rows (either
 * few-filter backward direction). */
size_t tc_ct_small_bd_b_bytes(const fgeom *g);
size_t tc_ct_small_thread_bytes(const fgeom *g);
/* few_bd.c: the padded dy rows of a segment (few_filters backward data and weights), from
 * NHWC dy or (nchw = 1) NCHW dy. */
void tc_ct_pad_dy_rows(const fgeom *g, const float *dy, int nchw, int64_t n, int oi0,
                       int nrows, int j0, int wn, float *pad);

#endif
