/* test_bench.c — `tconv bench`'s built-in shapes are tools/shapes.txt, read the same way, so
 * the installed command (no source tree) benchmarks exactly what the repository lists. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A shapes file with the optional groups= and dilation= fields (and one without: default
 * 1), then a line whose extra field is malformed: TC_ERR_FORMAT naming the line. */
START_TEST(shapes_file_takes_groups_and_dilation) {
  static tc_bench_shape s[4];
  char path[] = "/tmp/tconv_shapes_XXXXXX";
  int fd = mkstemp(path), n = 0;
  ck_assert_int_ge(fd, 0);
  FILE *f = fdopen(fd, "w");
  fputs("a 2 4 4 8 8 3 3 2 2 same groups=4 dilation=2\n"
        "b 2 4 4 8 8 3 3 1 1 valid dilation=3x2 # comment\n"
        "c 2 4 4 8 8 3 3 1 1 1\n", f);
  fclose(f);
  ck_assert_int_eq(tc_bench_load_shapes(path, s, 4, &n), TC_OK);
  ck_assert_int_eq(n, 3);
  ck_assert(s[0].groups == 4 && s[0].dh == 2 && s[0].dw == 2);
  ck_assert(s[1].groups == 1 && s[1].dh == 3 && s[1].dw == 2 && s[1].pad == -2);
  ck_assert(s[2].groups == 1 && s[2].dh == 1 && s[2].dw == 1 && s[2].pad == 1);
  tc_conv2dt_plan plan;
  ck_assert_int_eq(tc_bench_plan(&s[0], TC_CHANNELS_FIRST, &plan), TC_OK);
  ck_assert_int_eq(plan.p.groups, 4);
  ck_assert_double_eq(tc_conv2dt_flops(&plan), 2.0 * 2 * 4 * 4 * 8 * 2 * 9);
  static const char *bad[] = {"groups=0", "dilation=2x", "group=2", "groups=2x"};
  for (int i = 0; i < 4; i++) {
    f = fopen(path, "w");
    fprintf(f, "ok 2 4 4 8 8 3 3 1 1 same\nbad 2 4 4 8 8 3 3 1 1 same %s\n", bad[i]);
    fclose(f);
    ck_assert_int_eq(tc_bench_load_shapes(path, s, 4, &n), TC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(tc_last_error(), ":2: expected"));
    ck_assert_ptr_nonnull(strstr(tc_last_error(), "[groups=G]"));
  }
  remove(path);
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
  tcase_add_test(tc, shapes_file_takes_groups_and_dilation);
  tcase_add_test(tc, version_call_matches_the_header);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
