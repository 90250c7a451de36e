/* netfile_schema.c — the kinds of a network description, their keys and value rules. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/activation.h"
#include "core/spec.h"
#include "layers/constraint.h"
#include "layers/initializer.h"
#include "layers/netfile_internal.h"
#include "layers/regularizer.h"

/* {key, type, lo, hi, words, required, Keras' default as text (NULL: none)} */
#define TC_COMMON_KEYS                                                                     \
  {"activation", TC_NV_ACT, 0, 0, NULL, 0, "linear"},                                       \
  {"use_bias", TC_NV_BOOL, 0, 0, NULL, 0, "true"},                                          \
  {"kernel_initializer", TC_NV_INIT, 0, 0, NULL, 0, "glorot_uniform"},                      \
  {"bias_initializer", TC_NV_INIT, 0, 0, NULL, 0, "zeros"},                                 \
  {"kernel_regularizer", TC_NV_REG, 0, 0, NULL, 0, "none"},                                 \
  {"bias_regularizer", TC_NV_REG, 0, 0, NULL, 0, "none"},                                   \
  {"activity_regularizer", TC_NV_REG, 0, 0, NULL, 0, "none"},                               \
  {"kernel_constraint", TC_NV_CONS, 0, 0, NULL, 0, "none"},                                 \
  {"bias_constraint", TC_NV_CONS, 0, 0, NULL, 0, "none"},                                   \
  {"trainable", TC_NV_BOOL, 0, 0, NULL, 0, "true"}
#define TC_CONV_KEYS                                                                       \
  {"filters", TC_NV_INT, 1, 65536, NULL, 1, NULL},                                          \
  {"kernel_size", TC_NV_INT2, 1, 64, NULL, 1, NULL},                                        \
  {"strides", TC_NV_INT2, 1, 16, NULL, 0, "1,1"},                                           \
  {"padding", TC_NV_WORD, 0, 0, "valid|same", 0, "valid"}, TC_FORMAT_KEY,                   \
  {"dilation_rate", TC_NV_INT2, 1, 64, NULL, 0, "1,1"},                                     \
  {"groups", TC_NV_INT, 1, 65536, NULL, 0, "1"}
#define TC_FORMAT_KEY                                                                      \
  {"data_format", TC_NV_WORD, 0, 0, "channels_last|channels_first", 0, "channels_last"}
#define TC_NORM_KEYS                                                                       \
  {"epsilon", TC_NV_FLOAT, 0, 0, NULL, 0, "0.001"},                                         \
  {"center", TC_NV_BOOL, 0, 0, NULL, 0, "true"}, {"scale", TC_NV_BOOL, 0, 0, NULL, 0, "true"}
#define TC_END {NULL, 0, 0, 0, NULL, 0, NULL}

static const tc_net_key tc_input_keys[] = {{"shape", TC_NV_INTS, 1, 65536, NULL, 1, NULL},
                                           TC_END};
static const tc_net_key tc_convt_keys[] = {
    TC_CONV_KEYS, {"output_padding", TC_NV_INT2, 0, 64, NULL, 0, NULL}, TC_COMMON_KEYS, TC_END};
static const tc_net_key tc_conv_keys[] = {TC_CONV_KEYS, TC_COMMON_KEYS, TC_END};
static const tc_net_key tc_dense_keys[] = {
    {"units", TC_NV_INT, 1, 1 << 20, NULL, 1, NULL}, TC_COMMON_KEYS, TC_END};
static const tc_net_key tc_bn_keys[] = {
    {"axis", TC_NV_INT, -4, 3, NULL, 0, "-1"}, {"momentum", TC_NV_FLOAT, 0, 1, NULL, 0, "0.99"},
    TC_NORM_KEYS,
    {"beta_initializer", TC_NV_INIT, 0, 0, NULL, 0, "zeros"},
    {"gamma_initializer", TC_NV_INIT, 0, 0, NULL, 0, "ones"},
    {"moving_mean_initializer", TC_NV_INIT, 0, 0, NULL, 0, "zeros"},
    {"moving_variance_initializer", TC_NV_INIT, 0, 0, NULL, 0, "ones"},
    {"beta_regularizer", TC_NV_REG, 0, 0, NULL, 0, "none"},
    {"gamma_regularizer", TC_NV_REG, 0, 0, NULL, 0, "none"},
    {"beta_constraint", TC_NV_CONS, 0, 0, NULL, 0, "none"},
    {"gamma_constraint", TC_NV_CONS, 0, 0, NULL, 0, "none"},
    {"fused", TC_NV_WORD, 0, 0, "auto|true|false", 0, "auto"},
    {"trainable", TC_NV_BOOL, 0, 0, NULL, 0, "true"}, TC_END};
static const tc_net_key tc_ln_keys[] = {TC_NORM_KEYS, TC_END};
static const tc_net_key tc_gn_keys[] = {
    {"groups", TC_NV_INT, 1, 65536, NULL, 1, NULL}, TC_NORM_KEYS, TC_FORMAT_KEY, TC_END};
static const tc_net_key tc_in_keys[] = {TC_NORM_KEYS, TC_FORMAT_KEY, TC_END};
static const tc_net_key tc_act_keys[] = {{"activation", TC_NV_ACT, 0, 0, NULL, 1, NULL}, TC_END};
static const tc_net_key tc_concat_keys[] = {{"axis", TC_NV_INT, -4, 3, NULL, 0, "-1"}, TC_END};
static const tc_net_key tc_none_keys[] = {TC_END};
static const tc_net_key tc_up_keys[] = {
    {"size", TC_NV_INT2, 1, 16, NULL, 1, NULL},
    {"interpolation", TC_NV_WORD, 0, 0, "nearest|bilinear", 0, "nearest"}, TC_FORMAT_KEY, TC_END};
static const tc_net_key tc_resize_keys[] = {
    {"size", TC_NV_INT2, 1, 4096, NULL, 1, NULL},
    {"method", TC_NV_WORD, 0, 0, "nearest|bilinear", 0, "bilinear"},
    {"mode", TC_NV_WORD, 0, 0, "half_pixel|legacy|align_corners", 0, "half_pixel"},
    TC_FORMAT_KEY, TC_END};
static const tc_net_key tc_pad_keys[] = {
    {"pad", TC_NV_INTS, 0, 4096, NULL, 1, NULL},
    {"mode", TC_NV_WORD, 0, 0, "constant|reflect|symmetric", 0, "constant"},
    {"value", TC_NV_FLOAT, -INFINITY, -INFINITY, NULL, 0, "0"}, TC_FORMAT_KEY, TC_END};
static const tc_net_key tc_crop_keys[] = {{"crop", TC_NV_INTS, 0, 4096, NULL, 1, NULL},
                                          TC_FORMAT_KEY, TC_END};
static const tc_net_key tc_drop_keys[] = {{"rate", TC_NV_FLOAT, 0, 1, NULL, 1, NULL}, TC_END};
static const tc_net_key tc_reshape_keys[] = {{"shape", TC_NV_INTS, 1, 1 << 24, NULL, 1, NULL},
                                             TC_END};

const tc_net_kind tc_net_kinds[TC_NK_COUNT] = {
    [TC_NK_INPUT] = {"input", 0, 0, tc_input_keys},
    [TC_NK_CONV2D_TRANSPOSE] = {"conv2d_transpose", 1, 1, tc_convt_keys},
    [TC_NK_CONV2D] = {"conv2d", 1, 1, tc_conv_keys},
    [TC_NK_DENSE] = {"dense", 1, 1, tc_dense_keys},
    [TC_NK_BATCH_NORM] = {"batch_norm", 1, 1, tc_bn_keys},
    [TC_NK_LAYER_NORM] = {"layer_norm", 1, 1, tc_ln_keys},
    [TC_NK_GROUP_NORM] = {"group_norm", 1, 1, tc_gn_keys},
    [TC_NK_INSTANCE_NORM] = {"instance_norm", 1, 1, tc_in_keys},
    [TC_NK_ACTIVATION] = {"activation", 1, 1, tc_act_keys},
    [TC_NK_CONCAT] = {"concat", 1, TC_NET_MAX_INPUTS, tc_concat_keys},
    [TC_NK_ADD] = {"add", 2, TC_NET_MAX_INPUTS, tc_none_keys},
    [TC_NK_UPSAMPLE] = {"upsample", 1, 1, tc_up_keys},
    [TC_NK_RESIZE] = {"resize", 1, 1, tc_resize_keys},
    [TC_NK_PAD] = {"pad", 1, 1, tc_pad_keys},
    [TC_NK_CROP] = {"crop", 1, 1, tc_crop_keys},
    [TC_NK_DROPOUT] = {"dropout", 1, 1, tc_drop_keys},
    [TC_NK_FLATTEN] = {"flatten", 1, 1, tc_none_keys},
    [TC_NK_RESHAPE] = {"reshape", 1, 1, tc_reshape_keys},
};

const char *const tc_net_loss_names[] = {"mse", "mae", "huber", "gan", NULL};
const tc_net_key tc_net_loss_keys[] = {
    {"output", TC_NV_WORD, 0, 0, NULL, 0, NULL},    /* a node name, checked by the parser */
    {"generator", TC_NV_WORD, 0, 0, NULL, 0, NULL}, /* gan: the generator's output node */
    {"discriminator", TC_NV_WORD, 0, 0, NULL, 0, NULL},
    {"delta", TC_NV_FLOAT, 0, 0, NULL, 0, NULL}, /* huber */
    TC_END};

int tc_net_kind_find(const char *word) {
  for (int k = 0; k < TC_NK_COUNT; k++)
    if (strcmp(tc_net_kinds[k].name, word) == 0)
      return k;
  return -1;
}

const char *tc_net_kind_name(int kind) {
  return kind >= 0 && kind < TC_NK_COUNT ? tc_net_kinds[kind].name : "unknown";
}

const tc_net_key *tc_net_key_find(const tc_net_key *keys, const char *key) {
  for (; keys->key != NULL; keys++)
    if (strcmp(keys->key, key) == 0)
      return keys;
  return NULL;
}

tc_status tc_net_error(const tc_netdesc *d, int line, int col, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return tc_set_error(TC_ERR_INVALID_ARG, "%s:%d:%d: %s", d->source, line, col, msg);
}

/* A decimal integer: optional '-', 1..10 digits, nothing else. */
static int tc_parse_int(const char *s, size_t n, int64_t *out) {
  size_t i = s[0] == '-' ? 1 : 0;
  if (n <= i || n - i > 10)
    return 0;
  int64_t v = 0;
  for (size_t k = i; k < n; k++) {
    if (s[k] < '0' || s[k] > '9')
      return 0;
    v = v * 10 + (s[k] - '0');
  }
  *out = i ? -v : v;
  return 1;
}

int tc_net_ints(const char *value, int64_t *out, int max) {
  int n = 0;
  for (const char *p = value; n < max;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (!tc_parse_int(p, len, &out[n]))
      return -1;
    n++;
    if (comma == NULL)
      return n;
    p = comma + 1;
  }
  return max + 1; /* more than max */
}

static tc_status tc_check_ints(const tc_netdesc *d, const tc_net_attr *a, const tc_net_key *k) {
  int max = k->type == TC_NV_INT ? 1 : k->type == TC_NV_INT2 ? 2 : 4;
  const char *what = max == 1 ? "an integer" : max == 2 ? "an integer or a pair A,B"
                                                        : "1 to 4 integers A,B,...";
  int64_t v[4];
  int n = tc_net_ints(a->value, v, max);
  if (n < 0 || n > max)
    return tc_net_error(d, a->line, a->col, "%s: expected %s, got \"%s\"", a->key, what,
                        a->value);
  for (int i = 0; i < n; i++)
    if (v[i] < (int64_t)k->lo || v[i] > (int64_t)k->hi)
      return tc_net_error(d, a->line, a->col, "%s: expected %s in [%lld, %lld], got %lld",
                          a->key, what, (long long)k->lo, (long long)k->hi, (long long)v[i]);
  return TC_OK;
}

static tc_status tc_check_float(const tc_netdesc *d, const tc_net_attr *a, const tc_net_key *k) {
  tc_spec sp;
  float f;
  tc_status s = tc_spec_split(&sp, a->key, a->value, 1, "a number");
  if (s == TC_OK)
    s = tc_spec_number(&sp, sp.f[0], "a finite number", k->lo, &f);
  if (s == TC_OK && k->hi > k->lo && !(f < k->hi))
    return tc_net_error(d, a->line, a->col, "%s: expected a number in [%g, %g), got %s", a->key,
                        k->lo, k->hi, a->value);
  if (s == TC_OK && k->hi == 0 && k->lo == 0 && strcmp(a->key, "epsilon") == 0 && f <= 0)
    return tc_net_error(d, a->line, a->col, "epsilon: expected a number > 0, got %s", a->value);
  if (s != TC_OK)
    return tc_net_error(d, a->line, a->col, "%s", tc_last_error());
  return TC_OK;
}

static tc_status tc_check_word(const tc_netdesc *d, const tc_net_attr *a, const char *words) {
  size_t n = strlen(a->value);
  for (const char *p = words; *p;) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == n && strncasecmp(p, a->value, n) == 0)
      return TC_OK;
    p += len + (bar != NULL);
  }
  return tc_net_error(d, a->line, a->col, "%s: expected one of %s, got \"%s\"", a->key, words,
                      a->value);
}

/* An option string through its module's parser; its message keeps the grammar. */
static tc_status tc_check_spec(const tc_netdesc *d, const tc_net_attr *a, tc_net_vtype t) {
  tc_activation act;
  tc_initializer init;
  tc_regularizer reg;
  tc_constraint cons;
  tc_status s = t == TC_NV_ACT    ? tc_activation_parse(a->value, &act)
                : t == TC_NV_INIT ? tc_initializer_parse(a->value, &init)
                : t == TC_NV_REG  ? tc_regularizer_parse(a->value, &reg)
                                  : tc_constraint_parse(a->value, &cons);
  if (s != TC_OK)
    return tc_net_error(d, a->line, a->col, "%s: %s", a->key, tc_last_error());
  return TC_OK;
}

tc_status tc_net_value_check(const tc_netdesc *d, const tc_net_attr *a, const tc_net_key *k) {
  switch (k->type) {
  case TC_NV_INT:
  case TC_NV_INT2:
  case TC_NV_INTS: return tc_check_ints(d, a, k);
  case TC_NV_FLOAT: return tc_check_float(d, a, k);
  case TC_NV_BOOL: return tc_check_word(d, a, "true|false");
  case TC_NV_WORD: return k->words ? tc_check_word(d, a, k->words) : TC_OK;
  default: return tc_check_spec(d, a, k->type);
  }
}
