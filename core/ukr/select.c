/* select.c — which micro-kernel table runs: the CPU's widest, capped by the environment,
 * chosen once per process (pthread_once: two threads' first calls cannot race). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ukr/ukr.h"

/* Narrowest first, indexed by tc_isa. A new ISA adds its table here and in cpu_isa. */
static const tc_ukr_table *const tables[TC_ISA_COUNT] = {&tc_ukr_portable, &tc_ukr_avx2,
                                                         &tc_ukr_avx512};

/* The widest kernels this CPU (and its OS, which must save the zmm state) can run. */
static tc_isa cpu_isa(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return TC_ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return TC_ISA_AVX2;
#endif
  return TC_ISA_PORTABLE;
}

const char *tc_isa_name(tc_isa isa) {
  return isa >= 0 && isa < TC_ISA_COUNT ? tables[isa]->name : "unknown";
}

tc_status tc_ukr_parse_env(const char *force, const char *isa, tc_isa *cap) {
  *cap = TC_ISA_COUNT - 1;
  if (force && strcmp(force, "1") == 0) {
    *cap = TC_ISA_PORTABLE;
    return TC_OK;
  }
  if (!isa || !*isa)
    return TC_OK;
  for (int i = 0; i < TC_ISA_COUNT; i++)
    if (strcmp(isa, tables[i]->name) == 0) {
      *cap = (tc_isa)i;
      return TC_OK;
    }
  return tc_set_error(TC_ERR_INVALID_ARG,
                      "TCONV_ISA '%.64s' is not known; accepted: 'portable', 'avx2', 'avx512' "
                      "(a ceiling), or unset for the widest the CPU runs",
                      isa);
}

/* The choice, made once: the CPU's ISA and the environment's ceiling, or the bad value. */
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;
static tc_isa chosen_isa;
static int env_bad;          /* 1: TCONV_ISA holds a value that is not an ISA */
static char env_value[72];   /* that value, for the message of every later call */

static void choose(void) {
  const char *isa = getenv("TCONV_ISA");
  tc_isa cap;
  env_bad = tc_ukr_parse_env(getenv("TCONV_FORCE_PORTABLE"), isa, &cap) != TC_OK;
  if (env_bad)
    snprintf(env_value, sizeof env_value, "%s", isa);
  tc_isa cpu = cpu_isa();
  chosen_isa = cap < cpu ? cap : cpu;
}

tc_status tc_ukr_default(const tc_ukr_table **out) {
  pthread_once(&chosen_once, choose);
  if (env_bad) {
    tc_isa ignored;
    return tc_ukr_parse_env(NULL, env_value, &ignored);
  }
  *out = tables[chosen_isa];
  return TC_OK;
}

const tc_ukr_table *tc_ukr_for(tc_isa isa) {
  if (isa < 0 || isa >= TC_ISA_COUNT || isa > cpu_isa())
    return NULL;
  return tables[isa];
}

const tc_ukr_table *tc_ukr_capped(tc_isa isa) {
  tc_isa cpu = cpu_isa();
  return tables[isa < 0 ? 0 : isa > cpu ? cpu : isa];
}
