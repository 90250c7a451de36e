/* ops_resize.c — bilinear and nearest resizing (TF's sampling, float32 as its kernels). */
#include "core/ops_resize.h"

#include <math.h>
#include <strings.h>

#include "core/ops_gather.h"
#include "core/ops_util.h"

#define TC_RESIZE_MAX 65536

tc_status tc_resize_method_parse(const char *s, tc_resize_method *out) {
  if (s != NULL && strcasecmp(s, "nearest") == 0)
    *out = TC_RESIZE_NEAREST;
  else if (s != NULL && strcasecmp(s, "bilinear") == 0)
    *out = TC_RESIZE_BILINEAR;
  else
    return tc_set_error(TC_ERR_INVALID_ARG, "resize method '%s' is unknown (nearest or bilinear)",
                        s ? s : "(null)");
  return TC_OK;
}

tc_status tc_resize_mode_parse(const char *s, tc_resize_mode *out) {
  if (s != NULL && strcasecmp(s, "half_pixel") == 0)
    *out = TC_RESIZE_HALF_PIXEL;
  else if (s != NULL && strcasecmp(s, "legacy") == 0)
    *out = TC_RESIZE_LEGACY;
  else if (s != NULL && strcasecmp(s, "align_corners") == 0)
    *out = TC_RESIZE_ALIGN_CORNERS;
  else
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "resize mode '%s' is unknown (half_pixel, legacy or align_corners)",
                        s ? s : "(null)");
  return TC_OK;
}

const char *tc_resize_method_name(tc_resize_method m) {
  return m == TC_RESIZE_NEAREST ? "nearest" : m == TC_RESIZE_BILINEAR ? "bilinear" : "unknown";
}

const char *tc_resize_mode_name(tc_resize_mode m) {
  return m == TC_RESIZE_HALF_PIXEL      ? "half_pixel"
         : m == TC_RESIZE_LEGACY        ? "legacy"
         : m == TC_RESIZE_ALIGN_CORNERS ? "align_corners"
                                        : "unknown";
}

/* TF's CalculateResizeScale. */
static float tc_resize_scale(int64_t in, int64_t out, tc_resize_mode mode) {
  if (mode == TC_RESIZE_ALIGN_CORNERS && out > 1)
    return (float)(in - 1) / (float)(out - 1);
  return (float)in / (float)out;
}

/* The bilinear taps of one axis: lower, upper and the weight of upper. */
typedef struct tc_lerp {
  int64_t lo, hi;
  float w;
} tc_lerp;

static void tc_lerp_axis(int64_t in, int64_t out, tc_resize_mode mode, tc_lerp *t) {
  float scale = tc_resize_scale(in, out, mode);
  for (int64_t i = 0; i < out; i++) {
    float s = mode == TC_RESIZE_HALF_PIXEL ? ((float)i + 0.5f) * scale - 0.5f : (float)i * scale;
    float f = floorf(s);
    t[i].lo = f > 0.0f ? (int64_t)f : 0;
    t[i].hi = (int64_t)ceilf(s) < in - 1 ? (int64_t)ceilf(s) : in - 1;
    t[i].w = s - f;
  }
}

/* Nearest source of each output index of one axis (TF's resize_nearest_neighbor). */
static void tc_nearest_axis(int64_t in, int64_t out, tc_resize_mode mode, int64_t *map) {
  float scale = tc_resize_scale(in, out, mode);
  for (int64_t i = 0; i < out; i++) {
    float s = mode == TC_RESIZE_HALF_PIXEL ? ((float)i + 0.5f) * scale : (float)i * scale;
    int64_t k = (int64_t)(mode == TC_RESIZE_ALIGN_CORNERS ? roundf(s) : floorf(s));
    map[i] = k < 0 ? 0 : k > in - 1 ? in - 1 : k;
  }
}

typedef struct tc_bilinear_ctx {
  tc_lerp *ty, *tx;
  int64_t n, c, ih, iw, oh, ow;
  int cf; /* channels_first */
} tc_bilinear_ctx;

/* Offset of (n, y, x, ch) in an image of h x w. */
static int64_t tc_img_off(const tc_bilinear_ctx *c, int64_t n, int64_t y, int64_t x, int64_t ch,
                          int64_t h, int64_t w) {
  return c->cf ? ((n * c->c + ch) * h + y) * w + x : ((n * h + y) * w + x) * c->c + ch;
}

static void tc_bilinear_forward(const tc_bilinear_ctx *c, const float *x, float *y) {
#pragma omp parallel for schedule(static) if (c->n * c->oh * c->ow * c->c >= TC_OPS_PARALLEL_MIN)
  for (int64_t n = 0; n < c->n; n++)
    for (int64_t oy = 0; oy < c->oh; oy++)
      for (int64_t ox = 0; ox < c->ow; ox++)
        for (int64_t ch = 0; ch < c->c; ch++) {
          const tc_lerp *ty = &c->ty[oy], *tx = &c->tx[ox];
          float tl = x[tc_img_off(c, n, ty->lo, tx->lo, ch, c->ih, c->iw)];
          float tr = x[tc_img_off(c, n, ty->lo, tx->hi, ch, c->ih, c->iw)];
          float bl = x[tc_img_off(c, n, ty->hi, tx->lo, ch, c->ih, c->iw)];
          float br = x[tc_img_off(c, n, ty->hi, tx->hi, ch, c->ih, c->iw)];
          float top = tl + (tr - tl) * tx->w, bottom = bl + (br - bl) * tx->w;
          y[tc_img_off(c, n, oy, ox, ch, c->oh, c->ow)] = top + (bottom - top) * ty->w;
        }
}

/* Each output gradient goes back to its four taps with the forward's weights; samples
 * own disjoint input slabs, so the team splits over them. */
static tc_status tc_bilinear_backward(tc_node *node) {
  tc_tensor *xt = node->in[0];
  if (!xt->requires_grad)
    return TC_OK;
  const tc_bilinear_ctx *c = node->ctx;
  float *gx = xt->grad;
  const float *gy = node->out->grad;
#pragma omp parallel for schedule(static) if (node->out->size >= TC_OPS_PARALLEL_MIN)
  for (int64_t n = 0; n < c->n; n++)
    for (int64_t oy = 0; oy < c->oh; oy++)
      for (int64_t ox = 0; ox < c->ow; ox++)
        for (int64_t ch = 0; ch < c->c; ch++) {
          const tc_lerp *ty = &c->ty[oy], *tx = &c->tx[ox];
          float gv = gy[tc_img_off(c, n, oy, ox, ch, c->oh, c->ow)];
          float iy = 1.0f - ty->w, ix = 1.0f - tx->w;
          gx[tc_img_off(c, n, ty->lo, tx->lo, ch, c->ih, c->iw)] += gv * iy * ix;
          gx[tc_img_off(c, n, ty->lo, tx->hi, ch, c->ih, c->iw)] += gv * iy * tx->w;
          gx[tc_img_off(c, n, ty->hi, tx->lo, ch, c->ih, c->iw)] += gv * ty->w * ix;
          gx[tc_img_off(c, n, ty->hi, tx->hi, ch, c->ih, c->iw)] += gv * ty->w * tx->w;
        }
  return TC_OK;
}

static tc_status tc_resize_bilinear(tc_graph *g, tc_tensor *x, const int64_t *shape,
                                    tc_bilinear_ctx *c, tc_resize_mode mode, tc_tensor **out) {
  tc_arena *a = tc_graph_arena(g);
  c->ty = tc_arena_alloc(a, (size_t)c->oh * sizeof(tc_lerp));
  c->tx = tc_arena_alloc(a, (size_t)c->ow * sizeof(tc_lerp));
  if (c->ty == NULL || c->tx == NULL)
    return tc_set_error(TC_ERR_NOMEM, "resize: out of memory");
  tc_lerp_axis(c->ih, c->oh, mode, c->ty);
  tc_lerp_axis(c->iw, c->ow, mode, c->tx);
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, 4, shape, &x, 1));
  tc_bilinear_forward(c, x->data, y->data);
  TC_TRY(tc_graph_record(g, "resize_bilinear", tc_bilinear_backward, y, &x, 1, c));
  *out = y;
  return TC_OK;
}

static tc_status tc_resize_nearest(tc_graph *g, tc_tensor *x, const int64_t *shape,
                                   const tc_bilinear_ctx *c, tc_resize_mode mode,
                                   tc_tensor **out) {
  int64_t *my = tc_arena_alloc(tc_graph_arena(g), (size_t)(c->oh + c->ow) * sizeof(int64_t));
  if (my == NULL)
    return tc_set_error(TC_ERR_NOMEM, "resize: out of memory");
  tc_nearest_axis(c->ih, c->oh, mode, my);
  tc_nearest_axis(c->iw, c->ow, mode, my + c->oh);
  const int64_t *maps[4] = {NULL, NULL, NULL, NULL};
  maps[c->cf ? 2 : 1] = my;
  maps[c->cf ? 3 : 2] = my + c->oh;
  return tc_op_gather_axes(g, "resize_nearest", x, NULL, shape, maps, 0.0f, out);
}

static tc_status tc_resize_check(const tc_tensor *x, int64_t oh, int64_t ow,
                                 tc_resize_method method, tc_resize_mode mode) {
  if (x->rank != 4)
    return tc_set_error(TC_ERR_SHAPE, "resize: input must be rank 4 (an image batch), got rank %d",
                        x->rank);
  if (oh < 1 || ow < 1 || oh > TC_RESIZE_MAX || ow > TC_RESIZE_MAX)
    return tc_set_error(TC_ERR_SHAPE, "resize: output size %lldx%lld is outside 1..%d",
                        (long long)oh, (long long)ow, TC_RESIZE_MAX);
  if (method != TC_RESIZE_NEAREST && method != TC_RESIZE_BILINEAR)
    return tc_set_error(TC_ERR_INVALID_ARG, "resize: method %d is unknown", (int)method);
  if (mode != TC_RESIZE_HALF_PIXEL && mode != TC_RESIZE_LEGACY && mode != TC_RESIZE_ALIGN_CORNERS)
    return tc_set_error(TC_ERR_INVALID_ARG, "resize: mode %d is unknown", (int)mode);
  return TC_OK;
}

tc_status tc_op_resize(tc_graph *g, tc_tensor *x, int64_t out_h, int64_t out_w,
                       tc_resize_method method, tc_resize_mode mode, int channels_first,
                       tc_tensor **out) {
  TC_TRY(tc_op_check_args("resize", g, out, x, x));
  TC_TRY(tc_resize_check(x, out_h, out_w, method, mode));
  tc_bilinear_ctx *c = tc_arena_alloc(tc_graph_arena(g), sizeof *c);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "resize: out of memory");
  c->cf = channels_first != 0;
  c->n = x->shape[0];
  c->c = x->shape[c->cf ? 1 : 3];
  c->ih = x->shape[c->cf ? 2 : 1];
  c->iw = x->shape[c->cf ? 3 : 2];
  c->oh = out_h;
  c->ow = out_w;
  int64_t shape[4] = {c->n, c->cf ? c->c : out_h, c->cf ? out_h : out_w, c->cf ? out_w : c->c};
  if (method == TC_RESIZE_BILINEAR)
    return tc_resize_bilinear(g, x, shape, c, mode, out);
  return tc_resize_nearest(g, x, shape, c, mode, out);
}

tc_status tc_op_upsample2d(tc_graph *g, tc_tensor *x, int fh, int fw, tc_resize_method method,
                           int channels_first, tc_tensor **out) {
  TC_TRY(tc_op_check_args("upsample2d", g, out, x, x));
  if (fh < 1 || fw < 1 || fh > 4096 || fw > 4096)
    return tc_set_error(TC_ERR_INVALID_ARG, "upsample2d: factors %dx%d are outside 1..4096", fh,
                        fw);
  if (x->rank != 4)
    return tc_set_error(TC_ERR_SHAPE,
                        "upsample2d: input must be rank 4 (an image batch), got rank %d", x->rank);
  int64_t h = x->shape[channels_first ? 2 : 1], w = x->shape[channels_first ? 3 : 2];
  return tc_op_resize(g, x, h * fh, w * fw, method, TC_RESIZE_HALF_PIXEL, channels_first, out);
}
