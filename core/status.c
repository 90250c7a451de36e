/* status.c — thread-local error messages. */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TC_MSG_CAP 1024

static _Thread_local char tc_message[TC_MSG_CAP];

static const char *const tc_status_names[TC_STATUS_COUNT] = {
    "TC_OK",          "TC_ERR_INVALID_ARG", "TC_ERR_SHAPE",   "TC_ERR_NOMEM",
    "TC_ERR_IO",      "TC_ERR_FORMAT",      "TC_ERR_NOT_FOUND", "TC_ERR_EXISTS",
    "TC_ERR_CHECKSUM", "TC_ERR_DTYPE",      "TC_ERR_STATE",   "TC_ERR_UNSUPPORTED",
};

const char *tc_status_str(tc_status s) {
  if ((int)s < 0 || s >= TC_STATUS_COUNT)
    return "TC_UNKNOWN";
  return tc_status_names[s];
}

const char *tc_last_error(void) { return tc_message; }

tc_status tc_set_error(tc_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tc_message, sizeof tc_message, fmt, ap);
  va_end(ap);
  return s;
}

void tc_error_prefix(const char *fmt, ...) {
  char prefix[TC_MSG_CAP];
  char old[TC_MSG_CAP];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, tc_message, sizeof old);
  /* Truncation is acceptable: the message cap is documented. */
  size_t plen = strlen(prefix);
  if (plen > TC_MSG_CAP - 3)
    plen = TC_MSG_CAP - 3;
  memcpy(tc_message, prefix, plen);
  memcpy(tc_message + plen, ": ", 2);
  size_t room = TC_MSG_CAP - plen - 3;
  size_t olen = strnlen(old, room);
  memcpy(tc_message + plen + 2, old, olen);
  tc_message[plen + 2 + olen] = '\0';
}

void tc_clear_error(void) { tc_message[0] = '\0'; }

void tc_assert_fail(const char *expr, const char *file, int line) {
  /* The one place the library writes to stderr: an internal bug, not a user error. */
  fprintf(stderr, "tconv: internal assertion failed: %s (%s:%d)\n", expr, file, line);
  abort();
}
