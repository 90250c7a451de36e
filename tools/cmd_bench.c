/* cmd_bench.c — `tconv bench`: GFLOP/s of the three conv2dt kernels per benchmark shape. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "tools/bench.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

#define TC_BENCH_MAX_SHAPES 256

static void tc_bench_help(FILE *out) {
  fprintf(out,
          "usage: tconv bench [--shapes FILE] [--reps N] [--threads N]\n"
          "                   [--format nhwc|nchw|both] [--dir all|fwd|bd|bw] [--csv]\n\n"
          "Times forward, backward_data and backward_weights of conv2d_transpose on each shape\n"
          "of FILE (`name N Hin Win Cin Cout kh kw sh sw same|valid|p [groups=G]\n"
          "[dilation=D|DHxDW]`, p = PyTorch padding, run exactly as an explicit crop; groups\n"
          "and dilation default to 1) and prints the median GFLOP/s of each, with\n"
          "FLOPs = 2*N*Hin*Win*Cin*(Cout/G)*kh*kw per kernel, the share of this machine's FMA\n"
          "peak (its widest FMA, AVX-512 or AVX2) measured in the same run, the plan's\n"
          "workspace, and what the plan chose: each direction's algorithm, the micro-kernels'\n"
          "instruction set, threads. TCONV_ISA=avx2|portable caps the instruction set.\n\n"
          "  --shapes FILE   shapes file (default: tools/shapes.txt, built into the command)\n"
          "  --reps N        timed calls per kernel after one warm-up (default 10)\n"
          "  --threads N     OpenMP threads (default: OMP_NUM_THREADS or all cores)\n"
          "  --format F      nhwc (default), nchw, or both: each shape in NHWC then NCHW,\n"
          "                  back to back, with the NCHW/NHWC ratio of each kernel\n"
          "  --dir D         time only forward (fwd), backward data (bd) or backward\n"
          "                  weights (bw), each reported as - (nan in CSV) otherwise;\n"
          "                  several joined by commas (default all)\n"
          "  --csv           comma-separated values instead of a table\n");
}

typedef struct bench_opts {
  const char *shapes;
  long reps, threads;
  tc_data_format fmt;
  int csv;
  int both;     /* --format both */
  unsigned ops; /* --dir: TC_BENCH_* */
} bench_opts;

/* 0 ok, 1 help printed, 2 bad usage. */
static int parse_opts(int argc, char **argv, bench_opts *o) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      tc_bench_help(stdout);
      return 1;
    } else if (strcmp(argv[i], "--csv") == 0) {
      o->csv = 1;
    } else if (strcmp(argv[i], "--shapes") == 0 && i + 1 < argc) {
      o->shapes = argv[++i];
    } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
      o->both = strcmp(argv[i + 1], "both") == 0;
      if (o->both)
        i++;
      else if (tc_data_format_parse(argv[++i], &o->fmt) != TC_OK) {
        fprintf(stderr, "tconv bench: %s\n", tc_last_error());
        return 2;
      }
    } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      if ((o->ops = tc_bench_parse_dirs(argv[++i])) == 0) {
        fprintf(stderr, "tconv bench: --dir '%s': expected all, or fwd, bd, bw joined by "
                        "commas\n", argv[i]);
        return 2;
      }
    } else if (strcmp(argv[i], "--reps") == 0) {
      if (tc_arg_long(argc, argv, &i, 1, 100000, &o->reps) != 0)
        return 2;
    } else if (strcmp(argv[i], "--threads") == 0) {
      if (tc_arg_long(argc, argv, &i, 1, 4096, &o->threads) != 0)
        return 2;
    } else {
      fprintf(stderr, "tconv bench: unknown option '%s'\n", argv[i]);
      tc_bench_help(stderr);
      return 2;
    }
  }
  return 0;
}

/* v with fmt, or "-" for a kernel not timed (NAN). */
static const char *cell(char buf[16], const char *fmt, double v) {
  if (isnan(v))
    snprintf(buf, 16, "-");
  else
    snprintf(buf, 16, fmt, v);
  return buf;
}

static void print_row(const bench_opts *o, const char *name, const tc_bench_result *r,
                      double peak) {
  double gf = r->flops * 1e-9, mib = (double)r->workspace_bytes / (1 << 20);
  if (o->csv) {
    printf("%s,%.4f,%.2f,%.2f,%.2f,%.1f,%.1f,%.1f,%zu,%d,%s\n", name, gf, r->gflops[0],
           r->gflops[1], r->gflops[2], 100 * r->gflops[0] / peak, 100 * r->gflops[1] / peak,
           100 * r->gflops[2] / peak, r->workspace_bytes, r->threads, r->plan);
    return;
  }
  char b[6][16];
  const double *g = r->gflops;
  printf("%-12s %7.2f | %7s %7s %7s | %5s %5s %5s | %8.2f %8.2f\n", name, gf,
         cell(b[0], "%.1f", g[0]), cell(b[1], "%.1f", g[1]), cell(b[2], "%.1f", g[2]),
         cell(b[3], "%.0f", 100 * g[0] / peak), cell(b[4], "%.0f", 100 * g[1] / peak),
         cell(b[5], "%.0f", 100 * g[2] / peak), mib, mib / r->threads);
  printf("%-12s %s\n", "", r->plan);
}

static void print_header(const bench_opts *o, double peak, int threads) {
  if (o->csv) {
    printf("# peak_gflops=%.1f peak_isa=%s kernel_isa=%s threads=%d format=%s\n", peak,
           tc_bench_fma_isa(), tc_conv2dt_kernel_isa(), threads,
           o->both ? "both" : tc_data_format_name(o->fmt));
    printf("shape,gflop,fwd_gflops,bwd_data_gflops,bwd_weights_gflops,fwd_pct_peak,"
           "bwd_data_pct_peak,bwd_weights_pct_peak,workspace_bytes,threads,plan\n");
    return;
  }
  printf("tconv bench: %s, %d thread(s), %s kernels; %s FMA peak measured now: %.1f "
         "GFLOP/s\n",
         o->both ? "NHWC then NCHW (name/nchw)" : tc_data_format_name(o->fmt), threads,
         tc_conv2dt_kernel_isa(), tc_bench_fma_isa(),
         peak);
  printf("%-12s %7s | %7s %7s %7s | %5s %5s %5s | %8s %8s\n", "shape", "GFLOP", "fwd",
         "bwd_d", "bwd_w", "%pk", "%pk", "%pk", "ws MiB", "MiB/thr");
}

/* One shape in one layout: its row; 0, or 1 after an error message. */
static int run_one(const bench_opts *o, const tc_bench_shape *s, tc_data_format fmt,
                   double peak, tc_bench_result *r) {
  if (tc_bench_run(s, fmt, (int)o->reps, o->ops, r) != TC_OK) {
    fprintf(stderr, "tconv bench: %s: %s\n", s->name, tc_last_error());
    return 1;
  }
  char name[48];
  snprintf(name, sizeof name, "%.31s%s", s->name, o->both && fmt ? "/nchw" : "");
  print_row(o, name, r, peak);
  return 0;
}

/* The shapes in turn (each in NHWC then NCHW for --format both, with the ratio), then the
 * geometric means. */
static int run_shapes(const bench_opts *o, const tc_bench_shape *shapes, int n, double peak) {
  double logsum[2][3] = {{0}};
  for (int i = 0; i < n; i++) {
    tc_bench_result r[2];
    for (int f = 0; f < 1 + o->both; f++) {
      tc_data_format fmt = o->both ? (tc_data_format)f : o->fmt;
      if (run_one(o, &shapes[i], fmt, peak, &r[f]))
        return 1;
      for (int k = 0; k < 3; k++)
        logsum[f][k] += log(r[f].gflops[k]);
    }
    if (o->both && !o->csv) {
      char b[3][16];
      const double *g0 = r[0].gflops, *g1 = r[1].gflops;
      printf("%-12s %7s | %7s %7s %7s | nchw/nhwc\n", "", "", cell(b[0], "%.2f", g1[0] / g0[0]),
             cell(b[1], "%.2f", g1[1] / g0[1]), cell(b[2], "%.2f", g1[2] / g0[2]));
    }
    fflush(stdout);
  }
  if (n > 0 && !o->csv)
    for (int f = 0; f < 1 + o->both; f++) {
      char b[3][16];
      printf("%-12s %7s | %7s %7s %7s |\n", f ? "geomean/nchw" : "geomean", "",
             cell(b[0], "%.1f", exp(logsum[f][0] / n)), cell(b[1], "%.1f", exp(logsum[f][1] / n)),
             cell(b[2], "%.1f", exp(logsum[f][2] / n)));
    }
  return 0;
}

int tc_cmd_bench(int argc, char **argv) {
  bench_opts o = {NULL, 10, 0, TC_CHANNELS_LAST, 0, 0, TC_BENCH_ALL};
  int rc = parse_opts(argc, argv, &o);
  if (rc)
    return rc == 1 ? 0 : rc;
  if (o.threads > 0)
    omp_set_num_threads((int)o.threads);
  static tc_bench_shape shapes[TC_BENCH_MAX_SHAPES];
  int n = 0;
  tc_status st = o.shapes ? tc_bench_load_shapes(o.shapes, shapes, TC_BENCH_MAX_SHAPES, &n)
                          : tc_bench_builtin_shapes(shapes, TC_BENCH_MAX_SHAPES, &n);
  if (st != TC_OK) {
    fprintf(stderr, "tconv bench: %s\n", tc_last_error());
    return 1;
  }
  int threads = omp_get_max_threads();
  double peak = tc_bench_fma_peak(threads);
  print_header(&o, peak > 0 ? peak : NAN, threads);
  return run_shapes(&o, shapes, n, peak > 0 ? peak : NAN);
}
