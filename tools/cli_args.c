/* cli_args.c — option values with range checks and one-line errors. */
#include "tools/cli_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Names the program in the messages: `tconv` unless a tool says otherwise. */
static const char *program = "tconv";

void tc_arg_program(const char *name) { program = name; }

const char *tc_arg_string(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "%s: option %s needs a value\n", program, argv[*i]);
    return NULL;
  }
  return argv[++*i];
}

int tc_arg_long(int argc, char **argv, int *i, long lo, long hi, long *out) {
  const char *opt = argv[*i], *v = tc_arg_string(argc, argv, i);
  if (v == NULL)
    return -1;
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || errno != 0 || x < lo || x > hi) {
    fprintf(stderr, "%s: option %s wants an integer in [%ld, %ld], got '%s'\n", program, opt, lo,
            hi, v);
    return -1;
  }
  *out = x;
  return 0;
}

int tc_arg_double(int argc, char **argv, int *i, double lo, double hi, double *out) {
  const char *opt = argv[*i], *v = tc_arg_string(argc, argv, i);
  if (v == NULL)
    return -1;
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (*v == '\0' || *end != '\0' || errno != 0 || !(x >= lo && x <= hi)) {
    fprintf(stderr, "%s: option %s wants a number in [%g, %g], got '%s'\n", program, opt, lo, hi,
            v);
    return -1;
  }
  *out = x;
  return 0;
}
