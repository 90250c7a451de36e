/* dist_internal.h — the transport under tc_dist (MPI, or one rank), shared by its files. */
#ifndef TC_DIST_INTERNAL_H
#define TC_DIST_INTERNAL_H

#include "optim/dist.h"

struct tc_dist {
  int rank, size;
  int mpi; /* 1: this process called MPI_Init and must finalise */
};

/* Reduce-scatter's transport: piece j of send (count floats each) goes to rank j; recv
 * gets every rank's piece for this rank, in rank order. */
tc_status tc_dist_alltoall_f32(tc_dist *d, const float *send, float *recv, int64_t count);
/* Every rank's `count` floats into all, in rank order. */
tc_status tc_dist_allgather_f32(tc_dist *d, const float *mine, float *all, int64_t count);

/* Seconds on a monotonic clock. */
double tc_dist_now(void);

#endif
