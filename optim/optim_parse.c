/* optim_parse.c — "adam:lr=0.002:beta1=0.5" and friends (grammar in docs/strings.md).
 * Each optimizer has its own keys: a key that does not apply to the named optimizer
 * ("sgd:beta1=0.5") is an error naming the key and the optimizer, never silently kept. */
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/spec.h"
#include "optim/optimizer.h"

#define TC_OPTIM_GRAMMAR                                                                    \
  "NAME[:KEY=VALUE...], NAME one of sgd, momentum, adam, adamw, rmsprop, adagrad; keys: "   \
  "sgd/momentum: lr, momentum, nesterov; adam: lr, beta1, beta2, epsilon, epsilon_mode, "   \
  "amsgrad; adamw: adam's and weight_decay; rmsprop: lr, rho, epsilon, momentum, "          \
  "centered, initial_ms; adagrad: lr, "                                                     \
  "initial_accumulator_value, epsilon; every one: clip_value, clip_norm, clip_global_norm " \
  "(docs/strings.md)"

#define TC_SGD (1u << TC_OPTIM_SGD)
#define TC_ADAMW (1u << TC_OPTIM_ADAMW)
#define TC_ADAM ((1u << TC_OPTIM_ADAM) | TC_ADAMW)
#define TC_RMS (1u << TC_OPTIM_RMSPROP)
#define TC_ADAGRAD (1u << TC_OPTIM_ADAGRAD)
#define TC_ALL (TC_SGD | TC_ADAM | TC_RMS | TC_ADAGRAD)
/* "momentum" is sgd with momentum 0.9 (TF1's MomentumOptimizer needs a momentum). */
#define TC_NAME_MOMENTUM 5

typedef enum { TC_KEY_FLOAT, TC_KEY_BOOL, TC_KEY_EPSILON_MODE } tc_key_type;

/* The per-optimizer configs: which fields of tc_optim_config each optimizer reads. */
typedef struct tc_optim_key {
  const char *key;
  size_t offset;
  tc_key_type type;
  unsigned kinds; /* the optimizers it applies to */
} tc_optim_key;

#define TC_F(name, field, kinds) {name, offsetof(tc_optim_config, field), TC_KEY_FLOAT, kinds}
#define TC_B(name, field, kinds) {name, offsetof(tc_optim_config, field), TC_KEY_BOOL, kinds}
static const tc_optim_key tc_optim_keys[] = {
    TC_F("lr", lr, TC_ALL),
    TC_F("learning_rate", lr, TC_ALL),
    TC_F("momentum", momentum, TC_SGD | TC_RMS),
    TC_B("nesterov", nesterov, TC_SGD),
    TC_F("beta1", beta1, TC_ADAM),
    TC_F("beta2", beta2, TC_ADAM),
    TC_F("epsilon", epsilon, TC_ADAM | TC_RMS | TC_ADAGRAD),
    {"epsilon_mode", offsetof(tc_optim_config, epsilon_mode), TC_KEY_EPSILON_MODE, TC_ADAM},
    TC_B("amsgrad", amsgrad, TC_ADAM),
    TC_F("weight_decay", weight_decay, TC_ADAMW),
    TC_F("rho", rho, TC_RMS),
    TC_B("centered", centered, TC_RMS),
    TC_F("initial_ms", initial_ms, TC_RMS),
    TC_F("initial_accumulator_value", initial_accumulator, TC_ADAGRAD),
    TC_F("initial_accumulator", initial_accumulator, TC_ADAGRAD),
    TC_F("clip_value", clip_value, TC_ALL),
    TC_F("clip_norm", clip_norm, TC_ALL),
    TC_F("clip_global_norm", clip_global_norm, TC_ALL),
};
#define TC_N_KEYS (int)(sizeof tc_optim_keys / sizeof tc_optim_keys[0])

/* Indexed by tc_optim_kind, then the alias "momentum". */
static const char *const tc_optim_names[] = {"sgd",     "adam",  "rmsprop",
                                             "adagrad", "adamw", "momentum"};

static tc_status tc_parse_value(const tc_spec *sp, const tc_optim_key *k, const char *val,
                                tc_optim_config *c) {
  char *field = (char *)c + k->offset;
  if (k->type == TC_KEY_EPSILON_MODE) {
    static const char *const modes[] = {"hat", "corrected"};
    int m = tc_spec_lookup(val, modes, 2);
    if (m < 0)
      return tc_spec_error(sp, "epsilon_mode must be hat or corrected, got \"%s\"", val);
    *(tc_adam_epsilon *)field = m == 0 ? TC_ADAM_EPSILON_HAT : TC_ADAM_EPSILON_CORRECTED;
    return TC_OK;
  }
  if (k->type == TC_KEY_BOOL) {
    static const char *const bools[] = {"0", "1", "false", "true"};
    int b = tc_spec_lookup(val, bools, 4);
    if (b < 0)
      return tc_spec_error(sp, "%s must be 0, 1, false or true, got \"%s\"", k->key, val);
    *(int *)field = b % 2;
    return TC_OK;
  }
  char label[64];
  snprintf(label, sizeof label, "a number for %s", k->key);
  return tc_spec_number(sp, val, label, -INFINITY, (float *)field);
}

/* One "key=value" field into c; seen[] catches a key given twice. */
static tc_status tc_parse_pair(const tc_spec *sp, const char *name, char *pair,
                               tc_optim_config *c, int seen[TC_N_KEYS]) {
  char *eq = strchr(pair, '=');
  if (eq == NULL)
    return tc_spec_error(sp, "option \"%s\" lacks '=' (write key=value)", pair);
  *eq = '\0';
  int i = 0;
  while (i < TC_N_KEYS && strcmp(pair, tc_optim_keys[i].key) != 0)
    i++;
  if (i == TC_N_KEYS)
    return tc_spec_error(sp, "unknown option key \"%s\"", pair);
  const tc_optim_key *k = &tc_optim_keys[i];
  if (!(k->kinds & (1u << c->kind)))
    return tc_spec_error(sp, "%s does not apply to %s", k->key, name);
  /* lr and learning_rate (and the two initial_accumulator spellings) share a field */
  for (int j = 0; j < TC_N_KEYS; j++)
    if (seen[j] && tc_optim_keys[j].offset == k->offset)
      return tc_spec_error(sp, "%s is given twice", k->key);
  seen[i] = 1;
  return tc_parse_value(sp, k, eq + 1, c);
}

tc_status tc_optim_config_parse(const char *s, tc_optim_config *out) {
  if (s == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_optim_config_parse: NULL argument");
  tc_spec sp;
  TC_TRY(tc_spec_split(&sp, "optimizer", s, TC_SPEC_MAX_FIELDS, TC_OPTIM_GRAMMAR));
  if (sp.f[0][0] == '\0')
    return tc_spec_error(&sp, "empty optimizer name");
  int kind = tc_spec_lookup(sp.f[0], tc_optim_names, TC_NAME_MOMENTUM + 1);
  if (kind < 0)
    return tc_spec_error(&sp, "unknown optimizer name \"%s\"", sp.f[0]);
  int alias = kind == TC_NAME_MOMENTUM;
  tc_optim_config c = tc_optim_config_default(alias ? TC_OPTIM_SGD : (tc_optim_kind)kind);
  if (alias)
    c.momentum = 0.9f;
  int seen[TC_N_KEYS] = {0};
  for (int i = 1; i < sp.n; i++)
    TC_TRY(tc_parse_pair(&sp, sp.f[0], sp.f[i], &c, seen));
  *out = c;
  return TC_OK;
}
