/* plan.c — the transposed convolution's primitive descriptor: parameters validated once,
 * the output geometry, and the choice of each direction's algorithm, micro-kernel table,
 * blocking and workspace (layout.c), which the kernels then read and never re-derive. */
#include "core/conv2dt.h"

#include <limits.h>
#include <omp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/conv2dt/compose.h"
#include "core/ukr/caches.h"

/* Largest element count whose byte size (as float) still fits a ptrdiff_t. */
#define TC_CONV2DT_MAX_ELEMS ((int64_t)(PTRDIFF_MAX / (ptrdiff_t)sizeof(float)))

tc_conv2dt_params tc_conv2dt_params_default(int filters, int kernel_h, int kernel_w) {
  tc_conv2dt_params p;
  memset(&p, 0, sizeof p);
  p.filters = filters;
  p.kernel_h = kernel_h;
  p.kernel_w = kernel_w;
  p.stride_h = p.stride_w = 1;
  p.padding = TC_PADDING_VALID;
  p.data_format = TC_CHANNELS_LAST;
  p.output_padding_h = p.output_padding_w = -1;
  p.dilation_h = p.dilation_w = 1;
  p.groups = 1;
  return p;
}

/* ---- plan -------------------------------------------------------------------------- */

static tc_status check_params(const tc_conv2dt_params *p) {
  if (p->padding != TC_PADDING_VALID && p->padding != TC_PADDING_SAME)
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "conv2d_transpose: padding %d is neither TC_PADDING_VALID (0) nor "
                        "TC_PADDING_SAME (1)", (int)p->padding);
  if (p->data_format != TC_CHANNELS_LAST && p->data_format != TC_CHANNELS_FIRST)
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "conv2d_transpose: data_format %d is neither TC_CHANNELS_LAST (0) nor "
                        "TC_CHANNELS_FIRST (1)", (int)p->data_format);
  if (p->filters <= 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d_transpose: filters must be positive, got %d",
                        p->filters);
  if (p->kernel_h <= 0 || p->kernel_w <= 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d_transpose: kernel_size must be positive, got %dx%d",
                        p->kernel_h, p->kernel_w);
  if (p->stride_h <= 0 || p->stride_w <= 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d_transpose: strides must be positive, got %dx%d",
                        p->stride_h, p->stride_w);
  if (p->dilation_h <= 0 || p->dilation_w <= 0)
    return tc_set_error(TC_ERR_SHAPE,
                        "conv2d_transpose: dilation_rate must be positive, got %dx%d",
                        p->dilation_h, p->dilation_w);
  if (p->groups <= 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d_transpose: groups must be positive, got %d",
                        p->groups);
  return TC_OK;
}

/* -1 means "none" (TF1); otherwise Keras requires 0 <= output_padding < stride. */
static tc_status check_output_padding(const char *axis, int op, int stride) {
  if (op == -1 || (op >= 0 && op < stride))
    return TC_OK;
  return tc_set_error(TC_ERR_SHAPE,
                      "conv2d_transpose: output_padding_%s %d must be -1 (none) or in "
                      "[0, stride_%s %d)", axis, op, axis, stride);
}

static tc_status check_input(const tc_conv2dt_params *p, int64_t n, int h, int w, int c) {
  if (n <= 0 || h <= 0 || w <= 0 || c <= 0)
    return tc_set_error(TC_ERR_SHAPE,
                        "conv2d_transpose: input sizes must be positive, got n=%lld h=%d w=%d "
                        "c=%d", (long long)n, h, w, c);
  if (c % p->groups != 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d_transpose: groups %d does not divide in_channels %d",
                        p->groups, c);
  if (p->filters % p->groups != 0)
    return tc_set_error(TC_ERR_SHAPE, "conv2d_transpose: groups %d does not divide filters %d",
                        p->groups, p->filters);
  TC_TRY(check_output_padding("h", p->output_padding_h, p->stride_h));
  return check_output_padding("w", p->output_padding_w, p->stride_w);
}

/* One spatial dimension: the output length from Keras deconv_output_length, then the
 * leading crop by TF's SAME rule for that length. `axis` is "height" or "width". */
static tc_status out_dim(const char *axis, int in, int k, int s, int d, int op, tc_padding pad,
                         int *out, int *lead) {
  int64_t dk = (int64_t)(k - 1) * d + 1; /* dilated kernel extent */
  if (dk > INT_MAX)
    return tc_set_error(TC_ERR_SHAPE, "conv2d_transpose: dilated kernel %s %lld overflows int",
                        axis, (long long)dk);
  int64_t len;
  if (op < 0)
    len = pad == TC_PADDING_VALID ? (int64_t)in * s + (dk > s ? dk - s : 0) : (int64_t)in * s;
  else
    len = (int64_t)(in - 1) * s + dk - 2 * (pad == TC_PADDING_SAME ? dk / 2 : 0) + op;
  if (len > INT_MAX)
    return tc_set_error(TC_ERR_SHAPE,
                        "conv2d_transpose: output %s %lld is too large (input %d, kernel %d, "
                        "stride %d, dilation %d, output_padding %d)", axis, (long long)len, in,
                        k, s, d, op);
  /* TF derives the padding from the output length and rejects lengths whose SAME
   * convolution would not give back the input: ceil(len / s) must equal in. Only an
   * explicit output_padding 0 with an even dilated kernel breaks it; it is also the only
   * way to get len == 0 (len >= (in-1)*s otherwise, and valid lengths are >= dk). */
  if (pad == TC_PADDING_SAME && (len + s - 1) / s != in)
    return tc_set_error(TC_ERR_SHAPE,
                        "conv2d_transpose: output %s %lld (input %d, stride %d, dilated kernel "
                        "%lld, output_padding %d, same) is rejected by TF: ceil(%lld/%d) != %d",
                        axis, (long long)len, in, s, (long long)dk, op, (long long)len, s, in);
  TC_ASSERT(len > 0);
  *out = (int)len;
  int64_t pad_total = (int64_t)(in - 1) * s + dk - len;
  *lead = pad == TC_PADDING_SAME && pad_total > 0 ? (int)(pad_total / 2) : 0;
  return TC_OK;
}

/* *out = a*b*c*d, failing when an element count would not fit in bytes. */
static tc_status count4(const char *what, int64_t a, int64_t b, int64_t c, int64_t d,
                        int64_t *out) {
  int64_t f[4] = {a, b, c, d}, r = 1;
  for (int i = 0; i < 4; i++) {
    if (f[i] > TC_CONV2DT_MAX_ELEMS / r)
      return tc_set_error(TC_ERR_SHAPE,
                          "conv2d_transpose: %s size %lld x %lld x %lld x %lld overflows",
                          what, (long long)a, (long long)b, (long long)c, (long long)d);
    r *= f[i];
  }
  *out = r;
  return TC_OK;
}

/* The blocking and workspace of the plan's choices: a composed plan's (NCHW, groups,
 * dilation: compose.c) or the plain one's (layout.c). */
static void plan_layout(tc_conv2dt_plan *q) {
  if (tc_ct_composed(q))
    tc_ct_compose_layout(q);
  else
    tc_ct_layout(q);
}

/* Element counts, the choices and the workspace, once the output geometry of q is known.
 * The workspace holds as many threads as OpenMP offers now (1 for calls too small to pay
 * for a team); the kernels never run more threads than that. */
static tc_status plan_finish(tc_conv2dt_plan *q) {
  const tc_conv2dt_params *p = &q->p;
  TC_TRY(count4("input", q->n, q->h, q->w, q->c, &q->x_size));
  TC_TRY(count4("output", q->n, q->oh, q->ow, p->filters, &q->y_size));
  TC_TRY(count4("kernel", p->kernel_h, p->kernel_w, p->filters / p->groups, q->c,
                &q->kernel_size));
  TC_TRY(tc_ukr_default(&q->ukr));
  tc_cpu_caches caches;
  TC_TRY(tc_cpu_caches_get(&caches));
  q->cache_l2 = caches.l2;
  q->threads = tc_conv2dt_flops(q) < TC_CONV2DT_PARALLEL_FLOPS ? 1 : omp_get_max_threads();
  if (tc_ct_composed(q)) {
    tc_ct_compose_choose(q);
  } else {
    for (int d = 0; d < TC_CONV2DT_DIRS; d++)
      q->algo[d] = tc_ct_choose(q, (tc_conv2dt_dir)d);
  }
  plan_layout(q);
  return TC_OK;
}

static void plan_init(tc_conv2dt_plan *q, const tc_conv2dt_params *p, int64_t n, int h, int w,
                      int c) {
  memset(q, 0, sizeof *q);
  q->p = *p;
  q->n = n;
  q->h = h;
  q->w = w;
  q->c = c;
}

tc_status tc_conv2dt_plan_create(tc_conv2dt_plan *plan, const tc_conv2dt_params *p, int64_t n,
                                 int h, int w, int c) {
  if (!plan || !p)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose: plan or params is NULL");
  TC_TRY(check_params(p));
  TC_TRY(check_input(p, n, h, w, c));
  tc_conv2dt_plan q;
  plan_init(&q, p, n, h, w, c);
  TC_TRY(out_dim("height", h, p->kernel_h, p->stride_h, p->dilation_h, p->output_padding_h,
                 p->padding, &q.oh, &q.pad_top));
  TC_TRY(out_dim("width", w, p->kernel_w, p->stride_w, p->dilation_w, p->output_padding_w,
                 p->padding, &q.ow, &q.pad_left));
  TC_TRY(plan_finish(&q));
  *plan = q;
  return TC_OK;
}

static tc_status check_explicit(const char *axis, int in, int k, int s, int d, int out, int lead) {
  int64_t full = (int64_t)(in - 1) * s + (int64_t)(k - 1) * d + 1;
  if (out < 1 || lead < 0 || lead >= full)
    return tc_set_error(TC_ERR_SHAPE,
                        "conv2d_transpose: explicit output %s %d with leading crop %d does not "
                        "fit the full result of %lld",
                        axis, out, lead, (long long)full);
  return TC_OK;
}

tc_status tc_conv2dt_plan_create_explicit(tc_conv2dt_plan *plan, const tc_conv2dt_params *p,
                                          int64_t n, int h, int w, int c, int oh, int ow,
                                          int pad_top, int pad_left) {
  if (!plan || !p)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose: plan or params is NULL");
  TC_TRY(check_params(p));
  TC_TRY(check_input(p, n, h, w, c));
  TC_TRY(check_explicit("height", h, p->kernel_h, p->stride_h, p->dilation_h, oh, pad_top));
  TC_TRY(check_explicit("width", w, p->kernel_w, p->stride_w, p->dilation_w, ow, pad_left));
  tc_conv2dt_plan q;
  plan_init(&q, p, n, h, w, c);
  q.oh = oh;
  q.ow = ow;
  q.pad_top = pad_top;
  q.pad_left = pad_left;
  TC_TRY(plan_finish(&q));
  *plan = q;
  return TC_OK;
}

/* ---- what the plan chose, and forcing another choice ---------------------------------- */

tc_status tc_conv2dt_plan_force(tc_conv2dt_plan *plan, tc_conv2dt_dir dir, tc_conv2dt_algo algo) {
  if (!plan)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose force: plan is NULL");
  if (dir < 0 || dir >= TC_CONV2DT_DIRS || algo < 0 || algo >= TC_CONV2DT_ALGOS)
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "conv2d_transpose force: direction %d or algorithm %d is out of range "
                        "(directions 0-%d, algorithms 0-%d)", (int)dir, (int)algo,
                        TC_CONV2DT_DIRS - 1, TC_CONV2DT_ALGOS - 1);
  char why[256];
  if (tc_ct_composed(plan) ? tc_ct_compose_applies(plan, dir, algo, why, sizeof why)
                            : tc_ct_applies(plan, dir, algo, why, sizeof why))
    return tc_set_error(TC_ERR_UNSUPPORTED, "conv2d_transpose: algorithm '%s' does not apply to "
                        "%s of this plan: it %s", tc_conv2dt_algo_name(algo),
                        tc_conv2dt_dir_name(dir), why);
  plan->algo[dir] = algo;
  plan_layout(plan);
  return TC_OK;
}

const char *tc_conv2dt_plan_describe(const tc_conv2dt_plan *plan, char *buf, size_t cap) {
  if (!buf || cap == 0)
    return buf;
  if (!plan) {
    snprintf(buf, cap, "(no plan)");
    return buf;
  }
  const tc_conv2dt_algo *a = plan->algo;
  const char *fwd = tc_conv2dt_algo_name(a[TC_CONV2DT_FORWARD]);
  const char *bd = tc_conv2dt_algo_name(a[TC_CONV2DT_BACKWARD_DATA]);
  const char *bwn = tc_conv2dt_algo_name(a[TC_CONV2DT_BACKWARD_WEIGHTS]);
  char bw[32];
  snprintf(bw, sizeof bw, "%s", bwn);
  if (plan->slabs)
    snprintf(bw, sizeof bw, "%s:%d%s", bwn, plan->slabs, tc_ct_nchw_few_bw(plan) ? ":nchw" : "");
  /* a composed plan's fast directions run as sub-problems of NHWC plans (compose.c) */
  char subs[64] = "";
  if (tc_ct_composed(plan) && plan->workspace_bytes)
    snprintf(subs, sizeof subs, " nhwc_subs=%d private=%lld", tc_ct_sub_count(plan),
             (long long)tc_ct_private_chunk(plan));
  snprintf(buf, cap,
           "fwd=%s%s bwd_data=%s%s bwd_weights=%s isa=%s threads=%d ws=%.1fMB%s l2=%zuK mc=%d",
           fwd, !plan->fcol ? "" : tc_ct_nchw_col(plan) ? ":col:nchw" : ":col", bd,
           a[TC_CONV2DT_BACKWARD_DATA] == TC_CONV2DT_IGEMM && plan->rowb ? ":rows"
           : tc_ct_nchw_few_bd(plan)                                     ? ":nchw"
                                                                         : "",
           bw,
           plan->ukr ? plan->ukr->name : "none", plan->threads,
           (double)plan->workspace_bytes / (1 << 20), subs, plan->cache_l2 >> 10, plan->mc);
  return buf;
}

const char *tc_conv2dt_kernel_isa(void) {
  const tc_ukr_table *t;
  return tc_ukr_default(&t) == TC_OK ? t->name : "invalid";
}
