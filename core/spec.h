/* spec.h (@internal) — the one tokenizer under every option-string grammar: activation (core),
 * initializer, regularizer, constraint (layers) and optimizer (optim). It splits
 * "name:field:field" at ':', looks words up in a table, reads numbers by the float32 rule
 * and words the errors; each grammar is a table and a few rules on top (docs/strings.md).
 *
 *   tc_spec sp;
 *   TC_TRY(tc_spec_split(&sp, "activation", s, 2, TC_ACTIVATION_LIST));
 *   int kind = tc_spec_lookup(sp.f[0], names, TC_ACT_COUNT);
 *   if (kind < 0) return tc_spec_error(&sp, "unknown name \"%s\"", sp.f[0]);
 *   TC_TRY(tc_spec_number(&sp, sp.f[1], "ALPHA, a finite number >= 0", 0.0, &alpha));
 *
 * The float32 rule: a number is decimal (digits, one '.', an exponent; no hex-floats, no
 * inf or nan, no spaces) and must be finite as a float32 (|x| <= 3.40282e+38), and a
 * nonzero number must not round to 0 in float32. Everything else is refused, so that
 * "l2:1e39" cannot become inf and train to NaN. */
#ifndef TC_SPEC_H
#define TC_SPEC_H

#include "core/status.h"

#define TC_SPEC_MAX_FIELDS 16
#define TC_SPEC_MAX_LEN 511

typedef struct tc_spec {
  const char *what;    /* "activation", ...: starts every message */
  const char *text;    /* the string as given, quoted in messages */
  const char *grammar; /* ends every message */
  char buf[TC_SPEC_MAX_LEN + 1];
  char *f[TC_SPEC_MAX_FIELDS]; /* lower-cased fields, f[0] the name */
  int n;
} tc_spec;

/* Lower-cases s into sp->buf and splits it at ':' (at most max_fields <= TC_SPEC_MAX_FIELDS
 * fields). Errors, TC_ERR_INVALID_ARG with a message: s is NULL, longer than
 * TC_SPEC_MAX_LEN bytes, or has more than max_fields fields. */
tc_status tc_spec_split(tc_spec *sp, const char *what, const char *s, int max_fields,
                        const char *grammar);

/* The index of word in names[0..count) (NULL entries never match), or -1. */
int tc_spec_lookup(const char *word, const char *const *names, int count);

/* Sets TC_ERR_INVALID_ARG with "WHAT \"TEXT\": <message>; expected one of: GRAMMAR" and
 * returns it. */
tc_status tc_spec_error(const tc_spec *sp, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Reads field by the float32 rule into *out; it must also be >= min (-INFINITY: no
 * bound). On failure: "expected LABEL, got \"FIELD\" (why)"; *out unchanged. */
tc_status tc_spec_number(const tc_spec *sp, const char *field, const char *label, double min,
                         float *out);

#endif
