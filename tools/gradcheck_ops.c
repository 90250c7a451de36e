/* gradcheck_ops.c — one entry per op and layout; inputs in [-1, 1] unless the op needs
 * another domain (probabilities, one-hot labels). */
#include "tools/gradcheck_ops.h"

#include <string.h>

#include "core/ops.h"
#include "core/ops_dropout.h"
#include "core/ops_layout.h"
#include "core/ops_losses.h"
#include "core/ops_norm.h"
#include "core/ops_resize.h"
#include "core/rng.h"

#define TC_GCO_MAX_IN 6

typedef enum { TC_LBL_NONE, TC_LBL_UNIFORM, TC_LBL_BINARY, TC_LBL_ONE_HOT } tc_gco_labels;

typedef struct tc_gco_entry {
  const char *name;
  int variant; /* op-specific: layout, mode, count ... */
  tc_gradcheck_fn f;
  int n_in;
  int64_t shape[4]; /* of every differentiable input but norms' gamma/beta */
  tc_gco_labels labels;
} tc_gco_entry;

typedef struct tc_gco_ctx {
  const tc_gco_entry *e;
  tc_tensor *labels;
} tc_gco_ctx;

static tc_status gco_concat(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  const tc_gco_entry *e = ((tc_gco_ctx *)ctx)->e;
  return tc_op_concat(g, e->n_in, in, e->variant, y);
}

/* Split into 3 unequal pieces and concat them back in reverse order. */
static tc_status gco_split(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  (void)ctx;
  int64_t sizes[3] = {1, 3, 1};
  tc_tensor *p[3];
  TC_TRY(tc_op_split(g, in[0], 2, 3, sizes, p));
  tc_tensor *r[3] = {p[2], p[0], p[1]};
  return tc_op_concat(g, 3, r, 2, y);
}

static tc_status gco_slice(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  (void)ctx;
  int64_t begin[4] = {1, 0, 2, 1}, size[4] = {1, -1, 2, 2};
  return tc_op_slice(g, in[0], begin, size, y);
}

static tc_status gco_pad(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  const tc_gco_entry *e = ((tc_gco_ctx *)ctx)->e;
  int64_t pads[8] = {0, 0, 2, 1, 1, 3, 0, 0}; /* reflect allows at most dim - 1 */
  return tc_op_pad(g, in[0], pads, (tc_pad_mode)e->variant, 0.5f, y);
}

static tc_status gco_crop(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  const tc_gco_entry *e = ((tc_gco_ctx *)ctx)->e;
  return tc_op_crop2d(g, in[0], 1, 0, 1, 2, e->variant, y);
}

static tc_status gco_transpose(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  const tc_gco_entry *e = ((tc_gco_ctx *)ctx)->e;
  return e->variant ? tc_op_nchw_to_nhwc(g, in[0], y) : tc_op_nhwc_to_nchw(g, in[0], y);
}

/* variant: method*100 + mode*10 + channels_first; a fractional 3x4 -> 5x7 resize. */
static tc_status gco_resize(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  int v = ((tc_gco_ctx *)ctx)->e->variant;
  return tc_op_resize(g, in[0], 5, 7, (tc_resize_method)(v / 100), (tc_resize_mode)(v / 10 % 10),
                      v % 10, y);
}

static tc_status gco_upsample(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  int v = ((tc_gco_ctx *)ctx)->e->variant;
  return tc_op_upsample2d(g, in[0], 2, 3, (tc_resize_method)(v / 10), v % 10, y);
}

/* The same stream every call, so every evaluation drops the same elements. */
static tc_status gco_dropout(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  (void)ctx;
  tc_rng r;
  tc_rng_init(&r, 11, 3);
  return tc_op_dropout(g, in[0], 0.4f, 1, &r, y);
}

static tc_status gco_loss(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  tc_gco_ctx *c = ctx;
  switch (c->e->variant) {
  case 0:
    return tc_op_mae(g, in[0], c->labels, TC_REDUCE_MEAN, y);
  case 1:
    return tc_op_huber(g, in[0], c->labels, 0.5f, TC_REDUCE_MEAN, y);
  case 2:
    return tc_op_hinge(g, in[0], c->labels, 1, TC_REDUCE_SUM, y);
  case 3:
    return tc_op_bce(g, in[0], c->labels, TC_REDUCE_MEAN, y);
  case 4:
    return tc_op_sigmoid_cross_entropy(g, in[0], c->labels, 0.1f, TC_REDUCE_MEAN, y);
  default:
    return tc_op_softmax_cross_entropy(g, in[0], c->labels, 0.1f, TC_REDUCE_MEAN, y);
  }
}

/* variant: kind*10 + channels_first; kind 0 layer (last axis), 1 layer (H, W, C),
 * 2 instance, 3 group (2 groups). */
static tc_status gco_norm(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
  int v = ((tc_gco_ctx *)ctx)->e->variant, cf = v % 10;
  static const int last[1] = {-1}, hwc[3] = {1, 2, 3};
  switch (v / 10) {
  case 0:
    return tc_op_layer_norm(g, in[0], in[1], in[2], 1, last, 1e-3f, y);
  case 1:
    return tc_op_layer_norm(g, in[0], in[1], in[2], 3, hwc, 1e-3f, y);
  case 2:
    return tc_op_instance_norm(g, in[0], in[1], in[2], 1e-3f, cf, y);
  default:
    return tc_op_group_norm(g, in[0], in[1], in[2], 2, 1e-3f, cf, y);
  }
}

static const tc_gco_entry tc_gco_table[] = {
    {"concat3_channels_nhwc", -1, gco_concat, 3, {2, 3, 2, 2}, TC_LBL_NONE},
    {"concat6_channels_nchw", 1, gco_concat, 6, {2, 2, 3, 2}, TC_LBL_NONE},
    {"concat2_width", 2, gco_concat, 2, {1, 2, 3, 2}, TC_LBL_NONE},
    {"split3_width", 0, gco_split, 1, {2, 3, 5, 2}, TC_LBL_NONE},
    {"slice", 0, gco_slice, 1, {2, 3, 4, 3}, TC_LBL_NONE},
    {"pad_constant", TC_PAD_CONSTANT, gco_pad, 1, {1, 3, 4, 2}, TC_LBL_NONE},
    {"pad_reflect", TC_PAD_REFLECT, gco_pad, 1, {1, 3, 4, 2}, TC_LBL_NONE},
    {"pad_symmetric", TC_PAD_SYMMETRIC, gco_pad, 1, {1, 3, 4, 2}, TC_LBL_NONE},
    {"crop2d_nhwc", 0, gco_crop, 1, {2, 4, 5, 2}, TC_LBL_NONE},
    {"crop2d_nchw", 1, gco_crop, 1, {2, 2, 4, 5}, TC_LBL_NONE},
    {"nhwc_to_nchw", 0, gco_transpose, 1, {2, 3, 4, 2}, TC_LBL_NONE},
    {"nchw_to_nhwc", 1, gco_transpose, 1, {2, 2, 3, 4}, TC_LBL_NONE},
    {"resize_bilinear_half_pixel_nhwc", 100, gco_resize, 1, {1, 3, 4, 2}, TC_LBL_NONE},
    {"resize_bilinear_legacy_nhwc", 110, gco_resize, 1, {1, 3, 4, 2}, TC_LBL_NONE},
    {"resize_bilinear_align_corners_nchw", 121, gco_resize, 1, {1, 2, 3, 4}, TC_LBL_NONE},
    {"resize_nearest_half_pixel_nchw", 1, gco_resize, 1, {1, 2, 3, 4}, TC_LBL_NONE},
    {"resize_nearest_legacy_nhwc", 10, gco_resize, 1, {1, 3, 4, 2}, TC_LBL_NONE},
    {"resize_nearest_align_corners_nhwc", 20, gco_resize, 1, {1, 3, 4, 2}, TC_LBL_NONE},
    {"upsample2d_bilinear_nhwc", 10, gco_upsample, 1, {1, 3, 2, 2}, TC_LBL_NONE},
    {"upsample2d_nearest_nchw", 1, gco_upsample, 1, {1, 2, 3, 2}, TC_LBL_NONE},
    {"dropout", 0, gco_dropout, 1, {2, 3, 3, 2}, TC_LBL_NONE},
    {"mae", 0, gco_loss, 1, {2, 3, 3, 2}, TC_LBL_UNIFORM},
    {"huber", 1, gco_loss, 1, {2, 3, 3, 2}, TC_LBL_UNIFORM},
    {"hinge", 2, gco_loss, 1, {2, 3, 3, 2}, TC_LBL_BINARY},
    {"bce", 3, gco_loss, 1, {2, 3, 3, 2}, TC_LBL_BINARY},
    {"sigmoid_cross_entropy", 4, gco_loss, 1, {2, 3, 3, 2}, TC_LBL_UNIFORM},
    {"softmax_cross_entropy", 5, gco_loss, 1, {2, 3, 2, 4}, TC_LBL_ONE_HOT},
    {"layer_norm_last", 0, gco_norm, 3, {2, 2, 3, 4}, TC_LBL_NONE},
    {"layer_norm_hwc", 10, gco_norm, 3, {2, 2, 3, 2}, TC_LBL_NONE},
    {"instance_norm_nhwc", 20, gco_norm, 3, {2, 3, 2, 3}, TC_LBL_NONE},
    {"instance_norm_nchw", 21, gco_norm, 3, {2, 3, 2, 3}, TC_LBL_NONE},
    {"group_norm_nhwc", 30, gco_norm, 3, {2, 2, 3, 4}, TC_LBL_NONE},
    {"group_norm_nchw", 31, gco_norm, 3, {2, 4, 2, 3}, TC_LBL_NONE},
};

#define TC_GCO_COUNT ((int)(sizeof tc_gco_table / sizeof tc_gco_table[0]))

int tc_gradcheck_ops_count(void) { return TC_GCO_COUNT; }

const char *tc_gradcheck_ops_name(int i) {
  return i >= 0 && i < TC_GCO_COUNT ? tc_gco_table[i].name : "unknown";
}

static void tc_gco_fill(tc_tensor *t, tc_rng *r, float lo, float hi) {
  for (int64_t i = 0; i < t->size; i++)
    t->data[i] = lo + (hi - lo) * tc_rng_uniform(r);
}

/* The labels of a loss entry: uniform, 0/1, or one-hot rows over the last axis. */
static void tc_gco_labels_fill(tc_tensor *t, tc_gco_labels kind, tc_rng *r) {
  int64_t k = t->shape[t->rank - 1];
  for (int64_t i = 0; i < t->size; i++)
    t->data[i] = kind == TC_LBL_UNIFORM  ? tc_rng_uniform(r)
                 : kind == TC_LBL_BINARY ? (float)tc_rng_below(r, 2)
                                         : 0.0f;
  if (kind == TC_LBL_ONE_HOT)
    for (int64_t row = 0; row < t->size / k; row++)
      t->data[row * k + (int64_t)tc_rng_below(r, (uint64_t)k)] = 1.0f;
}

/* Inputs: the data tensors, or x, gamma, beta for a norm (gamma, beta sized by the
 * normalized axes). */
static tc_status tc_gco_inputs(const tc_gco_entry *e, tc_rng *r, tc_tensor **in) {
  int64_t pshape[3] = {e->shape[e->f == gco_norm && e->variant % 10 ? 1 : 3], 1, 1};
  int prank = 1;
  if (e->f == gco_norm && e->variant / 10 == 1) {
    memcpy(pshape, e->shape + 1, 3 * sizeof(int64_t));
    prank = 3;
  }
  for (int k = 0; k < e->n_in; k++) {
    int param = e->f == gco_norm && k > 0;
    TC_TRY(tc_tensor_create(&in[k], param ? prank : 4, param ? pshape : e->shape));
    float lo = e->labels == TC_LBL_BINARY && e->variant == 3 ? 0.05f : -1.0f;
    tc_gco_fill(in[k], r, param ? 0.5f : lo, param ? 1.5f : lo == -1.0f ? 1.0f : 0.95f);
    TC_TRY(tc_tensor_require_grad(in[k]));
  }
  return TC_OK;
}

tc_status tc_gradcheck_ops_run(int i, uint64_t seed, tc_gradcheck_report *report) {
  if (i < 0 || i >= TC_GCO_COUNT)
    return tc_set_error(TC_ERR_INVALID_ARG, "gradcheck: op check %d of %d does not exist", i,
                        TC_GCO_COUNT);
  const tc_gco_entry *e = &tc_gco_table[i];
  tc_gco_ctx ctx = {e, NULL};
  tc_tensor *in[TC_GCO_MAX_IN] = {NULL};
  const char *names[TC_GCO_MAX_IN] = {"x", "gamma", "beta", "x3", "x4", "x5"};
  tc_rng r;
  tc_rng_init(&r, seed, 1000 + (uint64_t)i);
  tc_status s = tc_gco_inputs(e, &r, in);
  if (s == TC_OK && e->labels != TC_LBL_NONE) {
    s = tc_tensor_create(&ctx.labels, 4, e->shape);
    if (s == TC_OK)
      tc_gco_labels_fill(ctx.labels, e->labels, &r);
  }
  tc_gradcheck_opts o = tc_gradcheck_opts_default();
  o.seed = seed;
  if (s == TC_OK)
    s = tc_gradcheck(e->f, &ctx, in, e->f == gco_norm ? names : NULL, e->n_in, &o, report);
  for (int k = 0; k < TC_GCO_MAX_IN; k++)
    tc_tensor_free(in[k]);
  tc_tensor_free(ctx.labels);
  return s;
}
