/* omp_wait.c — the OpenMP wait policy chosen from how busy the machine is at start-up.
 *
 * Between parallel regions libgomp's idle threads spin (up to GOMP_SPINCOUNT, 300000
 * iterations, when OMP_WAIT_POLICY is unset) before they sleep. A training step runs about
 * a hundred short parallel regions. When other processes want the cores, a spinning thread
 * takes the core from the thread that has real work: on a busy 2-core machine training ran
 * 3-13x slower with 2 threads than with 1. With OMP_WAIT_POLICY=passive waiting threads
 * sleep at once, which is right on a busy machine but costs a wake-up per region on an idle
 * one: there 2 threads trained the autoencoder 2.4x slower passive than spinning, slower
 * than 1 thread. So `tconv train` samples its CPUs' idle time for a moment: when they are
 * idle enough for its threads it spins briefly (GOMP_SPINCOUNT=10000: long enough for the
 * gaps between a step's regions; should other work arrive later it costs a third against
 * sleeping, where libgomp's full spin cost 8x with load from the start), otherwise it
 * waits passively (docs/benchmarks.md, "OpenMP wait policy", has the measurements). The
 * other commands are short and wait passively.
 *
 * libgomp reads its environment once, in a constructor that runs before main, and has no
 * call that changes the wait policy later; so the command sets the variables and executes
 * itself again. The library itself leaves the policy to the program that links it. */
#define _GNU_SOURCE
#include "tools/omp_wait.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TC_SPIN_COUNT "10000"
#define TC_SAMPLE_NS 50000000L /* 50 ms: /proc/stat counts in 10 ms ticks per CPU */

/* Idle and total ticks, summed over the CPUs this process may run on; 0 if unreadable. */
static int tc_cpu_ticks(const cpu_set_t *mine, unsigned long long *idle,
                        unsigned long long *total) {
  FILE *f = fopen("/proc/stat", "r");
  if (!f)
    return 0;
  char line[512];
  int cpus = 0;
  *idle = *total = 0;
  while (fgets(line, sizeof line, f)) {
    int cpu;
    unsigned long long v[8] = {0};
    if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
      continue;
    if (sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1],
               &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 9)
      continue;
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, mine))
      continue;
    /* user nice system idle iowait irq softirq steal: a VM's stolen time is not idle */
    for (int k = 0; k < 8; k++)
      *total += v[k];
    *idle += v[3] + v[4];
    cpus++;
  }
  fclose(f);
  return cpus;
}

/* How many of this process's CPUs were idle over the sample (negative: unknown). */
static double tc_idle_cpus(void) {
  cpu_set_t mine;
  if (sched_getaffinity(0, sizeof mine, &mine) != 0)
    return -1;
  unsigned long long idle0, total0, idle1, total1;
  int cpus = tc_cpu_ticks(&mine, &idle0, &total0);
  if (cpus == 0)
    return -1;
  struct timespec pause = {0, TC_SAMPLE_NS};
  nanosleep(&pause, NULL);
  if (tc_cpu_ticks(&mine, &idle1, &total1) != cpus || total1 <= total0)
    return -1;
  return cpus * (double)(idle1 - idle0) / (double)(total1 - total0);
}

static long tc_env_long(const char *name, long fallback) {
  const char *s = getenv(name);
  char *end;
  long v = s ? strtol(s, &end, 10) : 0;
  return s && *s && *end == '\0' && v > 0 ? v : fallback;
}

/* Threads this process will run: --threads N, else OMP_NUM_THREADS, else its CPUs; times
 * the ranks an MPI launcher started on this node (Open MPI, MPICH), which share its CPUs. */
static long tc_threads_wanted(char **argv) {
  cpu_set_t mine;
  long threads = sched_getaffinity(0, sizeof mine, &mine) == 0 ? CPU_COUNT(&mine) : 1;
  threads = tc_env_long("OMP_NUM_THREADS", threads);
  for (int i = 1; argv[i] && argv[i + 1]; i++) {
    long given = strcmp(argv[i], "--threads") == 0 ? strtol(argv[i + 1], NULL, 10) : 0;
    threads = given > 0 ? given : threads; /* a bad value is the option parser's to refuse */
  }
  long ranks = tc_env_long("OMPI_COMM_WORLD_LOCAL_SIZE", tc_env_long("MPI_LOCALNRANKS", 1));
  return threads * ranks;
}

int tc_omp_wait_spin_suits(double idle_cpus, long threads) {
  return threads >= 2 && idle_cpus >= (double)threads - 0.5;
}

void tc_omp_wait_policy_default(char **argv, int look_at_load) {
  if (getenv("OMP_WAIT_POLICY") != NULL || getenv("GOMP_SPINCOUNT") != NULL)
    return;
  long threads = tc_threads_wanted(argv);
  double idle = look_at_load && threads >= 2 ? tc_idle_cpus() : -1;
  char why[96];
  int spin = tc_omp_wait_spin_suits(idle, threads);
  if (spin)
    snprintf(why, sizeof why, "spin %s (%.1f CPUs idle at start for %ld threads)",
             TC_SPIN_COUNT, idle, threads);
  else if (idle >= 0)
    snprintf(why, sizeof why, "passive (%.1f CPUs idle at start for %ld threads)", idle,
             threads);
  else
    snprintf(why, sizeof why, "passive");
  if ((spin ? setenv("GOMP_SPINCOUNT", TC_SPIN_COUNT, 1)
            : setenv("OMP_WAIT_POLICY", "passive", 1)) != 0 ||
      setenv("TCONV_OMP_WAIT", why, 1) != 0)
    return;
  execv("/proc/self/exe", argv);
  /* No /proc (or no exec): run on with the default policy; the variable now set is
   * harmless (and stops any further attempt). */
}

const char *tc_omp_wait_chosen(void) {
  /* TCONV_OMP_WAIT describes the variable this process (or the tconv that started it) set;
   * without that variable it is stale (a user's export, say) and says nothing. */
  const char *why = getenv("TCONV_OMP_WAIT");
  int set = getenv("OMP_WAIT_POLICY") != NULL || getenv("GOMP_SPINCOUNT") != NULL;
  if (why && set)
    return why;
  return set ? "as set by the environment" : "libgomp's default";
}
