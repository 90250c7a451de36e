/* npz_key.c — the one rule for array keys, shared by the writer and the reader, and the
 * escaping that keeps a hostile key from reaching a terminal raw. */
#include <stdio.h>
#include <string.h>

#include "core/io/npz.h"

const char *tc_npz_escape(const char *s, char *buf, size_t cap) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  TC_ASSERT(cap >= 8);
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    int plain = *p >= 0x20 && *p < 0x7f && *p != '\\';
    size_t need = plain ? 1 : (*p == '\\' ? 2 : 4);
    if (o + need + 4 > cap) { /* room for "..." and the terminator */
      memcpy(buf + o, "...", 4);
      return buf;
    }
    if (plain) {
      buf[o++] = (char)*p;
    } else if (*p == '\\') {
      buf[o++] = '\\';
      buf[o++] = '\\';
    } else {
      buf[o++] = '\\';
      buf[o++] = 'x';
      buf[o++] = hex[*p >> 4];
      buf[o++] = hex[*p & 15];
    }
  }
  buf[o] = '\0';
  return buf;
}

/* Why one '/'-separated component of a key is refused, or NULL. */
static const char *tc_npz_component_problem(const char *c, size_t len) {
  if (len == 0)
    return "an empty component (a leading, trailing or doubled '/')";
  if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
    return "a '.' or '..' component";
  for (size_t i = 0; i < len; i++) {
    unsigned char b = (unsigned char)c[i];
    if (b < 0x20 || b == 0x7f)
      return "a control character";
    if (b == '\\')
      return "a backslash";
  }
  return NULL;
}

tc_status tc_npz_key_check(const char *key) {
  if (key == NULL || key[0] == '\0')
    return tc_set_error(TC_ERR_INVALID_ARG, "key is empty");
  size_t len = strnlen(key, TC_NPZ_MAX_KEY + 1);
  char shown[96];
  if (len > TC_NPZ_MAX_KEY)
    return tc_set_error(TC_ERR_INVALID_ARG, "key '%s' is longer than %d bytes",
                        tc_npz_escape(key, shown, 40), TC_NPZ_MAX_KEY);
  for (const char *c = key;;) {
    const char *end = strchr(c, '/');
    size_t n = end ? (size_t)(end - c) : strlen(c);
    const char *why = tc_npz_component_problem(c, n);
    if (why != NULL)
      return tc_set_error(TC_ERR_INVALID_ARG, "key '%s' has %s (the component at byte %zu)",
                          tc_npz_escape(key, shown, sizeof shown), why, (size_t)(c - key));
    if (end == NULL)
      return TC_OK;
    c = end + 1;
  }
}
