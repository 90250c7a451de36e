/* cmd_gradcheck.c — `tconv gradcheck`: finite-difference checks on random layers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/gradcheck.h"
#include "tools/gradcheck_ops.h"

static void tc_gradcheck_help(FILE *out) {
  fprintf(out,
          "usage: tconv gradcheck [--count N] [--seed S] [--verbose]\n\n"
          "Draws N random conv2d_transpose configurations (every activation, padding, layout,\n"
          "stride, dilation, output_padding and groups) and compares the analytic gradients\n"
          "of x, kernel and bias with central finite differences; then checks every other\n"
          "graph op (concat, split, slice, pad, crop, transpose, resize, upsample, dropout,\n"
          "losses, norms) through tc_gradcheck. Prints one line per failing check and\n"
          "'gradcheck: N passed, M failed'. Exits 1 on a failure.\n\n"
          "  --count N   configurations to check (default 100)\n"
          "  --seed S    seed of the configurations and data (default 1)\n"
          "  --verbose   print every configuration with its worst coordinate\n");
}

int tc_cmd_gradcheck(int argc, char **argv) {
  long count = 100, seed = 1;
  int verbose = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      tc_gradcheck_help(stdout);
      return 0;
    } else if (strcmp(argv[i], "--verbose") == 0) {
      verbose = 1;
    } else if (strcmp(argv[i], "--count") == 0) {
      if (tc_arg_long(argc, argv, &i, 1, 1000000, &count) != 0)
        return 2;
    } else if (strcmp(argv[i], "--seed") == 0) {
      if (tc_arg_long(argc, argv, &i, 0, 0x7fffffffL, &seed) != 0)
        return 2;
    } else {
      fprintf(stderr, "tconv gradcheck: unknown option '%s'\n", argv[i]);
      tc_gradcheck_help(stderr);
      return 2;
    }
  }
  int passed = 0, failed = 0;
  for (int i = 0; i < count; i++) {
    tc_gradcheck_config cfg;
    tc_gradcheck_result res;
    char desc[256];
    tc_gradcheck_draw((uint64_t)seed, i, &cfg);
    tc_gradcheck_describe(&cfg, desc, sizeof desc);
    tc_status s = tc_gradcheck_run(&cfg, (uint64_t)seed, i, &res);
    int ok = s == TC_OK && res.worst_excess <= 1.0 && res.checked > 0;
    passed += ok;
    failed += !ok;
    if (s != TC_OK)
      printf("FAIL #%d (%s): %s\n", i, desc, tc_last_error());
    else if (!ok || verbose)
      printf("%s #%d (%s): %d coordinates, %d skipped at kinks, worst %s (%.3g of tolerance)\n",
             ok ? "ok  " : "FAIL", i, desc, res.checked, res.skipped_kinks, res.worst,
             res.worst_excess);
  }
  for (int i = 0; i < tc_gradcheck_ops_count(); i++) {
    tc_gradcheck_report rep;
    tc_status s = tc_gradcheck_ops_run(i, (uint64_t)seed, &rep);
    passed += s == TC_OK && rep.passed;
    failed += !(s == TC_OK && rep.passed);
    if (s != TC_OK)
      printf("FAIL op %s: %s\n", tc_gradcheck_ops_name(i), tc_last_error());
    else if (!rep.passed || verbose)
      printf("%s op %s: %d coordinates, %d at kinks, worst %s (%.3g of tolerance)\n",
             rep.passed ? "ok  " : "FAIL", tc_gradcheck_ops_name(i), rep.checked, rep.kinks,
             rep.worst, rep.worst_excess);
  }
  printf("gradcheck: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
