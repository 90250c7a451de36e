/* compose.h — NCHW, groups and dilation as sub-problems of the NHWC kernels (compose.c at
 * plan time, compose_run.c at run time; docs/kernels.md "NCHW, groups and dilation"). */
#ifndef TC_CONV2DT_COMPOSE_H
#define TC_CONV2DT_COMPOSE_H

#include "core/conv2dt/internal.h"

/* More sub-problems than this (groups x dilation residues) and the plan runs direct: each
 * is a parallel region and a copy in and out, too small to pay for itself. */
#define TC_CT_MAX_SUBS 64

/* One axis of a sub-problem: input rows r + step*i' for i' < in; sub-output row t (of
 * out, after a crop of lead) is output row base + dil*t; the inner stride. */
typedef struct tc_ct_axis {
  int r, step, in, stride, dil, lead, out, base;
} tc_ct_axis;

typedef struct tc_ct_sub {
  int64_t n; /* images: the plan's, or a chunk's (forward, backward data) */
  int group;
  tc_ct_axis ax[2]; /* h, w */
} tc_ct_sub;

/* Byte offsets in the workspace: the inner plan's part at 0, then the sub-problem's x (or
 * dx), y (or dy) and kernel (or dkernel) in NHWC / (kh, kw, F/g, C/g). */
typedef struct tc_ct_parts {
  size_t x_off, y_off, k_off;
  int64_t k_floats;
} tc_ct_parts;

/* Forward and backward data run the sub-problems on chunks of this many images, so that a
 * chunk's copies stay in cache between the copy and the kernel (the sums of an element do
 * not depend on the batch: the same bits); backward weights sums over the whole batch and
 * takes it whole. */
#define TC_CT_CHUNK_BYTES (4 << 20) /* per thread (L3: few, large chunks) */
#define TC_CT_PACK_RATIO 2048         /* chunk FLOPs per kernel float (weights repacked) */
int64_t tc_ct_chunk(const tc_conv2dt_plan *q);

/* Private chunks (forward and backward data): the team's threads take chunks of this many
 * images one at a time and run each alone, copies and a one-thread inner plan included,
 * without waiting on the others; 0 where the team shares each chunk instead
 * (tc_ct_chunk). The chunk's copies stay in the thread's L2. An element's sums do not
 * depend on the images beside it nor on the threads: the same bits either way. */
#define TC_CT_PRIVATE_MAX 64 /* images per private chunk, at most */
int64_t tc_ct_private_chunk(const tc_conv2dt_plan *q);
/* A private chunk's slot in the workspace (one per thread, slot_bytes apart): the inner
 * plan's part at 0, then x, y and kernel as in tc_ct_parts. */
tc_ct_parts tc_ct_private_parts(const tc_conv2dt_plan *q, size_t *slot_bytes);

/* 1 when the plan is NCHW, grouped or dilated: fast algorithms run it composed. */
int tc_ct_composed(const tc_conv2dt_plan *q);
int tc_ct_sub_count(const tc_conv2dt_plan *q);
/* Sub-problem idx (group-major, then residues row-major); 0 when it has no output. */
int tc_ct_sub_at(const tc_conv2dt_plan *q, int idx, tc_ct_sub *s);
void tc_ct_sub_plan(const tc_conv2dt_plan *q, const tc_ct_sub *s, tc_conv2dt_plan *in);
/* The same on at most `threads` threads (1: a private chunk's inner plan). */
void tc_ct_sub_plan_on(const tc_conv2dt_plan *q, const tc_ct_sub *s, int threads,
                       tc_conv2dt_plan *in);
/* tc_ct_applies for a composed plan: the representative sub-problem's answer. */
const char *tc_ct_compose_applies(const tc_conv2dt_plan *q, tc_conv2dt_dir dir,
                                  tc_conv2dt_algo algo, char *why, size_t cap);
void tc_ct_compose_choose(tc_conv2dt_plan *q);
void tc_ct_compose_layout(tc_conv2dt_plan *q);
tc_ct_parts tc_ct_compose_parts(const tc_conv2dt_plan *q);

/* Copies below this many floats stay on one thread. */
#define TC_CT_COPY_PAR_FLOATS 32768

/* compose_copy.c: a sub-grid of a big tensor of (n, H, W, C) in NHWC or NCHW order: rows
 * i0 + di*i (i < h), columns j0 + dj*j (j < w), channels c0 + ch (ch < c). The small side
 * is NHWC (n, h, w, c), contiguous. */
typedef struct tc_ct_grid {
  int64_t n;
  int H, W, C, nchw;
  int i0, di, h, j0, dj, w, c0, c;
} tc_ct_grid;
/* The grids of sub-problem s in x (or dx) and y (or dy). */
tc_ct_grid tc_ct_x_grid(const tc_conv2dt_plan *q, const tc_ct_sub *s);
tc_ct_grid tc_ct_y_grid(const tc_conv2dt_plan *q, const tc_ct_sub *s);
/* 1 where the grid is all of an NHWC tensor (no copy needed). */
int tc_ct_grid_whole(const tc_ct_grid *g);
/* small = big[grid] (put 0) or big[grid] = small (put 1; small NULL: zeros), on up to
 * team threads. */
void tc_ct_grid_copy(const tc_ct_grid *g, float *big, float *small, int put, int team);
/* The sub-problem's input: the big tensor itself where the grid is all of it, else buf. */
const float *tc_ct_grid_in(const tc_ct_grid *g, const float *big, float *buf, int team);

/* compose_run.c: the three kernels of a composed plan whose direction is not direct. */
void tc_ct_composed_forward(const tc_conv2dt_plan *q, const float *x, const float *k,
                            const float *bias, float *y, void *ws);
void tc_ct_composed_backward_data(const tc_conv2dt_plan *q, const float *dy, const float *k,
                                  float *dx, void *ws);
void tc_ct_composed_backward_weights(const tc_conv2dt_plan *q, const float *x, const float *dy,
                                     float *dk, float *dbias, void *ws);

/* 1 where the plan is NCHW with no groups or dilation, direction dir runs few_filters and
 * there are micro-kernels: the few-filter kernels that read NCHW in place may take it. */
static inline int tc_ct_plain_nchw_few(const tc_conv2dt_plan *q, tc_conv2dt_dir dir) {
  const tc_conv2dt_params *p = &q->p;
  return p->data_format == TC_CHANNELS_FIRST && p->groups == 1 && p->dilation_h == 1 &&
         p->dilation_w == 1 && q->algo[dir] == TC_CONV2DT_FEW_FILTERS && q->ukr;
}

/* few_fwd_col_nchw.c: few-filter forward's column form on NCHW x and y in place (plans
 * that are NCHW only, no groups or dilation, whose NHWC twin runs the column form): the
 * bits of the NHWC kernel without the transposes. Its workspace is a colT buffer per
 * thread, tc_ct_nchw_col_thread_bytes apart. */
int tc_ct_nchw_col(const tc_conv2dt_plan *q);
size_t tc_ct_nchw_col_thread_bytes(const tc_conv2dt_plan *q);
void tc_ct_few_forward_col_nchw(const tc_conv2dt_plan *plan, const float *x, const float *k,
                                const float *bias, float *y, void *ws);

/* few_bw_nchw.c: few-filter backward weights on NCHW x and dy in place (plans that are
 * NCHW only, no groups or dilation, whose backward weights run few_filters): the bits of
 * the NHWC kernel without the transposes. tc_ct_few_backward_weights runs it (few_bw.c
 * walks the slabs, this file takes each batch); its workspace is the transposed partials,
 * then a slot per thread (tc_ct_few_bw_nchw_slot: padded dy rows, gathered rows). */
int tc_ct_nchw_few_bw(const tc_conv2dt_plan *q);
size_t tc_ct_few_bw_nchw_bytes(const tc_conv2dt_plan *q);
float *tc_ct_few_bw_nchw_slot(const tc_conv2dt_plan *q, void *ws);
/* The batch of nb segments of wn pixels from segment u on (its padded rows in pad, at the
 * start of the slot): part (C x K) rows [c0, c1) += its products. */
void tc_ct_few_bw_batch_nchw(const fgeom *g, const float *pad, const float *x, int64_t u, int nb,
                             int wn, int c0, int c1, float *part, tc_wide_ukr_fn wide);
/* dk (K x C) = the S transposed partials (C x K each) added in slab order, as
 * tc_ct_add_slabs adds them (worksharing inside). */
void tc_ct_add_slabs_transposed(const float *part, int S, int K, int C, float *dk);

/* few_bd.c + few_bd_nchw.c: few-filter backward data on NCHW dy and dx in place (NCHW
 * only, no groups or dilation, backward data few_filters): tc_ct_few_backward_data runs
 * it, the bits of NHWC, in one of two forms (tc_ct_nchw_bd_tiles: 1 for the tile form,
 * tc_ct_few_backward_data_rows, else the gathered form, tc_ct_few_backward_data_nchw);
 * its workspace, tc_ct_few_bd_nchw_bytes, holds either. Both take few_bd.c's bands. */
int tc_ct_nchw_few_bd(const tc_conv2dt_plan *q);
int tc_ct_nchw_bd_tiles(const tc_conv2dt_plan *q);
size_t tc_ct_few_bd_nchw_bytes(const tc_conv2dt_plan *q);
size_t tc_ct_few_bd_tiles_bytes(const tc_conv2dt_plan *q);
size_t tc_ct_few_bd_gathered_bytes(const tc_conv2dt_plan *q);
void tc_ct_few_backward_data_rows(const tc_conv2dt_plan *plan, const float *dy, const float *k,
                                  float *dx, void *ws);
void tc_ct_few_backward_data_nchw(const tc_conv2dt_plan *plan, const float *dy, const float *k,
                                  float *dx, void *ws);
int tc_ct_bd_band(const fgeom *g);

/* dispatch.c: the algorithm switch of a plain (NHWC, groups 1, dilation 1) plan or of a
 * direct one. */
void tc_ct_run_forward(const tc_conv2dt_plan *q, const float *x, const float *k,
                       const float *bias, float *y, void *ws);
void tc_ct_run_backward_data(const tc_conv2dt_plan *q, const float *dy, const float *k,
                             float *dx, void *ws);
void tc_ct_run_backward_weights(const tc_conv2dt_plan *q, const float *x, const float *dy,
                                float *dk, void *ws);

#endif
