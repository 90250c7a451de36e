/* cmd_inspect.c — `tconv inspect CKPT`: every array of a checkpoint with its statistics. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/io/npz.h"
#include "tools/commands.h"

static void tc_inspect_help(FILE *out) {
  fprintf(out,
          "usage: tconv inspect CKPT.npz\n\n"
          "Lists every array of a checkpoint (any .npz of float32/float64/int64/uint64\n"
          "arrays): key, dtype, shape, min, max and mean, then the metadata (meta/...).\n"
          "The file is fully validated first (checksums, shapes, dtypes); a damaged file is\n"
          "reported with what is wrong and exit status 1.\n");
}

static void tc_print_shape(const tc_npz_array *a) {
  char buf[128];
  size_t used = (size_t)snprintf(buf, sizeof buf, "(");
  for (int i = 0; i < a->rank && used < sizeof buf; i++)
    used += (size_t)snprintf(buf + used, sizeof buf - used, i ? ", %lld" : "%lld",
                             (long long)a->shape[i]);
  if (used < sizeof buf)
    snprintf(buf + used, sizeof buf - used, a->rank == 1 ? ",)" : ")");
  printf("%-18s", buf);
}

static void tc_print_stats(const tc_npz_array *a) {
  if (a->size == 0) {
    printf("(empty)\n");
    return;
  }
  double lo = INFINITY, hi = -INFINITY, sum = 0.0;
  for (int64_t i = 0; i < a->size; i++) {
    double v = a->dtype == TC_NPZ_F32   ? ((const float *)a->data)[i]
               : a->dtype == TC_NPZ_I64 ? (double)((const int64_t *)a->data)[i]
                                        : (double)((const uint64_t *)a->data)[i];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    sum += v;
  }
  printf("min %-12.6g max %-12.6g mean %.6g\n", lo, hi, sum / (double)a->size);
}

/* Keys are checked on read, but any byte outside printable ASCII is still escaped: what
 * reaches the terminal is text, never a control sequence. */
static void tc_print_key(const tc_npz_array *a) {
  char shown[4 * TC_NPZ_MAX_KEY + 8];
  printf("  %-40s ", tc_npz_escape(a->key, shown, sizeof shown));
}

static void tc_print_meta(const tc_npz_array *a) {
  tc_print_key(a);
  for (int64_t i = 0; i < a->size && i < 8; i++) {
    if (a->dtype == TC_NPZ_I64)
      printf("%s%" PRId64, i ? " " : "", ((const int64_t *)a->data)[i]);
    else if (a->dtype == TC_NPZ_U64)
      printf("%s%" PRIu64, i ? " " : "", ((const uint64_t *)a->data)[i]);
    else
      printf("%s%.9g", i ? " " : "", (double)((const float *)a->data)[i]);
  }
  printf("\n");
}

int tc_cmd_inspect(int argc, char **argv) {
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    tc_inspect_help(stdout);
    return 0;
  }
  if (argc != 2 || argv[1][0] == '-') {
    tc_inspect_help(stderr);
    return 2;
  }
  tc_npz_file *f = NULL;
  if (tc_npz_read(argv[1], &f, NULL) != TC_OK) {
    fprintf(stderr, "tconv inspect: %s\n", tc_last_error());
    return 1;
  }
  printf("%s: %d arrays\n", argv[1], tc_npz_count(f));
  printf("  %-40s %-6s %-18s statistics\n", "key", "dtype", "shape");
  for (int i = 0; i < tc_npz_count(f); i++) {
    const tc_npz_array *a = tc_npz_at(f, i);
    if (strncmp(a->key, "meta/", 5) == 0)
      continue;
    tc_print_key(a);
    printf("%-6s ", tc_npz_dtype_str(a->stored_dtype));
    tc_print_shape(a);
    tc_print_stats(a);
  }
  printf("metadata:\n");
  for (int i = 0; i < tc_npz_count(f); i++)
    if (strncmp(tc_npz_at(f, i)->key, "meta/", 5) == 0)
      tc_print_meta(tc_npz_at(f, i));
  if (tc_npz_notes(f)[0] != '\0')
    printf("notes:\n%s", tc_npz_notes(f));
  tc_npz_file_free(f);
  return 0;
}
