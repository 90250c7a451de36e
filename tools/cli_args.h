/* cli_args.h — small helpers for the subcommands' option parsing. */
#ifndef TC_CLI_ARGS_H
#define TC_CLI_ARGS_H

/* The program name the messages start with (default "tconv"); for tools of their own. */
void tc_arg_program(const char *name);
/* Reads the integer value of the option at argv[*i] from argv[*i + 1], checks that it lies in
 * [lo, hi], advances *i. On failure prints one line to stderr and returns -1. */
int tc_arg_long(int argc, char **argv, int *i, long lo, long hi, long *out);
int tc_arg_double(int argc, char **argv, int *i, double lo, double hi, double *out);
/* The string value of the option at argv[*i]; NULL (with a message) when missing. */
const char *tc_arg_string(int argc, char **argv, int *i);

#endif
