/* caches.c — the data cache sizes, from TCONV_CACHES or the C library, read once. */
#include "core/ukr/caches.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct range {
  size_t lo, hi;
} range;

static const range clamp_of[3] = {
    {(size_t)4 << 10, (size_t)1 << 20},   /* L1D */
    {(size_t)64 << 10, (size_t)64 << 20}, /* L2 */
    {0, (size_t)4 << 30},                 /* L3 */
};
static const char *const level_name[3] = {"L1D", "L2", "L3"};

/* One "<digits>[KMG]" field of s ending at ',' or the end; *end after it. */
static int parse_size(const char *s, const char **end, size_t *out) {
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  char *e;
  unsigned long long v = strtoull(s, &e, 10);
  if (errno)
    return -1;
  int shift = *e == 'K' || *e == 'k'   ? 10
              : *e == 'M' || *e == 'm' ? 20
              : *e == 'G' || *e == 'g' ? 30
                                       : 0;
  if (shift)
    e++;
  if (v > (SIZE_MAX >> shift) || (*e != ',' && *e != '\0'))
    return -1;
  *out = (size_t)v << shift;
  *end = e;
  return 0;
}

tc_status tc_cpu_caches_parse(const char *s, tc_cpu_caches *out) {
  size_t v[3] = {0, 0, TC_CACHE_L3_DEFAULT};
  const char *p = s ? s : "";
  int got = 0, ok = 1;
  for (;;) {
    if (got == 3 || parse_size(p, &p, &v[got]) != 0) {
      ok = 0;
      break;
    }
    if (v[got] < clamp_of[got].lo || v[got] > clamp_of[got].hi)
      return tc_set_error(TC_ERR_INVALID_ARG,
                          "TCONV_CACHES '%.64s': %s of %zu bytes lies outside %zu-%zu", s,
                          level_name[got], v[got], clamp_of[got].lo, clamp_of[got].hi);
    got++;
    if (*p == '\0')
      break;
    p++; /* the comma */
  }
  if (!ok || got < 2)
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "TCONV_CACHES '%.64s' is not 'L1D,L2[,L3]' (bytes, each with an "
                        "optional K, M or G suffix, e.g. '48K,1M,32M')", s ? s : "(null)");
  out->l1d = v[0], out->l2 = v[1], out->l3 = v[2];
  return TC_OK;
}

/* sysconf's answer for one level, clamped; dflt where the C library does not know. */
static size_t reported(int name, int level, size_t dflt) {
  long v = name >= 0 ? sysconf(name) : -1;
  if (v <= 0)
    return dflt;
  size_t s = (size_t)v;
  const range r = clamp_of[level];
  return s < r.lo ? r.lo : s > r.hi ? r.hi : s;
}

#ifndef _SC_LEVEL1_DCACHE_SIZE /* glibc's names; elsewhere the defaults */
#define _SC_LEVEL1_DCACHE_SIZE -1
#define _SC_LEVEL2_CACHE_SIZE -1
#define _SC_LEVEL3_CACHE_SIZE -1
#endif

static pthread_once_t read_once = PTHREAD_ONCE_INIT;
static tc_cpu_caches machine;
static int env_bad;
static char env_value[72];

static void read_machine(void) {
  const char *env = getenv("TCONV_CACHES");
  if (env && *env) {
    env_bad = tc_cpu_caches_parse(env, &machine) != TC_OK;
    if (env_bad)
      snprintf(env_value, sizeof env_value, "%s", env);
    if (!env_bad)
      return;
  }
  machine.l1d = reported(_SC_LEVEL1_DCACHE_SIZE, 0, TC_CACHE_L1D_DEFAULT);
  machine.l2 = reported(_SC_LEVEL2_CACHE_SIZE, 1, TC_CACHE_L2_DEFAULT);
  machine.l3 = reported(_SC_LEVEL3_CACHE_SIZE, 2, TC_CACHE_L3_DEFAULT);
}

static tc_cpu_caches forced;
static int have_forced;

void tc_cpu_caches_override(const tc_cpu_caches *c) {
  have_forced = c != NULL;
  if (c)
    forced = *c;
}

tc_status tc_cpu_caches_get(tc_cpu_caches *out) {
  if (have_forced) {
    *out = forced;
    return TC_OK;
  }
  pthread_once(&read_once, read_machine);
  if (env_bad) {
    tc_cpu_caches ignored;
    return tc_cpu_caches_parse(env_value, &ignored);
  }
  *out = machine;
  return TC_OK;
}
