/* spec.c — split, look up, read numbers, word errors: the option-string tokenizer. */
#include "core/spec.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tc_status tc_spec_error(const tc_spec *sp, const char *fmt, ...) {
  char why[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return tc_set_error(TC_ERR_INVALID_ARG, "%s \"%s\": %s; expected one of: %s", sp->what,
                      sp->text, why, sp->grammar);
}

tc_status tc_spec_split(tc_spec *sp, const char *what, const char *s, int max_fields,
                        const char *grammar) {
  sp->what = what;
  sp->text = s != NULL ? s : "(null)";
  sp->grammar = grammar;
  sp->n = 0;
  if (s == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: the string is NULL", what);
  size_t len = strlen(s);
  if (len > TC_SPEC_MAX_LEN)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s \"%.40s...\": %zu bytes, at most %d", what, s,
                        len, TC_SPEC_MAX_LEN);
  if (max_fields > TC_SPEC_MAX_FIELDS)
    max_fields = TC_SPEC_MAX_FIELDS;
  for (size_t i = 0; i <= len; i++)
    sp->buf[i] = (char)tolower((unsigned char)s[i]);
  for (char *p = sp->buf;;) {
    if (sp->n == max_fields)
      return tc_spec_error(sp, "too many fields (at most %d)", max_fields);
    sp->f[sp->n++] = p;
    char *colon = strchr(p, ':');
    if (colon == NULL)
      return TC_OK;
    *colon = '\0';
    p = colon + 1;
  }
}

int tc_spec_lookup(const char *word, const char *const *names, int count) {
  for (int i = 0; i < count; i++)
    if (names[i] != NULL && strcmp(word, names[i]) == 0)
      return i;
  return -1;
}

/* Digits, at most one '.', then optionally e[+-]digits, with an optional leading sign:
 * what strtod reads as a decimal number, without its hex, inf, nan and space forms. */
static int tc_spec_is_decimal(const char *p) {
  if (*p == '+' || *p == '-')
    p++;
  int digits = 0;
  while (isdigit((unsigned char)*p))
    p++, digits++;
  if (*p == '.')
    for (p++; isdigit((unsigned char)*p); p++)
      digits++;
  if (digits == 0)
    return 0;
  if (*p == 'e') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!isdigit((unsigned char)*p))
      return 0;
    while (isdigit((unsigned char)*p))
      p++;
  }
  return *p == '\0';
}

tc_status tc_spec_number(const tc_spec *sp, const char *field, const char *label, double min,
                         float *out) {
  if (!tc_spec_is_decimal(field))
    return tc_spec_error(sp, "expected %s, got \"%s\", which is not a number (decimal only: "
                         "no hex-floats, inf or nan)", label, field);
  errno = 0;
  double v = strtod(field, NULL);
  if (!(fabs(v) <= FLT_MAX))
    return tc_spec_error(sp, "expected %s, got \"%s\", which is not finite in float32 "
                         "(|x| <= %g)", label, field, (double)FLT_MAX);
  if ((v != 0.0 && (float)v == 0.0f) || (v == 0.0 && errno == ERANGE))
    return tc_spec_error(sp, "expected %s, got \"%s\", which rounds to 0 in float32 "
                         "(smallest %g)", label, field, (double)FLT_TRUE_MIN);
  if (v < min)
    return tc_spec_error(sp, "expected %s, got \"%s\", which is below %g", label, field, min);
  *out = (float)v;
  return TC_OK;
}
