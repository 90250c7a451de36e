/* dataset.c — the in-memory image set: allocation, shuffling, batch gathering. */
#include "tools/dataset.h"

#include <stdlib.h>
#include <string.h>

#include "core/tensor.h"

tc_status tc_dataset_create(tc_dataset **out, int64_t n, int h, int w) {
  return tc_dataset_create_c(out, n, h, w, 1);
}

tc_status tc_dataset_create_c(tc_dataset **out, int64_t n, int h, int w, int c) {
  if (out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "dataset: out pointer is NULL");
  *out = NULL;
  if (n < 1 || h < 1 || w < 1 || c < 1 || c > 4)
    return tc_set_error(TC_ERR_SHAPE, "dataset: needs at least one image of at least 1x1 "
                        "with 1 to 4 channels, got %lld images of %dx%dx%d", (long long)n, h,
                        w, c);
  /* Keep bytes well inside size_t and int64_t so every index computation is safe. */
  if (n > (INT64_MAX / 8) / ((int64_t)h * w * c))
    return tc_set_error(TC_ERR_SHAPE, "dataset: %lld images of %dx%d overflow",
                        (long long)n, h, w);
  tc_dataset *d = calloc(1, sizeof *d);
  if (d == NULL)
    return tc_set_error(TC_ERR_NOMEM, "dataset: out of memory");
  size_t pixels = (size_t)n * (size_t)h * (size_t)w * (size_t)c;
  d->images = tc_aligned_alloc(pixels * sizeof(float));
  d->labels = calloc((size_t)n, 1);
  if (d->images == NULL || d->labels == NULL) {
    tc_dataset_free(d);
    return tc_set_error(TC_ERR_NOMEM, "dataset: out of memory for %lld images of %dx%d",
                        (long long)n, h, w);
  }
  memset(d->images, 0, pixels * sizeof(float));
  d->n = n;
  d->h = h;
  d->w = w;
  d->c = c;
  d->num_classes = 1;
  *out = d;
  return TC_OK;
}

void tc_dataset_free(tc_dataset *d) {
  if (d == NULL)
    return;
  tc_dataset_free(d->targets);
  tc_aligned_free(d->images);
  free(d->labels);
  free(d);
}

const char *tc_dataset_split_name(tc_dataset_split split) {
  return split == TC_SPLIT_TEST ? "test" : "train";
}

uint64_t tc_mix64(uint64_t seed, uint64_t counter) {
  uint64_t z = seed + (counter + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in [0, bound) by rejection, so no index is favoured; *counter advances. */
static uint64_t below(uint64_t key, uint64_t *counter, uint64_t bound) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    uint64_t r = tc_mix64(key, (*counter)++);
    if (r < limit)
      return r % bound;
  }
}

void tc_shuffle_indices(int64_t *idx, int64_t n, uint64_t seed, uint64_t epoch) {
  uint64_t key = tc_mix64(seed, epoch);
  uint64_t counter = 0;
  for (int64_t i = 0; i < n; i++)
    idx[i] = i;
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)below(key, &counter, (uint64_t)i + 1);
    int64_t t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}

tc_status tc_dataset_batch(const tc_dataset *d, const int64_t *idx, int64_t count,
                           tc_data_format format, float *x, uint8_t *labels) {
  if (d == NULL || x == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "dataset batch: data set or output is NULL");
  if (format != TC_CHANNELS_LAST && format != TC_CHANNELS_FIRST)
    return tc_set_error(TC_ERR_INVALID_ARG, "dataset batch: unknown data format %d",
                        (int)format);
  if (count < 0 || (idx == NULL && count > d->n))
    return tc_set_error(TC_ERR_SHAPE, "dataset batch: %lld images asked of a set of %lld",
                        (long long)count, (long long)d->n);
  size_t plane = (size_t)d->h * (size_t)d->w, image = plane * (size_t)d->c;
  for (int64_t k = 0; k < count; k++) {
    int64_t i = idx ? idx[k] : k;
    if (i < 0 || i >= d->n)
      return tc_set_error(TC_ERR_SHAPE, "dataset batch: index %lld (position %lld) is "
                          "outside 0..%lld", (long long)i, (long long)k, (long long)d->n - 1);
    const float *src = d->images + (size_t)i * image;
    float *dst = x + (size_t)k * image;
    if (format == TC_CHANNELS_LAST || d->c == 1)
      memcpy(dst, src, image * sizeof(float));
    else
      for (size_t p = 0; p < plane; p++)
        for (int ch = 0; ch < d->c; ch++)
          dst[(size_t)ch * plane + p] = src[p * (size_t)d->c + (size_t)ch];
    if (labels != NULL)
      labels[k] = d->labels[i];
  }
  return TC_OK;
}
