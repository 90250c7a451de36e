/* test_bench.c — `tconv bench`'s built-in shapes are tools/shapes.txt, read the same way, so
 * the installed command (no source tree) benchmarks exactly what the repository lists. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/version.h"
#include "tools/bench.h"
#include "support/testutil.h"

#define MAX_SHAPES 256

START_TEST(builtin_shapes_are_the_shapes_file) {
  static tc_bench_shape file[MAX_SHAPES], builtin[MAX_SHAPES];
  int n_file = 0, n_builtin = 0;
  ck_assert_int_eq(tc_bench_load_shapes(TCONV_SHAPES_FILE, file, MAX_SHAPES, &n_file), TC_OK);
  ck_assert_int_eq(tc_bench_builtin_shapes(builtin, MAX_SHAPES, &n_builtin), TC_OK);
  ck_assert_int_gt(n_file, 0);
  ck_assert_int_eq(n_builtin, n_file);
  for (int i = 0; i < n_file; i++) {
    ck_assert_str_eq(builtin[i].name, file[i].name);
    ck_assert(builtin[i].n == file[i].n && builtin[i].h == file[i].h &&
              builtin[i].w == file[i].w && builtin[i].cin == file[i].cin &&
              builtin[i].cout == file[i].cout && builtin[i].kh == file[i].kh &&
              builtin[i].kw == file[i].kw && builtin[i].sh == file[i].sh &&
              builtin[i].sw == file[i].sw && builtin[i].pad == file[i].pad);
  }
}
END_TEST

START_TEST(version_call_matches_the_header) {
  ck_assert_str_eq(tc_version(), TC_VERSION_STRING);
  ck_assert_int_eq(TC_VERSION_NUMBER,
                   TC_VERSION_MAJOR * 10000 + TC_VERSION_MINOR * 100 + TC_VERSION_PATCH);
}
END_TEST

int main(void) {
  Suite *s = suite_create("bench");
  TCase *tc = tcase_create("builtin");
  tcase_add_test(tc, builtin_shapes_are_the_shapes_file);
  tcase_add_test(tc, version_call_matches_the_header);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
