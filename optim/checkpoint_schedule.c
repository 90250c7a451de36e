/* checkpoint_schedule.c — the schedule string to and from int64 bytes (checkpoint_schedule.h). */
#include "optim/checkpoint_schedule.h"

#include <string.h>

int64_t tc_ckpt_schedule_encode(const tc_optim *opt, int64_t *out) {
  const tc_lr_schedule *sc = tc_optim_schedule(opt);
  if (sc == NULL || (sc->kind == TC_LR_CONSTANT && sc->warmup == 0))
    return 0;
  int64_t n = (int64_t)strlen(sc->text);
  for (int64_t i = 0; i < n; i++)
    out[i] = (unsigned char)sc->text[i];
  return n;
}

tc_status tc_ckpt_schedule_decode(const char *path, const char *key, const int64_t *bytes,
                                  int64_t n, tc_lr_schedule *out) {
  char text[TC_CKPT_SCHEDULE_CAP];
  if (n < 1 || n >= TC_CKPT_SCHEDULE_CAP)
    return tc_set_error(TC_ERR_FORMAT, "checkpoint '%s': %s has %lld bytes, expected 1 to %d",
                        path, key, (long long)n, TC_CKPT_SCHEDULE_CAP - 1);
  for (int64_t i = 0; i < n; i++) {
    if (bytes[i] < 1 || bytes[i] > 126)
      return tc_set_error(TC_ERR_FORMAT, "checkpoint '%s': %s holds %lld at byte %lld, "
                          "expected a printable character", path, key, (long long)bytes[i],
                          (long long)i);
    text[i] = (char)bytes[i];
  }
  text[n] = '\0';
  tc_status s = tc_lr_schedule_parse(text, out);
  if (s != TC_OK)
    return tc_set_error(TC_ERR_FORMAT, "checkpoint '%s': %s: %s", path, key, tc_last_error());
  return TC_OK;
}
