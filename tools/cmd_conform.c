/* cmd_conform.c — `tconv conform FILE...`: run conformance case files. */
#include <stdio.h>
#include <string.h>

#include "tools/commands.h"
#include "tools/conform.h"

static void tc_conform_help(FILE *out) {
  fprintf(out,
          "usage: tconv conform [--verbose] FILE...\n\n"
          "Runs every case of the conformance files (format: docs/conformance.md) through the\n"
          "library and compares each result with TensorFlow's numbers within the stated\n"
          "tolerance. Prints one line per failing case (name, worst tensor, max abs and rel\n"
          "error), then 'conform: N passed, M failed, K skipped'. Exits 1 if any case failed\n"
          "or a file could not be read or is malformed (a directory, no cases, an attr or\n"
          "tensor given twice in a case: the message names file, line and name), 2 on bad\n"
          "usage.\n\n"
          "  --verbose   also print a line for every passing and skipped case\n");
}

typedef struct tc_tally {
  int passed, failed, skipped, broken_files;
} tc_tally;

static void tc_report(const tc_case *c, const tc_conform_outcome *o, int verbose) {
  if (o->verdict == TC_CONFORM_FAIL && o->failing_tensors > 0)
    printf("FAIL %s: tensor '%s' max abs err %.3g, max rel err %.3g (%d tensor%s out of "
           "tolerance)%s%s\n",
           c->name, o->tensor, o->max_abs, o->max_rel, o->failing_tensors,
           o->failing_tensors == 1 ? "" : "s", o->note[0] ? "; " : "", o->note);
  else if (o->verdict == TC_CONFORM_FAIL)
    printf("FAIL %s: %s\n", c->name, o->note);
  else if (verbose)
    printf("%s %s%s%s\n", o->verdict == TC_CONFORM_PASS ? "ok  " : "SKIP", c->name,
           o->note[0] ? ": " : "", o->note);
}

static void tc_run_file(const char *path, int verbose, tc_tally *t) {
  tc_casefile *f = NULL;
  tc_status s = tc_casefile_open(&f, path);
  tc_case *c = NULL;
  int cases = 0;
  while (s == TC_OK && (s = tc_casefile_next(f, &c)) == TC_OK && c != NULL) {
    cases++;
    tc_conform_outcome o;
    tc_conform_run(c, &o);
    tc_report(c, &o, verbose);
    t->passed += o.verdict == TC_CONFORM_PASS;
    t->failed += o.verdict == TC_CONFORM_FAIL;
    t->skipped += o.verdict == TC_CONFORM_SKIP;
  }
  if (s == TC_OK && cases == 0) /* "0 passed" is not a pass */
    s = tc_set_error(TC_ERR_FORMAT, "%s: no cases in the file", path);
  if (s != TC_OK) {
    fprintf(stderr, "tconv conform: %s\n", tc_last_error());
    t->broken_files++;
  }
  tc_casefile_close(f);
}

int tc_cmd_conform(int argc, char **argv) {
  int verbose = 0, files = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      tc_conform_help(stdout);
      return 0;
    }
    if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0)
      verbose = 1;
    else if (argv[i][0] == '-') {
      fprintf(stderr, "tconv conform: unknown option '%s'\n", argv[i]);
      tc_conform_help(stderr);
      return 2;
    } else
      files++;
  }
  if (files == 0) {
    tc_conform_help(stderr);
    return 2;
  }
  tc_tally t = {0, 0, 0, 0};
  for (int i = 1; i < argc; i++)
    if (argv[i][0] != '-')
      tc_run_file(argv[i], verbose, &t);
  printf("conform: %d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
  return (t.failed > 0 || t.broken_files > 0) ? 1 : 0;
}
