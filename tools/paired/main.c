/* tconv-paired — tconv's conv2d_transpose kernels and oneDNN's, called in turn in one
 * process, for ratios that a shared machine's drift cannot bias (docs/benchmarks.md).
 *
 * On the 2-vCPU VMs these records come from, one kernel's rate moves by 25-40 % from one
 * second to the next (another tenant on the core): timed minutes apart, tconv's median and
 * the best of oneDNN's three layouts compare moments, not kernels. Here every round calls
 * each contender once (tconv NHWC, oneDNN any / nhwc / plain, and with --nchw tconv NCHW),
 * in an order that rotates from round to round, and each ratio is the median over rounds
 * of two times taken within the same second. Built only where CMake finds oneDNN
 * (libdnnl-dev); not installed. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/aligned.h"
#include "core/conv2dt.h"
#include "tools/bench.h"
#include "tools/cli_args.h"
#include "tools/paired/onednn_layouts.h"

#define MAX_SHAPES 64
#define MAX_ROUNDS 101
#define MIN_BLOCK_S 0.004 /* calls per timed block: at least this long (short kernels) */
enum { TCONV_NHWC, FIRST_ONEDNN, TCONV_NCHW = FIRST_ONEDNN + ONEDNN_LAYOUTS, CONTENDERS };

typedef struct options {
  const char *shapes, *only;
  int threads, rounds, nchw;
  unsigned dirs;
} options;

static const char *usage =
    "usage: tconv-paired [--shapes FILE] [--only NAME,..] [--threads N] [--rounds N]\n"
    "                    [--dir fwd,bd,bw] [--nchw]\n"
    "\n"
    "Times tconv's forward, backward data and backward weights beside oneDNN's\n"
    "deconvolution in its three layouts (any, nhwc, plain), calling each in turn in\n"
    "every round (the order rotating), and prints per shape and direction each\n"
    "contender's median GFLOP/s, oneDNN's best layout and tconv / that layout as the\n"
    "median over rounds of the two times of one round. --nchw adds tconv in NCHW\n"
    "(channels_first) and its rate over NHWC's, paired the same way. Each direction's\n"
    "output is compared once with oneDNN's plain layout (largest difference over the\n"
    "largest magnitude; over 1e-3 the cell says MISMATCH and the exit status is 1).\n"
    "FLOPs = 2*N*Hin*Win*Cin*Cout*kh*kw. Shapes as `tconv bench`\n"
    "reads them (groups and dilation must be 1); default: tconv bench's built-in list.\n"
    "\n"
    "  --rounds N   rounds per shape and direction (default 11, at most 101)\n"
    "  --threads N  OpenMP threads for both (default: OMP_NUM_THREADS or all cores)\n";

static int parse_args(int argc, char **argv, options *o) {
  *o = (options){NULL, NULL, omp_get_max_threads(), 11, 0, 7u};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      exit(0);
    }
    if (!strcmp(a, "--nchw")) {
      o->nchw = 1;
      continue;
    }
    if (!v)
      return fprintf(stderr, "tconv-paired: %s needs a value\n%s", a, usage), -1;
    long n = 0;
    if (!strcmp(a, "--threads") || !strcmp(a, "--rounds")) {
      int t = !strcmp(a, "--threads");
      if (tc_arg_long(argc, argv, &i, 1, t ? 4096 : MAX_ROUNDS, &n) != 0)
        return -1;
      *(t ? &o->threads : &o->rounds) = (int)n;
      continue;
    }
    i++;
    if (!strcmp(a, "--shapes"))
      o->shapes = v;
    else if (!strcmp(a, "--only"))
      o->only = v;
    else if (!strcmp(a, "--dir") && (o->dirs = tc_bench_parse_dirs(v)) != 0)
      continue;
    else
      return fprintf(stderr, "tconv-paired: bad option %s %s\n%s", a, v, usage), -1;
  }
  return 0;
}

static int listed(const char *name, const char *only) {
  if (!only)
    return 1;
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", only);
  for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
    if (!strcmp(t, name))
      return 1;
  return 0;
}

/* ---- one shape's contenders ---- */

typedef struct tensors {
  float *x, *kernel, *bias, *dy, *y, *dx, *dk, *db;
} tensors;

typedef struct shape_run {
  tc_conv2dt_plan plan[2]; /* NHWC, NCHW */
  void *ws[2];
  tensors t[2];            /* NCHW: its own outputs, the same inputs */
  onednn_layout L[ONEDNN_LAYOUTS];
  int have[CONTENDERS];
} shape_run;

static float *tensor(int64_t count, uint64_t seed) {
  float *p = tc_aligned_alloc(sizeof(float) * (size_t)(count > 0 ? count : 1));
  for (int64_t i = 0; p && i < count; i++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    p[i] = (float)((double)(seed >> 40) / (double)(1ULL << 24) - 0.5);
  }
  return p;
}

static int alloc_tensors(const tc_conv2dt_plan *p, tensors *t, const tensors *inputs) {
  int64_t f = p->p.filters;
  if (inputs) {
    t->x = inputs->x, t->kernel = inputs->kernel, t->bias = inputs->bias, t->dy = inputs->dy;
  } else {
    t->x = tensor(p->x_size, 1), t->kernel = tensor(p->kernel_size, 2);
    t->bias = tensor(f, 3), t->dy = tensor(p->y_size, 4);
  }
  t->y = tensor(p->y_size, 5), t->dx = tensor(p->x_size, 6);
  t->dk = tensor(p->kernel_size, 7), t->db = tensor(f, 8);
  return t->x && t->kernel && t->bias && t->dy && t->y && t->dx && t->dk && t->db ? 0 : -1;
}

static void free_tensors(tensors *t, int inputs_too) {
  if (inputs_too) {
    tc_aligned_free(t->x), tc_aligned_free(t->kernel);
    tc_aligned_free(t->bias), tc_aligned_free(t->dy);
  }
  tc_aligned_free(t->y), tc_aligned_free(t->dx), tc_aligned_free(t->dk), tc_aligned_free(t->db);
}

static onednn_shape onednn_geometry(const tc_conv2dt_plan *p) {
  onednn_shape g = {p->n,        p->h,          p->w,          p->c,
                    p->p.filters, p->p.kernel_h, p->p.kernel_w, p->p.stride_h,
                    p->p.stride_w, p->oh,       p->ow,         p->pad_top,
                    p->pad_left};
  return g;
}

static int setup_tconv(shape_run *R, const tc_bench_shape *s, int k, const tensors *inputs) {
  if (tc_bench_plan(s, k ? TC_CHANNELS_FIRST : TC_CHANNELS_LAST, &R->plan[k]) != TC_OK)
    return -1;
  R->ws[k] = tc_aligned_alloc(R->plan[k].workspace_bytes ? R->plan[k].workspace_bytes : 64);
  if (!R->ws[k] || alloc_tensors(&R->plan[k], &R->t[k], inputs))
    return -1;
  R->have[k ? TCONV_NCHW : TCONV_NHWC] = 1;
  return 0;
}

static int setup_shape(shape_run *R, const tc_bench_shape *s, int nchw) {
  memset(R, 0, sizeof *R);
  if (s->groups != 1 || s->dh != 1 || s->dw != 1)
    return fprintf(stderr, "tconv-paired: %s: groups and dilation must be 1\n", s->name), -1;
  if (setup_tconv(R, s, 0, NULL) || (nchw && setup_tconv(R, s, 1, &R->t[0])))
    return fprintf(stderr, "tconv-paired: %s: no plan or out of memory\n", s->name), -1;
  onednn_shape g = onednn_geometry(&R->plan[0]);
  onednn_inputs in = {R->t[0].x, R->t[0].kernel, R->t[0].bias, R->t[0].dy};
  for (int l = 0; l < ONEDNN_LAYOUTS; l++) {
    char err[256];
    if (onednn_layout_create(&R->L[l], &g, l, &in, err, sizeof err))
      return fprintf(stderr, "tconv-paired: %s, layout %s: %s\n", s->name,
                     onednn_layout_name(l), err), -1;
    R->have[FIRST_ONEDNN + l] = 1;
  }
  return 0;
}

static void free_shape(shape_run *R) {
  for (int l = 0; l < ONEDNN_LAYOUTS; l++)
    if (R->have[FIRST_ONEDNN + l])
      onednn_layout_destroy(&R->L[l]);
  for (int k = 0; k < 2; k++)
    if (R->ws[k]) {
      free_tensors(&R->t[k], k == 0);
      tc_aligned_free(R->ws[k]);
    }
}

/* One call of contender c in direction d; 0 or -1. */
static int run_once(shape_run *R, int c, int d) {
  if (c >= FIRST_ONEDNN && c < TCONV_NCHW)
    return onednn_layout_run(&R->L[c - FIRST_ONEDNN], d);
  int k = c == TCONV_NCHW;
  const tc_conv2dt_plan *p = &R->plan[k];
  tensors *t = &R->t[k];
  tc_status st = d == 0   ? tc_conv2dt_forward(p, t->x, t->kernel, t->bias, t->y, R->ws[k])
                 : d == 1 ? tc_conv2dt_backward_data(p, t->dy, t->kernel, t->dx, R->ws[k])
                          : tc_conv2dt_backward_weights(p, t->x, t->dy, t->dk, t->db, R->ws[k]);
  return st == TC_OK ? 0 : -1;
}

/* Seconds per call over a block of `calls` calls. */
static double time_block(shape_run *R, int c, int d, int calls) {
  double t0 = omp_get_wtime();
  for (int i = 0; i < calls; i++)
    if (run_once(R, c, d))
      return NAN;
  return (omp_get_wtime() - t0) / calls;
}

/* ---- measuring one direction ---- */

typedef struct cell {
  double med[CONTENDERS]; /* seconds per call, median over rounds */
  int best;               /* oneDNN's fastest layout (contender index) */
  double ratio;           /* tconv NHWC over it: median of per-round time ratios */
  double nchw;            /* tconv NCHW's rate over NHWC's, likewise (NAN without) */
  double diff;            /* tconv against oneDNN plain: max |a - b| / max |b| */
} cell;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double output_diff(shape_run *R, int d) {
  const float *ref = onednn_layout_output(&R->L[ONEDNN_PLAIN], ONEDNN_PLAIN, d);
  const float *out = d == 0 ? R->t[0].y : d == 1 ? R->t[0].dx : R->t[0].dk;
  int64_t n = d == 0 ? R->plan[0].y_size : d == 1 ? R->plan[0].x_size : R->plan[0].kernel_size;
  double dmax = 0, rmax = 0;
  for (int64_t i = 0; ref && i < n; i++) {
    double e = fabs((double)out[i] - ref[i]), m = fabs((double)ref[i]);
    dmax = e > dmax ? e : dmax, rmax = m > rmax ? m : rmax;
  }
  return ref ? dmax / (rmax > 0 ? rmax : 1) : NAN;
}

/* Warm-up (two calls each), then how many calls make a block of MIN_BLOCK_S. */
static int warm_up(shape_run *R, int d, int calls[CONTENDERS]) {
  for (int c = 0; c < CONTENDERS; c++) {
    if (!R->have[c])
      continue;
    if (run_once(R, c, d))
      return -1;
    double t = time_block(R, c, d, 1);
    if (isnan(t))
      return -1;
    calls[c] = t >= MIN_BLOCK_S ? 1 : (int)(MIN_BLOCK_S / (t > 1e-7 ? t : 1e-7)) + 1;
  }
  return 0;
}

/* Medians, oneDNN's best layout, and the paired ratios (each round's two times divided). */
static void summarize(const shape_run *R, double t[CONTENDERS][MAX_ROUNDS], int rounds,
                      cell *out) {
  double v[MAX_ROUNDS];
  out->best = -1;
  for (int c = 0; c < CONTENDERS; c++) {
    out->med[c] = NAN;
    if (!R->have[c])
      continue;
    memcpy(v, t[c], sizeof(double) * (size_t)rounds);
    out->med[c] = median(v, rounds);
    if (c >= FIRST_ONEDNN && c < TCONV_NCHW && (out->best < 0 || out->med[c] < out->med[out->best]))
      out->best = c;
  }
  for (int r = 0; r < rounds; r++)
    v[r] = t[out->best][r] / t[TCONV_NHWC][r];
  out->ratio = median(v, rounds);
  out->nchw = NAN;
  if (R->have[TCONV_NCHW]) {
    for (int r = 0; r < rounds; r++)
      v[r] = t[TCONV_NHWC][r] / t[TCONV_NCHW][r];
    out->nchw = median(v, rounds);
  }
}

static int measure(shape_run *R, int d, int rounds, cell *out) {
  static double t[CONTENDERS][MAX_ROUNDS];
  int calls[CONTENDERS] = {0};
  if (warm_up(R, d, calls))
    return -1;
  out->diff = output_diff(R, d);
  for (int r = 0; r < rounds; r++)
    for (int q = 0; q < CONTENDERS; q++) {
      int c = (r + q) % CONTENDERS;
      if (R->have[c] && isnan(t[c][r] = time_block(R, c, d, calls[c])))
        return -1;
    }
  summarize(R, t, rounds, out);
  return 0;
}

/* ---- the table ---- */

static const char *dir_names[3] = {"fwd", "bd", "bw"};

typedef struct totals {
  double log_ratio[3], log_nchw[3], lowest;
  int cells[3], nchw_cells[3], mismatches;
  char lowest_at[48];
} totals;

static void print_cell(const tc_bench_shape *s, int d, const shape_run *R, const cell *c,
                       double flops, totals *T) {
  double gf[CONTENDERS];
  for (int k = 0; k < CONTENDERS; k++)
    gf[k] = flops / c->med[k] * 1e-9;
  printf("| %s | %s | %.1f | %.1f / %.1f / %.1f | %s | **%.2f** | ", s->name, dir_names[d],
         gf[TCONV_NHWC], gf[FIRST_ONEDNN + ONEDNN_ANY], gf[FIRST_ONEDNN + ONEDNN_NHWC],
         gf[FIRST_ONEDNN + ONEDNN_PLAIN], onednn_layout_name(c->best - FIRST_ONEDNN), c->ratio);
  if (isnan(c->nchw))
    printf("- | ");
  else
    printf("%.1f (%.2f) | ", gf[TCONV_NCHW], c->nchw);
  printf("%.1e%s | %s |\n", c->diff, c->diff > 1e-3 ? " MISMATCH" : "",
         onednn_layout_impl(&R->L[c->best - FIRST_ONEDNN], d));
  fflush(stdout);
  T->log_ratio[d] += log(c->ratio), T->cells[d]++;
  T->mismatches += c->diff > 1e-3;
  if (!isnan(c->nchw))
    T->log_nchw[d] += log(c->nchw), T->nchw_cells[d]++;
  if (T->lowest == 0 || c->ratio < T->lowest) {
    T->lowest = c->ratio;
    snprintf(T->lowest_at, sizeof T->lowest_at, "%.31s %.3s", s->name, dir_names[d]);
  }
}

static void print_totals(const totals *T) {
  if (T->cells[0] + T->cells[1] + T->cells[2] == 0) {
    printf("\nno cell measured\n");
    return;
  }
  printf("\ngeomean tconv / oneDNN's best layout per shape (paired):");
  for (int d = 0; d < 3; d++)
    if (T->cells[d])
      printf(" %s %.2f", dir_names[d], exp(T->log_ratio[d] / T->cells[d]));
  printf("; lowest %.2f (%s)\n", T->lowest, T->lowest_at);
  if (T->nchw_cells[0] + T->nchw_cells[1] + T->nchw_cells[2] == 0)
    return;
  printf("geomean tconv NCHW / NHWC (paired):");
  for (int d = 0; d < 3; d++)
    if (T->nchw_cells[d])
      printf(" %s %.2f", dir_names[d], exp(T->log_nchw[d] / T->nchw_cells[d]));
  printf("\n");
}

static int run_shape(const tc_bench_shape *s, const options *o, totals *T) {
  shape_run *R = calloc(1, sizeof *R);
  int rc = R ? setup_shape(R, s, o->nchw) : -1;
  for (int d = 0; d < 3 && rc == 0; d++) {
    cell c;
    if (!(o->dirs & (1u << d)))
      continue;
    if ((rc = measure(R, d, o->rounds, &c)) != 0)
      fprintf(stderr, "tconv-paired: %s %s: a kernel failed\n", s->name, dir_names[d]);
    else
      print_cell(s, d, R, &c, tc_conv2dt_flops(&R->plan[0]), T);
  }
  if (R)
    free_shape(R);
  free(R);
  return rc;
}

int main(int argc, char **argv) {
  options o;
  static tc_bench_shape shapes[MAX_SHAPES];
  int n = 0;
  tc_arg_program("tconv-paired");
  if (parse_args(argc, argv, &o))
    return 2;
  tc_status st = o.shapes ? tc_bench_load_shapes(o.shapes, shapes, MAX_SHAPES, &n)
                          : tc_bench_builtin_shapes(shapes, MAX_SHAPES, &n);
  if (st != TC_OK)
    return fprintf(stderr, "tconv-paired: cannot read the shapes (%s)\n",
                   o.shapes ? o.shapes : "built-in"), 2;
  int matched = 0;
  for (int i = 0; i < n; i++)
    matched += listed(shapes[i].name, o.only);
  if (!matched)
    return fprintf(stderr, "tconv-paired: no shape named in --only '%s'\n", o.only), 2;
  omp_set_num_threads(o.threads);
  printf("tconv-paired: %d thread(s), tconv %s kernels, oneDNN %s, %d rounds, calls in turn\n\n",
         o.threads, tc_conv2dt_kernel_isa(), onednn_version(), o.rounds);
  printf("| shape | dir | tconv GFLOP/s | oneDNN any / nhwc / plain | best | tconv / best | "
         "tconv NCHW (/ NHWC) | diff | oneDNN's choice |\n|---|---|---|---|---|---|---|---|---|\n");
  totals T = {{0}, {0}, 0, {0}, {0}, 0, ""};
  int failed = 0;
  for (int i = 0; i < n; i++)
    if (listed(shapes[i].name, o.only) && run_shape(&shapes[i], &o, &T))
      failed = 1;
  print_totals(&T);
  if (T.mismatches)
    fprintf(stderr, "tconv-paired: %d cell(s) differ from oneDNN by more than 1e-3\n",
            T.mismatches);
  return failed || T.mismatches ? 1 : 0;
}
