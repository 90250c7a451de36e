/* finite.c — NaN/inf detection for tensors and losses (see finite.h). */
#include "core/finite.h"

#include <string.h>

static int tc_bits_nonfinite(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return (u & 0x7f800000u) == 0x7f800000u;
}

int64_t tc_floats_first_nonfinite(const float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (tc_bits_nonfinite(x[i]))
      return i;
  return -1;
}

int64_t tc_tensor_first_nonfinite(const tc_tensor *t) {
  return t == NULL ? -1 : tc_floats_first_nonfinite(t->data, t->size);
}

tc_status tc_loss_check_finite(const tc_tensor *loss, const char *what, int64_t step) {
  if (loss == NULL || loss->size < 1)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_loss_check_finite: no loss value");
  float v = loss->data[0];
  if (!tc_bits_nonfinite(v))
    return TC_OK;
  return tc_set_error(TC_ERR_STATE, "%s is %s at step %lld: training diverged (try a smaller "
                      "learning rate); this step was not applied", what ? what : "loss",
                      v != v ? "nan" : (v > 0 ? "inf" : "-inf"), (long long)step);
}
