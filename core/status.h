/* status.h — error reporting for every fallible tconv call.
 *
 *   tc_status s = tc_tensor_create(&t, 2, (int64_t[]){3, 4});
 *   if (s != TC_OK) fprintf(stderr, "%s: %s\n", tc_status_str(s), tc_last_error());
 *
 * A status names the class of failure; tc_last_error() is an English sentence that names
 * the object and the numbers. The message is thread-local: it belongs to the thread that
 * made the failing call and stays until that thread's next failure. The library never
 * prints, aborts or exits for a user error; a broken internal invariant is TC_ASSERT. */
#ifndef TC_STATUS_H
#define TC_STATUS_H

typedef enum tc_status {
  TC_OK = 0,
  TC_ERR_INVALID_ARG, /* a NULL pointer, a bad enum, a malformed string */
  TC_ERR_SHAPE,       /* sizes that do not fit together */
  TC_ERR_NOMEM,       /* an allocation failed */
  TC_ERR_IO,          /* open/read/write/rename/fsync failed */
  TC_ERR_FORMAT,      /* a file that does not follow its format */
  TC_ERR_NOT_FOUND,   /* a key, name or file that is missing */
  TC_ERR_EXISTS,      /* a duplicate name or key */
  TC_ERR_CHECKSUM,    /* stored data whose checksum does not match */
  TC_ERR_DTYPE,       /* an array of a type tconv does not load */
  TC_ERR_STATE,       /* a call made at the wrong time (e.g. backward twice) */
  TC_ERR_UNSUPPORTED, /* valid input that this build does not handle */
  TC_STATUS_COUNT
} tc_status;

/* The enum name as a string ("TC_ERR_SHAPE"); "TC_UNKNOWN" for values out of range. */
const char *tc_status_str(tc_status s);

/* The calling thread's last error message; "" when none has been set. Never NULL. */
const char *tc_last_error(void);

/* Sets the calling thread's message (printf format) and returns s, so that a failure
 * reads `return tc_set_error(TC_ERR_SHAPE, "...", ...);`. Messages longer than 1023
 * bytes are truncated. */
tc_status tc_set_error(tc_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prepends "prefix: " to the current message (used to add a file name or case name). */
void tc_error_prefix(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

void tc_clear_error(void);

/* Internal invariants only; user errors are statuses. Aborts with file and line. */
void tc_assert_fail(const char *expr, const char *file, int line);
#define TC_ASSERT(cond) ((cond) ? (void)0 : tc_assert_fail(#cond, __FILE__, __LINE__))

/* Propagates a non-OK status to the caller. */
#define TC_TRY(expr)                \
  do {                              \
    tc_status tc_try_s_ = (expr);   \
    if (tc_try_s_ != TC_OK)         \
      return tc_try_s_;             \
  } while (0)

#endif
