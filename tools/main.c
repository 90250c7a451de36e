/* main.c — the tconv command: dispatches to one subcommand per file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conv2dt.h"
#include "core/ukr/caches.h"
#include "core/version.h"
#include "tools/commands.h"
#include "tools/omp_wait.h"

typedef struct tc_command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} tc_command;

static const tc_command tc_commands[] = {
    {"train", tc_cmd_train, "train a decoder or generator (the main job)"},
    {"sample", tc_cmd_sample, "generate an image grid from a checkpoint"},
    {"conform", tc_cmd_conform, "check the implementation against conformance case files"},
    {"gradcheck", tc_cmd_gradcheck, "compare analytic gradients with finite differences"},
    {"bench", tc_cmd_bench, "GFLOP/s of the conv2d_transpose kernels on benchmark shapes"},
    {"inspect", tc_cmd_inspect, "list the arrays and metadata of a checkpoint"},
};

static void tc_usage(FILE *out) {
  fprintf(out,
          "usage: tconv COMMAND [OPTIONS]\n\n"
          "Transposed-convolution networks with TensorFlow 1 semantics, on the CPU.\n\n"
          "commands:\n");
  for (size_t i = 0; i < sizeof tc_commands / sizeof tc_commands[0]; i++)
    fprintf(out, "  %-10s %s\n", tc_commands[i].name, tc_commands[i].summary);
  fprintf(out, "\n'tconv COMMAND --help' describes the options of each command;"
               " 'tconv --version' prints the version.\n");
}

static int tc_asks_help(int argc, char **argv) {
  for (int i = 2; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      return 1;
  return 0;
}

/* A bad TCONV_ISA or TCONV_CACHES is the user's input like a bad option: every command but
 * --help refuses it up front with exit 2, rather than failing at its first kernel plan. */
static int tc_environment_ok(int argc, char **argv) {
  if (tc_asks_help(argc, argv))
    return 1;
  tc_cpu_caches caches;
  if (tc_cpu_caches_get(&caches) != TC_OK) {
    fprintf(stderr, "tconv: %s\n", tc_last_error());
    return 0;
  }
  if (strcmp(tc_conv2dt_kernel_isa(), "invalid") != 0)
    return 1;
  const char *isa = getenv("TCONV_ISA");
  fprintf(stderr, "tconv: TCONV_ISA '%.64s' is not known; accepted: 'portable', 'avx2', "
          "'avx512' (a ceiling), or unset for the widest the CPU runs\n", isa ? isa : "");
  return 0;
}

int main(int argc, char **argv) {
  /* bench measures the kernels against oneDNN and PyTorch, whose threads spin: it keeps
   * libgomp's default so that the ratios compare like with like (docs/benchmarks.md).
   * train runs long enough to look at the machine's load first (tools/omp_wait.c). */
  if (argc < 2 || strcmp(argv[1], "bench") != 0)
    tc_omp_wait_policy_default(argv, argc >= 2 && strcmp(argv[1], "train") == 0);
  if (argc < 2) {
    tc_usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    tc_usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("tconv %s\n", tc_version());
    return 0;
  }
  for (size_t i = 0; i < sizeof tc_commands / sizeof tc_commands[0]; i++)
    if (strcmp(argv[1], tc_commands[i].name) == 0)
      return tc_environment_ok(argc, argv) ? tc_commands[i].run(argc - 1, argv + 1) : 2;
  fprintf(stderr, "tconv: unknown command '%s'\n", argv[1]);
  tc_usage(stderr);
  return 2;
}
