/* adam_body.h (@internal) — plain Adam's update loop (no amsgrad, no weight decay), one
 * source that adam_portable.c, adam_avx2.c and adam_avx512.c compile for their instruction
 * sets (optim/update.c picks the widest the CPU runs). The expressions are update.c's
 * general loop term for term, each rounded to float, never fused into an FMA
 * (-ffp-contract=off, CMakeLists.txt), and sqrtf and the division are correctly rounded on
 * every ISA: the same bits on each; only the vector width changes. */
#ifndef TC_OPTIM_ADAM_BODY_H
#define TC_OPTIM_ADAM_BODY_H

#include <math.h>
#include <stdint.h>

#include "optim/optim_internal.h"

static void adam_plain(const tc_adam_args *a, int64_t n) {
  const float b1 = a->b1, b2 = a->b2, lr_t = a->lr_t, eps = a->eps;
  const float ob1 = 1.0f - b1, ob2 = 1.0f - b2;
  const float *restrict w = a->w, *restrict g = a->g, *restrict s0 = a->m, *restrict s1 = a->v;
  float *restrict w_out = a->w_out, *restrict m_out = a->m_out, *restrict v_out = a->v_out;
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    float m = b1 * s0[i] + ob1 * g[i];
    float v = b2 * s1[i] + ob2 * g[i] * g[i];
    m_out[i] = m;
    v_out[i] = v;
    w_out[i] = w[i] - lr_t * m / (sqrtf(v) + eps);
  }
}

#endif
