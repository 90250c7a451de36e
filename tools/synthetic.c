/* synthetic.c — procedurally drawn shapes: signed distance functions, anti-aliased over a
 * one-pixel ramp, with per-image random geometry drawn from tc_mix64(seed, image). */
#include "tools/synthetic.h"

#include <math.h>
#include <stdio.h>

static const char *const class_names[TC_SYNTHETIC_CLASSES] = {
    "ring", "disc", "horizontal bar", "vertical bar", "plus", "cross",
    "square outline", "triangle", "soft blob", "two dots"};

const char *tc_synthetic_class_name(int label) {
  return (label >= 0 && label < TC_SYNTHETIC_CLASSES) ? class_names[label] : "?";
}

/* One image's random stream: draws are tc_mix64(key, 0), tc_mix64(key, 1), ... */
typedef struct synth_rng {
  uint64_t key, counter;
} synth_rng;

static float uni(synth_rng *r, float lo, float hi) {
  uint64_t bits = tc_mix64(r->key, r->counter++) >> 40; /* 24 bits: exact in float */
  return lo + (hi - lo) * ((float)bits * (1.0f / 16777216.0f));
}

/* Geometry of one shape, in pixels. */
typedef struct shape {
  int cls;
  float cx, cy;       /* centre */
  float r;            /* size: radius or half-length */
  float t;            /* stroke thickness */
  float cosa, sina;   /* small rotation */
  float sx, sy;       /* blob spreads */
  float bright;
} shape;

static float box(float x, float y, float hx, float hy) {
  float dx = fabsf(x) - hx, dy = fabsf(y) - hy;
  float ox = dx > 0 ? dx : 0, oy = dy > 0 ? dy : 0;
  float in = dx > dy ? dx : dy;
  return sqrtf(ox * ox + oy * oy) + (in < 0 ? in : 0);
}

static float plus(float x, float y, float r, float t) {
  return fminf(box(x, y, r, t * 0.5f), box(x, y, t * 0.5f, r));
}

/* Equilateral triangle of circumradius-ish r pointing up (image y grows downward). */
static float triangle(float x, float y, float r) {
  const float k = 1.7320508f;
  x = fabsf(x) - r;
  y = -y + r / k;
  if (x + k * y > 0) {
    float nx = (x - k * y) * 0.5f, ny = (-k * x - y) * 0.5f;
    x = nx;
    y = ny;
  }
  x -= fminf(fmaxf(x, -2.0f * r), 0.0f);
  float d = sqrtf(x * x + y * y);
  return y < 0 ? d : -d;
}

/* Signed distance (negative inside) of pixel offset (x, y) from the shape's centre. */
static float shape_sdf(const shape *s, float x, float y) {
  float u = s->cosa * x + s->sina * y, v = -s->sina * x + s->cosa * y;
  const float h = 0.70710678f;
  switch (s->cls) {
  case 0: return fabsf(sqrtf(x * x + y * y) - s->r) - s->t * 0.5f;
  case 1: return sqrtf(x * x + y * y) - s->r * 0.75f;
  case 2: return box(u, v, s->r, s->t * 0.75f);
  case 3: return box(u, v, s->t * 0.75f, s->r);
  case 4: return plus(u, v, s->r, s->t);
  case 5: return plus(h * (u + v), h * (v - u), s->r, s->t);
  case 6: return fabsf(box(u, v, s->r * 0.8f, s->r * 0.8f)) - s->t * 0.5f;
  case 7: return triangle(u, v, s->r);
  default: {
    /* Class 9: two dots on a random axis through the centre. */
    float ax = s->cosa * s->r * 0.6f, ay = s->sina * s->r * 0.6f, rr = s->t * 0.9f;
    float d1 = hypotf(x - ax, y - ay), d2 = hypotf(x + ax, y + ay);
    return fminf(d1, d2) - rr;
  }
  }
}

static void shape_draw(const shape *s, synth_rng *r, int h, int w, float *img) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      float px = (float)x + 0.5f - s->cx, py = (float)y + 0.5f - s->cy, cover;
      if (s->cls == 8) {
        cover = expf(-0.5f * (px * px / (s->sx * s->sx) + py * py / (s->sy * s->sy)));
      } else {
        /* A one-pixel ramp across the edge: anti-aliasing without supersampling. */
        cover = fminf(fmaxf(0.5f - shape_sdf(s, px, py), 0.0f), 1.0f);
      }
      float v = s->bright * cover + uni(r, -0.04f, 0.04f);
      img[(size_t)y * w + x] = fminf(fmaxf(v, 0.0f), 1.0f);
    }
}

static void synth_image(uint64_t seed, int64_t i, int h, int w, float *img) {
  synth_rng r = {tc_mix64(seed, (uint64_t)i), 0};
  float sc = (float)(h < w ? h : w) / 28.0f;
  shape s;
  s.cls = (int)(i % TC_SYNTHETIC_CLASSES);
  s.cx = 0.5f * (float)w + uni(&r, -3.5f, 3.5f) * sc;
  s.cy = 0.5f * (float)h + uni(&r, -3.5f, 3.5f) * sc;
  s.r = uni(&r, 5.5f, 9.0f) * sc;
  s.t = uni(&r, 1.6f, 3.2f) * sc;
  /* Bars and crosses tilt a little; dots may lie on any axis. */
  float a = s.cls == 9 ? uni(&r, 0.0f, 3.14159265f) : uni(&r, -0.26f, 0.26f);
  s.cosa = cosf(a);
  s.sina = sinf(a);
  s.sx = uni(&r, 2.0f, 4.5f) * sc;
  s.sy = uni(&r, 2.0f, 4.5f) * sc;
  s.bright = uni(&r, 0.7f, 1.0f);
  shape_draw(&s, &r, h, w, img);
}

tc_status tc_dataset_synthetic(tc_dataset **out, int64_t n, int h, int w, uint64_t seed) {
  if (out != NULL)
    *out = NULL;
  if (h < 8 || w < 8)
    return tc_set_error(TC_ERR_SHAPE, "synthetic data set: images must be at least 8x8, got "
                        "%dx%d", h, w);
  TC_TRY(tc_dataset_create(out, n, h, w));
  tc_dataset *d = *out;
  size_t image = (size_t)h * (size_t)w;
  for (int64_t i = 0; i < n; i++) {
    synth_image(seed, i, h, w, d->images + (size_t)i * image);
    d->labels[i] = (uint8_t)(i % TC_SYNTHETIC_CLASSES);
  }
  d->num_classes = n < TC_SYNTHETIC_CLASSES ? (int)n : TC_SYNTHETIC_CLASSES;
  snprintf(d->source, sizeof d->source, "synthetic (seed %llu)", (unsigned long long)seed);
  return TC_OK;
}
