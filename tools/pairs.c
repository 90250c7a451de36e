/* pairs.c — input/target pairs: --pairs parsing, the area downscale, counter-based noise. */
#include "tools/pairs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tc_status tc_pairs_parse(const char *text, tc_pairs *p) {
  memset(p, 0, sizeof *p);
  if (text == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "--pairs: no value");
  if (strcmp(text, "sr:2") == 0 || strcmp(text, "sr:3") == 0) {
    p->kind = TC_PAIRS_SR;
    p->scale = text[3] - '0';
    return TC_OK;
  }
  if (strncmp(text, "noise:", 6) == 0) {
    char *end = NULL;
    double v = strtod(text + 6, &end);
    /* isfinite and the range check also refuse nan, inf and -1 */
    if (end != text + 6 && *end == '\0' && isfinite(v) && v > 0.0 && v <= 10.0) {
      p->kind = TC_PAIRS_NOISE;
      p->sigma = v;
      return TC_OK;
    }
    return tc_set_error(TC_ERR_INVALID_ARG, "--pairs '%s': the noise's standard deviation "
                        "must be a number in (0, 10] (images are in [0, 1]), e.g. noise:0.2",
                        text);
  }
  if (strncmp(text, "sr:", 3) == 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "--pairs '%s': the super-resolution scale must "
                        "be 2 or 3 (sr:2, sr:3)", text);
  return tc_set_error(TC_ERR_INVALID_ARG, "--pairs '%s': expected sr:2, sr:3 or noise:SIGMA "
                      "(e.g. noise:0.2)", text);
}

void tc_pairs_format(const tc_pairs *p, char *buf, size_t cap) {
  if (p->kind == TC_PAIRS_SR)
    snprintf(buf, cap, "sr:%d", p->scale);
  else if (p->kind == TC_PAIRS_NOISE)
    snprintf(buf, cap, "noise:%.17g", p->sigma);
  else
    snprintf(buf, cap, "%s", p->kind == TC_PAIRS_FILES ? "files" : "none");
}

tc_status tc_pairs_shapes(const tc_pairs *p, const tc_dataset *d, int in[3], int tgt[3]) {
  const tc_dataset *t = p->kind == TC_PAIRS_FILES ? d->targets : d;
  if (t == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "paired images: %s has no targets (--targets DIR)",
                        d->source);
  tgt[0] = t->h, tgt[1] = t->w, tgt[2] = t->c;
  in[0] = d->h, in[1] = d->w, in[2] = d->c;
  if (p->kind != TC_PAIRS_SR)
    return TC_OK;
  if (d->h % p->scale != 0 || d->w % p->scale != 0) {
    int h = d->h - d->h % p->scale, w = d->w - d->w % p->scale;
    return tc_set_error(TC_ERR_INVALID_ARG, "--pairs sr:%d: the images of %s are %dx%d, not "
                        "divisible by %d; --image-size %dx%d centre-crops them to a size that "
                        "is", p->scale, d->source, d->h, d->w, p->scale, h > 0 ? h : p->scale,
                        w > 0 ? w : p->scale);
  }
  in[0] = d->h / p->scale, in[1] = d->w / p->scale;
  return TC_OK;
}

void tc_area_downscale(const float *src, int h, int w, int c, int s, float *dst) {
  int oh = h / s, ow = w / s;
  double inv = 1.0 / ((double)s * s);
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++)
      for (int ch = 0; ch < c; ch++) {
        double sum = 0.0;
        for (int dy = 0; dy < s; dy++)
          for (int dx = 0; dx < s; dx++)
            sum += src[((size_t)(y * s + dy) * w + (size_t)(x * s + dx)) * c + ch];
        dst[((size_t)y * ow + x) * c + ch] = (float)(sum * inv);
      }
}

uint64_t tc_noise_key(uint64_t seed, int64_t epoch, int64_t index) {
  return tc_mix64(tc_mix64(seed ^ 0x6E6F697365ull, (uint64_t)(epoch + 1)), (uint64_t)index);
}

void tc_noise_add(const float *src, size_t n, double sigma, uint64_t key, float *dst) {
  const double two_pi = 6.283185307179586476925286766559;
  for (size_t j = 0; j < n; j++) {
    uint64_t r1 = tc_mix64(key, 2 * (uint64_t)j), r2 = tc_mix64(key, 2 * (uint64_t)j + 1);
    double u1 = (double)((r1 >> 11) + 1) * 0x1p-53, u2 = (double)(r2 >> 11) * 0x1p-53;
    double z = sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
    dst[j] = (float)((double)src[j] + sigma * z);
  }
}

tc_status tc_pairs_batch(const tc_pairs *p, uint64_t seed, const tc_dataset *d,
                         const int64_t *idx, int64_t count, int64_t epoch, float *in,
                         float *tgt) {
  int si[3], st[3];
  TC_TRY(tc_pairs_shapes(p, d, si, st));
  const tc_dataset *t = p->kind == TC_PAIRS_FILES ? d->targets : d;
  TC_TRY(tc_dataset_batch(t, idx, count, TC_CHANNELS_LAST, tgt, NULL));
  size_t in_size = (size_t)si[0] * si[1] * si[2], tgt_size = (size_t)st[0] * st[1] * st[2];
  for (int64_t k = 0; k < count; k++) {
    const float *y = tgt + (size_t)k * tgt_size;
    float *x = in + (size_t)k * in_size;
    if (p->kind == TC_PAIRS_SR)
      tc_area_downscale(y, d->h, d->w, d->c, p->scale, x);
    else if (p->kind == TC_PAIRS_NOISE)
      tc_noise_add(y, tgt_size, p->sigma, tc_noise_key(seed, epoch, idx ? idx[k] : k), x);
  }
  if (p->kind == TC_PAIRS_FILES || p->kind == TC_PAIRS_NONE)
    TC_TRY(tc_dataset_batch(d, idx, count, TC_CHANNELS_LAST, in, NULL));
  return TC_OK;
}

double tc_pairs_mse(const float *a, const float *b, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    double e = (double)a[i] - (double)b[i];
    sum += e * e;
  }
  return n ? sum / (double)n : 0.0;
}

double tc_psnr(double mse) { return 10.0 * log10(1.0 / mse); }
