/* schedule.h — learning-rate schedules: a pure function of the step that multiplies the
 * optimizer's lr (grammar in docs/strings.md).
 *
 *   tc_lr_schedule sc;
 *   TC_TRY(tc_lr_schedule_parse("cosine:decay_steps=10000:alpha=0.1:warmup=500", &sc));
 *   TC_TRY(tc_optim_set_schedule(opt, &sc));   // each step uses lr * factor(t)
 *
 * t is the number of steps taken before the one being made (TF's global_step when the
 * learning rate is read). With warmup W > 0 the factor is (t+1)/W for t < W and the decay
 * rule at t - W afterwards, so the decay starts when the warmup ends (Keras 3's
 * CosineDecay(warmup_steps=...) does the same, from 0 rather than 1/W). The decay rules
 * (multipliers of lr, computed in double):
 *   constant     1
 *   step         TF's piecewise_constant: values[0] for t <= boundaries[0], values[i] for
 *                boundaries[i-1] < t <= boundaries[i], values[n] after the last
 *   exponential  TF's exponential_decay: rate^(t / decay_steps), floor(t / decay_steps)
 *                with staircase
 *   cosine       TF's cosine_decay: s = min(t, decay_steps);
 *                (1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha */
#ifndef TC_SCHEDULE_H
#define TC_SCHEDULE_H

#include <stdint.h>

#include "core/status.h"

#define TC_LR_MAX_BOUNDARIES 14
#define TC_LR_TEXT_MAX 511 /* bytes of a schedule string (the spec tokenizer's limit) */

typedef enum tc_lr_kind {
  TC_LR_CONSTANT = 0,
  TC_LR_STEP,
  TC_LR_EXPONENTIAL,
  TC_LR_COSINE,
  TC_LR_COUNT
} tc_lr_kind;

typedef struct tc_lr_schedule {
  tc_lr_kind kind;
  int64_t warmup;      /* >= 0 steps of linear warmup */
  int64_t decay_steps; /* exponential, cosine: >= 1 */
  float decay_rate;    /* exponential: > 0 */
  int staircase;       /* exponential */
  float alpha;         /* cosine: the floor, in [0, 1] */
  int n_boundaries;    /* step: boundaries increasing, n_boundaries + 1 values >= 0 */
  int64_t boundaries[TC_LR_MAX_BOUNDARIES];
  float values[TC_LR_MAX_BOUNDARIES + 1];
  char text[TC_LR_TEXT_MAX + 1]; /* the string it was parsed from (saved in checkpoints) */
} tc_lr_schedule;

/* A constant schedule (factor 1 at every step), text "constant". */
tc_lr_schedule tc_lr_schedule_constant(void);

/* Parses NAME[:KEY=VALUE...] (docs/strings.md). Errors: TC_ERR_INVALID_ARG quoting the
 * string and naming the key (unknown or misplaced key, a value out of its range, a missing
 * decay_steps or boundaries); *out is then unchanged. */
tc_status tc_lr_schedule_parse(const char *s, tc_lr_schedule *out);

/* The multiplier of lr at step t >= 0 (t < 0 is taken as 0). */
double tc_lr_schedule_factor(const tc_lr_schedule *sc, int64_t t);

#endif
