/* compose_run.c — the kernels of a composed plan (compose.c): each sub-problem's x, y and
 * kernel are copied into the workspace as the NHWC tensors its inner plan reads, the inner
 * plan runs the chosen fast algorithm, and the result is copied back into place. The copies
 * read and write each element once (a blocked transpose for NCHW); they are memory-bound
 * and small against the convolution's FLOPs for real shapes (docs/benchmarks.md). */
#include <omp.h>
#include <string.h>

#include "core/conv2dt/compose.h"

/* The group's kernel (kh, kw, F/g, C/g) out of (kh, kw, F/g, C); the kernel itself for
 * groups 1. */
static const float *group_kernel(const tc_conv2dt_plan *q, int group, const float *k,
                                 float *buf) {
  int G = q->p.groups;
  if (G == 1)
    return k;
  int cg = q->c / G;
  int64_t rows = (int64_t)q->p.kernel_h * q->p.kernel_w * (q->p.filters / G);
  for (int64_t r = 0; r < rows; r++)
    memcpy(buf + r * cg, k + r * q->c + (int64_t)group * cg, sizeof(float) * (size_t)cg);
  return buf;
}

/* dk's group slice = part (add 0) or += part (add 1), or zeros (part NULL). */
static void group_dk(const tc_conv2dt_plan *q, int group, const float *part, float *dk,
                     int add) {
  int G = q->p.groups, cg = q->c / G;
  int64_t rows = (int64_t)q->p.kernel_h * q->p.kernel_w * (q->p.filters / G);
  for (int64_t r = 0; r < rows; r++) {
    float *d = dk + r * q->c + (int64_t)group * cg;
    const float *s = part ? part + r * cg : NULL;
    for (int e = 0; e < cg; e++)
      d[e] = !s ? 0.0f : add ? d[e] + s[e] : s[e];
  }
}

/* Where a chunk's sub-problems work: the inner plan's workspace and the NHWC x, y and
 * kernel; the threads the inner plans are made for and the team the copies run on. */
typedef struct slot {
  void *inner;
  float *x, *y, *k;
  int threads, team;
} slot;

static slot slot_at(unsigned char *base, tc_ct_parts p, int threads, int team) {
  slot r = {base, (float *)(base + p.x_off), (float *)(base + p.y_off),
            (float *)(base + p.k_off), threads, team};
  return r;
}

static int dilated(const tc_conv2dt_plan *q) {
  return q->p.dilation_h > 1 || q->p.dilation_w > 1;
}

/* y = the bias (or zeros) everywhere: the output rows no dilated tap reaches keep it. */
static void fill_bias(const tc_conv2dt_plan *q, const float *bias, float *y) {
  int F = q->p.filters, nchw = q->p.data_format == TC_CHANNELS_FIRST;
  int64_t plane = (int64_t)q->oh * q->ow, rows = q->n * (nchw ? F : q->oh);
  int64_t row = nchw ? plane : (int64_t)q->ow * F;
  int par = q->threads > 1 && rows * row >= TC_CT_COPY_PAR_FLOATS;
#pragma omp parallel for schedule(static) num_threads(tc_ct_team(q)) if (par)
  for (int64_t r = 0; r < rows; r++) {
    float *v = y + r * row;
    for (int64_t e = 0; e < row; e++)
      v[e] = !bias ? 0.0f : nchw ? bias[r % F] : bias[e % F];
  }
}

/* Sub-problem idx on nb images, planned for the slot's threads; 0 when it has no output. */
static int sub_chunk(const tc_conv2dt_plan *q, int idx, int64_t nb, const slot *sl,
                     tc_ct_sub *s, tc_conv2dt_plan *in) {
  int live = tc_ct_sub_at(q, idx, s);
  s->n = nb;
  if (live)
    tc_ct_sub_plan_on(q, s, sl->threads, in);
  return live;
}

/* Forward of images [n0, n0 + nb): every sub-problem in turn. */
static void forward_chunk(const tc_conv2dt_plan *q, const float *x, const float *k,
                          const float *bias, float *y, int64_t n0, int64_t nb, const slot *sl) {
  int fg = q->p.filters / q->p.groups;
  int64_t xi = (int64_t)q->h * q->w * q->c, yi = (int64_t)q->oh * q->ow * q->p.filters;
  for (int i = 0; i < tc_ct_sub_count(q); i++) {
    tc_ct_sub s;
    tc_conv2dt_plan in;
    if (!sub_chunk(q, i, nb, sl, &s, &in))
      continue;
    tc_ct_grid gx = tc_ct_x_grid(q, &s), gy = tc_ct_y_grid(q, &s);
    const float *xs = tc_ct_grid_in(&gx, x + n0 * xi, sl->x, sl->team);
    const float *ks = group_kernel(q, s.group, k, sl->k);
    tc_ct_run_forward(&in, xs, ks, bias ? bias + (int64_t)s.group * fg : NULL, sl->y,
                      sl->inner);
    tc_ct_grid_copy(&gy, y + n0 * yi, sl->y, 1, sl->team);
  }
}

/* Backward data of images [n0, n0 + nb): every sub-problem in turn. */
static void backward_data_chunk(const tc_conv2dt_plan *q, const float *dy, const float *k,
                                float *dx, int64_t n0, int64_t nb, const slot *sl) {
  int64_t xi = (int64_t)q->h * q->w * q->c, yi = (int64_t)q->oh * q->ow * q->p.filters;
  for (int i = 0; i < tc_ct_sub_count(q); i++) {
    tc_ct_sub s;
    tc_conv2dt_plan in;
    int live = sub_chunk(q, i, nb, sl, &s, &in);
    tc_ct_grid gx = tc_ct_x_grid(q, &s), gy = tc_ct_y_grid(q, &s);
    float *dxc = dx + n0 * xi;
    if (!live) { /* inputs whose taps all fall outside the output */
      tc_ct_grid_copy(&gx, dxc, NULL, 1, sl->team);
      continue;
    }
    const float *dys = tc_ct_grid_in(&gy, dy + n0 * yi, sl->y, sl->team);
    const float *ks = group_kernel(q, s.group, k, sl->k);
    float *dxs = tc_ct_grid_whole(&gx) ? dxc : sl->x;
    tc_ct_run_backward_data(&in, dys, ks, dxs, sl->inner);
    if (dxs != dxc)
      tc_ct_grid_copy(&gx, dxc, dxs, 1, sl->team);
  }
}

typedef struct chunk_args {
  const float *x, *k, *bias; /* forward: x; backward data: dy */
  float *y;                  /* forward: y; backward data: dx */
  int forward;
} chunk_args;

static void run_chunk(const tc_conv2dt_plan *q, const chunk_args *a, int64_t n0, int64_t nb,
                      const slot *sl) {
  if (a->forward)
    forward_chunk(q, a->x, a->k, a->bias, a->y, n0, nb, sl);
  else
    backward_data_chunk(q, a->x, a->k, a->y, n0, nb, sl);
}

/* Private chunks: the team's threads take chunks of pc images one at a time (dynamic: a
 * thread on a busier CPU takes fewer), each in its own slot, with no barrier until the
 * end. Otherwise the team shares each chunk: every copy and inner plan runs on all of it. */
static void run_chunks(const tc_conv2dt_plan *q, const chunk_args *a, void *ws) {
  int64_t pc = tc_ct_private_chunk(q);
  if (pc) {
    size_t bytes = 0;
    tc_ct_parts p = tc_ct_private_parts(q, &bytes);
    int64_t chunks = (q->n + pc - 1) / pc;
#pragma omp parallel num_threads(tc_ct_team(q))
    {
      size_t t = (size_t)omp_get_thread_num();
      slot sl = slot_at((unsigned char *)ws + t * bytes, p, 1, 1);
#pragma omp for schedule(dynamic, 1)
      for (int64_t c = 0; c < chunks; c++)
        run_chunk(q, a, c * pc, q->n - c * pc < pc ? q->n - c * pc : pc, &sl);
    }
    return;
  }
  int64_t chunk = tc_ct_chunk(q);
  slot sl = slot_at(ws, tc_ct_compose_parts(q), q->threads, tc_ct_team(q));
  for (int64_t n0 = 0; n0 < q->n; n0 += chunk)
    run_chunk(q, a, n0, q->n - n0 < chunk ? q->n - n0 : chunk, &sl);
}

void tc_ct_composed_forward(const tc_conv2dt_plan *q, const float *x, const float *k,
                            const float *bias, float *y, void *ws) {
  if (tc_ct_nchw_col(q)) {
    tc_ct_few_forward_col_nchw(q, x, k, bias, y, ws);
    return;
  }
  if (dilated(q))
    fill_bias(q, bias, y);
  chunk_args a = {x, k, bias, y, 1};
  run_chunks(q, &a, ws);
}

void tc_ct_composed_backward_data(const tc_conv2dt_plan *q, const float *dy, const float *k,
                                  float *dx, void *ws) {
  if (tc_ct_nchw_few_bd(q)) {
    tc_ct_few_backward_data(q, dy, k, dx, ws);
    return;
  }
  chunk_args a = {dy, k, NULL, dx, 0};
  run_chunks(q, &a, ws);
}

/* NCHW few-filter backward weights reads x and dy in place, the bias gradient in NHWC's
 * order. Otherwise each group's residues add their partial kernels in residue order; a
 * group that has one sub-problem writes dk directly (groups 1) or through the kernel
 * buffer. The bias gradient comes from the inner plans (the NHWC sums: bit-identical to
 * NHWC) unless dilation leaves output rows outside every sub-problem (then from the outer
 * plan). */
void tc_ct_composed_backward_weights(const tc_conv2dt_plan *q, const float *x, const float *dy,
                                     float *dk, float *dbias, void *ws) {
  if (tc_ct_nchw_few_bw(q)) {
    tc_ct_few_backward_weights(q, x, dy, dk, ws);
    if (dbias)
      tc_ct_bias_grad_nhwc_order(q, dy, dbias);
    return;
  }
  slot b = slot_at(ws, tc_ct_compose_parts(q), q->threads, tc_ct_team(q));
  int G = q->p.groups, per = tc_ct_sub_count(q) / G, fg = q->p.filters / G;
  int inner_bias = !dilated(q); /* one sub-problem per group, covering its whole output */
  for (int g = 0; g < G; g++) {
    int written = 0;
    for (int i = g * per; i < (g + 1) * per; i++) {
      tc_ct_sub s;
      tc_conv2dt_plan in;
      if (!tc_ct_sub_at(q, i, &s))
        continue;
      tc_ct_sub_plan(q, &s, &in);
      tc_ct_grid gx = tc_ct_x_grid(q, &s), gy = tc_ct_y_grid(q, &s);
      const float *xs = tc_ct_grid_in(&gx, x, b.x, b.team);
      const float *dys = tc_ct_grid_in(&gy, dy, b.y, b.team);
      float *part = G == 1 && per == 1 ? dk : b.k;
      tc_ct_run_backward_weights(&in, xs, dys, part, ws);
      if (dbias && inner_bias)
        tc_ct_bias_grad(&in, dys, dbias + (int64_t)g * fg);
      if (part != dk)
        group_dk(q, g, part, dk, written);
      written = 1;
    }
    if (!written)
      group_dk(q, g, NULL, dk, 0);
    inner_bias &= written;
  }
  if (dbias && !inner_bias)
    tc_ct_bias_grad(q, dy, dbias);
}
