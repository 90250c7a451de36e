/* conv2dt.h — the three kernels of transposed 2-D convolution, callable without a graph.
 *
 *   tc_conv2dt_params p = tc_conv2dt_params_default(16, 4, 4);   // F=16, 4x4 kernel
 *   p.stride_h = p.stride_w = 2; p.padding = TC_PADDING_SAME;
 *   tc_conv2dt_plan plan;
 *   if (tc_conv2dt_plan_create(&plan, &p, n, h, w, c) != TC_OK) ...;   // validates once
 *   void *ws = tc_aligned_alloc(plan.workspace_bytes);
 *   tc_conv2dt_forward(&plan, x, kernel, bias, y, ws);
 *   tc_conv2dt_backward_data(&plan, dy, kernel, dx, ws);
 *   tc_conv2dt_backward_weights(&plan, x, dy, dkernel, dbias, ws);
 *
 * Layouts: x is (N,H,W,C) for channels_last, (N,C,H,W) for channels_first; y and dy are
 * (N,OH,OW,F) or (N,F,OH,OW); the kernel is always (kh, kw, F/groups, C); bias is (F).
 * Semantics are those of tf.layers.Conv2DTranspose (docs/semantics.md):
 *   full = (H-1)*sh + dkh, dkh = (kh-1)*dh + 1 (dilated kernel extent)
 *   OH   = valid: H*sh + max(dkh - sh, 0);  same: H*sh          (no output_padding)
 *        = (H-1)*sh + dkh - 2*pad + oph, pad = 0 (valid) or dkh/2 (same)  (output_padding)
 *   pad_top = same: max((H-1)*sh + dkh - OH, 0) / 2; valid: 0
 *   y[n][i*sh + a*dh - pad_top][j*sw + b*dw - pad_left][f] += x[n][i][j][c] * k[a][b][f'][c]
 * where, with groups g, input channel c belongs to group c / (C/g) and output filter
 * f = group * (F/g) + f'. Output positions that no tap reaches hold just the bias.
 *
 * The kernels overwrite their outputs (they do not accumulate), never allocate, never
 * print, and give bit-identical results for any number of OpenMP threads. They check only
 * for NULL pointers; everything else was validated by tc_conv2dt_plan_create. The caller
 * owns every buffer; workspace must hold plan->workspace_bytes (may be NULL when 0). */
#ifndef TC_CONV2DT_H
#define TC_CONV2DT_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef enum tc_padding { TC_PADDING_VALID = 0, TC_PADDING_SAME = 1 } tc_padding;
typedef enum tc_data_format {
  TC_CHANNELS_LAST = 0,  /* NHWC, the TF default */
  TC_CHANNELS_FIRST = 1  /* NCHW */
} tc_data_format;

typedef struct tc_conv2dt_params {
  int filters;                            /* F, output channels */
  int kernel_h, kernel_w;
  int stride_h, stride_w;                 /* default 1 */
  tc_padding padding;                     /* default valid */
  tc_data_format data_format;             /* default channels_last */
  int output_padding_h, output_padding_w; /* -1 = none (TF1); else 0 <= op < stride */
  int dilation_h, dilation_w;             /* default 1 */
  int groups;                             /* default 1; divides C and F */
} tc_conv2dt_params;

/* The three directions a plan runs, and the algorithms each may run (docs/kernels.md):
 *   direct       the gather loops: any layout, groups, dilation; every direction (chosen
 *                only past 65536 taps or 64 sub-problems)
 * NCHW, groups > 1 and dilation > 1 run the fast algorithms on NHWC sub-problems (NCHW
 * bit-identical to NHWC; docs/kernels.md); describe then adds "nhwc_subs=S". The
 * few-filter kernels read and write plain NCHW in place (describe: ":nchw", same bits).
 *   igemm        implicit GEMM over tap batches: forward and backward data, NHWC
 *   few_filters  forward with F <= 4 (dot kernel), backward data and weights with F <= 8
 *                and kh*kw*F <= 384 (all taps in one reduction)
 *   tasks        backward weights by (taps, filter block, channel block) tasks
 *   slabs        backward weights by pixel slabs into partial sums (F <= 192, C <= 256) */
typedef enum tc_conv2dt_dir {
  TC_CONV2DT_FORWARD = 0,
  TC_CONV2DT_BACKWARD_DATA = 1,
  TC_CONV2DT_BACKWARD_WEIGHTS = 2
} tc_conv2dt_dir;
#define TC_CONV2DT_DIRS 3
typedef enum tc_conv2dt_algo {
  TC_CONV2DT_DIRECT = 0,
  TC_CONV2DT_IGEMM = 1,
  TC_CONV2DT_FEW_FILTERS = 2,
  TC_CONV2DT_TASKS = 3,
  TC_CONV2DT_SLABS = 4
} tc_conv2dt_algo;
#define TC_CONV2DT_ALGOS 5

struct tc_ukr_table; /* core/ukr/ukr.h */

/* A primitive descriptor: the geometry, and what tc_conv2dt_plan_create chose once for it
 * (each direction's algorithm, the micro-kernel table, the blocking, the workspace
 * layout). The kernels switch on these and re-derive none of them. Copyable by value. */
typedef struct tc_conv2dt_plan {
  tc_conv2dt_params p;
  int64_t n;        /* batch */
  int h, w, c;      /* input height, width, channels */
  int oh, ow;       /* output height, width */
  int pad_top, pad_left;
  int64_t x_size, y_size, kernel_size; /* element counts */
  size_t workspace_bytes;
  /* The choices (read them through tc_conv2dt_plan_describe; set them only through
   * tc_conv2dt_plan_force). */
  tc_conv2dt_algo algo[TC_CONV2DT_DIRS];
  const struct tc_ukr_table *ukr; /* micro-kernels of the fast algorithms */
  int threads;                    /* the most threads a call runs (1: too small for a team) */
  size_t shared_bytes;            /* workspace: shared part, then per thread: */
  size_t thread_bytes;
  size_t zero_row;                /* offset of few_filters forward's row of zeros */
  int kcg[2], nc[2];              /* igemm blocking, forward and backward data: K per */
  int btaps[2];                   /* group, N per block, taps packed per block */
  int rowb;                       /* igemm backward data: kernel rows as wide pairs */
  int slabs;                      /* slabs of slabs or few_filters backward weights */
  int fcol;                       /* few_filters forward: input rows per band of the column
                                     form (few_fwd_col.c), 0 for the dot form */
  /* From the CPU's caches at plan time (docs/kernels.md, "What the machine chooses"): */
  size_t cache_l2;                /* bytes of one core's L2 the choices below were made for */
  int mc;                         /* igemm: C rows per chunk */
  int64_t stream_bytes;           /* few_filters backward data: dx streams from this size */
} tc_conv2dt_plan;

/* TF defaults: strides 1, valid, channels_last, no output_padding, dilation 1, groups 1. */
tc_conv2dt_params tc_conv2dt_params_default(int filters, int kernel_h, int kernel_w);

/* Validates params against an input of n x h x w x c and fills the plan. Errors:
 * TC_ERR_INVALID_ARG (NULL, bad enum), TC_ERR_SHAPE (non-positive sizes, groups that do
 * not divide C and F, output_padding >= stride, an output of zero or overflowing size, and
 * same padding with an explicit output_padding 0 and an even dilated kernel: that OH has
 * ceil(OH/stride) != H, which TF's conv2d_transpose rejects). */
tc_status tc_conv2dt_plan_create(tc_conv2dt_plan *plan, const tc_conv2dt_params *p,
                                 int64_t n, int h, int w, int c);

/* A plan whose output size and leading crops are given instead of derived from padding
 * and output_padding (p->padding and p->output_padding_* are ignored). The conv2d layer uses
 * it: a stride-s convolution is the transposed convolution read backwards, and its input
 * size (this plan's output) is not always one that TF's rules would produce. Errors: as
 * tc_conv2dt_plan_create, plus TC_ERR_SHAPE when oh < 1 or a crop lies outside the full
 * (H-1)*sh + dkh result. */
tc_status tc_conv2dt_plan_create_explicit(tc_conv2dt_plan *plan, const tc_conv2dt_params *p,
                                          int64_t n, int h, int w, int c, int oh, int ow,
                                          int pad_top, int pad_left);

/* Case-insensitive "valid"/"same" and "channels_last"/"channels_first" (also "NHWC",
 * "NCHW"). Errors quote the string. */
tc_status tc_padding_parse(const char *s, tc_padding *out);
tc_status tc_data_format_parse(const char *s, tc_data_format *out);
const char *tc_padding_name(tc_padding p);
const char *tc_data_format_name(tc_data_format f);

/* The instruction set of the micro-kernels plans choose by default: "avx512", "avx2" or
 * "portable" (the widest the CPU has, capped by TCONV_ISA / TCONV_FORCE_PORTABLE=1; see
 * docs/kernels.md), or "invalid" when TCONV_ISA holds an unknown value (plan create then
 * fails, naming it). */
const char *tc_conv2dt_kernel_isa(void);

/* Runs `dir` of the plan with `algo` instead of the one chosen (tests and benchmarks: each
 * algorithm on purpose). Recomputes the workspace layout: workspace_bytes may grow.
 * Errors: TC_ERR_INVALID_ARG for NULL or values out of range, TC_ERR_UNSUPPORTED where the
 * algorithm does not apply to the plan (the message says which condition fails, with the
 * numbers); the plan is then unchanged. */
tc_status tc_conv2dt_plan_force(tc_conv2dt_plan *plan, tc_conv2dt_dir dir, tc_conv2dt_algo algo);

/* What the plan chose, as oneDNN's impl_info_str: "fwd=igemm bwd_data=few_filters
 * bwd_weights=slabs:4 isa=avx512 threads=2 ws=1.2MB". Writes at most cap bytes
 * (NUL-terminated) and returns buf. */
const char *tc_conv2dt_plan_describe(const tc_conv2dt_plan *plan, char *buf, size_t cap);

/* "direct", "igemm", "few_filters", "tasks", "slabs"; "forward", "backward_data",
 * "backward_weights". */
const char *tc_conv2dt_algo_name(tc_conv2dt_algo algo);
const char *tc_conv2dt_dir_name(tc_conv2dt_dir dir);

/* FLOPs of one kernel call as the benchmarks count them: 2*N*H*W*C*(F/groups)*kh*kw. */
double tc_conv2dt_flops(const tc_conv2dt_plan *plan);

/* y = conv2d_transpose(x, kernel) + bias (bias may be NULL). */
tc_status tc_conv2dt_forward(const tc_conv2dt_plan *plan, const float *x, const float *kernel,
                             const float *bias, float *y, void *workspace);

/* dx = d(sum(y*dy))/dx: dy (shape of y) is the gradient at the layer's pre-activation. */
tc_status tc_conv2dt_backward_data(const tc_conv2dt_plan *plan, const float *dy,
                                   const float *kernel, float *dx, void *workspace);

/* dkernel = d(sum(y*dy))/dkernel; dbias (may be NULL) = dy summed over all but channels. */
tc_status tc_conv2dt_backward_weights(const tc_conv2dt_plan *plan, const float *x,
                                      const float *dy, float *dkernel, float *dbias,
                                      void *workspace);

/* sums[c] = x summed over all but its channels, x shaped as the plan's input (its data
 * format), in double, in the order the bias gradient sums dy (the same bits for any thread
 * count): conv2d's bias gradient, its dy being this plan's x (core/conv2d.c). */
tc_status tc_conv2dt_input_sums(const tc_conv2dt_plan *plan, const float *x, float *sums);

#endif
