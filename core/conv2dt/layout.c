/* layout.c — the blocking and the workspace of the fast algorithms, functions of the shape
 * only, computed once by tc_conv2dt_plan_create (tc_ct_layout) and stored in the plan;
 * and which algorithm applies to which plan (tc_ct_applies). */
#include <omp.h>
#include <stdio.h>

#include "core/conv2dt/internal.h"

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

blocking tc_ct_block_forward(const fgeom *g) {
  int taps = (int)(ceil_div(g->kh, g->sh) * ceil_div(g->kw, g->sw));
  return block_igemm(taps, g->c, g->f);
}

blocking tc_ct_block_backward_data(const fgeom *g) {
  return block_igemm(g->kh * g->kw, g->f, g->c);
}

/* Per-thread scratch of run_igemm's per-tap form: row coordinates and pointer lists of one
 * chunk of mc rows. */
static size_t igemm_thread_bytes(int mc) {
  return align_up((size_t)mc * (sizeof(int64_t) + 2 * sizeof(int) + 3 * sizeof(float *)));
}


/* Per-thread scratch of backward weights: packed dy (KP x FB) and x (KP x CB). */
static size_t bwdw_thread_bytes(void) {
  return align_up(((size_t)REGION_FLOATS + (size_t)KP * CB) * sizeof(float));
}

/* C rows per igemm chunk: the chunk's C tile (rows x nc floats), which every tap of the
 * chunk adds to, within half of one core's L2, the other half for the tap's B panels and
 * A rows passing through (192 rows for a 384 KiB L2 and nc 256, the old constant; 510 for
 * 1 MiB). Chunking changes no sum: the rows per chunk already change with the team size,
 * and test_caches.c compares the bits of two L2 sizes. */
static int igemm_chunk_rows(size_t l2, int nc) {
  int64_t rows = (int64_t)(l2 / 2 / ((size_t)(nc > 0 ? nc : TC_GEMM_NR) * sizeof(float)));
  rows = rows / TC_GEMM_MR * TC_GEMM_MR;
  return rows < MC_MIN ? MC_MIN : rows > MC_MAX ? MC_MAX : (int)rows;
}

/* Few-filter backward data streams dx around the caches from this many bytes (few_bd.c):
 * below it dx fits the team's L2s twice over and is best left in cache for whoever reads it
 * next. 4 MiB on 2 threads of 1 MiB L2s, where the threshold was measured. Streamed or
 * not, the same values are stored. */
int64_t tc_ct_stream_bytes(size_t l2, int threads) {
  return 2 * (int64_t)l2 * (threads > 0 ? threads : 1);
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

int tc_ct_small_k(const fgeom *g) { return g->kh * g->kw * g->f; }

static int small_bwd(const fgeom *g) { return g->f <= SMALL_F && tc_ct_small_k(g) <= SMALL_K; }

/* Backward data's packed weights: panel j holds (taps*F, 16). */
size_t tc_ct_small_bd_b_bytes(const fgeom *g) {
  return align_up((size_t)tc_ct_small_k(g) * (size_t)panels(g->c) * TC_GEMM_NR * sizeof(float));
}

static int small_bd(const fgeom *g) {
  return small_bwd(g) && g->kh <= TC_WIDE_MAXNT && tc_ct_small_bd_b_bytes(g) <= (size_t)B_BUDGET;
}

/* Both few-filter backward kernels work on input-row segments: the segment's pixels and,
 * copied once and zero-padded at both ends, the kh dy rows its kernel rows reach, which
 * stay within SEG_FLOATS. So do the segment's pixels times K rounded up to panels: NCHW
 * backward weights gathers that many floats per segment (few_bw_nchw.c), and its
 * workspace would otherwise grow with the image's width (25 MB for a 1 x 48 kernel on
 * 9000-pixel rows). Only segments over SEG_FLOATS / 384 = 170 pixels are shortened. */
int tc_ct_row_seg(const fgeom *g) {
  int64_t per_row = (int64_t)g->kh * g->f;
  int64_t ws = (SEG_FLOATS / per_row - g->kw) / g->sw + 1;
  int64_t gathered = SEG_FLOATS / (panels(tc_ct_small_k(g)) * TC_GEMM_NR);
  ws = ws < gathered ? ws : gathered;
  ws = ws < 1 ? 1 : ws > g->w ? g->w : ws;
  return (int)ws;
}

/* Floats of one padded dy row of a segment. */
int64_t tc_ct_pad_row_len(const fgeom *g) {
  return ((int64_t)(tc_ct_row_seg(g) - 1) * g->sw + g->kw) * g->f;
}

/* Backward weights, few filters: segments of the same width go to the micro-kernel in
 * batches of about BATCH_PIX pixels (at most BATCH_MAX segments, their padded rows within
 * 2 * SEG_FLOATS); a fixed number of slabs of segments (a function of the shape only)
 * each sum into their own partial dk (K x C). */
#define BATCH_MAX 64 /* <= TC_WIDE_MAXNT: a batch is one call's pairs */
#define PART_BUDGET (4 << 20)  /* bytes of partial sums shared by the team */

int tc_ct_bw_batch(const fgeom *g) {
  int64_t nb = BATCH_PIX / tc_ct_row_seg(g);
  int64_t fit = 2 * SEG_FLOATS / ((int64_t)g->kh * tc_ct_pad_row_len(g));
  nb = nb < fit ? nb : fit;
  nb = nb < BATCH_MAX ? nb : BATCH_MAX;
  return nb < 1 ? 1 : (int)nb;
}

int64_t tc_ct_row_units(const fgeom *g) {
  return g->n * g->h * ceil_div(g->w, tc_ct_row_seg(g));
}

int tc_ct_small_slabs(const fgeom *g) {
  int64_t s = ceil_div(tc_ct_row_units(g) * tc_ct_row_seg(g), 2 * KP);
  int64_t fit = PART_BUDGET / ((int64_t)g->c * tc_ct_small_k(g) * (int64_t)sizeof(float));
  s = s < SLABS_MAX ? s : SLABS_MAX;
  s = s < fit ? s : fit;
  return s < 1 ? 1 : (int)s;
}

/* Backward weights over pixel slabs (not few filters): one filter block and one channel
 * block, and S partial dk (kh*kw*F*C each) within SLAB_BUDGET, S >= 2; else 0. The budget
 * keeps one thread's whole workspace (partials + 640 KiB of packing) under 8 MiB; S is a
 * function of the shape only, never of the thread count. */
#define SLAB_BUDGET (7 << 20)
int tc_ct_slabs_count(const fgeom *g) {
  if (g->f > FB || g->c > CB)
    return 0;
  int64_t dkf = (int64_t)g->kh * g->kw * g->f * g->c;
  int64_t s = ceil_div(g->n * g->h * g->w, 2 * KP);
  s = s < SLABS_MAX ? s : SLABS_MAX;
  s = s < SLAB_BUDGET / (dkf * (int64_t)sizeof(float)) ? s : SLAB_BUDGET / (dkf * 4);
  while (s & (s - 1)) /* a power of two: 3 slabs on 2 threads would leave one idle a third */
    s &= s - 1;
  return s >= 2 ? (int)s : 0;
}

/* Forward with few filters, the column form (few_fwd_col.c), on every ISA: the dot form's
 * lane sums and pointer lists cost about as much as its FMAs with AVX2's 8 lanes (fmnist2
 * ran at half oneDNN's speed), and with AVX-512 on Zen 4 the column form was faster too
 * (fsrcnn 31 -> 42, fmnist2 24 -> 35 GFLOP/s at 1 thread; 61 -> 73, 38 -> 67 at 2; medians
 * of alternating runs, docs/benchmarks.md). Where it applies: K = kh*kw*F within SMALL_K,
 * kh <= 64, the packed weights within B_BUDGET. Returns the input rows per band, their
 * col rows (and the (kh-1)/sh rows above) within COL_BYTES per thread, or 0 where the
 * form does not apply: a function of the shape only, so one ISA gives the same bits on
 * every machine (a band of another size changed bits in test_caches.c, so COL_BYTES does
 * not follow the machine's L2). */
#define COL_BYTES (512 << 10)
static int64_t col_row_bytes(const fgeom *g) {
  return (int64_t)g->w * panels(tc_ct_small_k(g)) * TC_GEMM_NR * (int64_t)sizeof(float);
}
static size_t col_b_bytes(const fgeom *g) {
  return align_up((size_t)panels(tc_ct_small_k(g)) * TC_GEMM_NR * (size_t)g->c * sizeof(float));
}
int tc_ct_fwd_col_rows(const fgeom *g) {
  if (g->f > TC_DOT_MAXF || tc_ct_small_k(g) > SMALL_K ||
      g->kh > TC_WIDE_MAXNT || col_b_bytes(g) > (size_t)B_BUDGET)
    return 0;
  int64_t r = COL_BYTES / col_row_bytes(g) - (g->kh - 1) / g->sh;
  r = r > g->h ? g->h : r;
  return r >= 1 ? (int)r : 0;
}
/* colT (K rows of tc_ct_colt_ld) and a 6-pixel tile of products (6 x Kp). */
static size_t col_thread_bytes(const fgeom *g, int rows) {
  size_t k = (size_t)tc_ct_small_k(g), kp = (size_t)panels(tc_ct_small_k(g)) * TC_GEMM_NR;
  return rows ? align_up(sizeof(float) * (k * (size_t)tc_ct_colt_ld(g, rows) + TC_GEMM_MR * kp))
              : 0;
}

/* The padded dy rows of one segment (backward data) or of a batch (backward weights). */
size_t tc_ct_small_thread_bytes(const fgeom *g) {
  if (!small_bwd(g))
    return 0;
  size_t rows = (size_t)g->kh * (size_t)tc_ct_pad_row_len(g);
  return align_up(rows * (size_t)tc_ct_bw_batch(g) * sizeof(float));
}

static size_t thread_bytes(const fgeom *g, int mc) {
  size_t a = igemm_thread_bytes(mc), b = bwdw_thread_bytes(), c = tc_ct_small_thread_bytes(g);
  a = a > b ? a : b;
  return a > c ? a : c;
}

/* The packed weights of whichever kernel needs most, then a row of C zeros (the dot
 * kernel's stand-in for a source pixel outside the input). */
static size_t zero_row_offset(const fgeom *g) {
  blocking f = tc_ct_block_forward(g), d = tc_ct_block_backward_data(g);
  size_t a = blocking_bytes(&f), b = blocking_bytes(&d);
  size_t m = a > b ? a : b;
  if (small_bd(g) && tc_ct_small_bd_b_bytes(g) > m)
    m = tc_ct_small_bd_b_bytes(g);
  return m;
}

/* igemm backward data with kernel rows as wide pairs: the kw taps' dy pixels side by side,
 * one k-group; only where a row sums in the same order through either kernel: one tap
 * batch, and no last single panel (the GEMM kernel's 6x16 tile splits even and odd k). */
int tc_ct_rowb(const fgeom *g, const blocking *bl) {
  return g->sw == 1 && bl->kcg == g->f && bl->kcg <= SHORT_K && g->kh * g->kw <= TAP_BATCH &&
         (g->c % TC_GEMM_NC == 0 || g->c % TC_GEMM_NC > TC_GEMM_NR);
}

/* The partial sums of the backward-weights algorithm: S slabs of the dk they sum. */
static size_t part_bytes(const fgeom *g, tc_conv2dt_algo bw, int S) {
  if (bw == TC_CONV2DT_FEW_FILTERS)
    return align_up((size_t)S * (size_t)g->c * (size_t)tc_ct_small_k(g) * sizeof(float));
  return align_up((size_t)S * (size_t)g->kh * (size_t)g->kw * (size_t)g->f * (size_t)g->c *
                  sizeof(float));
}

static int any_fast(const tc_conv2dt_plan *q) {
  for (int d = 0; d < TC_CONV2DT_DIRS; d++)
    if (q->algo[d] != TC_CONV2DT_DIRECT)
      return 1;
  return 0;
}

/* The shared part holds what one kernel needs at a time: the packed weights and the zero
 * row (forward, backward data) or, from offset 0, the partial sums (backward weights) of
 * the chosen algorithms. The per-thread part is the largest any fast algorithm of the
 * shape needs, as before the plan recorded its choices (the same workspace_bytes). */
void tc_ct_layout(tc_conv2dt_plan *q) {
  fgeom g = fgeom_of(q);
  blocking bl[2] = {tc_ct_block_forward(&g), tc_ct_block_backward_data(&g)};
  for (int d = 0; d < 2; d++)
    q->kcg[d] = bl[d].kcg, q->nc[d] = bl[d].nc, q->btaps[d] = bl[d].taps;
  q->rowb = tc_ct_rowb(&g, &bl[1]);
  q->mc = igemm_chunk_rows(q->cache_l2, bl[0].nc > bl[1].nc ? bl[0].nc : bl[1].nc);
  q->stream_bytes = tc_ct_stream_bytes(q->cache_l2, q->threads);
  q->fcol = q->algo[TC_CONV2DT_FORWARD] == TC_CONV2DT_FEW_FILTERS && q->ukr
                ? tc_ct_fwd_col_rows(&g)
                : 0;
  tc_conv2dt_algo bw = q->algo[TC_CONV2DT_BACKWARD_WEIGHTS];
  q->slabs = bw == TC_CONV2DT_FEW_FILTERS ? tc_ct_small_slabs(&g)
             : bw == TC_CONV2DT_SLABS     ? tc_ct_slabs_count(&g)
                                          : 0;
  if (!any_fast(q)) {
    q->shared_bytes = q->thread_bytes = q->zero_row = q->workspace_bytes = 0;
    return;
  }
  q->zero_row = zero_row_offset(&g);
  size_t fwd = q->zero_row;
  if (q->algo[TC_CONV2DT_FORWARD] == TC_CONV2DT_FEW_FILTERS)
    fwd += align_up((size_t)g.c * sizeof(float));
  if (q->fcol && col_b_bytes(&g) > fwd)
    fwd = col_b_bytes(&g);
  size_t parts = q->slabs ? part_bytes(&g, bw, q->slabs) : 0;
  q->shared_bytes = fwd > parts ? fwd : parts;
  q->thread_bytes = thread_bytes(&g, q->mc);
  if (col_thread_bytes(&g, q->fcol) > q->thread_bytes)
    q->thread_bytes = col_thread_bytes(&g, q->fcol);
  q->workspace_bytes = q->shared_bytes + (size_t)q->threads * q->thread_bytes;
}

unsigned char *tc_ct_thread_ws(const tc_conv2dt_plan *plan, void *ws) {
  return (unsigned char *)ws + plan->shared_bytes +
         (size_t)omp_get_thread_num() * plan->thread_bytes;
}

int tc_ct_team(const tc_conv2dt_plan *plan) {
  int t = omp_get_max_threads();
  return t < plan->threads ? t : plan->threads;
}

/* ---- which algorithm applies ---- */

static const char *fast_why(const tc_conv2dt_plan *q, char *why, size_t cap) {
  const tc_conv2dt_params *p = &q->p;
  if (p->data_format == TC_CHANNELS_LAST && p->groups == 1 && p->dilation_h == 1 &&
      p->dilation_w == 1 && (int64_t)p->kernel_h * p->kernel_w <= MAX_TAPS)
    return NULL;
  snprintf(why, cap, "needs channels_last, groups 1, dilation 1x1 and at most %d taps; the "
           "plan has %s, groups %d, dilation %dx%d, %dx%d taps", (int)MAX_TAPS,
           tc_data_format_name(p->data_format), p->groups, p->dilation_h, p->dilation_w,
           p->kernel_h, p->kernel_w);
  return why;
}

static const char *few_why(const fgeom *g, tc_conv2dt_dir dir, char *why, size_t cap) {
  if (dir == TC_CONV2DT_FORWARD && small_fwd(g))
    return NULL;
  if (dir == TC_CONV2DT_FORWARD) {
    snprintf(why, cap, "needs filters <= %d forward; the plan has %d", TC_DOT_MAXF, g->f);
    return why;
  }
  if (dir == TC_CONV2DT_BACKWARD_DATA ? small_bd(g) : small_bwd(g))
    return NULL;
  snprintf(why, cap, "needs filters <= %d and kh*kw*filters <= %d%s; the plan has %d filters, "
           "kh*kw*filters = %d, kh %d", SMALL_F, SMALL_K,
           dir == TC_CONV2DT_BACKWARD_DATA ? ", kh <= 64 and its packed weights within 4 MiB"
                                           : "", g->f, tc_ct_small_k(g), g->kh);
  return why;
}

const char *tc_ct_applies(const tc_conv2dt_plan *q, tc_conv2dt_dir dir, tc_conv2dt_algo algo,
                          char *why, size_t cap) {
  if (algo == TC_CONV2DT_DIRECT)
    return NULL;
  if (fast_why(q, why, cap))
    return why;
  fgeom g = fgeom_of(q);
  switch (algo) {
  case TC_CONV2DT_IGEMM:
    if (dir != TC_CONV2DT_BACKWARD_WEIGHTS)
      return NULL;
    snprintf(why, cap, "runs forward and backward_data only");
    return why;
  case TC_CONV2DT_FEW_FILTERS:
    return few_why(&g, dir, why, cap);
  case TC_CONV2DT_TASKS:
  case TC_CONV2DT_SLABS:
    if (dir != TC_CONV2DT_BACKWARD_WEIGHTS) {
      snprintf(why, cap, "runs backward_weights only");
      return why;
    }
    if (algo == TC_CONV2DT_TASKS || tc_ct_slabs_count(&g) >= 2)
      return NULL;
    snprintf(why, cap, "needs filters <= %d, channels <= %d and at least 2 slabs of %d pixels "
             "whose partial sums fit 7 MiB; the plan has %d filters, %d channels, %lld pixels",
             FB, CB, 2 * KP, g.f, g.c, (long long)(g.n * g.h * g.w));
    return why;
  default:
    break;
  }
  snprintf(why, cap, "is not an algorithm");
  return why;
}

/* The algorithm a direction runs unless forced: the fast ones where they apply, few filters
 * first, slabs over tasks. */
tc_conv2dt_algo tc_ct_choose(const tc_conv2dt_plan *q, tc_conv2dt_dir dir) {
  char why[256];
  if (fast_why(q, why, sizeof why))
    return TC_CONV2DT_DIRECT;
  if (!tc_ct_applies(q, dir, TC_CONV2DT_FEW_FILTERS, why, sizeof why))
    return TC_CONV2DT_FEW_FILTERS;
  if (dir != TC_CONV2DT_BACKWARD_WEIGHTS)
    return TC_CONV2DT_IGEMM;
  return tc_ct_applies(q, dir, TC_CONV2DT_SLABS, why, sizeof why) ? TC_CONV2DT_TASKS
                                                                   : TC_CONV2DT_SLABS;
}
