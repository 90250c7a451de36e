/* schedule_parse.c — "cosine:decay_steps=10000:alpha=0.1:warmup=500" (docs/strings.md), on
 * the spec tokenizer: each key belongs to the schedules that read it, and a key that does not
 * apply ("constant:alpha=0.1") is an error naming it, never silently kept. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/spec.h"
#include "optim/schedule.h"

_Static_assert(TC_LR_TEXT_MAX == TC_SPEC_MAX_LEN, "a schedule string fits its text");

#define TC_LR_GRAMMAR                                                                       \
  "NAME[:KEY=VALUE...], NAME one of constant, step, exponential, cosine; keys: every one: " \
  "warmup; step: boundaries=B1,B2,..., values=V0,V1,...; exponential: decay_steps, "       \
  "decay_rate, staircase; cosine: decay_steps, alpha (docs/strings.md)"

static const char *const tc_lr_names[] = {"constant", "step", "exponential", "cosine"};

/* A count of steps: decimal digits only, at most 18 of them. */
static tc_status tc_steps(const tc_spec *sp, const char *key, const char *v, int64_t min,
                          int64_t *out) {
  size_t n = strlen(v);
  int ok = n >= 1 && n <= 18;
  for (size_t i = 0; ok && i < n; i++)
    ok = isdigit((unsigned char)v[i]);
  int64_t x = ok ? (int64_t)strtoll(v, NULL, 10) : 0;
  if (!ok || x < min)
    return tc_spec_error(sp, "%s must be a whole number of steps >= %lld, got \"%s\"", key,
                         (long long)min, v);
  *out = x;
  return TC_OK;
}

/* boundaries=1000,2000 (increasing step counts) or values=1,0.1,0.01 (numbers >= 0). */
static tc_status tc_list(const tc_spec *sp, const char *key, char *v, tc_lr_schedule *c,
                         int is_values, int *count) {
  int n = 0;
  for (char *p = v, *comma; p != NULL; p = comma ? comma + 1 : NULL, n++) {
    comma = strchr(p, ',');
    if (comma)
      *comma = '\0';
    if (n >= TC_LR_MAX_BOUNDARIES + is_values)
      return tc_spec_error(sp, "%s has more than %d entries", key,
                           TC_LR_MAX_BOUNDARIES + is_values);
    if (is_values)
      TC_TRY(tc_spec_number(sp, p, "a number >= 0 in values", 0.0, &c->values[n]));
    else {
      TC_TRY(tc_steps(sp, key, p, n > 0 ? c->boundaries[n - 1] + 1 : 0, &c->boundaries[n]));
    }
  }
  *count = n;
  return TC_OK;
}

typedef struct tc_lr_seen {
  int warmup, decay_steps, decay_rate, staircase, alpha, n_values;
  int boundaries; /* -1 until given, then the count */
} tc_lr_seen;

static tc_status tc_pair(const tc_spec *sp, char *pair, tc_lr_schedule *c, tc_lr_seen *seen) {
  char *eq = strchr(pair, '=');
  if (eq == NULL)
    return tc_spec_error(sp, "option \"%s\" lacks '=' (write key=value)", pair);
  *eq = '\0';
  char *v = eq + 1;
  static const char *const keys[] = {"warmup", "decay_steps", "decay_rate", "staircase",
                                     "alpha",  "boundaries",  "values"};
  /* which schedules read each key, bit per tc_lr_kind */
  static const unsigned kinds[] = {15u, 12u, 4u, 4u, 8u, 2u, 2u};
  int k = tc_spec_lookup(pair, keys, 7);
  if (k < 0)
    return tc_spec_error(sp, "unknown option key \"%s\"", pair);
  if (!(kinds[k] & (1u << c->kind)))
    return tc_spec_error(sp, "%s does not apply to %s", keys[k], sp->f[0]);
  int *flags[] = {&seen->warmup, &seen->decay_steps, &seen->decay_rate, &seen->staircase,
                  &seen->alpha, NULL, &seen->n_values};
  if ((k == 5 && seen->boundaries >= 0) || (k != 5 && *flags[k]))
    return tc_spec_error(sp, "%s is given twice", keys[k]);
  switch (k) {
  case 0:
    seen->warmup = 1;
    return tc_steps(sp, "warmup", v, 0, &c->warmup);
  case 1:
    seen->decay_steps = 1;
    return tc_steps(sp, "decay_steps", v, 1, &c->decay_steps);
  case 2:
    seen->decay_rate = 1;
    TC_TRY(tc_spec_number(sp, v, "a number > 0 for decay_rate", 0.0, &c->decay_rate));
    return c->decay_rate > 0.0f ? TC_OK : tc_spec_error(sp, "decay_rate must be > 0");
  case 3: {
    static const char *const bools[] = {"0", "1", "false", "true"};
    int b = tc_spec_lookup(v, bools, 4);
    if (b < 0)
      return tc_spec_error(sp, "staircase must be 0, 1, false or true, got \"%s\"", v);
    seen->staircase = 1;
    c->staircase = b % 2;
    return TC_OK;
  }
  case 4:
    seen->alpha = 1;
    TC_TRY(tc_spec_number(sp, v, "a number in [0, 1] for alpha", 0.0, &c->alpha));
    return c->alpha <= 1.0f ? TC_OK : tc_spec_error(sp, "alpha must lie in [0, 1], got %g",
                                                     (double)c->alpha);
  case 5:
    return tc_list(sp, "boundaries", v, c, 0, &seen->boundaries);
  default:
    return tc_list(sp, "values", v, c, 1, &seen->n_values);
  }
}

/* The keys a schedule cannot do without. */
static tc_status tc_complete(const tc_spec *sp, const tc_lr_schedule *c, const tc_lr_seen *s) {
  if ((c->kind == TC_LR_EXPONENTIAL || c->kind == TC_LR_COSINE) && !s->decay_steps)
    return tc_spec_error(sp, "%s needs decay_steps", sp->f[0]);
  if (c->kind == TC_LR_EXPONENTIAL && !s->decay_rate)
    return tc_spec_error(sp, "exponential needs decay_rate");
  if (c->kind == TC_LR_STEP && (s->boundaries < 1 || s->n_values != s->boundaries + 1))
    return tc_spec_error(sp, "step needs boundaries and one more value than boundaries "
                         "(%d boundaries, %d values)", s->boundaries < 0 ? 0 : s->boundaries,
                         s->n_values);
  return TC_OK;
}

tc_status tc_lr_schedule_parse(const char *s, tc_lr_schedule *out) {
  if (s == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_lr_schedule_parse: NULL argument");
  tc_spec sp;
  TC_TRY(tc_spec_split(&sp, "lr schedule", s, TC_SPEC_MAX_FIELDS, TC_LR_GRAMMAR));
  int kind = tc_spec_lookup(sp.f[0], tc_lr_names, TC_LR_COUNT);
  if (kind < 0)
    return tc_spec_error(&sp, "unknown schedule name \"%s\"", sp.f[0]);
  tc_lr_schedule c = tc_lr_schedule_constant();
  c.kind = (tc_lr_kind)kind;
  c.values[0] = 1.0f;
  tc_lr_seen seen = {0};
  seen.boundaries = -1;
  for (int i = 1; i < sp.n; i++)
    TC_TRY(tc_pair(&sp, sp.f[i], &c, &seen));
  TC_TRY(tc_complete(&sp, &c, &seen));
  c.n_boundaries = seen.boundaries < 0 ? 0 : seen.boundaries;
  /* sp.buf was cut at ':', '=' and ',': keep the string as given, lower-cased (it fit in
   * TC_SPEC_MAX_LEN bytes), so that it parses again to the same schedule */
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i++)
    c.text[i] = (char)tolower((unsigned char)s[i]);
  c.text[n] = '\0';
  *out = c;
  return TC_OK;
}
