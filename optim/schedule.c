/* schedule.c — the rules of schedule.h; pure functions of the step, so a resumed run sees
 * the same learning rates as one that never stopped. */
#include "optim/schedule.h"

#include <math.h>
#include <string.h>

tc_lr_schedule tc_lr_schedule_constant(void) {
  tc_lr_schedule sc;
  memset(&sc, 0, sizeof sc);
  sc.kind = TC_LR_CONSTANT;
  strcpy(sc.text, "constant");
  return sc;
}

static double tc_decay(const tc_lr_schedule *sc, int64_t t) {
  switch (sc->kind) {
  case TC_LR_STEP: {
    int i = 0;
    while (i < sc->n_boundaries && t > sc->boundaries[i])
      i++;
    return sc->values[i];
  }
  case TC_LR_EXPONENTIAL: {
    double p = (double)t / (double)sc->decay_steps;
    return pow(sc->decay_rate, sc->staircase ? floor(p) : p);
  }
  case TC_LR_COSINE: {
    double s = (double)(t < sc->decay_steps ? t : sc->decay_steps);
    double c = 0.5 * (1.0 + cos(3.14159265358979323846 * s / (double)sc->decay_steps));
    return (1.0 - sc->alpha) * c + sc->alpha;
  }
  default:
    return 1.0;
  }
}

double tc_lr_schedule_factor(const tc_lr_schedule *sc, int64_t t) {
  if (sc == NULL)
    return 1.0;
  if (t < 0)
    t = 0;
  if (t < sc->warmup)
    return (double)(t + 1) / (double)sc->warmup;
  return tc_decay(sc, t - sc->warmup);
}
