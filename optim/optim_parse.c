/* optim_parse.c — "adam:lr=0.002:beta1=0.5" and friends (grammar in docs/strings.md). */
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "optim/optimizer.h"

typedef struct tc_optim_key {
  const char *key;
  size_t offset;
  int is_int;
} tc_optim_key;

#define TC_F(name, field) {name, offsetof(tc_optim_config, field), 0}
#define TC_I(name, field) {name, offsetof(tc_optim_config, field), 1}
static const tc_optim_key tc_optim_keys[] = {
    TC_F("lr", lr), TC_F("learning_rate", lr), TC_F("momentum", momentum),
    TC_I("nesterov", nesterov), TC_F("beta1", beta1), TC_F("beta2", beta2),
    TC_F("epsilon", epsilon), TC_I("amsgrad", amsgrad), TC_F("rho", rho),
    TC_I("centered", centered), TC_F("initial_ms", initial_ms),
    TC_F("initial_accumulator_value", initial_accumulator),
    TC_F("initial_accumulator", initial_accumulator), TC_F("clip_value", clip_value),
    TC_F("clip_norm", clip_norm), TC_F("clip_global_norm", clip_global_norm),
};

static tc_status tc_bad(const char *whole, const char *why) {
  return tc_set_error(TC_ERR_INVALID_ARG,
                      "optimizer '%s': %s; expected NAME[:key=value...] with NAME one of sgd, "
                      "momentum, adam, rmsprop, adagrad (docs/strings.md)",
                      whole, why);
}

static tc_status tc_parse_kind(const char *whole, const char *name, tc_optim_config *out) {
  static const struct { const char *name; tc_optim_kind kind; } kinds[] = {
      {"sgd", TC_OPTIM_SGD},         {"momentum", TC_OPTIM_SGD}, {"adam", TC_OPTIM_ADAM},
      {"rmsprop", TC_OPTIM_RMSPROP}, {"adagrad", TC_OPTIM_ADAGRAD}};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcasecmp(name, kinds[i].name) == 0) {
      *out = tc_optim_config_default(kinds[i].kind);
      if (strcasecmp(name, "momentum") == 0)
        out->momentum = 0.9f;
      return TC_OK;
    }
  return tc_bad(whole, "unknown optimizer name");
}

static tc_status tc_parse_pair(const char *whole, char *pair, tc_optim_config *out) {
  char *eq = strchr(pair, '=');
  if (eq == NULL)
    return tc_bad(whole, "an option lacks '=' (write key=value)");
  *eq = '\0';
  const char *key = pair, *val = eq + 1;
  if (strcasecmp(key, "epsilon_mode") == 0) {
    if (strcasecmp(val, "hat") == 0)
      out->epsilon_mode = TC_ADAM_EPSILON_HAT;
    else if (strcasecmp(val, "corrected") == 0)
      out->epsilon_mode = TC_ADAM_EPSILON_CORRECTED;
    else
      return tc_bad(whole, "epsilon_mode must be hat or corrected");
    return TC_OK;
  }
  for (size_t i = 0; i < sizeof tc_optim_keys / sizeof tc_optim_keys[0]; i++) {
    if (strcasecmp(key, tc_optim_keys[i].key) != 0)
      continue;
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (*val == '\0' || *end != '\0' || errno != 0 || !isfinite(v))
      return tc_bad(whole, "an option's value is not a number");
    char *field = (char *)out + tc_optim_keys[i].offset;
    if (tc_optim_keys[i].is_int)
      *(int *)field = v != 0.0;
    else
      *(float *)field = (float)v;
    return TC_OK;
  }
  return tc_bad(whole, "unknown option key");
}

tc_status tc_optim_config_parse(const char *s, tc_optim_config *out) {
  if (s == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_optim_config_parse: NULL argument");
  char buf[512];
  if (strlen(s) >= sizeof buf)
    return tc_set_error(TC_ERR_INVALID_ARG, "optimizer string is longer than %zu bytes",
                        sizeof buf - 1);
  strcpy(buf, s);
  char *save = NULL;
  char *name = strtok_r(buf, ":", &save);
  if (name == NULL)
    return tc_bad(s, "empty string");
  tc_optim_config c;
  TC_TRY(tc_parse_kind(s, name, &c));
  for (char *pair = strtok_r(NULL, ":", &save); pair; pair = strtok_r(NULL, ":", &save))
    TC_TRY(tc_parse_pair(s, pair, &c));
  *out = c;
  return TC_OK;
}
