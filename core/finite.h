/* finite.h — is a tensor (or a loss) free of NaN and inf? The check a training loop makes
 * before it applies a step or saves, as Keras' TerminateOnNaN does.
 *
 *   TC_TRY(tc_graph_backward(g, loss));            // after the forward pass ...
 *   tc_status s = tc_loss_check_finite(loss, "loss", step);
 *   if (s != TC_OK) ...                            // stop: do not step, do not save
 *
 * The test reads the bits (an all-ones exponent), so it holds under any floating-point
 * compiler flags. Thread-safe; nothing is changed. */
#ifndef TC_FINITE_H
#define TC_FINITE_H

#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"

/* Index of the first of x[0..n) that is NaN or +-inf, or -1 when all are finite. */
int64_t tc_floats_first_nonfinite(const float *x, int64_t n);

/* The same over a tensor's data; -1 for NULL. */
int64_t tc_tensor_first_nonfinite(const tc_tensor *t);

/* TC_OK when loss (a scalar, or its first element) is finite; otherwise TC_ERR_STATE with
 * "<what> is nan at step <step>: training diverged ...". `what` names the loss ("loss",
 * "discriminator loss"); `step` is the step that computed it, counted from 1. */
tc_status tc_loss_check_finite(const tc_tensor *loss, const char *what, int64_t step);

#endif
