/* spec_fields.c — the ':'-separated fields of an option string. */
#include "layers/spec_fields.h"

#include <ctype.h>
#include <string.h>

int tc_spec_split(const char *s, int max_fields, tc_spec_fields *fl) {
  size_t len = strlen(s);
  if (len >= sizeof fl->buf || max_fields > TC_SPEC_MAX_FIELDS)
    return -1;
  for (size_t i = 0; i <= len; i++)
    fl->buf[i] = (char)tolower((unsigned char)s[i]);
  fl->n = 0;
  for (char *p = fl->buf;;) {
    if (fl->n == max_fields)
      return -1;
    fl->f[fl->n++] = p;
    char *colon = strchr(p, ':');
    if (colon == NULL)
      return 0;
    *colon = '\0';
    p = colon + 1;
  }
}
