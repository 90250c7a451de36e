/* test_conv2dt_compose.c — NCHW, groups and dilation on the fast algorithms (compose.c):
 * NCHW gives the bits of NHWC, grouped and dilated shapes match the direct kernels with
 * every forced algorithm, and thread counts change no bit. ctest runs it once per
 * instruction set (TCONV_ISA=portable, avx2, and the widest the CPU has). */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/aligned.h"
#include "core/conv2dt.h"
#include "core/conv2dt/compose.h"
#include "support/testutil.h"

/* As test_conv2dt.c: ~225 products per element give errors ~1e-6 in data of [-1, 1);
 * the tolerance widens with the number of products an element sums. */
#define ATOL 1e-5
#define RTOL 1e-5

typedef struct shape {
  int n, h, w, c, f, kh, kw, sh, sw, pad, groups, dh, dw, oph, opw;
} shape;

static tc_conv2dt_params params_of(const shape *s, tc_data_format fmt) {
  tc_conv2dt_params p = tc_conv2dt_params_default(s->f, s->kh, s->kw);
  p.stride_h = s->sh, p.stride_w = s->sw, p.padding = (tc_padding)s->pad;
  p.data_format = fmt, p.groups = s->groups;
  p.dilation_h = s->dh, p.dilation_w = s->dw;
  p.output_padding_h = s->oph, p.output_padding_w = s->opw;
  return p;
}

static tc_conv2dt_plan plan_of(const shape *s, tc_data_format fmt) {
  tc_conv2dt_params p = params_of(s, fmt);
  tc_conv2dt_plan q;
  ck_assert_msg(tc_conv2dt_plan_create(&q, &p, s->n, s->h, s->w, s->c) == TC_OK, "%s",
                tc_last_error());
  return q;
}

typedef struct outputs {
  float *y, *dx, *dk, *db;
} outputs;

static float *nan_buf(int64_t count) {
  float *v = malloc(sizeof(float) * (size_t)(count ? count : 1));
  ck_assert_ptr_nonnull(v);
  for (int64_t i = 0; i < count; i++)
    v[i] = NAN;
  return v;
}

typedef struct inputs {
  float *x, *k, *bias, *dy;
} inputs;

static inputs make_inputs(const tc_conv2dt_plan *q, uint64_t seed) {
  tc_test_rng r;
  tc_test_rng_init(&r, seed);
  inputs in = {nan_buf(q->x_size), nan_buf(q->kernel_size), nan_buf(q->p.filters),
               nan_buf(q->y_size)};
  tc_test_fill(&r, in.x, q->x_size, -1.0f, 1.0f);
  tc_test_fill(&r, in.k, q->kernel_size, -1.0f, 1.0f);
  tc_test_fill(&r, in.bias, q->p.filters, -1.0f, 1.0f);
  tc_test_fill(&r, in.dy, q->y_size, -1.0f, 1.0f);
  return in;
}

static void free_inputs(inputs in) { free(in.x), free(in.k), free(in.bias), free(in.dy); }

static outputs run_all(const tc_conv2dt_plan *q, inputs in) {
  outputs o = {nan_buf(q->y_size), nan_buf(q->x_size), nan_buf(q->kernel_size),
               nan_buf(q->p.filters)};
  void *ws = malloc(q->workspace_bytes ? q->workspace_bytes : 1);
  ck_assert_ptr_nonnull(ws);
  ck_assert_int_eq(tc_conv2dt_forward(q, in.x, in.k, in.bias, o.y, ws), TC_OK);
  ck_assert_int_eq(tc_conv2dt_backward_data(q, in.dy, in.k, o.dx, ws), TC_OK);
  ck_assert_int_eq(tc_conv2dt_backward_weights(q, in.x, in.dy, o.dk, o.db, ws), TC_OK);
  free(ws);
  return o;
}

static void free_outputs(outputs o) { free(o.y), free(o.dx), free(o.dk), free(o.db); }

/* (n, H, W, C) NHWC -> NCHW, and back. */
static float *to_nchw(const float *v, int64_t n, int h, int w, int c) {
  float *t = nan_buf(n * h * w * c);
  for (int64_t b = 0; b < n; b++)
    for (int i = 0; i < h * w; i++)
      for (int ch = 0; ch < c; ch++)
        t[(b * c + ch) * h * w + i] = v[(b * h * w + i) * c + ch];
  return t;
}

/* Shapes that between them reach every fast algorithm of every direction. */
static const shape plain[] = {
    {2, 7, 9, 13, 3, 3, 3, 2, 2, 1, 1, 1, 1, -1, -1},
    {3, 12, 12, 20, 24, 3, 3, 1, 1, 1, 1, 1, 1, -1, -1},
    {2, 16, 16, 17, 8, 4, 4, 2, 2, 0, 1, 1, 1, -1, -1},
    {2, 6, 5, 70, 40, 5, 5, 2, 2, 1, 1, 1, 1, 1, 0},
    {3, 16, 16, 9, 1, 4, 4, 2, 2, 1, 1, 1, 1, -1, -1},
    {1, 5, 3, 33, 19, 4, 3, 3, 2, 0, 1, 1, 1, 2, 1},
    {16, 64, 64, 16, 8, 3, 3, 2, 2, 1, 1, 1, 1, -1, -1},  /* chunks of images */
    {2, 8, 64, 12, 2, 5, 5, 2, 2, 1, 1, 1, 1, -1, -1},   /* few-filter batches in one image */
    {1, 4, 100, 4, 8, 24, 2, 1, 4, 1, 1, 1, 1, -1, -1},  /* few-filter bands of 2-segment rows */
    {1, 2, 1200, 4, 8, 1, 48, 1, 1, 1, 1, 1, 1, -1, -1},  /* rows cut into segments (170 pixels) */
    {2, 5, 3000, 2, 1, 4, 4, 2, 2, 1, 1, 1, 1, -1, -1}}; /* few-filter forward, a row a band */
#define N_PLAIN (int)(sizeof plain / sizeof plain[0])

/* Forces algo on direction d of both plans; 0 where it does not apply to the NHWC one. */
static int force_both(tc_conv2dt_plan *a, tc_conv2dt_plan *b, int d, int algo) {
  if (tc_conv2dt_plan_force(a, (tc_conv2dt_dir)d, (tc_conv2dt_algo)algo) != TC_OK)
    return 0;
  ck_assert_msg(tc_conv2dt_plan_force(b, (tc_conv2dt_dir)d, (tc_conv2dt_algo)algo) == TC_OK,
                "NCHW refuses what NHWC runs: %s", tc_last_error());
  return 1;
}

static void same_bits_nchw_nhwc(const tc_conv2dt_plan *nhwc, const tc_conv2dt_plan *nchw,
                                uint64_t seed) {
  inputs a = make_inputs(nhwc, seed);
  outputs o = run_all(nhwc, a);
  inputs b = {to_nchw(a.x, nhwc->n, nhwc->h, nhwc->w, nhwc->c), a.k, a.bias,
              to_nchw(a.dy, nhwc->n, nhwc->oh, nhwc->ow, nhwc->p.filters)};
  outputs t = run_all(nchw, b);
  float *y = to_nchw(o.y, nhwc->n, nhwc->oh, nhwc->ow, nhwc->p.filters);
  float *dx = to_nchw(o.dx, nhwc->n, nhwc->h, nhwc->w, nhwc->c);
  ck_assert_mem_eq(y, t.y, sizeof(float) * (size_t)nhwc->y_size);
  ck_assert_mem_eq(dx, t.dx, sizeof(float) * (size_t)nhwc->x_size);
  ck_assert_mem_eq(o.dk, t.dk, sizeof(float) * (size_t)nhwc->kernel_size);
  ck_assert_mem_eq(o.db, t.db, sizeof(float) * (size_t)nhwc->p.filters);
  free(y), free(dx), free(b.x), free(b.dy);
  free_outputs(o), free_outputs(t), free_inputs(a);
}

/* NCHW runs the NHWC plan of the same problem between transposes (the few-filter kernels:
 * in place): the same bits, for the default choices on 2 threads (private chunks for some
 * shapes) and 1 (shared chunks for one), and for every algorithm forced. The team is set
 * here, not taken from the machine: at 3 threads no plain shape needs more than one
 * shared chunk. */
START_TEST(nchw_is_bit_identical_to_nhwc) {
  int ran[TC_CONV2DT_DIRS][TC_CONV2DT_ALGOS] = {{0}}, shared = 0, private = 0, in_place = 0;
  static const int teams[] = {2, 1}; /* private chunks where they apply; shared chunks */
  for (int t = 0; t < 2; t++) {
    omp_set_num_threads(teams[t]);
    for (int s = 0; s < N_PLAIN; s++) {
      tc_conv2dt_plan a = plan_of(&plain[s], TC_CHANNELS_LAST);
      tc_conv2dt_plan b = plan_of(&plain[s], TC_CHANNELS_FIRST);
      in_place += tc_ct_nchw_few_bw(&b) + tc_ct_nchw_few_bd(&b);
      if (tc_ct_private_chunk(&b))
        private++;
      else
        shared += tc_ct_chunk(&b) < b.n;
      ck_assert_int_ne(b.algo[TC_CONV2DT_FORWARD], TC_CONV2DT_DIRECT);
      same_bits_nchw_nhwc(&a, &b, 100 + (uint64_t)s);
      for (int d = 0; d < TC_CONV2DT_DIRS && t == 0; d++)
        for (int algo = 1; algo < TC_CONV2DT_ALGOS; algo++) {
          tc_conv2dt_plan fa = a, fb = b;
          if (!force_both(&fa, &fb, d, algo))
            continue;
          same_bits_nchw_nhwc(&fa, &fb, 200 + (uint64_t)(s * 16 + d * 5 + algo));
          ran[d][algo]++;
        }
    }
  }
  ck_assert_int_gt(shared, 0);
  ck_assert_int_gt(private, 0);
  ck_assert_int_ge(in_place, 2 * 6); /* few-filter backward kernels read NCHW in place */
  static const int want[TC_CONV2DT_DIRS][TC_CONV2DT_ALGOS] = {
      {0, 1, 1, 0, 0}, {0, 1, 1, 0, 0}, {0, 0, 1, 1, 1}};
  for (int d = 0; d < TC_CONV2DT_DIRS; d++)
    for (int algo = 0; algo < TC_CONV2DT_ALGOS; algo++)
      ck_assert_msg(!want[d][algo] || ran[d][algo] > 0, "%s never ran %s",
                    tc_conv2dt_dir_name((tc_conv2dt_dir)d),
                    tc_conv2dt_algo_name((tc_conv2dt_algo)algo));
}
END_TEST

/* Grouped and dilated shapes with odd sizes, strides against dilations with and without a
 * common factor, both paddings, output_padding and both layouts. */
static const shape composed[] = {
    {2, 7, 9, 12, 6, 3, 3, 2, 2, 1, 3, 1, 1, -1, -1},
    {3, 12, 11, 20, 24, 3, 3, 1, 1, 1, 2, 2, 2, -1, -1},
    {2, 9, 10, 17, 8, 4, 3, 2, 2, 0, 1, 2, 3, -1, -1},
    {2, 6, 5, 70, 40, 5, 5, 2, 2, 1, 5, 1, 3, 1, 0},
    {3, 16, 13, 9, 3, 4, 4, 2, 1, 1, 3, 3, 2, -1, -1},
    {2, 8, 7, 8, 16, 2, 3, 3, 2, 0, 4, 2, 4, 2, 1},
    {1, 5, 3, 33, 19, 4, 3, 3, 2, 1, 1, 4, 2, -1, -1},
    {2, 40, 40, 16, 8, 3, 3, 2, 2, 1, 2, 2, 2, -1, -1},
    {5, 40, 40, 16, 8, 3, 3, 2, 2, 1, 2, 1, 1, -1, -1}}; /* chunks of images */
#define N_COMPOSED (int)(sizeof composed / sizeof composed[0])

/* a (float) within tolerance of b (float), scaled by the products per element. */
static void close_to(const char *what, const float *a, const float *b, int64_t count,
                     double products, int s) {
  double scale = products > 225.0 ? products / 225.0 : 1.0;
  int64_t worst = 0;
  double e = tc_test_excess_f(a, b, count, scale * ATOL, scale * RTOL, &worst);
  ck_assert_msg(e <= 0.0, "shape %d %s: element %lld is %.9g, direct %.9g", s, what,
                (long long)worst, (double)a[worst], (double)b[worst]);
}

static void matches_direct(const tc_conv2dt_plan *q, int s, uint64_t seed) {
  tc_conv2dt_plan d = *q;
  for (int dir = 0; dir < TC_CONV2DT_DIRS; dir++)
    ck_assert_int_eq(tc_conv2dt_plan_force(&d, (tc_conv2dt_dir)dir, TC_CONV2DT_DIRECT), TC_OK);
  inputs in = make_inputs(q, seed);
  outputs o = run_all(q, in), r = run_all(&d, in);
  double taps = (double)q->p.kernel_h * q->p.kernel_w, g = q->p.groups;
  close_to("forward", o.y, r.y, q->y_size, taps * q->c / g, s);
  close_to("backward_data", o.dx, r.dx, q->x_size, taps * q->p.filters / g, s);
  close_to("backward_weights", o.dk, r.dk, q->kernel_size, (double)q->n * q->h * q->w, s);
  close_to("dbias", o.db, r.db, q->p.filters, 1.0, s);
  free_outputs(o), free_outputs(r), free_inputs(in);
}

/* Default choices (fast ones) and each fast algorithm forced, against the direct kernels. */
START_TEST(groups_and_dilation_match_direct) {
  {
    for (int s = 0; s < N_COMPOSED; s++)
      for (int fmt = 0; fmt < 2; fmt++) {
        tc_conv2dt_plan q = plan_of(&composed[s], (tc_data_format)fmt);
        for (int d = 0; d < TC_CONV2DT_DIRS; d++)
          ck_assert_int_ne(q.algo[d], TC_CONV2DT_DIRECT);
        matches_direct(&q, s, 300 + (uint64_t)s);
        for (int d = 0; d < TC_CONV2DT_DIRS; d++)
          for (int algo = 1; algo < TC_CONV2DT_ALGOS; algo++) {
            tc_conv2dt_plan f = q;
            if (tc_conv2dt_plan_force(&f, (tc_conv2dt_dir)d, (tc_conv2dt_algo)algo) == TC_OK)
              matches_direct(&f, s, 400 + (uint64_t)(s * 16 + d * 5 + algo));
          }
      }
  }
}
END_TEST

/* libomp leaks its thread arrays when a team grows past an earlier one (test_conv2dt.c). */
static void start_omp_pool(int nthreads) {
  int seen = 0;
#pragma omp parallel num_threads(nthreads) reduction(+ : seen)
  seen += 1;
  ck_assert_int_ge(seen, 1);
}

START_TEST(composed_bit_identical_for_one_two_three_and_seven_threads) {
  static const int teams[] = {2, 3, 7};
  start_omp_pool(7);
  for (int s = 0; s < N_COMPOSED; s++) {
    omp_set_num_threads(7);
    tc_conv2dt_plan q = plan_of(&composed[s], (tc_data_format)(s % 2));
    inputs in = make_inputs(&q, 500 + (uint64_t)s);
    omp_set_num_threads(1);
    outputs one = run_all(&q, in);
    for (int t = 0; t < 3; t++) {
      omp_set_num_threads(teams[t]);
      outputs o = run_all(&q, in);
      ck_assert_mem_eq(one.y, o.y, sizeof(float) * (size_t)q.y_size);
      ck_assert_mem_eq(one.dx, o.dx, sizeof(float) * (size_t)q.x_size);
      ck_assert_mem_eq(one.dk, o.dk, sizeof(float) * (size_t)q.kernel_size);
      ck_assert_mem_eq(one.db, o.db, sizeof(float) * (size_t)q.p.filters);
      free_outputs(o);
    }
    free_outputs(one), free_inputs(in);
  }
}
END_TEST

/* Private chunks (each thread its own images, copies and one-thread inner plans): a
 * grouped few-filter shape (plain NCHW few-filter plans read NCHW in place), an NCHW GEMM
 * shape, a grouped and dilated one, each with the bits of the shared chunks' team and of
 * 1, 2 and 3 threads; a plan for 3 threads with n = 7 shares. */
static const shape private_shapes[] = {
    {24, 20, 20, 16, 2, 4, 4, 2, 2, 1, 2, 1, 1, -1, -1},
    {12, 20, 20, 24, 20, 3, 3, 2, 2, 1, 1, 1, 1, -1, -1},
    {24, 24, 23, 8, 6, 3, 3, 2, 2, 1, 2, 2, 2, -1, -1}};

START_TEST(private_chunks_keep_the_bits) {
  start_omp_pool(3);
  for (int i = 0; i < 3; i++)
    for (int fmt = 0; fmt < 2; fmt++) {
      omp_set_num_threads(3);
      tc_conv2dt_plan q = plan_of(&private_shapes[i], (tc_data_format)fmt);
      if (fmt == TC_CHANNELS_LAST && i == 1)
        continue; /* plain NHWC: not composed */
      ck_assert_int_eq(q.threads, 3);
      ck_assert_msg(tc_ct_private_chunk(&q) > 0, "shape %d format %d shares its chunks", i, fmt);
      matches_direct(&q, 100 + i, 600 + (uint64_t)i);
      inputs in = make_inputs(&q, 700 + (uint64_t)i);
      outputs three = run_all(&q, in);
      for (int team = 1; team <= 2; team++) {
        omp_set_num_threads(team);
        outputs o = run_all(&q, in);
        ck_assert_mem_eq(three.y, o.y, sizeof(float) * (size_t)q.y_size);
        ck_assert_mem_eq(three.dx, o.dx, sizeof(float) * (size_t)q.x_size);
        free_outputs(o);
      }
      free_outputs(three), free_inputs(in);
    }
  omp_set_num_threads(3);
  tc_conv2dt_plan a = plan_of(&private_shapes[0], TC_CHANNELS_LAST);
  tc_conv2dt_plan b = plan_of(&private_shapes[0], TC_CHANNELS_FIRST);
  same_bits_nchw_nhwc(&a, &b, 800);
  shape odd = private_shapes[0];
  odd.n = 7;
  tc_conv2dt_plan c = plan_of(&odd, TC_CHANNELS_FIRST);
  ck_assert_int_eq(tc_ct_private_chunk(&c), 0);
}
END_TEST

/* Too many sub-problems (dilation 9x9 at stride 1: 81 residue grids) run direct; forcing a
 * fast algorithm says why. */
START_TEST(too_many_subproblems_run_direct) {
  shape s = {1, 12, 12, 4, 4, 3, 3, 1, 1, 0, 1, 9, 9, -1, -1};
  tc_conv2dt_plan q = plan_of(&s, TC_CHANNELS_LAST);
  for (int d = 0; d < TC_CONV2DT_DIRS; d++)
    ck_assert_int_eq(q.algo[d], TC_CONV2DT_DIRECT);
  ck_assert_int_eq(q.workspace_bytes, 0);
  ck_assert_int_eq(tc_conv2dt_plan_force(&q, TC_CONV2DT_FORWARD, TC_CONV2DT_IGEMM),
                   TC_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "at most 64 sub-problems"));
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "has 81"));
  s.dw = 3; /* 27 grids */
  q = plan_of(&s, TC_CHANNELS_FIRST);
  char buf[256];
  tc_conv2dt_plan_describe(&q, buf, sizeof buf);
  ck_assert_msg(strstr(buf, "nhwc_subs=27") && !strstr(buf, "direct"), "%s", buf);
}
END_TEST

/* Both forms of NCHW few-filter backward data, the tile form (AVX-512 runs it) and the
 * gathered form (the other ISAs), give the same bits whichever this machine runs, on 1 and
 * 2 threads; the outputs start as NaN, so a pixel either form leaves unwritten fails. */
START_TEST(nchw_few_bd_forms_agree) {
  int compared = 0;
  for (int team = 1; team <= 2; team++) {
    omp_set_num_threads(team);
    for (int s = 0; s < N_PLAIN; s++) {
      tc_conv2dt_plan q = plan_of(&plain[s], TC_CHANNELS_FIRST);
      if (!tc_ct_nchw_few_bd(&q))
        continue;
      inputs in = make_inputs(&q, 900 + (uint64_t)s);
      float *tiles = nan_buf(q.x_size), *gathered = nan_buf(q.x_size);
      void *ws = tc_aligned_alloc(q.workspace_bytes ? q.workspace_bytes : 64);
      ck_assert_ptr_nonnull(ws);
      tc_ct_few_backward_data_rows(&q, in.dy, in.k, tiles, ws);
      tc_ct_few_backward_data_nchw(&q, in.dy, in.k, gathered, ws);
      ck_assert_mem_eq(tiles, gathered, sizeof(float) * (size_t)q.x_size);
      for (int64_t i = 0; i < q.x_size; i++)
        ck_assert_msg(isfinite(gathered[i]), "shape %d: dx[%lld] unwritten", s, (long long)i);
      free(tiles), free(gathered), tc_aligned_free(ws), free_inputs(in);
      compared++;
    }
  }
  ck_assert_int_ge(compared, 2 * 4);
}
END_TEST

/* The NCHW few-filter backward kernels gather a segment's pixels per call: their workspace
 * stays bounded for any image width (9000-pixel rows, K = 384 gathered 4.6 MB per thread
 * before segments were bounded by K too), within the plan's 8 MiB per thread. */
START_TEST(nchw_few_filter_workspace_bounded_for_wide_rows) {
  const shape wide[] = {{1, 2, 9000, 4, 8, 1, 48, 1, 1, 1, 1, 1, 1, -1, -1},
                        {1, 1, 60000, 3, 1, 1, 64, 1, 2, 1, 1, 1, 1, -1, -1},
                        {2, 3, 20000, 5, 3, 3, 3, 2, 2, 0, 1, 1, 1, -1, -1}};
  omp_set_num_threads(2);
  for (int s = 0; s < 3; s++) {
    tc_conv2dt_plan q = plan_of(&wide[s], TC_CHANNELS_FIRST);
    ck_assert_msg(tc_ct_nchw_few_bw(&q) && tc_ct_nchw_few_bd(&q), "shape %d: not few-filter", s);
    ck_assert_msg(tc_ct_few_bw_nchw_bytes(&q) <= (size_t)2 << 20, "shape %d: %zu bytes", s,
                  tc_ct_few_bw_nchw_bytes(&q));
    ck_assert_msg(tc_ct_few_bd_nchw_bytes(&q) <= (size_t)2 << 20, "shape %d: %zu bytes", s,
                  tc_ct_few_bd_nchw_bytes(&q));
    ck_assert_msg(q.workspace_bytes <= (size_t)q.threads << 23, "shape %d: %zu bytes", s,
                  q.workspace_bytes); /* 8 MiB per thread */
  }
}
END_TEST

static Suite *compose_suite(void) {
  Suite *s = suite_create("conv2dt_compose");
  TCase *t = tcase_create("compose");
  tcase_add_test(t, nchw_is_bit_identical_to_nhwc);
  tcase_add_test(t, groups_and_dilation_match_direct);
  tcase_add_test(t, composed_bit_identical_for_one_two_three_and_seven_threads);
  tcase_add_test(t, too_many_subproblems_run_direct);
  tcase_add_test(t, private_chunks_keep_the_bits);
  tcase_add_test(t, nchw_few_bd_forms_agree);
  tcase_add_test(t, nchw_few_filter_workspace_bounded_for_wide_rows);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tc_test_run(compose_suite()); }
