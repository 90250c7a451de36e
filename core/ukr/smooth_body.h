/* smooth_body.h — sigmoid and tanh over an array (core/ukr/ukr.h, tc_smooth_fn), one source
 * that smooth_portable.c, smooth_avx2.c and smooth_avx512.c compile for their instruction
 * sets. Each element is core/act_math.h's straight-line float arithmetic, never fused into
 * an FMA (-ffp-contract=off, CMakeLists.txt), so every ISA gives the same bits; only the
 * vector width differs (the autoencoder's 12544-float sigmoid on Zen 3: 3.2 ns an element
 * for baseline x86-64, measured in this loop, 1.2 with AVX2). */
#ifndef TC_UKR_SMOOTH_BODY_H
#define TC_UKR_SMOOTH_BODY_H

#include <stdint.h>

#include "core/act_math.h"
#include "core/ukr/ukr.h"

static void sigmoid_run(const float *z, float *y, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    y[i] = tc_sigmoid(z[i]);
}

static void tanh_run(const float *z, float *y, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    y[i] = tc_tanh(z[i]);
}

#endif
