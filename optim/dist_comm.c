/* dist_comm.c — tc_dist's transport: MPI when the build has it and mpirun started us,
 * else a group of one in which every collective is a copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optim/dist_internal.h"

#ifdef TCONV_HAVE_MPI
#include <mpi.h>
#endif

int tc_dist_have_mpi(void) {
#ifdef TCONV_HAVE_MPI
  return 1;
#else
  return 0;
#endif
}

double tc_dist_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#ifdef TCONV_HAVE_MPI
/* mpirun (OpenMPI, or a PMI launcher) sets these; a plain `tconv train` runs alone without
 * paying for MPI's singleton start-up. */
static int tc_dist_launched(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") != NULL || getenv("PMI_SIZE") != NULL ||
         getenv("PMIX_RANK") != NULL;
}

static tc_status tc_dist_mpi_error(int rc, const char *call) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
    snprintf(msg, sizeof msg, "error %d", rc);
  return tc_set_error(TC_ERR_IO, "%s failed: %s", call, msg);
}
#define TC_MPI(call, name)                                                                   \
  do {                                                                                       \
    int tc_mpi_rc_ = (call);                                                                 \
    if (tc_mpi_rc_ != MPI_SUCCESS)                                                           \
      return tc_dist_mpi_error(tc_mpi_rc_, name);                                            \
  } while (0)

static tc_status tc_dist_mpi_init(tc_dist *d) {
  int inited = 0, provided = 0;
  MPI_Initialized(&inited);
  if (!inited) {
    /* Only the main thread calls MPI; OpenMP threads compute between the calls. */
    TC_MPI(MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    d->mpi = 1;
  }
  /* Errors come back as codes (and then statuses) instead of ending the process here. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  TC_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &d->rank), "MPI_Comm_rank");
  TC_MPI(MPI_Comm_size(MPI_COMM_WORLD, &d->size), "MPI_Comm_size");
  return TC_OK;
}
#endif

tc_status tc_dist_init(tc_dist **out) {
  *out = NULL;
  tc_dist *d = calloc(1, sizeof *d);
  if (d == NULL)
    return tc_set_error(TC_ERR_NOMEM, "tc_dist_init: out of memory");
  d->size = 1;
#ifdef TCONV_HAVE_MPI
  if (tc_dist_launched()) {
    tc_status s = tc_dist_mpi_init(d);
    if (s != TC_OK) {
      free(d);
      return s;
    }
  }
#else
  /* Started by mpirun with several ranks, each process would train alone and all would
   * write the same files. */
  const char *n = getenv("OMPI_COMM_WORLD_SIZE") ? getenv("OMPI_COMM_WORLD_SIZE")
                                                 : getenv("PMI_SIZE");
  if (n != NULL && atoi(n) > 1) {
    free(d);
    return tc_set_error(TC_ERR_UNSUPPORTED, "started as one of %d MPI ranks, but this tconv "
                        "was built without MPI (install libopenmpi-dev and rebuild)", atoi(n));
  }
#endif
  *out = d;
  return TC_OK;
}

void tc_dist_free(tc_dist *d) {
  if (d == NULL)
    return;
#ifdef TCONV_HAVE_MPI
  /* mpirun ends the job when a rank exits non-zero: the barrier keeps rank 0 (which says
   * why) alive until every rank is here. */
  if (d->size > 1)
    MPI_Barrier(MPI_COMM_WORLD);
  if (d->mpi)
    MPI_Finalize();
#endif
  free(d);
}

int tc_dist_rank(const tc_dist *d) { return d->rank; }
int tc_dist_size(const tc_dist *d) { return d->size; }

void tc_dist_abort(tc_dist *d, int code) {
#ifdef TCONV_HAVE_MPI
  if (d->size > 1)
    MPI_Abort(MPI_COMM_WORLD, code);
#else
  (void)d, (void)code;
#endif
}

tc_status tc_dist_broadcast(tc_dist *d, void *buf, size_t bytes) {
#ifdef TCONV_HAVE_MPI
  for (size_t at = 0; d->size > 1 && at < bytes; at += (size_t)1 << 30) {
    size_t n = bytes - at < (size_t)1 << 30 ? bytes - at : (size_t)1 << 30;
    TC_MPI(MPI_Bcast((char *)buf + at, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
  }
#else
  (void)d, (void)buf, (void)bytes;
#endif
  return TC_OK;
}

tc_status tc_dist_allgather(tc_dist *d, const void *mine, void *all, size_t bytes) {
  if (bytes > (size_t)1 << 30)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_dist_allgather: %zu bytes per rank, at most 2^30",
                        bytes);
#ifdef TCONV_HAVE_MPI
  if (d->size > 1) {
    TC_MPI(MPI_Allgather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, MPI_COMM_WORLD),
           "MPI_Allgather");
    return TC_OK;
  }
#endif
  (void)d;
  memcpy(all, mine, bytes);
  return TC_OK;
}

tc_status tc_dist_alltoall_f32(tc_dist *d, const float *send, float *recv, int64_t count) {
  if (count > (int64_t)1 << 30)
    return tc_set_error(TC_ERR_INVALID_ARG, "gradient sum: %lld floats per rank, at most 2^30",
                        (long long)count);
#ifdef TCONV_HAVE_MPI
  if (d->size > 1) {
    TC_MPI(MPI_Alltoall(send, (int)count, MPI_FLOAT, recv, (int)count, MPI_FLOAT, MPI_COMM_WORLD),
           "MPI_Alltoall");
    return TC_OK;
  }
#endif
  (void)d;
  memcpy(recv, send, (size_t)count * sizeof *send);
  return TC_OK;
}

tc_status tc_dist_allgather_f32(tc_dist *d, const float *mine, float *all, int64_t count) {
  return tc_dist_allgather(d, mine, all, (size_t)count * sizeof *mine);
}
