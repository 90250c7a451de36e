/* test_netfile_bad.c — malformed network descriptions, one kind per row: each is refused
 * with SOURCE:LINE:COL and what was expected (the rows of docs/bad-input.md, "Network
 * files"). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/netfile.h"

#define OK_HEAD "input x shape=8,8,1\n"

typedef struct bad_case {
  const char *what, *text, *msg;
} bad_case;

static const bad_case cases[] = {
    {"unknown kind", OK_HEAD "conv3d c x\noutput c\n", "t.net:2:1: expected var, output, loss or a node kind"},
    {"missing name", OK_HEAD "conv2d\noutput x\n", "t.net:2:7: conv2d: expected a node name"},
    {"bad name character", OK_HEAD "conv2d c$ x filters=1 kernel_size=1\noutput c\n", "t.net:2:9: conv2d: expected a name of [A-Za-z0-9_.-] ('/' between scopes), got '$'"},
    {"name too long", OK_HEAD "flatten aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa x\noutput x\n", "t.net:2:9: flatten: expected a name of at most 63 bytes"},
    {"duplicate name", OK_HEAD "flatten f x\nflatten f x\noutput f\n", "t.net:3:9: node 'f' is already defined on line 2"},
    {"unknown input", OK_HEAD "flatten f y\noutput f\n", "t.net:2:11: expected a node defined above, got unknown node 'y'"},
    {"self reference", OK_HEAD "flatten f f\noutput f\n", "t.net:2:11: node 'f' takes itself as input (a cycle)"},
    {"cycle through a later node", OK_HEAD "add a x b\nadd b a x\noutput b\n", "t.net:2:9: node 'b' is defined below, on line 3"},
    {"unknown key", OK_HEAD "conv2d c x filters=1 kernel_size=1 colour=red\noutput c\n", "t.net:2:36: conv2d has no key 'colour'"},
    {"key given twice", OK_HEAD "conv2d c x filters=1 filters=2 kernel_size=1\noutput c\n", "t.net:2:22: filters: given twice (first at column 12)"},
    {"missing required key", OK_HEAD "conv2d c x filters=1\noutput c\n", "t.net:2:8: conv2d 'c': expected kernel_size=... (required)"},
    {"empty value", OK_HEAD "conv2d c x filters= kernel_size=1\noutput c\n", "t.net:2:20: filters: expected a value after '='"},
    {"input after attributes", OK_HEAD "conv2d c filters=1 x kernel_size=1\noutput c\n", "t.net:2:20: expected KEY=VALUE (inputs come before"},
    {"not an integer", OK_HEAD "conv2d c x filters=two kernel_size=1\noutput c\n", "t.net:2:20: filters: expected an integer, got \"two\""},
    {"integer out of range", OK_HEAD "conv2d c x filters=0 kernel_size=1\noutput c\n", "t.net:2:20: filters: expected an integer in [1, 65536], got 0"},
    {"integer too long", OK_HEAD "dense d x units=99999999999\noutput d\n", "t.net:2:17: units: expected an integer, got \"99999999999\""},
    {"pair of three", OK_HEAD "conv2d c x filters=1 kernel_size=1,2,3\noutput c\n", "t.net:2:34: kernel_size: expected an integer or a pair A,B"},
    {"float not finite in float32", OK_HEAD "dropout d x rate=1e39\noutput d\n", "t.net:2:18: rate \"1e39\": expected a finite number"},
    {"float hex or nan", OK_HEAD "dropout d x rate=nan\noutput d\n", "t.net:2:18: rate \"nan\""},
    {"float out of range", OK_HEAD "dropout d x rate=1.5\noutput d\n", "t.net:2:18: rate: expected a number in [0, 1), got 1.5"},
    {"bad bool", OK_HEAD "dense d x units=1 use_bias=yes\noutput d\n", "t.net:2:28: use_bias: expected one of true|false, got \"yes\""},
    {"bad word", OK_HEAD "conv2d c x filters=1 kernel_size=1 padding=middle\noutput c\n", "t.net:2:44: padding: expected one of valid|same, got \"middle\""},
    {"bad activation spec", OK_HEAD "activation a x activation=rleu\noutput a\n", "t.net:2:27: activation: activation \"rleu\": unknown name"},
    {"bad initializer spec", OK_HEAD "dense d x units=1 kernel_initializer=he_normal:7\noutput d\n", "t.net:2:38: kernel_initializer: initializer \"he_normal:7\""},
    {"bad regularizer number", OK_HEAD "dense d x units=1 kernel_regularizer=l2:1e39\noutput d\n", "t.net:2:38: kernel_regularizer: regularizer \"l2:1e39\""},
    {"too few inputs", OK_HEAD "add a x\noutput a\n", "t.net:2:8: add 'a': expected 2 or more inputs, got 1"},
    {"too many inputs", OK_HEAD "dense d x x units=1\noutput d\n", "t.net:2:13: dense 'd': expected 1 input, got 2"},
    {"input with inputs", OK_HEAD "input y x shape=1\noutput y\n", "t.net:2:11: input 'y': expected 0 inputs, got 1"},
    {"no input first", "flatten f g\noutput f\n", "t.net:1:11: expected a node defined above, got unknown node 'g'"},
    {"empty file", "# nothing\n\n", "t.net:2:1: expected an input node first"},
    {"no output line", OK_HEAD "flatten f x\n", "t.net:2:1: expected an output line"},
    {"unknown output", OK_HEAD "flatten f x\noutput g\n", "t.net:3:8: expected a node defined above, got unknown node 'g'"},
    {"output twice", OK_HEAD "flatten f x\noutput f f\n", "t.net:3:10: output 'f' is listed twice"},
    {"unknown loss", OK_HEAD "flatten f x\noutput f\nloss l3\n", "t.net:4:6: loss: expected mse, mae, huber or gan, got \"l3\""},
    {"loss twice", OK_HEAD "flatten f x\noutput f\nloss mse\nloss mae\n", "t.net:5:1: loss: given twice (first on line 4)"},
    {"loss names an unknown node", OK_HEAD "flatten f x\noutput f\nloss mse output=g\n", "t.net:4:17: expected a node defined above, got unknown node 'g'"},
    {"undeclared variable", OK_HEAD "dense d x units=$n\noutput d\n", "t.net:2:17: units: expected a declared variable, got $n"},
    {"variable declared twice", "var a=1\nvar a=2\n" OK_HEAD "output x\n", "t.net:2:5: var: 'a' is declared twice"},
    {"var without value", "var a=\n" OK_HEAD "output x\n", "t.net:1:5: var: expected NAME=VALUE"},
    {"control byte", OK_HEAD "flatten f\x01 x\noutput f\n", "t.net:2:10: expected printable ASCII, got byte 0x01"},
    {"non-ASCII byte", OK_HEAD "flatten f\xc3\xa9 x\noutput f\n", "t.net:2:10: expected printable ASCII, got byte 0xc3"},
    {"shape too large", "input x shape=65536,65536,3\noutput x\n", "t.net:1:1: input 'x': expected a shape of 1 to 3 sizes with at most"},
    {"shape of four sizes", "input x shape=2,2,2,2\noutput x\n", "t.net:1:1: input 'x': expected a shape of 1 to 3 sizes"},
    {"output blows up", "input x shape=256,256,64\nconv2d_transpose t x filters=4096 kernel_size=64 strides=16\noutput t\n", "t.net:2:1: conv2d_transpose 't': its output or kernel would exceed"},
    {"shapes that do not fit", OK_HEAD "input z shape=4,4,1\nconcat c x z\noutput c\n", "t.net:3:1: concat 'c': "},
    {"var with two words", "var a=1 b=2\n" OK_HEAD "output x\n", "t.net:1:9: var: expected one NAME=VALUE after var"},
    {"bad variable name", "var a$=1\n" OK_HEAD "output x\n", "t.net:1:6: var: expected a name of [A-Za-z0-9_.-]"},
    {"key missing before '='", OK_HEAD "conv2d c x =1 kernel_size=1\noutput c\n", "t.net:2:12: expected a KEY before '='"},
    {"epsilon not above 0", OK_HEAD "layer_norm l x epsilon=0\noutput l\n", "t.net:2:24: epsilon: expected a number > 0, got 0"},
    {"output without a name", OK_HEAD "output\n", "t.net:2:7: output: expected a node name"},
    {"more than 8 outputs", OK_HEAD "output x x x x x x x x x\n", "t.net:2:24: expected at most 8 outputs"},
    {"loss without a kind", OK_HEAD "output x\nloss\n", "t.net:3:5: loss: expected a loss kind"},
    {"loss with an unknown key", OK_HEAD "output x\nloss mse colour=red\n", "t.net:3:10: loss has no key 'colour'"},
    {"layer refuses its config", OK_HEAD "conv2d c x filters=3 kernel_size=1 groups=2\noutput c\n", "t.net:2:1: conv2d 'c': "},
};

/* Builds the description (parse, then create on a model) and returns the message. */
static tc_status try_build(const char *text, size_t len) {
  tc_netdesc *d = NULL;
  tc_status s = tc_netdesc_parse(&d, text, len, "t.net", NULL, 0);
  if (s != TC_OK)
    return s;
  tc_model *m;
  tc_net *net = NULL;
  ck_assert_int_eq(tc_model_create(&m, 1), TC_OK);
  s = tc_net_create(&net, m, d);
  if (s != TC_OK)
    ck_assert_int_eq(tc_model_param_count(m), 0);
  tc_net_free(net);
  tc_model_free(m);
  tc_netdesc_free(d);
  return s;
}

START_TEST(malformed_descriptions_are_refused_with_line_and_column) {
  int n = (int)(sizeof cases / sizeof cases[0]);
  ck_assert_int_ge(n, 25);
  for (int i = 0; i < n; i++) {
    tc_status s = try_build(cases[i].text, strlen(cases[i].text));
    ck_assert_msg(s != TC_OK, "%s: accepted", cases[i].what);
    ck_assert_msg(strstr(tc_last_error(), cases[i].msg) != NULL, "%s: message\n  %s\nlacks\n  %s",
                  cases[i].what, tc_last_error(), cases[i].msg);
  }
}
END_TEST

static char *filled(size_t n, const char *head, char fill) {
  char *t = malloc(n + 1);
  ck_assert_ptr_nonnull(t);
  memset(t, fill, n);
  memcpy(t, head, strlen(head));
  t[n] = '\0';
  return t;
}

START_TEST(limits_on_size_lines_nodes_words_and_nul) {
  char *t = filled(TC_NET_MAX_BYTES + 1, "#", ' ');
  ck_assert_int_ne(try_build(t, TC_NET_MAX_BYTES + 1), TC_OK);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "t.net:1:1: expected at most 1048576 bytes"));
  free(t);
  t = filled(TC_NET_MAX_LINE + 10, "#", 'a');
  ck_assert_int_ne(try_build(t, strlen(t)), TC_OK);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "t.net:1:1001: expected a line of at most 1000"));
  free(t);
  char nul[] = OK_HEAD "flatten f x\0\noutput f\n";
  ck_assert_int_ne(try_build(nul, sizeof nul - 1), TC_OK);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "t.net:2:12: expected text, got a NUL byte"));
  size_t cap = 40 * (TC_NET_MAX_NODES + 2), len = 0;
  t = malloc(cap);
  len += (size_t)snprintf(t, cap, OK_HEAD);
  for (int i = 0; i < TC_NET_MAX_NODES; i++)
    len += (size_t)snprintf(t + len, cap - len, "flatten f%d x\n", i);
  ck_assert_int_ne(try_build(t, len), TC_OK);
  ck_assert_msg(strstr(tc_last_error(), "t.net:513:1: expected at most 512 nodes"), "%s",
                tc_last_error());
  len = (size_t)snprintf(t, cap, OK_HEAD "concat c");
  for (int i = 0; i < TC_NET_MAX_INPUTS + 1; i++)
    len += (size_t)snprintf(t + len, cap - len, " x");
  ck_assert_int_ne(try_build(t, len), TC_OK);
  ck_assert_msg(strstr(tc_last_error(), "t.net:2:42: expected at most 16 inputs"), "%s",
                tc_last_error());
  len = (size_t)snprintf(t, cap, OK_HEAD "flatten f x");
  for (int i = 0; i < 60; i++)
    len += (size_t)snprintf(t + len, cap - len, " k=1");
  ck_assert_int_ne(try_build(t, len), TC_OK);
  ck_assert_msg(strstr(tc_last_error(), "t.net:2:") && strstr(tc_last_error(), "expected at most"),
                "%s", tc_last_error());
  len = 0;
  for (int i = 0; i <= TC_NET_MAX_VARS; i++) /* one variable more than the limit */
    len += (size_t)snprintf(t + len, cap - len, "var v%d=1\n", i);
  len += (size_t)snprintf(t + len, cap - len, OK_HEAD "output x\n");
  ck_assert_int_ne(try_build(t, len), TC_OK);
  ck_assert_msg(strstr(tc_last_error(), "t.net:33:5: var: expected at most 32 variables"), "%s",
                tc_last_error());
  free(t);
  char *value = filled(TC_NET_VALUE_MAX, "1", '1'); /* 200 digits: one byte over */
  size_t vcap = TC_NET_VALUE_MAX + 64;
  t = malloc(vcap);
  ck_assert_ptr_nonnull(t);
  len = (size_t)snprintf(t, vcap, OK_HEAD "dense d x units=%s\noutput d\n", value);
  ck_assert_int_ne(try_build(t, len), TC_OK);
  ck_assert_msg(strstr(tc_last_error(), "t.net:2:17: units: expected a value of at most 199 "
                       "bytes, got 200"), "%s", tc_last_error());
  len = (size_t)snprintf(t, vcap, "var n=%s\n" OK_HEAD "output x\n", value);
  ck_assert_int_ne(try_build(t, len), TC_OK);
  ck_assert_msg(strstr(tc_last_error(), "t.net:1:5: var n: expected a value of at most 199 bytes"),
                "%s", tc_last_error());
  free(value);
  free(t);
}
END_TEST

START_TEST(a_missing_or_odd_file_is_refused) {
  tc_netdesc *d = (tc_netdesc *)1;
  ck_assert_int_eq(tc_netdesc_load(&d, "/nonexistent/x.net", NULL, 0), TC_ERR_IO);
  ck_assert_ptr_null(d);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "network file '/nonexistent/x.net'"));
  ck_assert_int_eq(tc_netdesc_load(&d, "/", NULL, 0), TC_ERR_IO);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "is not a regular file"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("netfile_bad");
  TCase *tc = tcase_create("netfile_bad");
  tcase_add_test(tc, malformed_descriptions_are_refused_with_line_and_column);
  tcase_add_test(tc, limits_on_size_lines_nodes_words_and_nul);
  tcase_add_test(tc, a_missing_or_odd_file_is_refused);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
