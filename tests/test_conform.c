/* test_conform.c — the case-file reader's error paths and the runner's verdicts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/testutil.h"
#include "tools/casefile.h"
#include "tools/conform.h"

static char *write_temp(const char *text) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/tconv_case_XXXXXX");
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  return path;
}

/* Reads every case of text; returns the first failing status (TC_OK if none). */
static tc_status read_all(const char *text, int *cases) {
  char *path = write_temp(text);
  tc_casefile *f;
  ck_assert_int_eq(tc_casefile_open(&f, path), TC_OK);
  tc_case *c;
  tc_status s;
  *cases = 0;
  while ((s = tc_casefile_next(f, &c)) == TC_OK && c != NULL)
    (*cases)++;
  tc_casefile_close(f);
  unlink(path);
  return s;
}

START_TEST(well_formed_file_reads) {
  int n;
  const char *text = "# comment\ncase a\nattr kind regularizer\nattr regularizer l2 0.5\n"
                     "tensor w 2 1 2\n1.5\n-2\ntensor loss 0\n3.125\ntensor dw 2 1 2\n1.5 -2\n"
                     "end\n\ncase b\nattr kind mystery\nend\n";
  ck_assert_int_eq(read_all(text, &n), TC_OK);
  ck_assert_int_eq(n, 2);
}
END_TEST

START_TEST(malformed_files_name_file_and_line) {
  struct { const char *text; const char *needle; } bad[] = {
      {"case a\nattr kind layer\ntensor x 2 2 2\n1 2 3\n", "file ends inside the values"},
      {"case a\ntensor x 1 2\n1 2 3\nend\n", "more values than the shape"},
      {"case a\ntensor x 1 2\n1 zebra\nend\n", "not a number"},
      {"case a\ntensor x 1 -2\nend\n", "not a positive integer"},
      {"case a\nattr kind layer\n", "missing 'end'"},
      {"tensor x 1 1\n1\n", "expected 'case NAME'"},
      {"case a\nbogus line\nend\n", "unknown keyword"},
      {"case a\ncase b\nend\n", "before the previous case's 'end'"},
      {"case a\nattr kind\nend\n", "attr without a value"},
      {"case a\nattr kind layer\nattr kind regularizer\nend\n",
       ":3: attr 'kind' given twice in case 'a' (first at line 2)"},
      {"case a\ntensor w 1 1\n1\ntensor w 1 1\n2\nend\n",
       ":4: tensor 'w' given twice in case 'a' (first at line 2)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int n;
    ck_assert_int_eq(read_all(bad[i].text, &n), TC_ERR_FORMAT);
    ck_assert_msg(strstr(tc_last_error(), bad[i].needle) != NULL, "%zu: %s", i, tc_last_error());
    ck_assert_msg(strstr(tc_last_error(), "/tmp/tconv_case_") != NULL, "no file name: %s",
                  tc_last_error());
    ck_assert_msg(strstr(tc_last_error(), ":") != NULL, "no line: %s", tc_last_error());
  }
  tc_casefile *f;
  TC_CK_ERROR(tc_casefile_open(&f, "/nonexistent/x.case"), TC_ERR_IO, "/nonexistent/x.case");
  /* A directory opens with fopen on Linux and reads as empty: refused at open. */
  TC_CK_ERROR(tc_casefile_open(&f, "/tmp"), TC_ERR_IO, "/tmp: a directory, not a case file");
}
END_TEST

static tc_conform_verdict run_text(const char *text, tc_conform_outcome *o) {
  char *path = write_temp(text);
  tc_casefile *f;
  ck_assert_int_eq(tc_casefile_open(&f, path), TC_OK);
  tc_case *c;
  ck_assert_int_eq(tc_casefile_next(f, &c), TC_OK);
  ck_assert_ptr_nonnull(c);
  tc_conform_run(c, o);
  tc_casefile_close(f);
  unlink(path);
  return o->verdict;
}

START_TEST(verdicts_pass_fail_skip) {
  tc_conform_outcome o;
  const char *good = "case r\nattr kind regularizer\nattr regularizer l1_l2 0.5 0.25\n"
                     "tensor w 1 2\n2 -1\ntensor loss 0\n2.75\ntensor dw 1 2\n1.5 -1\nend\n";
  ck_assert_int_eq(run_text(good, &o), TC_CONFORM_PASS);
  const char *wrong = "case r\nattr kind regularizer\nattr regularizer l1_l2 0.5 0.25\n"
                      "tensor w 1 2\n2 -1\ntensor loss 0\n2.75\ntensor dw 1 2\n1.5 -1.01\nend\n";
  ck_assert_int_eq(run_text(wrong, &o), TC_CONFORM_FAIL);
  ck_assert_str_eq(o.tensor, "dw");
  ck_assert_double_eq_tol(o.max_abs, 0.01, 1e-6);
  const char *unknown = "case u\nattr kind quantum\nend\n";
  ck_assert_int_eq(run_text(unknown, &o), TC_CONFORM_SKIP);
  const char *badreg = "case r\nattr kind regularizer\nattr regularizer l3 1\n"
                       "tensor w 1 1\n1\nend\n";
  ck_assert_int_eq(run_text(badreg, &o), TC_CONFORM_FAIL);
  ck_assert_ptr_nonnull(strstr(o.note, "l3"));
  const char *missing = "case c\nattr kind constraint\nattr constraint non_neg\n"
                        "tensor w 1 2\n-1 2\nend\n";
  ck_assert_int_eq(run_text(missing, &o), TC_CONFORM_FAIL);
  ck_assert_ptr_nonnull(strstr(o.note, "w_out"));
  /* The right count of numbers in another shape is not the right answer. */
  const char *reshaped = "case r\nattr kind regularizer\nattr regularizer l1_l2 0.5 0.25\n"
                         "tensor w 1 2\n2 -1\ntensor loss 0\n2.75\ntensor dw 2 2 1\n1.5 -1\nend\n";
  ck_assert_int_eq(run_text(reshaped, &o), TC_CONFORM_FAIL);
  ck_assert_str_eq(o.tensor, "dw");
  ck_assert_msg(strstr(o.note, "golden 'dw' has shape (2, 1), the result has (2)") != NULL,
                "%s", o.note);
  const char *scalar = "case r\nattr kind regularizer\nattr regularizer l1_l2 0.5 0.25\n"
                       "tensor w 1 2\n2 -1\ntensor loss 1 1\n2.75\ntensor dw 1 2\n1.5 -1\nend\n";
  ck_assert_int_eq(run_text(scalar, &o), TC_CONFORM_FAIL);
  ck_assert_ptr_nonnull(strstr(o.note, "golden 'loss' has shape (1), the result has ()"));
}
END_TEST

START_TEST(public_cases_pass) {
  const char *files[] = {"layer.case", "regularizer.case", "constraint.case", "train.case",
                         "op.case"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", TCONV_TEST_DATA, files[i]);
    tc_casefile *f;
    ck_assert_int_eq(tc_casefile_open(&f, path), TC_OK);
    tc_case *c;
    int n = 0;
    while (tc_casefile_next(f, &c) == TC_OK && c != NULL) {
      tc_conform_outcome o;
      tc_conform_run(c, &o);
      ck_assert_msg(o.verdict == TC_CONFORM_PASS, "%s: tensor %s abs %g: %s", c->name, o.tensor,
                    o.max_abs, o.note);
      n++;
    }
    ck_assert_int_gt(n, 0);
    tc_casefile_close(f);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("conform");
  TCase *tc = tcase_create("cases");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, well_formed_file_reads);
  tcase_add_test(tc, malformed_files_name_file_and_line);
  tcase_add_test(tc, verdicts_pass_fail_skip);
  tcase_add_test(tc, public_cases_pass);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
