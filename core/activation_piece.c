/* activation_piece.c — where each activation stops being smooth, for finite differences.
 *
 * A central difference over [z-h, z+h] estimates act'(z) to O(h²) only when act has a
 * continuous second derivative on the whole interval. Where the function or its first
 * derivative jumps (relu's kink) the estimate is meaningless; where only the second one
 * jumps (softsign and elu at 0) it is off by O(h), which at h = 1e-2 is the size of a
 * gradient checker's tolerance. Both kinds of point are listed here, next to the math. */
#include "core/activation.h"

int tc_activation_piece(tc_activation act, float z) {
  switch (act.kind) {
  case TC_ACT_RELU:
  case TC_ACT_LEAKY_RELU:
  case TC_ACT_ELU:      /* α = 1: act' is continuous at 0, act'' jumps from 1 to 0 */
  case TC_ACT_SELU:
  case TC_ACT_SOFTSIGN: /* act'' = -2 sign(z) / (1 + |z|)³ jumps from 2 to -2 at 0 */
    return z > 0.0f;
  case TC_ACT_RELU6:
    return (z > 0.0f) + (z >= 6.0f);
  case TC_ACT_HARD_SIGMOID:
    return (z >= -2.5f) + (z > 2.5f);
  case TC_ACT_LINEAR:
  case TC_ACT_SIGMOID:
  case TC_ACT_TANH:
  case TC_ACT_SOFTPLUS:
  case TC_ACT_SWISH:
  case TC_ACT_GELU:
  case TC_ACT_EXPONENTIAL:
  case TC_ACT_SOFTMAX:
  case TC_ACT_COUNT:
    return 0;
  }
  return 0;
}
