/* compose.c — NCHW, groups and dilation on the NHWC kernels, at plan time: a plan with
 * channels_first, groups > 1 or dilation > 1 runs as sub-problems that the fast algorithms
 * take as they are (NHWC, groups 1, dilation 1), each with an inner plan built from the
 * outer one by rules of the shape only (compose_run.c copies the data in and out).
 *
 * - NCHW: the inner plan is the NHWC plan of the same problem (same threads, micro-kernels,
 *   algorithms, blocking), so the results are bit-identical to NHWC.
 * - groups: one sub-problem per group, on its C/g channels and F/g filters.
 * - dilation d, stride s along an axis: with q = gcd(s, d), s' = s/q, d' = d/q, input index
 *   i = r + d'*i' (residue r < d') maps to output r*s - pad + d*(i'*s' + a): an undilated
 *   stride-s' convolution of the residue's sub-grid whose output lands on every d-th row
 *   from r*s - pad. Each residue pair (rh, rw) is one sub-problem; the output rows no tap
 *   reaches hold the bias (forward), and backward weights adds the residues' partial
 *   kernels in residue order.
 * Sub-problems run one after another, each parallel inside. */
#include <stdio.h>
#include <string.h>

#include "core/conv2dt/compose.h"

static int gcd(int a, int b) {
  while (b) {
    int t = a % b;
    a = b;
    b = t;
  }
  return a;
}

int tc_ct_composed(const tc_conv2dt_plan *q) {
  const tc_conv2dt_params *p = &q->p;
  return p->data_format != TC_CHANNELS_LAST || p->groups > 1 || p->dilation_h > 1 ||
         p->dilation_w > 1;
}

/* d' of an axis: the residues of the input index that feed disjoint output rows. */
static int residues(int s, int d) { return d / gcd(s, d); }

int tc_ct_sub_count(const tc_conv2dt_plan *q) {
  const tc_conv2dt_params *p = &q->p;
  return p->groups * residues(p->stride_h, p->dilation_h) *
         residues(p->stride_w, p->dilation_w);
}

/* One axis of sub-problem residue r: its input rows, output rows and crop. Returns 0 when
 * no output row of the residue lies inside the output. */
static int sub_axis(int in, int out, int pad, int k, int s, int d, int r, tc_ct_axis *a) {
  int dd = residues(s, d), sp = s / gcd(s, d);
  a->r = r;
  a->step = dd;
  a->in = r < in ? (in - r + dd - 1) / dd : 0;
  a->stride = sp;
  a->dil = d;
  if (a->in == 0)
    return 0;
  /* o = r*s - pad + d*t for sub-output index t; t in [lo, hi) keeps o in [0, out) */
  int64_t off = (int64_t)r * s - pad;
  int64_t lo = off >= 0 ? 0 : (-off + d - 1) / d;
  int64_t hi = out - 1 - off < 0 ? 0 : (out - 1 - off) / d + 1;
  int64_t full = (int64_t)(a->in - 1) * sp + k;
  if (hi <= lo || lo >= full)
    return 0;
  a->lead = (int)lo;
  a->out = (int)(hi - lo);
  a->base = (int)(off + (int64_t)d * lo);
  return 1;
}

int tc_ct_sub_at(const tc_conv2dt_plan *q, int idx, tc_ct_sub *s) {
  const tc_conv2dt_params *p = &q->p;
  int rh = residues(p->stride_h, p->dilation_h), rw = residues(p->stride_w, p->dilation_w);
  memset(s, 0, sizeof *s);
  s->n = q->n;
  s->group = idx / (rh * rw);
  int r = idx % (rh * rw);
  int okh = sub_axis(q->h, q->oh, q->pad_top, p->kernel_h, p->stride_h, p->dilation_h, r / rw,
                     &s->ax[0]);
  int okw = sub_axis(q->w, q->ow, q->pad_left, p->kernel_w, p->stride_w, p->dilation_w, r % rw,
                     &s->ax[1]);
  return okh && okw;
}

/* The inner plan of sub-problem s: the outer plan's micro-kernels and threads (one where
 * the sub-problem is too small for a team), its algorithms where they apply, else the
 * inner plan's own choice (slabs needs enough pixels). */
void tc_ct_sub_plan(const tc_conv2dt_plan *q, const tc_ct_sub *s, tc_conv2dt_plan *in) {
  tc_ct_sub_plan_on(q, s, q->threads, in);
}

void tc_ct_sub_plan_on(const tc_conv2dt_plan *q, const tc_ct_sub *s, int threads,
                       tc_conv2dt_plan *in) {
  const tc_conv2dt_params *p = &q->p;
  memset(in, 0, sizeof *in);
  in->p = *p;
  in->p.filters = p->filters / p->groups;
  in->p.groups = 1;
  in->p.data_format = TC_CHANNELS_LAST;
  in->p.stride_h = s->ax[0].stride, in->p.stride_w = s->ax[1].stride;
  in->p.dilation_h = in->p.dilation_w = 1;
  in->n = s->n;
  in->h = s->ax[0].in, in->w = s->ax[1].in, in->c = q->c / p->groups;
  in->oh = s->ax[0].out, in->ow = s->ax[1].out;
  in->pad_top = s->ax[0].lead, in->pad_left = s->ax[1].lead;
  in->x_size = in->n * in->h * in->w * in->c;
  in->y_size = in->n * in->oh * in->ow * in->p.filters;
  in->kernel_size = (int64_t)p->kernel_h * p->kernel_w * in->p.filters * in->c;
  in->ukr = q->ukr;
  in->cache_l2 = q->cache_l2;
  in->threads = tc_conv2dt_flops(in) < TC_CONV2DT_PARALLEL_FLOPS ? 1 : threads;
  char why[256];
  for (int d = 0; d < TC_CONV2DT_DIRS; d++)
    in->algo[d] = tc_ct_applies(in, (tc_conv2dt_dir)d, q->algo[d], why, sizeof why)
                      ? tc_ct_choose(in, (tc_conv2dt_dir)d)
                      : q->algo[d];
  tc_ct_layout(in);
}

/* The sub-problem the outer plan's choices are made on: the first with any output (group
 * 0, the largest residue grid). Returns 0 when there is none. */
static int representative(const tc_conv2dt_plan *q, tc_conv2dt_plan *in) {
  tc_ct_sub s;
  for (int i = 0; i < tc_ct_sub_count(q); i++)
    if (tc_ct_sub_at(q, i, &s)) {
      tc_ct_sub_plan(q, &s, in);
      return 1;
    }
  return 0;
}

const char *tc_ct_compose_applies(const tc_conv2dt_plan *q, tc_conv2dt_dir dir,
                                  tc_conv2dt_algo algo, char *why, size_t cap) {
  if (algo == TC_CONV2DT_DIRECT)
    return NULL;
  if (tc_ct_sub_count(q) > TC_CT_MAX_SUBS) {
    snprintf(why, cap, "runs groups and dilation as at most %d sub-problems (groups x "
             "residues of dilation/gcd(stride, dilation)); the plan has %d", TC_CT_MAX_SUBS,
             tc_ct_sub_count(q));
    return why;
  }
  tc_conv2dt_plan in;
  if (!representative(q, &in)) {
    snprintf(why, cap, "needs an output row some tap reaches; the plan has none");
    return why;
  }
  return tc_ct_applies(&in, dir, algo, why, cap);
}

void tc_ct_compose_choose(tc_conv2dt_plan *q) {
  tc_conv2dt_plan in;
  for (int d = 0; d < TC_CONV2DT_DIRS; d++)
    q->algo[d] = TC_CONV2DT_DIRECT;
  if (tc_ct_sub_count(q) > TC_CT_MAX_SUBS || !representative(q, &in))
    return;
  for (int d = 0; d < TC_CONV2DT_DIRS; d++)
    q->algo[d] = tc_ct_choose(&in, (tc_conv2dt_dir)d);
}

static int any_fast(const tc_conv2dt_plan *q) {
  for (int d = 0; d < TC_CONV2DT_DIRS; d++)
    if (q->algo[d] != TC_CONV2DT_DIRECT)
      return 1;
  return 0;
}

/* The workspace: the largest inner plan's, then the sub-problem's x, y and kernel (see
 * tc_ct_compose_parts). The blocking fields echo the representative's (describe). */
void tc_ct_compose_layout(tc_conv2dt_plan *q) {
  tc_conv2dt_plan in;
  q->shared_bytes = q->thread_bytes = q->zero_row = q->workspace_bytes = 0;
  q->slabs = q->rowb = q->fcol = 0;
  if (!any_fast(q) || !representative(q, &in))
    return;
  for (int d = 0; d < 2; d++)
    q->kcg[d] = in.kcg[d], q->nc[d] = in.nc[d], q->btaps[d] = in.btaps[d];
  q->rowb = in.rowb;
  q->slabs = in.slabs;
  q->fcol = in.fcol;
  q->mc = in.mc, q->stream_bytes = in.stream_bytes;
  tc_ct_parts parts = tc_ct_compose_parts(q);
  size_t slot = 0;
  tc_ct_private_parts(q, &slot);
  q->workspace_bytes = parts.k_off + align_up(sizeof(float) * (size_t)parts.k_floats);
  if ((size_t)q->threads * slot > q->workspace_bytes)
    q->workspace_bytes = (size_t)q->threads * slot;
  size_t colt = (size_t)q->threads * (tc_ct_nchw_col(q) ? tc_ct_nchw_col_thread_bytes(q) : 0);
  if (colt > q->workspace_bytes)
    q->workspace_bytes = colt;
  size_t few_bw = tc_ct_nchw_few_bw(q) ? tc_ct_few_bw_nchw_bytes(q) : 0;
  if (few_bw > q->workspace_bytes)
    q->workspace_bytes = few_bw;
  size_t few_bd = tc_ct_nchw_few_bd(q) ? tc_ct_few_bd_nchw_bytes(q) : 0;
  if (few_bd > q->workspace_bytes)
    q->workspace_bytes = few_bd;
}

/* Bytes of one image's largest sub-problem x and y, and the images a chunk needs so that
 * repacking the weights for each chunk costs little (TC_CT_PACK_RATIO). */
static void chunk_terms(const tc_conv2dt_plan *q, double *img, double *pack) {
  const tc_conv2dt_params *p = &q->p;
  double flops = tc_conv2dt_flops(q) / (double)q->n / tc_ct_sub_count(q);
  *img = 1.0;
  for (int i = 0; i < tc_ct_sub_count(q); i++) {
    tc_ct_sub s;
    tc_ct_sub_at(q, i, &s);
    double b = sizeof(float) * ((double)s.ax[0].in * s.ax[1].in * (q->c / p->groups) +
                                (double)s.ax[0].out * s.ax[1].out * (p->filters / p->groups));
    *img = b > *img ? b : *img;
  }
  double kfloats = (double)p->kernel_h * p->kernel_w * (p->filters / p->groups) *
                   (q->c / p->groups);
  *pack = TC_CT_PACK_RATIO * kfloats / (flops > 1.0 ? flops : 1.0);
}

/* 1 where forward or backward data runs chunks of sub-problems: fast, and not one of the
 * kernels that read NCHW in place. */
static int chunked(const tc_conv2dt_plan *q) {
  return (q->algo[TC_CONV2DT_FORWARD] != TC_CONV2DT_DIRECT && !tc_ct_nchw_col(q)) ||
         (q->algo[TC_CONV2DT_BACKWARD_DATA] != TC_CONV2DT_DIRECT && !tc_ct_nchw_few_bd(q));
}

/* Images per chunk: the chunk's largest sub-problem x and y within TC_CT_CHUNK_BYTES a
 * thread, and enough FLOPs that repacking the weights for each chunk costs little. */
int64_t tc_ct_chunk(const tc_conv2dt_plan *q) {
  double img, pack;
  chunk_terms(q, &img, &pack);
  int64_t nb = (int64_t)((double)TC_CT_CHUNK_BYTES * q->threads / img);
  if ((double)nb < pack)
    nb = pack >= (double)q->n ? q->n : (int64_t)pack + 1;
  return nb < 1 ? 1 : nb > q->n ? q->n : nb;
}

/* Private chunks where each thread of the team has images (n >= threads), there are few
 * sub-problems (each chunk plans each of them) and the weights are cheap enough to repack
 * per chunk: the chunk's x and y within half of an L2, or the images repacking needs, and
 * at most a thread's share (n / threads) and TC_CT_PRIVATE_MAX. */
int64_t tc_ct_private_chunk(const tc_conv2dt_plan *q) {
  int T = q->threads;
  if (T < 2 || q->n < T || tc_ct_sub_count(q) > 8 || !chunked(q))
    return 0;
  double img, pack;
  chunk_terms(q, &img, &pack);
  int64_t share = q->n / T, cap = share < TC_CT_PRIVATE_MAX ? share : TC_CT_PRIVATE_MAX;
  size_t l2 = q->cache_l2 ? q->cache_l2 : (size_t)1 << 20;
  int64_t nb = (int64_t)((double)l2 / 2 / img);
  if ((double)nb < pack)
    nb = (int64_t)pack + 1;
  if (nb > cap && pack >= (double)cap)
    return 0;
  return nb < 1 ? 1 : nb > cap ? cap : nb;
}

/* The largest inner workspace, x and y of the sub-problems on n images. */
static void sub_sizes(const tc_conv2dt_plan *q, int64_t n, int threads, size_t *inner,
                      int64_t *xs, int64_t *ys) {
  for (int i = 0; i < tc_ct_sub_count(q); i++) {
    tc_ct_sub s;
    tc_conv2dt_plan in;
    if (!tc_ct_sub_at(q, i, &s))
      continue;
    s.n = n;
    tc_ct_sub_plan_on(q, &s, threads, &in);
    *inner = in.workspace_bytes > *inner ? in.workspace_bytes : *inner;
    *xs = in.x_size > *xs ? in.x_size : *xs;
    *ys = in.y_size > *ys ? in.y_size : *ys;
  }
}

static tc_ct_parts parts_of(const tc_conv2dt_plan *q, size_t inner, int64_t xs, int64_t ys) {
  tc_ct_parts r;
  r.x_off = align_up(inner);
  r.y_off = r.x_off + align_up(sizeof(float) * (size_t)xs);
  r.k_off = r.y_off + align_up(sizeof(float) * (size_t)ys);
  r.k_floats = (int64_t)q->p.kernel_h * q->p.kernel_w * (q->p.filters / q->p.groups) *
               (q->c / q->p.groups);
  return r;
}

/* Forward and backward data on chunks (the full chunk and the last, shorter one) unless
 * they run private chunks, backward weights on the whole batch, as far as each is fast
 * and composed (not the NCHW few-filter kernels, which read NCHW in place). */
tc_ct_parts tc_ct_compose_parts(const tc_conv2dt_plan *q) {
  size_t inner = 0;
  int64_t xs = 0, ys = 0, nb = tc_ct_chunk(q);
  if (chunked(q) && !tc_ct_private_chunk(q)) {
    sub_sizes(q, nb, q->threads, &inner, &xs, &ys);
    if (q->n % nb)
      sub_sizes(q, q->n % nb, q->threads, &inner, &xs, &ys);
  }
  if (q->algo[TC_CONV2DT_BACKWARD_WEIGHTS] != TC_CONV2DT_DIRECT && !tc_ct_nchw_few_bw(q))
    sub_sizes(q, q->n, q->threads, &inner, &xs, &ys);
  return parts_of(q, inner, xs, ys);
}

/* Chunks of nb images and the last, shorter one. */
tc_ct_parts tc_ct_private_parts(const tc_conv2dt_plan *q, size_t *slot_bytes) {
  size_t inner = 0;
  int64_t xs = 0, ys = 0, nb = tc_ct_private_chunk(q);
  if (nb) {
    sub_sizes(q, nb, 1, &inner, &xs, &ys);
    if (q->n % nb)
      sub_sizes(q, q->n % nb, 1, &inner, &xs, &ys);
  }
  tc_ct_parts r = parts_of(q, inner, xs, ys);
  *slot_bytes = nb ? r.k_off + align_up(sizeof(float) * (size_t)r.k_floats) : 0;
  return r;
}
