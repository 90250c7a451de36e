/* spec_fields.h — splitting "name:arg:arg" option strings (internal to layers/; the grammar
 * is docs/strings.md). @internal: not installed (docs/api.md). */
#ifndef TC_SPEC_FIELDS_H
#define TC_SPEC_FIELDS_H

#define TC_SPEC_MAX_FIELDS 8

typedef struct tc_spec_fields {
  char buf[256];
  char *f[TC_SPEC_MAX_FIELDS];
  int n;
} tc_spec_fields;

/* Lower-cases s into fl->buf and splits it at ':'. 0 on success, -1 if s is too long or has
 * more than max_fields (<= TC_SPEC_MAX_FIELDS) fields. */
int tc_spec_split(const char *s, int max_fields, tc_spec_fields *fl);

#endif
