/* dist_sum_bench.c — the shard sum across MPI ranks, checked and timed.
 *
 *   mpirun -np 2 build/tests/dist_sum_bench 4 1024 262144 1048576
 *
 * arguments: the shard count, then vector lengths in floats. For each length every rank
 * fills its shards' "gradients" with values of widely different magnitudes (so that any
 * other order of additions would change bits), sums them with tc_dist_sum, and compares
 * every element with the balanced tree over all shards computed here alone: exit 1 on
 * the first difference. Then rank 0 prints the median and the best time of 15 sums (the
 * ranks meet before each) and the bandwidth at the median: algorithm (vector bytes / time)
 * and bus (times 2(N-1)/N, the bytes each rank moves in a bandwidth-optimal allreduce). On
 * a machine shared with other work the best time is the nearer to the exchange's own cost:
 * a collective needs every rank on a core at once. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim/dist.h"

/* Shard k's element i: a mantissa and a binary exponent from a hash, exponents -20..20. */
static float leaf_value(int k, int64_t i) {
  uint64_t h = ((uint64_t)k * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)i * 0xC2B2AE3D27D4EB4Full);
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  float m = (float)(h & 0xFFFFFF) / 16777216.0f - 0.5f;
  return ldexpf(m, (int)((h >> 24) % 41) - 20);
}

/* The balanced tree over shards [lo, hi) for element i, as one process would add it. */
static float tree(int lo, int hi, int64_t i) {
  if (hi - lo == 1)
    return leaf_value(lo, i);
  int mid = lo + (hi - lo) / 2;
  return tree(lo, mid, i) + tree(mid, hi, i);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One sum of n floats; *secs: this rank's time in the cross-rank part (tc_dist_sum_stats). */
static tc_status one_sum(tc_dist *d, tc_dist_sum *s, tc_param *p, double *secs) {
  int first, count;
  tc_dist_sum_local(s, &first, &count);
  TC_TRY(tc_dist_sum_begin(s));
  for (int k = first; k < first + count; k++) {
    for (int64_t i = 0; i < p->value->size; i++)
      p->value->grad[i] = leaf_value(k, i);
    TC_TRY(tc_dist_sum_push(s, NULL));
  }
  TC_TRY(tc_dist_agree(d, TC_OK)); /* the ranks start the exchange together */
  double before = tc_dist_sum_stats_of(s).seconds;
  TC_TRY(tc_dist_sum_finish(s, TC_OK, 0, NULL, NULL));
  *secs = tc_dist_sum_stats_of(s).seconds - before;
  return TC_OK;
}

static tc_status bench(tc_dist *d, int shards, int64_t n) {
  tc_model *m = NULL;
  tc_optim *opt = NULL;
  tc_dist_sum *s = NULL;
  tc_param *p;
  double secs[15];
  tc_optim_config c = tc_optim_config_default(TC_OPTIM_SGD);
  tc_status st = tc_model_create(&m, 1);
  if (st == TC_OK)
    st = tc_model_add_param(m, "bench", "w", TC_PARAM_WEIGHT, 1, &n, &p);
  if (st == TC_OK)
    st = tc_optim_create(&opt, &c, m, NULL);
  if (st == TC_OK)
    st = tc_dist_sum_create(&s, d, shards, 0);
  if (st == TC_OK)
    st = tc_dist_sum_add_optim(s, opt);
  for (int r = 0; st == TC_OK && r < 15; r++)
    st = one_sum(d, s, p, &secs[r]);
  for (int64_t i = 0; st == TC_OK && i < n; i++)
    if (p->value->grad[i] != tree(0, shards, i) * (1.0f / (float)shards))
      st = tc_set_error(TC_ERR_STATE, "element %lld: %a, the tree gives %a", (long long)i,
                        (double)p->value->grad[i], (double)(tree(0, shards, i) / (float)shards));
  st = tc_dist_agree(d, st);
  if (st == TC_OK && tc_dist_rank(d) == 0) {
    qsort(secs, 15, sizeof *secs, cmp_double);
    int ranks = tc_dist_size(d);
    double bytes = 4.0 * (double)n, t = secs[7];
    printf("%d ranks %4d shards %9lld floats: median %9.1f us (best %8.1f us), algorithm "
           "%8.1f MB/s, bus %8.1f MB/s, bit-exact\n", ranks, shards, (long long)n, 1e6 * t,
           1e6 * secs[0], bytes / t / 1e6, bytes * 2.0 * (ranks - 1) / ranks / t / 1e6);
  }
  tc_dist_sum_free(s);
  tc_optim_free(opt);
  tc_model_free(m);
  return st;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s SHARDS FLOATS...\n", argv[0]);
    return 2;
  }
  tc_dist *d;
  tc_status st = tc_dist_init(&d);
  for (int a = 2; st == TC_OK && a < argc; a++)
    st = bench(d, atoi(argv[1]), atoll(argv[a]));
  int rank = st == TC_OK || d == NULL ? 0 : tc_dist_rank(d);
  if (st != TC_OK)
    fprintf(stderr, "dist_sum_bench (rank %d): %s\n", rank, tc_last_error());
  tc_dist_free(d);
  return st == TC_OK ? 0 : 1;
}
