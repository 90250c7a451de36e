/* act_math.h (@internal) — tanh and sigmoid in float, written so that a loop over them
 * vectorizes.
 *
 * libm's tanhf and expf are calls the compiler cannot vectorize: the DCGAN generator's tanh
 * took 4.4 ns an element, 2.4 % of a training step. These are straight-line float
 * arithmetic (no call, no branch, no float-to-int conversion), so gcc and clang vectorize a
 * loop of them for whatever ISA the file is built for, and every build of one ISA gives the
 * same bits. Errors against the exact values (float32 evaluation of these very steps, all
 * finite inputs): exp 1.2 ulp, tanh 1.5 ulp, sigmoid 2.2 ulp; libm's are about 1 ulp, and
 * TF's own kernels (Eigen's rational tanh) are no closer. NaN passes through; +-inf give
 * the limits. */
#ifndef TCONV_CORE_ACT_MATH_H
#define TCONV_CORE_ACT_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t tc_float_bits(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

static inline float tc_bits_float(uint32_t u) {
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

/* Masks from bits, not float compares: a float compare in the loop is a branch to gcc (it
 * may trap), and the loop then does not vectorize. For a >= 0 (sign bit clear) the bits
 * order as the values, NaN above +inf. */
static inline uint32_t tc_mask(int cond) { return -(uint32_t)cond; }
static inline float tc_select(uint32_t mask, float yes, float no) {
  return tc_bits_float((tc_float_bits(yes) & mask) | (tc_float_bits(no) & ~mask));
}

/* e^-a for a >= 0; 0 above 87.3365, where e^-a is under FLT_MIN (flushed, as TF's threads
 * do with denormals off), and for NaN, which the callers put back. -a = n ln2 + r with
 * |r| <= ln2/2, n rounded by the 1.5 * 2^23 trick (its low mantissa bits hold n, so 2^n is
 * built from bits without converting a float to an int); e^r by its Taylor polynomial to
 * r^7 (truncation < 6e-9 relative). */
static inline float tc_exp_neg(float a) {
  const float magic = 12582912.0f; /* 1.5 * 2^23 */
  uint32_t over = tc_mask(tc_float_bits(a) > tc_float_bits(87.3365f));
  float x = -tc_select(over, 87.3365f, a);
  float m = x * 1.44269504f + magic;
  float n = m - magic;
  float r = x - n * 0.693359375f; /* ln2 in two parts: n * hi is exact */
  r = r - n * -2.12194440e-4f;
  float p = 1.98412698e-4f; /* 1/5040 */
  p = p * r + 1.38888889e-3f;
  p = p * r + 8.33333333e-3f;
  p = p * r + 4.16666667e-2f;
  p = p * r + 1.66666667e-1f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  uint32_t scale = (tc_float_bits(m) - tc_float_bits(magic) + 127u) << 23; /* 2^n, n >= -126 */
  return tc_select(over, 0.0f, p * tc_bits_float(scale));
}

static inline int tc_is_nan_abs(float a) { return tc_float_bits(a) > 0x7f800000u; }

/* tanh: below |z| = 0.625 an odd polynomial (z + z^3 P(z^2), least squares in relative
 * error, 0.8 ulp), above it (1 - e) / (1 + e) with e = e^(-2|z|), where 1 - e loses no
 * bits that matter; the sign put back from z's. */
static inline float tc_tanh(float z) {
  float a = fabsf(z), t = a * a;
  float p = -5.73112350e-3f;
  p = p * t + 2.06646640e-2f;
  p = p * t + -5.37484251e-2f;
  p = p * t + 1.33315608e-1f;
  p = p * t + -3.33332866e-1f;
  float small = a + a * t * p;
  float e = tc_exp_neg(2.0f * a);
  float big = (1.0f - e) / (1.0f + e);
  float mag = tc_select(tc_mask(tc_float_bits(a) < tc_float_bits(0.625f)), small, big);
  mag = tc_select(tc_mask(tc_is_nan_abs(a)), a, mag);
  return tc_bits_float(tc_float_bits(mag) | (tc_float_bits(z) & 0x80000000u));
}

/* sigmoid without exponentiating a positive number: e = e^(-|z|), then 1 / (1 + e) for
 * z >= 0 and e / (1 + e) below. */
static inline float tc_sigmoid(float z) {
  float a = fabsf(z), e = tc_exp_neg(a);
  float pos = 1.0f / (1.0f + e), neg = e / (1.0f + e);
  float y = tc_select(tc_mask((tc_float_bits(z) >> 31) != 0), neg, pos);
  return tc_select(tc_mask(tc_is_nan_abs(a)), z, y);
}

#endif
