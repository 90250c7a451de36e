/* dist_alloc_fail.c — a rank that cannot allocate the shard sum's buffers must not leave
 * the others waiting: run under `mpirun -np 2`, rank 1 caps its address space so that the
 * first tc_dist_sum_begin cannot make its buffers, and both ranks must get an error from
 * begin and from finish (rank 0 one that names rank 1), then leave. Before the buffers
 * were agreed on, rank 0 went into the exchange that rank 1 never joined and the job hung
 * (the test's timeout catches that). Exit 0 when both ranks saw the failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "optim/dist.h"

#define ELEMENTS (32ll << 20) /* 128 MiB of state: each buffer of the sum is as large */

/* The process's address space now, from /proc/self/status (VmSize, KiB), in bytes. */
static long long address_space_bytes(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %lld kB", &kib) == 1)
      break;
  if (f)
    fclose(f);
  return kib * 1024;
}

static int fail(int rank, const char *what) {
  fprintf(stderr, "dist_alloc_fail: rank %d: %s (%s)\n", rank, what, tc_last_error());
  return 1;
}

int main(void) {
  tc_dist *d;
  tc_model *m;
  tc_param *state;
  tc_dist_sum *sum;
  if (tc_dist_init(&d) != TC_OK)
    return fail(-1, "init");
  int rank = tc_dist_rank(d);
  if (tc_dist_size(d) != 2) {
    fprintf(stderr, "dist_alloc_fail: run with mpirun -np 2\n");
    tc_dist_free(d);
    return 2;
  }
  int64_t shape[1] = {ELEMENTS};
  if (tc_model_create(&m, 1) != TC_OK ||
      tc_model_add_param(m, "l", "stat", TC_PARAM_STATE, 1, shape, &state) != TC_OK ||
      tc_dist_sum_create(&sum, d, 2, 1) != TC_OK || tc_dist_sum_add_state(sum, m) != TC_OK)
    return fail(rank, "setup");
  if (rank == 1) { /* room for MPI's own small mappings, not for a 128 MiB buffer */
    long long now = address_space_bytes();
    struct rlimit cap = {(rlim_t)(now + (64ll << 20)), (rlim_t)(now + (64ll << 20))};
    if (now <= 0 || setrlimit(RLIMIT_AS, &cap) != 0)
      return fail(rank, "cannot cap the address space");
  }
  tc_status began = tc_dist_sum_begin(sum);
  if (began != TC_ERR_NOMEM)
    return fail(rank, began == TC_OK ? "begin succeeded" : "begin failed, not for memory");
  if (rank == 0 && strstr(tc_last_error(), "rank 1") == NULL)
    return fail(rank, "the error does not name rank 1");
  float loss;
  if (tc_dist_sum_finish(sum, began, 0, &loss, NULL) == TC_OK)
    return fail(rank, "finish succeeded after begin failed");
  printf("rank %d: begin and finish failed together: %s\n", rank, tc_last_error());
  tc_dist_sum_free(sum);
  tc_model_free(m);
  tc_dist_free(d);
  return 0;
}
