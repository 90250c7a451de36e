/* fuzz_spec.c — libFuzzer target for the option-string parsers (docs/strings.md): any
 * bytes, given to each of the five grammars, must give a status, never a crash, a leak or
 * undefined behaviour; what parses must keep the float32 rule (every number finite) and,
 * where it is checked against a shape, must then apply without error. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/activation.h"
#include "layers/constraint.h"
#include "layers/initializer.h"
#include "layers/regularizer.h"
#include "optim/optimizer.h"

static void need(int ok) {
  if (!ok)
    abort();
}

static void try_initializer(const char *s) {
  tc_initializer in;
  if (tc_initializer_parse(s, &in) != TC_OK)
    return;
  need(isfinite(in.value) && isfinite(in.minval) && isfinite(in.maxval) &&
       isfinite(in.mean) && isfinite(in.stddev) && isfinite(in.scale) && isfinite(in.gain));
  int64_t shape[2] = {3, 4};
  tc_tensor *t;
  if (tc_tensor_create(&t, 2, shape) != TC_OK)
    return;
  /* What passes the create-time check must fill without error. */
  if (tc_initializer_check(&in, 2, shape) == TC_OK)
    need(tc_initializer_apply(&in, t, 1, 2) == TC_OK);
  tc_tensor_free(t);
}

static void try_constraint(const char *s) {
  tc_constraint c;
  if (tc_constraint_parse(s, &c) != TC_OK)
    return;
  need(isfinite(c.max_value) && isfinite(c.min_value) && isfinite(c.rate));
  int64_t shape[4] = {3, 3, 2, 2};
  tc_tensor *t;
  if (tc_tensor_create(&t, 4, shape) != TC_OK)
    return;
  for (int64_t i = 0; i < t->size; i++)
    t->data[i] = (float)(i % 7) - 3.0f;
  if (tc_constraint_check(&c, 4, shape) == TC_OK)
    need(tc_constraint_apply(&c, t) == TC_OK);
  tc_tensor_free(t);
}

static void try_others(const char *s) {
  tc_activation a;
  if (tc_activation_parse(s, &a) == TC_OK)
    need(isfinite(a.alpha) && a.alpha >= 0);
  tc_regularizer r;
  if (tc_regularizer_parse(s, &r) == TC_OK)
    need(isfinite(r.l1) && isfinite(r.l2) && tc_regularizer_check(&r) == TC_OK);
  tc_optim_config o;
  if (tc_optim_config_parse(s, &o) == TC_OK)
    need(isfinite(o.lr) && isfinite(o.momentum) && isfinite(o.beta1) && isfinite(o.beta2) &&
         isfinite(o.epsilon) && isfinite(o.rho) && isfinite(o.initial_ms) &&
         isfinite(o.initial_accumulator) && isfinite(o.clip_value) && isfinite(o.clip_norm) &&
         isfinite(o.clip_global_norm) && isfinite(o.weight_decay));
  tc_lr_schedule sc; /* the schedule grammar: a factor that is finite and >= 0 anywhere */
  if (tc_lr_schedule_parse(s, &sc) == TC_OK) {
    double f0 = tc_lr_schedule_factor(&sc, 0), f1 = tc_lr_schedule_factor(&sc, 1 << 20);
    need(isfinite(f0) && f0 >= 0.0 && isfinite(f1) && f1 >= 0.0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1024)
    return 0;
  char *s = malloc(size + 1);
  if (s == NULL)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0'; /* an embedded NUL just ends the string early, as in C */
  try_initializer(s);
  try_constraint(s);
  try_others(s);
  free(s);
  return 0;
}
