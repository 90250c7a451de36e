/* omp_wait.c — passive OpenMP waiting by default, for machines shared with other jobs.
 *
 * Between parallel regions libgomp's idle threads spin (up to GOMP_SPINCOUNT, 300000
 * iterations, when OMP_WAIT_POLICY is unset) before they sleep. A training step runs
 * hundreds of short parallel regions, so a spinning thread holds its core almost all the
 * time; when other processes want that core, the thread that has real work waits for the
 * scheduler instead, and on a busy 2-core machine training ran 3-13x slower with 2 threads
 * than with 1. With OMP_WAIT_POLICY=passive waiting threads sleep at once: on the loaded
 * machine 2 threads are then faster than 1, and on an idle one they cost little
 * (docs/benchmarks.md, "OpenMP wait policy", has the measurements).
 *
 * libgomp reads its environment once, in a constructor that runs before main, and has no
 * call that changes the wait policy later; so the command sets the variable and executes
 * itself again. The library itself leaves the policy to the program that links it. */
#define _GNU_SOURCE
#include "tools/omp_wait.h"

#include <stdlib.h>
#include <unistd.h>

void tc_omp_wait_policy_default(char **argv) {
  if (getenv("OMP_WAIT_POLICY") != NULL || getenv("GOMP_SPINCOUNT") != NULL)
    return;
  if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0)
    return;
  execv("/proc/self/exe", argv);
  /* No /proc (or no exec): run on with the default policy; the variable now set is
   * harmless (and stops any further attempt). */
}
