/* conv2dt.c — plan validation and the three direct transposed-convolution kernels.
 *
 * The kernels use the gather form of the definition in conv2dt.h: each output element is
 * computed whole by one thread, by a fixed loop order, so the result does not depend on
 * the number of threads and no atomics are needed. Accumulation is in float. */
#include "core/conv2dt.h"

#include <ctype.h>
#include <omp.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "core/conv2dt_internal.h"

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

/* ---- names and parsing ------------------------------------------------------------- */

static int ascii_iequal(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

tc_status tc_padding_parse(const char *s, tc_padding *out) {
  if (!s || !out)
    return tc_set_error(TC_ERR_INVALID_ARG, "padding: string or output pointer is NULL");
  if (ascii_iequal(s, "valid")) {
    *out = TC_PADDING_VALID;
  } else if (ascii_iequal(s, "same")) {
    *out = TC_PADDING_SAME;
  } else {
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "padding '%s' is not known; accepted: 'valid', 'same' (any case)", s);
  }
  return TC_OK;
}

tc_status tc_data_format_parse(const char *s, tc_data_format *out) {
  if (!s || !out)
    return tc_set_error(TC_ERR_INVALID_ARG, "data_format: string or output pointer is NULL");
  if (ascii_iequal(s, "channels_last") || ascii_iequal(s, "nhwc")) {
    *out = TC_CHANNELS_LAST;
  } else if (ascii_iequal(s, "channels_first") || ascii_iequal(s, "nchw")) {
    *out = TC_CHANNELS_FIRST;
  } else {
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "data_format '%s' is not known; accepted: 'channels_last', "
                        "'channels_first', 'NHWC', 'NCHW' (any case)",
                        s);
  }
  return TC_OK;
}

const char *tc_padding_name(tc_padding p) {
  switch (p) {
  case TC_PADDING_VALID: return "valid";
  case TC_PADDING_SAME: return "same";
  }
  return "unknown";
}

const char *tc_data_format_name(tc_data_format f) {
  switch (f) {
  case TC_CHANNELS_LAST: return "channels_last";
  case TC_CHANNELS_FIRST: return "channels_first";
  }
  return "unknown";
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

/* Element counts and workspace, once the output geometry of q is known. */
static tc_status plan_finish(tc_conv2dt_plan *q) {
  const tc_conv2dt_params *p = &q->p;
  TC_TRY(count4("input", q->n, q->h, q->w, q->c, &q->x_size));
  TC_TRY(count4("output", q->n, q->oh, q->ow, p->filters, &q->y_size));
  TC_TRY(count4("kernel", p->kernel_h, p->kernel_w, p->filters / p->groups, q->c,
                &q->kernel_size));
  /* The fast path's packed tiles, for as many threads as OpenMP offers now; the kernels
   * never run more threads than this was sized for. The direct kernels need none. */
  q->workspace_bytes = tc_conv2dt_fast_workspace(q, omp_get_max_threads());
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

double tc_conv2dt_flops(const tc_conv2dt_plan *plan) {
  if (!plan)
    return 0.0;
  const tc_conv2dt_params *p = &plan->p;
  return 2.0 * (double)plan->n * plan->h * plan->w * plan->c * (p->filters / p->groups) *
         p->kernel_h * p->kernel_w;
}

/* ---- kernels ----------------------------------------------------------------------- */

/* A kernel given no workspace where the plan needs one: an error that says how much. */
static tc_status missing_workspace(const char *kernel, const tc_conv2dt_plan *plan) {
  return tc_set_error(TC_ERR_INVALID_ARG,
                      "conv2d_transpose %s: workspace is NULL but the plan needs %zu bytes "
                      "(plan.workspace_bytes)", kernel, plan->workspace_bytes);
}

/* The plan unpacked into named locals shared by every kernel. */
typedef struct geom {
  int64_t n;
  int h, w, c, f, kh, kw, sh, sw, dh, dw, oh, ow, pt, pl;
  int cg, fg; /* channels and filters per group */
  int par;    /* 1 when the call is big enough to be worth waking an OpenMP team */
} geom;

/* Below this many FLOPs a call takes microseconds and a parallel region's wake-up and
 * barrier cost more than they save (much more on an oversubscribed machine). */
#define TC_CONV2DT_PARALLEL_FLOPS 131072.0

static geom geom_of(const tc_conv2dt_plan *q) {
  const tc_conv2dt_params *p = &q->p;
  geom g = {q->n,        q->h,        q->w,        q->c,        p->filters,
            p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->dilation_h,
            p->dilation_w, q->oh,     q->ow,       q->pad_top,  q->pad_left,
            q->c / p->groups, p->filters / p->groups,
            tc_conv2dt_flops(q) >= TC_CONV2DT_PARALLEL_FLOPS};
  return g;
}

/* Input index i with i*s + off == o inside [0, in), or -1 when no input reaches o. */
static inline int64_t tap_source(int64_t o, int64_t off, int s, int in) {
  int64_t t = o - off;
  if (t < 0 || t % s != 0 || t / s >= in)
    return -1;
  return t / s;
}

/* [*lo, *hi): the input indices i whose output i*s + off lies inside [0, out). */
static void tap_range(int64_t off, int s, int in, int out, int *lo, int *hi) {
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t last = out - 1 - off; /* i*s <= last */
  int64_t h = last < 0 ? 0 : last / s + 1;
  if (h > in)
    h = in;
  *lo = (int)l;
  *hi = (int)(h > l ? h : l);
}

static float dot(const float *a, const float *b, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static void axpy(float *y, float alpha, const float *x, int n) {
  for (int i = 0; i < n; i++)
    y[i] += alpha * x[i];
}

/* ---- forward ---- */

/* One output pixel of NHWC: every tap (a, b) that reaches (oi, oj) adds a dot product
 * over the input channels of the filter's group. */
static void fwd_nhwc_pixel(const geom *g, const float *x, const float *k, int64_t n, int oi,
                           int oj, float *yv) {
  for (int a = 0; a < g->kh; a++) {
    int64_t i = tap_source(oi, (int64_t)a * g->dh - g->pt, g->sh, g->h);
    if (i < 0)
      continue;
    for (int b = 0; b < g->kw; b++) {
      int64_t j = tap_source(oj, (int64_t)b * g->dw - g->pl, g->sw, g->w);
      if (j < 0)
        continue;
      const float *xv = x + ((n * g->h + i) * g->w + j) * g->c;
      const float *kt = k + ((int64_t)a * g->kw + b) * g->fg * g->c;
      for (int f = 0; f < g->f; f++) {
        int grp = f / g->fg;
        const float *kv = kt + (int64_t)(f - grp * g->fg) * g->c + grp * g->cg;
        yv[f] += dot(xv + grp * g->cg, kv, g->cg);
      }
    }
  }
}

static void fwd_nhwc(const geom *g, const float *x, const float *k, const float *bias, float *y) {
  /* x: (N,H,W,C) NHWC; k: (kh,kw,F/g,C); y: (N,OH,OW,F) */
  const int64_t rows = g->n * g->oh;
#pragma omp parallel for schedule(static) if (g->par)
  for (int64_t r = 0; r < rows; r++) {
    for (int oj = 0; oj < g->ow; oj++) {
      float *yv = y + (r * g->ow + oj) * g->f;
      for (int f = 0; f < g->f; f++)
        yv[f] = bias ? bias[f] : 0.0f;
      fwd_nhwc_pixel(g, x, k, r / g->oh, (int)(r % g->oh), oj, yv);
    }
  }
}

/* Output row oi of filter f (NCHW): each input channel of the group and each tap row a
 * reaching oi adds its input row, strided by sw, once per tap column b. */
static void fwd_nchw_row(const geom *g, const float *x, const float *k, int64_t n, int oi, int f,
                         float *yrow) {
  int grp = f / g->fg, fp = f - grp * g->fg;
  for (int a = 0; a < g->kh; a++) {
    int64_t i = tap_source(oi, (int64_t)a * g->dh - g->pt, g->sh, g->h);
    if (i < 0)
      continue;
    for (int c = grp * g->cg; c < (grp + 1) * g->cg; c++) {
      const float *xrow = x + ((n * g->c + c) * g->h + i) * g->w;
      for (int b = 0; b < g->kw; b++) {
        float kv = k[(((int64_t)a * g->kw + b) * g->fg + fp) * g->c + c];
        int64_t off = (int64_t)b * g->dw - g->pl;
        int j0, j1;
        tap_range(off, g->sw, g->w, g->ow, &j0, &j1);
        for (int j = j0; j < j1; j++)
          yrow[(int64_t)j * g->sw + off] += kv * xrow[j];
      }
    }
  }
}

static void fwd_nchw(const geom *g, const float *x, const float *k, const float *bias, float *y) {
  /* x: (N,C,H,W) NCHW; k: (kh,kw,F/g,C); y: (N,F,OH,OW) */
  const int64_t rows = g->n * g->oh;
#pragma omp parallel for schedule(static) if (g->par)
  for (int64_t r = 0; r < rows; r++) {
    int64_t n = r / g->oh;
    int oi = (int)(r % g->oh);
    for (int f = 0; f < g->f; f++) {
      float *yrow = y + ((n * g->f + f) * g->oh + oi) * g->ow;
      for (int oj = 0; oj < g->ow; oj++)
        yrow[oj] = bias ? bias[f] : 0.0f;
      fwd_nchw_row(g, x, k, n, oi, f, yrow);
    }
  }
}

tc_status tc_conv2dt_forward(const tc_conv2dt_plan *plan, const float *x, const float *kernel,
                             const float *bias, float *y, void *workspace) {
  if (!plan || !x || !kernel || !y)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose forward: NULL plan, x, kernel "
                                            "or y");
  if (plan->workspace_bytes && !workspace)
    return missing_workspace("forward", plan);
  if (tc_conv2dt_fast_applies(plan)) {
    tc_conv2dt_fast_forward(plan, x, kernel, bias, y, workspace);
    return TC_OK;
  }
  geom g = geom_of(plan);
  if (plan->p.data_format == TC_CHANNELS_LAST)
    fwd_nhwc(&g, x, kernel, bias, y);
  else
    fwd_nchw(&g, x, kernel, bias, y);
  return TC_OK;
}

/* ---- backward data ---- */

/* One input pixel of NHWC: every output pixel it reached sends back dy . kernel. */
static void bwd_data_nhwc_pixel(const geom *g, const float *dy, const float *k, int64_t n,
                                int i, int j, float *dxv) {
  for (int a = 0; a < g->kh; a++) {
    int64_t oi = (int64_t)i * g->sh + (int64_t)a * g->dh - g->pt;
    if (oi < 0 || oi >= g->oh)
      continue;
    for (int b = 0; b < g->kw; b++) {
      int64_t oj = (int64_t)j * g->sw + (int64_t)b * g->dw - g->pl;
      if (oj < 0 || oj >= g->ow)
        continue;
      const float *dyv = dy + ((n * g->oh + oi) * g->ow + oj) * g->f;
      const float *kt = k + ((int64_t)a * g->kw + b) * g->fg * g->c;
      for (int f = 0; f < g->f; f++) {
        int grp = f / g->fg;
        const float *kv = kt + (int64_t)(f - grp * g->fg) * g->c + grp * g->cg;
        axpy(dxv + grp * g->cg, dyv[f], kv, g->cg);
      }
    }
  }
}

static void bwd_data_nhwc(const geom *g, const float *dy, const float *k, float *dx) {
  /* dy: (N,OH,OW,F) NHWC; k: (kh,kw,F/g,C); dx: (N,H,W,C) */
  const int64_t rows = g->n * g->h;
#pragma omp parallel for schedule(static) if (g->par)
  for (int64_t r = 0; r < rows; r++) {
    for (int j = 0; j < g->w; j++) {
      float *dxv = dx + (r * g->w + j) * g->c;
      memset(dxv, 0, sizeof(float) * (size_t)g->c);
      bwd_data_nhwc_pixel(g, dy, k, r / g->h, (int)(r % g->h), j, dxv);
    }
  }
}

/* Input row i of channel c (NCHW): gathers the dy rows its taps reached, strided by sw. */
static void bwd_data_nchw_row(const geom *g, const float *dy, const float *k, int64_t n, int i,
                              int c, float *dxrow) {
  int grp = c / g->cg;
  for (int a = 0; a < g->kh; a++) {
    int64_t oi = (int64_t)i * g->sh + (int64_t)a * g->dh - g->pt;
    if (oi < 0 || oi >= g->oh)
      continue;
    for (int fp = 0; fp < g->fg; fp++) {
      const float *dyrow = dy + ((n * g->f + grp * g->fg + fp) * g->oh + oi) * g->ow;
      for (int b = 0; b < g->kw; b++) {
        float kv = k[(((int64_t)a * g->kw + b) * g->fg + fp) * g->c + c];
        int64_t off = (int64_t)b * g->dw - g->pl;
        int j0, j1;
        tap_range(off, g->sw, g->w, g->ow, &j0, &j1);
        for (int j = j0; j < j1; j++)
          dxrow[j] += kv * dyrow[(int64_t)j * g->sw + off];
      }
    }
  }
}

static void bwd_data_nchw(const geom *g, const float *dy, const float *k, float *dx) {
  /* dy: (N,F,OH,OW) NCHW; k: (kh,kw,F/g,C); dx: (N,C,H,W) */
  const int64_t rows = g->n * g->h;
#pragma omp parallel for schedule(static) if (g->par)
  for (int64_t r = 0; r < rows; r++) {
    int64_t n = r / g->h;
    int i = (int)(r % g->h);
    for (int c = 0; c < g->c; c++) {
      float *dxrow = dx + ((n * g->c + c) * g->h + i) * g->w;
      memset(dxrow, 0, sizeof(float) * (size_t)g->w);
      bwd_data_nchw_row(g, dy, k, n, i, c, dxrow);
    }
  }
}

tc_status tc_conv2dt_backward_data(const tc_conv2dt_plan *plan, const float *dy,
                                   const float *kernel, float *dx, void *workspace) {
  if (!plan || !dy || !kernel || !dx)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose backward_data: NULL plan, dy, "
                                            "kernel or dx");
  if (plan->workspace_bytes && !workspace)
    return missing_workspace("backward_data", plan);
  if (tc_conv2dt_fast_applies(plan)) {
    tc_conv2dt_fast_backward_data(plan, dy, kernel, dx, workspace);
    return TC_OK;
  }
  geom g = geom_of(plan);
  if (plan->p.data_format == TC_CHANNELS_LAST)
    bwd_data_nhwc(&g, dy, kernel, dx);
  else
    bwd_data_nchw(&g, dy, kernel, dx);
  return TC_OK;
}

/* ---- backward weights ---- */

/* dk[a][b][fp][:] for NHWC: over every input pixel that tap (a, b) maps inside the output,
 * x's channels scaled by dy of the filter fp of each group. */
static void bwd_w_nhwc_tap(const geom *g, const float *x, const float *dy, int a, int b, int fp,
                           float *dkrow) {
  int64_t offi = (int64_t)a * g->dh - g->pt, offj = (int64_t)b * g->dw - g->pl;
  int i0, i1, j0, j1;
  tap_range(offi, g->sh, g->h, g->oh, &i0, &i1);
  tap_range(offj, g->sw, g->w, g->ow, &j0, &j1);
  for (int64_t n = 0; n < g->n; n++)
    for (int i = i0; i < i1; i++)
      for (int j = j0; j < j1; j++) {
        const float *xv = x + ((n * g->h + i) * g->w + j) * g->c;
        int64_t oi = (int64_t)i * g->sh + offi, oj = (int64_t)j * g->sw + offj;
        const float *dyv = dy + ((n * g->oh + oi) * g->ow + oj) * g->f;
        for (int grp = 0; grp * g->cg < g->c; grp++)
          axpy(dkrow + grp * g->cg, dyv[grp * g->fg + fp], xv + grp * g->cg, g->cg);
      }
}

/* dk[a][b][fp][c] for NCHW: a dot product of x rows with strided dy rows. */
static float bwd_w_nchw_elem(const geom *g, const float *x, const float *dy, int a, int b,
                             int fp, int c) {
  int64_t offi = (int64_t)a * g->dh - g->pt, offj = (int64_t)b * g->dw - g->pl;
  int64_t f = (int64_t)(c / g->cg) * g->fg + fp;
  int i0, i1, j0, j1;
  tap_range(offi, g->sh, g->h, g->oh, &i0, &i1);
  tap_range(offj, g->sw, g->w, g->ow, &j0, &j1);
  float s = 0.0f;
  for (int64_t n = 0; n < g->n; n++)
    for (int i = i0; i < i1; i++) {
      const float *xrow = x + ((n * g->c + c) * g->h + i) * g->w;
      const float *dyrow = dy + ((n * g->f + f) * g->oh + (int64_t)i * g->sh + offi) * g->ow + offj;
      for (int j = j0; j < j1; j++)
        s += xrow[j] * dyrow[(int64_t)j * g->sw];
    }
  return s;
}

static void bwd_weights(const geom *g, int nchw, const float *x, const float *dy, float *dk) {
  /* x: (N,H,W,C) or (N,C,H,W); dy: (N,OH,OW,F) or (N,F,OH,OW); dk: (kh,kw,F/g,C) */
  const int64_t rows = (int64_t)g->kh * g->kw * g->fg; /* one dk row (all C) per (a,b,fp) */
#pragma omp parallel for schedule(dynamic, 1) if (g->par)
  for (int64_t t = 0; t < rows; t++) {
    int a = (int)(t / ((int64_t)g->kw * g->fg)), b = (int)(t / g->fg % g->kw);
    int fp = (int)(t % g->fg);
    float *dkrow = dk + t * g->c;
    if (nchw) {
      for (int c = 0; c < g->c; c++)
        dkrow[c] = bwd_w_nchw_elem(g, x, dy, a, b, fp, c);
    } else {
      memset(dkrow, 0, sizeof(float) * (size_t)g->c);
      bwd_w_nhwc_tap(g, x, dy, a, b, fp, dkrow);
    }
  }
}

/* The bias gradient sums N*OH*OW terms, far more than any other reduction here, so it
 * accumulates in double: in float its error would grow with the image size. */
static void bwd_bias_nchw(const geom *g, const float *dy, float *dbias) {
  /* dy: (N,F,OH,OW); dbias: (F) */
  const int64_t plane = (int64_t)g->oh * g->ow;
#pragma omp parallel for schedule(static) if (g->par)
  for (int f = 0; f < g->f; f++) {
    double s = 0.0;
    for (int64_t n = 0; n < g->n; n++)
      for (int64_t q = 0; q < plane; q++)
        s += dy[(n * g->f + f) * plane + q];
    dbias[f] = (float)s;
  }
}

/* NHWC: the pixels in a fixed number of slabs (a function of the shape only), each read
 * once, whole rows at a time, into 4 double chains by pixel mod 4 (so few filters do not
 * wait on one chain of dependent additions); the chains and then the slabs are added in
 * a fixed order. Filters in blocks of TC_BIAS_FB keep the partial sums on the stack. */
#define TC_BIAS_SLABS 8
#define TC_BIAS_FB 256
static void bias_slab(const float *dy, int64_t f, int64_t p0, int64_t p1, int nf,
                      double *out) {
  double s[4][TC_BIAS_FB];
  memset(s, 0, sizeof(double) * 4 * TC_BIAS_FB);
  for (int64_t p = p0; p < p1; p++) {
    const float *row = dy + p * f;
    double *acc = s[p & 3];
    for (int k = 0; k < nf; k++)
      acc[k] += row[k];
  }
  for (int k = 0; k < nf; k++)
    out[k] = (s[0][k] + s[1][k]) + (s[2][k] + s[3][k]);
}

/* Few filters (F <= TC_BIAS_FLAT): a pixel row is too short to vectorise, so the slab is
 * summed as one flat run of floats into L lanes, L a multiple of F (lane l holds filter
 * l mod F), and the lanes of each filter are added in order. */
#define TC_BIAS_FLAT 8
#define TC_BIAS_LANES 112 /* flat_lanes(7), the most for F <= 8 */
static int flat_lanes(int f) {
  int l = f;
  while (l < 64 || l % 16 != 0)
    l += f;
  return l;
}

static void bias_slab_flat(const float *dy, int f, int64_t p0, int64_t p1, double *out) {
  const int lanes = flat_lanes(f);
  double acc[TC_BIAS_LANES];
  memset(acc, 0, sizeof acc);
  const float *src = dy + p0 * f;
  int64_t count = (p1 - p0) * f, e = 0;
  for (; e + lanes <= count; e += lanes)
    for (int l = 0; l < lanes; l++)
      acc[l] += src[e + l];
  for (int l = 0; e + l < count; l++)
    acc[l] += src[e + l];
  for (int k = 0; k < f; k++) {
    double v = 0.0;
    for (int l = k; l < lanes; l += f)
      v += acc[l];
    out[k] = v;
  }
}

static void bwd_bias_nhwc(const geom *g, const float *dy, float *dbias) {
  /* dy: (N,OH,OW,F); dbias: (F) */
  const int64_t npix = g->n * g->oh * g->ow;
  double part[TC_BIAS_SLABS][TC_BIAS_FB];
  for (int f0 = 0; f0 < g->f; f0 += TC_BIAS_FB) {
    int nf = g->f - f0 < TC_BIAS_FB ? g->f - f0 : TC_BIAS_FB;
#pragma omp parallel for schedule(static) if (g->par)
    for (int sl = 0; sl < TC_BIAS_SLABS; sl++) {
      int64_t p0 = npix * sl / TC_BIAS_SLABS, p1 = npix * (sl + 1) / TC_BIAS_SLABS;
      if (g->f <= TC_BIAS_FLAT)
        bias_slab_flat(dy, g->f, p0, p1, part[sl]);
      else
        bias_slab(dy + f0, g->f, p0, p1, nf, part[sl]);
    }
    for (int k = 0; k < nf; k++) {
      double v = part[0][k];
      for (int sl = 1; sl < TC_BIAS_SLABS; sl++)
        v += part[sl][k];
      dbias[f0 + k] = (float)v;
    }
  }
}

tc_status tc_conv2dt_backward_weights(const tc_conv2dt_plan *plan, const float *x,
                                      const float *dy, float *dkernel, float *dbias,
                                      void *workspace) {
  if (!plan || !x || !dy || !dkernel)
    return tc_set_error(TC_ERR_INVALID_ARG, "conv2d_transpose backward_weights: NULL plan, x, "
                                            "dy or dkernel");
  if (plan->workspace_bytes && !workspace)
    return missing_workspace("backward_weights", plan);
  geom g = geom_of(plan);
  int nchw = plan->p.data_format == TC_CHANNELS_FIRST;
  if (tc_conv2dt_fast_applies(plan))
    tc_conv2dt_fast_backward_weights(plan, x, dy, dkernel, workspace);
  else
    bwd_weights(&g, nchw, x, dy, dkernel);
  if (dbias && nchw)
    bwd_bias_nchw(&g, dy, dbias);
  else if (dbias)
    bwd_bias_nhwc(&g, dy, dbias);
  return TC_OK;
}
