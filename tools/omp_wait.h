/* omp_wait.h — the tconv command's default OpenMP wait policy (docs/benchmarks.md). */
#ifndef TC_TOOLS_OMP_WAIT_H
#define TC_TOOLS_OMP_WAIT_H

/* Unless the user chose a wait policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT set, even empty),
 * chooses one, sets it and starts the program again with it (execv of /proc/self/exe with
 * the same argv); returns only if that is not needed or not possible, and then the process
 * goes on as it is. With look_at_load, the process's CPUs are sampled for 50 ms: if they
 * were idle enough for its threads (--threads N in argv, else OMP_NUM_THREADS, else its
 * CPUs; times the MPI ranks on the node) threads spin briefly (GOMP_SPINCOUNT=10000),
 * otherwise OMP_WAIT_POLICY=passive; without it, passive. Call first thing in main, before
 * any OpenMP. */
void tc_omp_wait_policy_default(char **argv, int look_at_load);

/* The rule: a brief spin when at least threads - 0.5 CPUs were idle and threads >= 2. */
int tc_omp_wait_spin_suits(double idle_cpus, long threads);

/* What the process runs with, in words, for the command to print: the choice and why
 * ("spin 10000 (2.0 CPUs idle at start for 2 threads)"), "as set by the environment" or
 * "libgomp's default". */
const char *tc_omp_wait_chosen(void);

#endif
