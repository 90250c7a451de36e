/* omp_wait.h — the tconv command's default OpenMP wait policy (docs/benchmarks.md). */
#ifndef TC_TOOLS_OMP_WAIT_H
#define TC_TOOLS_OMP_WAIT_H

/* Unless the user chose a wait policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT set, even empty),
 * sets OMP_WAIT_POLICY=passive and starts the program again with it (execv of
 * /proc/self/exe with the same argv); returns only if that is not needed or not possible,
 * and then the process goes on as it is. Call first thing in main, before any OpenMP. */
void tc_omp_wait_policy_default(char **argv);

#endif
