/* bench.h — timing the three conv2dt kernels on benchmark shapes (the toolkit behind
 * `tconv bench`; it prints nothing).
 *
 *   tc_bench_shape s[64]; int n;
 *   tc_bench_load_shapes("tools/shapes.txt", s, 64, &n);
 *   double peak = tc_bench_fma_peak(2);
 *   tc_bench_result r; tc_bench_run(&s[0], TC_CHANNELS_LAST, 10, TC_BENCH_ALL, &r);
 *
 * Shapes file: one shape a line, `name N Hin Win Cin Cout kh kw sh sw padding`, with
 * padding `same`, `valid` or an integer p: PyTorch's symmetric padding, run exactly as an
 * explicit plan with output (in-1)*s + k - 2p and a leading crop of p; then optionally
 * `groups=G` and `dilation=D` (or `dilation=DHxDW`), default 1. '#' starts a comment. */
#ifndef TC_TOOLS_BENCH_H
#define TC_TOOLS_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/conv2dt.h"
#include "core/status.h"

typedef struct tc_bench_shape {
  char name[32];
  int64_t n;
  int h, w, cin, cout, kh, kw, sh, sw;
  int pad;     /* -1: same, -2: valid, >= 0: symmetric PyTorch padding */
  int groups, dh, dw; /* optional fields, default 1 */
} tc_bench_shape;

typedef struct tc_bench_result {
  double gflops[3];       /* median GFLOP/s of forward, backward_data, backward_weights */
  double flops;           /* 2*N*Hin*Win*Cin*(Cout/groups)*kh*kw per kernel */
  size_t workspace_bytes; /* the plan's, for omp_get_max_threads() threads */
  int threads;            /* omp_get_max_threads() during the run */
  char plan[160];         /* what the plan chose (tc_conv2dt_plan_describe) */
} tc_bench_result;

/* Reads up to cap shapes; TC_ERR_IO when the file cannot be opened, TC_ERR_FORMAT with the
 * line number for a malformed line. */
tc_status tc_bench_load_shapes(const char *path, tc_bench_shape *out, int cap, int *count);

/* tools/shapes.txt as it was at build time (generated into the build tree by CMake), so the
 * installed command needs no source tree. */
extern const char tc_bench_shapes_text[];

/* The same reading of tc_bench_shapes_text; errors name it "built-in shapes". */
tc_status tc_bench_builtin_shapes(tc_bench_shape *out, int cap, int *count);

/* Fills a plan for the shape in the given layout (the integer padding as an explicit plan). */
tc_status tc_bench_plan(const tc_bench_shape *s, tc_data_format fmt, tc_conv2dt_plan *plan);

/* The kernels a run times: a mask of forward, backward data, backward weights. */
#define TC_BENCH_FWD 1u
#define TC_BENCH_BWD_DATA 2u
#define TC_BENCH_BWD_WEIGHTS 4u
#define TC_BENCH_ALL 7u

/* --dir's value: "all", or fwd, bd, bw joined by commas; the mask, 0 when it is none of
 * these (an empty name, an unknown one). */
unsigned tc_bench_parse_dirs(const char *v);

/* Times each kernel of ops reps times after one warm-up call and reports medians (NAN for
 * the kernels not in ops). Allocates the tensors and the workspace; TC_ERR_NOMEM when it
 * cannot. */
tc_status tc_bench_run(const tc_bench_shape *s, tc_data_format fmt, int reps, unsigned ops,
                       tc_bench_result *out);

/* This machine's FMA peak in GFLOP/s with nthreads threads, with the widest FMA it has
 * (AVX-512 or AVX2; 12 independent chains per thread, as /work/shared/bench/peak.c); 0
 * when the CPU lacks FMA. tc_bench_fma_isa() names that FMA: "AVX-512", "AVX2", "none". */
double tc_bench_fma_peak(int nthreads);
const char *tc_bench_fma_isa(void);

#endif
