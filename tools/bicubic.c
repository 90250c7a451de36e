/* bicubic.c — PyTorch's upsample_bicubic2d (align_corners=False), float32, on the CPU. */
#include "tools/bicubic.h"

#include <math.h>
#include <stddef.h>

#define TC_CUBIC_A (-0.75f)

/* Keys' kernel for |x| <= 1 and for 1 < |x| < 2, in PyTorch's operation order. */
static float cubic1(float x) { return ((TC_CUBIC_A + 2) * x - (TC_CUBIC_A + 3)) * x * x + 1; }
static float cubic2(float x) {
  return ((TC_CUBIC_A * x - 5 * TC_CUBIC_A) * x + 8 * TC_CUBIC_A) * x - 4 * TC_CUBIC_A;
}

static void coeffs(float t, float c[4]) {
  float u = 1.0f - t;
  c[0] = cubic2(t + 1.0f);
  c[1] = cubic1(t);
  c[2] = cubic1(u);
  c[3] = cubic2(u + 1.0f);
}

static int clampi(int v, int hi) { return v < 0 ? 0 : v > hi ? hi : v; }

static float interp(const float v[4], const float c[4]) {
  return v[0] * c[0] + v[1] * c[1] + v[2] * c[2] + v[3] * c[3];
}

/* The source position of output index i: the tap base and its fraction. */
static void source(int i, float scale, int *base, float *t) {
  float real = scale * ((float)i + 0.5f) - 0.5f;
  float f = floorf(real);
  *base = (int)f;
  *t = real - f;
}

void tc_bicubic_resize(const float *src, int h, int w, int c, float *dst, int oh, int ow) {
  float sy = (float)h / (float)oh, sx = (float)w / (float)ow;
  for (int oy = 0; oy < oh; oy++) {
    int y0;
    float ty, cy[4];
    source(oy, sy, &y0, &ty);
    coeffs(ty, cy);
    for (int ox = 0; ox < ow; ox++) {
      int x0;
      float tx, cx[4];
      source(ox, sx, &x0, &tx);
      coeffs(tx, cx);
      for (int ch = 0; ch < c; ch++) {
        float rows[4];
        for (int k = 0; k < 4; k++) {
          const float *row = src + (size_t)clampi(y0 - 1 + k, h - 1) * w * c;
          float v[4];
          for (int j = 0; j < 4; j++)
            v[j] = row[(size_t)clampi(x0 - 1 + j, w - 1) * c + ch];
          rows[k] = interp(v, cx);
        }
        dst[((size_t)oy * ow + ox) * c + ch] = interp(rows, cy);
      }
    }
  }
}
