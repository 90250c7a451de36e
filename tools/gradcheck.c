/* gradcheck.c — central differences on L = Σ act(conv2d_transpose(x, k) + b) ⊙ dy.
 *
 * The forward is float32, so the difference quotient carries rounding noise of about
 * 6e-8·|L|/h; with h = 1e-2 and inputs of order 1 that stays near 1e-4, while the
 * truncation error h²·L'''/6 is of the same order. Hence the tolerance 2e-3 abs + 1e-2 rel:
 * a wrong gradient is off by O(1), far outside it. */
#include "tools/gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "core/rng.h"

#define TC_GC_STEP 1e-2
#define TC_GC_ATOL 2e-3
#define TC_GC_RTOL 1e-2
#define TC_GC_MAX_COORDS 48

static int tc_pick(tc_rng *r, int lo, int hi) { return lo + (int)tc_rng_below(r, (uint64_t)(hi - lo + 1)); }

static void tc_gradcheck_draw_once(tc_rng *rng, int index, tc_gradcheck_config *cfg) {
  tc_rng r = *rng;
  int groups = tc_pick(&r, 0, 3) == 0 ? tc_pick(&r, 1, 3) : 1;
  tc_conv2dt_params *p = &cfg->params;
  *p = tc_conv2dt_params_default(groups * tc_pick(&r, 1, 3), tc_pick(&r, 1, 4), tc_pick(&r, 1, 4));
  p->stride_h = tc_pick(&r, 1, 3);
  p->stride_w = tc_pick(&r, 1, 3);
  p->padding = tc_pick(&r, 0, 1) ? TC_PADDING_SAME : TC_PADDING_VALID;
  p->data_format = tc_pick(&r, 0, 1) ? TC_CHANNELS_FIRST : TC_CHANNELS_LAST;
  if (tc_pick(&r, 0, 3) == 0) {
    p->dilation_h = tc_pick(&r, 1, 2);
    p->dilation_w = tc_pick(&r, 1, 2);
  }
  if (tc_pick(&r, 0, 3) == 0) {
    p->output_padding_h = tc_pick(&r, 0, p->stride_h - 1);
    p->output_padding_w = tc_pick(&r, 0, p->stride_w - 1);
  }
  p->groups = groups;
  cfg->n = tc_pick(&r, 1, 2);
  cfg->h = tc_pick(&r, 1, 4);
  cfg->w = tc_pick(&r, 1, 4);
  cfg->c = groups * tc_pick(&r, 1, 3);
  cfg->act = tc_activation_make((tc_activation_kind)(index % TC_ACT_COUNT));
  if (cfg->act.kind == TC_ACT_LEAKY_RELU)
    cfg->act.alpha = 0.2f;
  cfg->use_bias = tc_pick(&r, 0, 3) != 0;
  *rng = r;
}

void tc_gradcheck_draw(uint64_t seed, int index, tc_gradcheck_config *cfg) {
  tc_rng r;
  tc_rng_init(&r, seed, 2 * (uint64_t)index);
  /* Some draws are combinations TF itself rejects (e.g. same padding whose output_padding
   * gives an output that does not map back to the input); draw again until one plans. */
  for (int attempt = 0; attempt < 1000; attempt++) {
    tc_gradcheck_draw_once(&r, index, cfg);
    tc_conv2dt_plan plan;
    if (tc_conv2dt_plan_create(&plan, &cfg->params, cfg->n, cfg->h, cfg->w, cfg->c) == TC_OK)
      return;
  }
}

void tc_gradcheck_describe(const tc_gradcheck_config *g, char *buf, size_t cap) {
  const tc_conv2dt_params *p = &g->params;
  snprintf(buf, cap,
           "x %lldx%dx%dx%d %s, F %d, k %dx%d, s %dx%d, %s, dil %dx%d, out_pad %d,%d, "
           "groups %d, %s, bias %d",
           (long long)g->n, g->h, g->w, g->c, tc_data_format_name(p->data_format), p->filters,
           p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, tc_padding_name(p->padding),
           p->dilation_h, p->dilation_w, p->output_padding_h, p->output_padding_w, p->groups,
           tc_activation_name(g->act.kind), g->use_bias);
}

typedef struct tc_gc_state {
  const tc_gradcheck_config *cfg;
  tc_conv2dt_plan plan;
  tc_tensor *x, *k, *b, *dy;
  float *z, *y;
  unsigned char *side_minus, *side_plus;
  void *ws; /* the plan's workspace (the fast kernels need one) */
} tc_gc_state;

static double tc_gc_loss(tc_gc_state *st, unsigned char *side) {
  const tc_conv2dt_plan *pl = &st->plan;
  tc_conv2dt_forward(pl, st->x->data, st->k->data, st->b ? st->b->data : NULL, st->z, st->ws);
  int64_t axis_len = st->cfg->params.data_format == TC_CHANNELS_LAST ? pl->p.filters : pl->ow;
  tc_activation_forward(st->cfg->act, st->z, st->y, pl->y_size, axis_len);
  double loss = 0.0;
  for (int64_t i = 0; i < pl->y_size; i++) {
    loss += (double)st->y[i] * st->dy->data[i];
    side[i] = (unsigned char)tc_activation_piece(st->cfg->act, st->z[i]);
  }
  return loss;
}

static tc_status tc_gc_analytic(tc_gc_state *st) {
  tc_graph *g;
  TC_TRY(tc_graph_create(&g));
  tc_tensor *z, *y, *prod, *loss;
  tc_status s = tc_op_conv2d_transpose(g, st->x, st->k, st->b, &st->plan, &z);
  if (s == TC_OK)
    s = tc_op_activation(g, z, st->cfg->act, &y);
  if (s == TC_OK)
    s = tc_op_mul(g, y, st->dy, &prod);
  if (s == TC_OK)
    s = tc_op_sum(g, prod, &loss);
  if (s == TC_OK)
    s = tc_graph_backward(g, loss);
  tc_graph_free(g);
  return s;
}

static void tc_gc_coord(tc_gc_state *st, tc_tensor *t, const char *name, int64_t i,
                        tc_gradcheck_result *out) {
  float saved = t->data[i];
  float h = (float)(TC_GC_STEP * fmax(1.0, fabs(saved)));
  t->data[i] = saved + h;
  double lp = tc_gc_loss(st, st->side_plus);
  t->data[i] = saved - h;
  double lm = tc_gc_loss(st, st->side_minus);
  t->data[i] = saved;
  if (memcmp(st->side_plus, st->side_minus, (size_t)st->plan.y_size) != 0) {
    out->skipped_kinks++;
    return;
  }
  double numeric = (lp - lm) / (2.0 * (double)h), analytic = t->grad[i];
  double excess = fabs(analytic - numeric) /
                  (TC_GC_ATOL + TC_GC_RTOL * fmax(fabs(analytic), fabs(numeric)));
  out->checked++;
  if (excess > out->worst_excess) {
    out->worst_excess = excess;
    snprintf(out->worst, sizeof out->worst, "d%s[%lld]: analytic %.6g, numeric %.6g", name,
             (long long)i, analytic, numeric);
  }
}

static void tc_gc_tensor(tc_gc_state *st, tc_rng *r, tc_tensor *t, const char *name,
                         tc_gradcheck_result *out) {
  if (t == NULL)
    return;
  int64_t count = t->size < TC_GC_MAX_COORDS ? t->size : TC_GC_MAX_COORDS;
  for (int64_t j = 0; j < count; j++) {
    int64_t i = t->size <= TC_GC_MAX_COORDS ? j : (int64_t)tc_rng_below(r, (uint64_t)t->size);
    tc_gc_coord(st, t, name, i, out);
  }
}

static tc_status tc_gc_tensor_new(tc_tensor **t, int rank, const int64_t *shape, tc_rng *r,
                                  float scale, int grad) {
  TC_TRY(tc_tensor_create(t, rank, shape));
  for (int64_t i = 0; i < (*t)->size; i++)
    (*t)->data[i] = scale * (2.0f * tc_rng_uniform(r) - 1.0f);
  return grad ? tc_tensor_require_grad(*t) : TC_OK;
}

static tc_status tc_gc_setup(tc_gc_state *st, tc_rng *r) {
  const tc_gradcheck_config *c = st->cfg;
  const tc_conv2dt_params *p = &c->params;
  TC_TRY(tc_conv2dt_plan_create(&st->plan, p, c->n, c->h, c->w, c->c));
  int cl = p->data_format == TC_CHANNELS_LAST;
  int64_t xs[4] = {c->n, cl ? c->h : c->c, cl ? c->w : c->h, cl ? c->c : c->w};
  int64_t ys[4] = {c->n, cl ? st->plan.oh : p->filters, cl ? st->plan.ow : st->plan.oh,
                   cl ? p->filters : st->plan.ow};
  int64_t ks[4] = {p->kernel_h, p->kernel_w, p->filters / p->groups, c->c};
  int64_t bs[1] = {p->filters};
  TC_TRY(tc_gc_tensor_new(&st->x, 4, xs, r, 1.0f, 1));
  TC_TRY(tc_gc_tensor_new(&st->k, 4, ks, r, 0.5f, 1));
  if (c->use_bias)
    TC_TRY(tc_gc_tensor_new(&st->b, 1, bs, r, 0.5f, 1));
  TC_TRY(tc_gc_tensor_new(&st->dy, 4, ys, r, 1.0f, 0));
  size_t ny = (size_t)st->plan.y_size;
  st->z = malloc(ny * sizeof(float));
  st->y = malloc(ny * sizeof(float));
  st->side_minus = malloc(ny);
  st->side_plus = malloc(ny);
  st->ws = malloc(st->plan.workspace_bytes ? st->plan.workspace_bytes : 1);
  if (!st->z || !st->y || !st->side_minus || !st->side_plus || !st->ws)
    return tc_set_error(TC_ERR_NOMEM, "gradcheck: out of memory");
  return TC_OK;
}

static void tc_gc_free(tc_gc_state *st) {
  tc_tensor_free(st->x);
  tc_tensor_free(st->k);
  tc_tensor_free(st->b);
  tc_tensor_free(st->dy);
  free(st->z);
  free(st->y);
  free(st->side_minus);
  free(st->side_plus);
  free(st->ws);
}

tc_status tc_gradcheck_run(const tc_gradcheck_config *cfg, uint64_t seed, int index,
                           tc_gradcheck_result *out) {
  memset(out, 0, sizeof *out);
  tc_gc_state st;
  memset(&st, 0, sizeof st);
  st.cfg = cfg;
  tc_rng r;
  tc_rng_init(&r, seed, 2 * (uint64_t)index + 1);
  tc_status s = tc_gc_setup(&st, &r);
  if (s == TC_OK)
    s = tc_gc_analytic(&st);
  if (s == TC_OK) {
    tc_gc_tensor(&st, &r, st.x, "x", out);
    tc_gc_tensor(&st, &r, st.k, "kernel", out);
    tc_gc_tensor(&st, &r, st.b, "bias", out);
  }
  tc_gc_free(&st);
  return s;
}
