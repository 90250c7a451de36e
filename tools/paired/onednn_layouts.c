/* onednn_layouts.c — oneDNN's deconvolution in one of its three layouts (see the header). */
#include "tools/paired/onednn_layouts.h"

#include <stdio.h>
#include <string.h>

#define TRY(call)                                                                          \
  do {                                                                                     \
    dnnl_status_t s_ = (call);                                                             \
    if (s_ != dnnl_success) {                                                              \
      snprintf(err, cap, "oneDNN: %s failed (status %d)", #call, (int)s_);                 \
      return -1;                                                                           \
    }                                                                                      \
  } while (0)

static dnnl_engine_t engine;
static dnnl_stream_t stream;

const char *onednn_layout_name(int layout) {
  static const char *names[ONEDNN_LAYOUTS] = {"any", "nhwc", "plain"};
  return layout >= 0 && layout < ONEDNN_LAYOUTS ? names[layout] : "?";
}

static int start_engine(char *err, size_t cap) {
  if (engine)
    return 0;
  TRY(dnnl_engine_create(&engine, dnnl_cpu, 0));
  TRY(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
  return 0;
}

/* The memory descriptors of a layout: src, weights, bias, dst. */
static int layout_mds(const onednn_shape *g, int layout, dnnl_memory_desc_t md[4], char *err,
                      size_t cap) {
  dnnl_dims_t src = {g->n, g->c, g->h, g->w}, dst = {g->n, g->f, g->oh, g->ow};
  dnnl_dims_t wei = {g->f, g->c, g->kh, g->kw}, bia = {g->f};
  dnnl_format_tag_t act = layout == ONEDNN_ANY ? dnnl_format_tag_any : dnnl_nhwc;
  TRY(dnnl_memory_desc_init_by_tag(&md[0], 4, src, dnnl_f32, act));
  TRY(dnnl_memory_desc_init_by_tag(&md[3], 4, dst, dnnl_f32, act));
  TRY(dnnl_memory_desc_init_by_tag(&md[2], 1, bia, dnnl_f32, dnnl_x));
  if (layout != ONEDNN_PLAIN) {
    TRY(dnnl_memory_desc_init_by_tag(&md[1], 4, wei, dnnl_f32, dnnl_format_tag_any));
    return 0;
  }
  dnnl_dims_t strides = {g->c, 1, (dnnl_dim_t)g->kw * g->f * g->c, (dnnl_dim_t)g->f * g->c};
  TRY(dnnl_memory_desc_init_by_strides(&md[1], 4, wei, dnnl_f32, strides));
  return 0;
}

/* The three primitive descriptors: forward training with bias, backward data, backward
 * weights with the bias's gradient. */
static int create_pds(onednn_layout *L, const onednn_shape *g, const dnnl_memory_desc_t md[4],
                      char *err, size_t cap) {
  dnnl_dims_t strides = {g->sh, g->sw}, pl = {g->pad_top, g->pad_left};
  dnnl_dims_t pr = {(dnnl_dim_t)(g->h - 1) * g->sh + g->kh - g->pad_top - g->oh,
                    (dnnl_dim_t)(g->w - 1) * g->sw + g->kw - g->pad_left - g->ow};
  dnnl_deconvolution_desc_t fd, dd, wd;
  TRY(dnnl_deconvolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_deconvolution_direct,
                                           &md[0], &md[1], &md[2], &md[3], strides, pl, pr));
  TRY(dnnl_primitive_desc_create(&L->pd[0], &fd, NULL, engine, NULL));
  TRY(dnnl_deconvolution_backward_data_desc_init(&dd, dnnl_deconvolution_direct, &md[0], &md[1],
                                                 &md[3], strides, pl, pr));
  TRY(dnnl_primitive_desc_create(&L->pd[1], &dd, NULL, engine, L->pd[0]));
  TRY(dnnl_deconvolution_backward_weights_desc_init(&wd, dnnl_deconvolution_direct, &md[0],
                                                    &md[1], &md[2], &md[3], strides, pl, pr));
  TRY(dnnl_primitive_desc_create(&L->pd[2], &wd, NULL, engine, L->pd[0]));
  return 0;
}

/* A memory of pd's (what, idx) descriptor, filled from `from` by a reorder or zeroed. */
static int pd_memory(onednn_layout *L, dnnl_primitive_desc_t pd, dnnl_query_t what, int idx,
                     dnnl_memory_t from, dnnl_memory_t *out, char *err, size_t cap) {
  const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, what, idx);
  TRY(dnnl_memory_create(out, md, engine, DNNL_MEMORY_ALLOCATE));
  L->mem[L->nmem++] = *out;
  if (!from) {
    void *h;
    TRY(dnnl_memory_get_data_handle(*out, &h));
    memset(h, 0, dnnl_memory_desc_get_size(md));
    return 0;
  }
  const dnnl_memory_desc_t *fmd;
  dnnl_primitive_desc_t rpd;
  dnnl_primitive_t r;
  TRY(dnnl_memory_get_memory_desc(from, &fmd));
  TRY(dnnl_reorder_primitive_desc_create(&rpd, fmd, engine, md, engine, NULL));
  TRY(dnnl_primitive_create(&r, rpd));
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, *out}};
  dnnl_status_t st = dnnl_primitive_execute(r, stream, 2, args);
  if (st == dnnl_success)
    st = dnnl_stream_wait(stream);
  dnnl_primitive_destroy(r);
  dnnl_primitive_desc_destroy(rpd);
  TRY(st);
  return 0;
}

/* tconv's tensors wrapped (not copied) as plain oneDNN memories: x, kernel, bias, dy. */
static int wrap_inputs(onednn_layout *L, const onednn_shape *g, const onednn_inputs *in,
                       dnnl_memory_t plain[4], char *err, size_t cap) {
  dnnl_memory_desc_t md[4];
  if (layout_mds(g, ONEDNN_PLAIN, md, err, cap))
    return -1;
  const float *data[4] = {in->x, in->kernel, in->bias, in->dy};
  for (int i = 0; i < 4; i++) {
    TRY(dnnl_memory_create(&plain[i], &md[i], engine, (void *)data[i]));
    L->mem[L->nmem++] = plain[i];
  }
  return 0;
}

#define MEM(pd, what, idx, from, out)                                                      \
  do {                                                                                     \
    if (pd_memory(L, pd, what, idx, from, out, err, cap))                                  \
      return -1;                                                                           \
  } while (0)

/* Every direction's arguments, inputs reordered from the plain ones. */
static int bind_args(onednn_layout *L, dnnl_memory_t plain[4], char *err, size_t cap) {
  dnnl_memory_t m[11];
  MEM(L->pd[0], dnnl_query_src_md, 0, plain[0], &m[0]);
  MEM(L->pd[0], dnnl_query_weights_md, 0, plain[1], &m[1]);
  MEM(L->pd[0], dnnl_query_weights_md, 1, plain[2], &m[2]);
  MEM(L->pd[0], dnnl_query_dst_md, 0, NULL, &m[3]);
  MEM(L->pd[1], dnnl_query_diff_dst_md, 0, plain[3], &m[4]);
  MEM(L->pd[1], dnnl_query_weights_md, 0, plain[1], &m[5]);
  MEM(L->pd[1], dnnl_query_diff_src_md, 0, NULL, &m[6]);
  MEM(L->pd[2], dnnl_query_src_md, 0, plain[0], &m[7]);
  MEM(L->pd[2], dnnl_query_diff_dst_md, 0, plain[3], &m[8]);
  MEM(L->pd[2], dnnl_query_diff_weights_md, 0, NULL, &m[9]);
  MEM(L->pd[2], dnnl_query_diff_weights_md, 1, NULL, &m[10]);
  dnnl_exec_arg_t a[3][4] = {
      {{DNNL_ARG_SRC, m[0]}, {DNNL_ARG_WEIGHTS, m[1]}, {DNNL_ARG_BIAS, m[2]}, {DNNL_ARG_DST, m[3]}},
      {{DNNL_ARG_DIFF_DST, m[4]}, {DNNL_ARG_WEIGHTS, m[5]}, {DNNL_ARG_DIFF_SRC, m[6]}},
      {{DNNL_ARG_SRC, m[7]},
       {DNNL_ARG_DIFF_DST, m[8]},
       {DNNL_ARG_DIFF_WEIGHTS, m[9]},
       {DNNL_ARG_DIFF_BIAS, m[10]}}};
  memcpy(L->args, a, sizeof a);
  L->nargs[0] = 4, L->nargs[1] = 3, L->nargs[2] = 4;
  return 0;
}

int onednn_layout_create(onednn_layout *L, const onednn_shape *g, int layout,
                         const onednn_inputs *in, char *err, size_t cap) {
  memset(L, 0, sizeof *L);
  dnnl_memory_desc_t md[4];
  dnnl_memory_t plain[4];
  if (start_engine(err, cap) || layout_mds(g, layout, md, err, cap) ||
      create_pds(L, g, md, err, cap) || wrap_inputs(L, g, in, plain, err, cap) ||
      bind_args(L, plain, err, cap))
    return -1;
  for (int d = 0; d < 3; d++)
    TRY(dnnl_primitive_create(&L->prim[d], L->pd[d]));
  return 0;
}

int onednn_layout_run(onednn_layout *L, int d) {
  if (dnnl_primitive_execute(L->prim[d], stream, L->nargs[d], L->args[d]) != dnnl_success)
    return -1;
  return dnnl_stream_wait(stream) == dnnl_success ? 0 : -1;
}

const float *onednn_layout_output(const onednn_layout *L, int layout, int d) {
  static const int out_arg[3] = {3, 2, 2};
  void *h = NULL;
  if (layout != ONEDNN_PLAIN || dnnl_memory_get_data_handle(L->args[d][out_arg[d]].memory, &h))
    return NULL;
  return h;
}

const char *onednn_layout_impl(const onednn_layout *L, int d) {
  const char *s = NULL;
  if (dnnl_primitive_desc_query(L->pd[d], dnnl_query_impl_info_str, 0, &s) != dnnl_success)
    return "?";
  return s;
}

void onednn_layout_destroy(onednn_layout *L) {
  for (int d = 0; d < 3; d++) {
    if (L->prim[d])
      dnnl_primitive_destroy(L->prim[d]);
    if (L->pd[d])
      dnnl_primitive_desc_destroy(L->pd[d]);
  }
  for (int i = 0; i < L->nmem; i++)
    dnnl_memory_destroy(L->mem[i]);
  memset(L, 0, sizeof *L);
}

const char *onednn_version(void) {
  static char buf[32];
  const dnnl_version_t *v = dnnl_version();
  snprintf(buf, sizeof buf, "%d.%d.%d", v->major, v->minor, v->patch);
  return buf;
}
