/* train_pairs.c — batches, baselines and the results grid of image-to-image training. */
#include "tools/train_pairs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/bicubic.h"
#include "tools/pairs.h"
#include "tools/png_grid.h"

int tc_train_paired(const tc_train_opts *o) { return o->pairs.kind != TC_PAIRS_NONE; }

tc_status tc_train_pair_shapes(const tc_train_opts *o, const tc_dataset *d, int in[3],
                               int tgt[3]) {
  return tc_pairs_shapes(&o->pairs, d, in, tgt);
}

tc_status tc_train_pair_fill(const tc_train_opts *o, const tc_dataset *d, const int64_t *idx,
                             int64_t epoch, tc_tensor *x, tc_tensor *t) {
  if (!tc_train_paired(o) || t == x)
    return tc_dataset_batch(d, idx, x->shape[0], TC_CHANNELS_LAST, x->data, NULL);
  return tc_pairs_batch(&o->pairs, (uint64_t)o->seed, d, idx, x->shape[0], epoch, x->data,
                        t->data);
}

/* The test set's mean squared error of the baseline against the targets: the inputs
 * upscaled by bicubic (sr) or the noisy inputs themselves (noise), one image at a time. */
static tc_status tc_baseline_mse(const tc_train_opts *o, const tc_dataset *test, double *mse) {
  int in[3], tg[3];
  TC_TRY(tc_pairs_shapes(&o->pairs, test, in, tg));
  size_t ni = (size_t)in[0] * in[1] * in[2], nt = (size_t)tg[0] * tg[1] * tg[2];
  float *x = malloc(ni * sizeof *x), *t = malloc(nt * sizeof *t), *up = malloc(nt * sizeof *up);
  tc_status s = x && t && up ? TC_OK : tc_set_error(TC_ERR_NOMEM, "baseline: out of memory");
  double sum = 0.0;
  for (int64_t i = 0; s == TC_OK && i < test->n; i++) {
    s = tc_pairs_batch(&o->pairs, (uint64_t)o->seed, test, &i, 1, TC_PAIRS_TEST_EPOCH, x, t);
    if (s == TC_OK && o->pairs.kind == TC_PAIRS_SR)
      tc_bicubic_resize(x, in[0], in[1], in[2], up, tg[0], tg[1]);
    if (s == TC_OK)
      sum += tc_pairs_mse(o->pairs.kind == TC_PAIRS_SR ? up : x, t, nt);
  }
  free(x), free(t), free(up);
  *mse = sum / (double)test->n; /* every image has nt values: the mean of the means */
  return s;
}

tc_status tc_train_pair_baseline(const tc_train_opts *o, const tc_dataset *test, char *line,
                                 size_t cap) {
  line[0] = '\0';
  if (o->pairs.kind != TC_PAIRS_SR && o->pairs.kind != TC_PAIRS_NOISE)
    return TC_OK;
  double mse;
  TC_TRY(tc_baseline_mse(o, test, &mse));
  if (o->pairs.kind == TC_PAIRS_SR)
    snprintf(line, cap, "bicubic x%d baseline: test PSNR %.2f dB", o->pairs.scale,
             tc_psnr(mse));
  else
    snprintf(line, cap, "noisy input: test PSNR %.2f dB", tc_psnr(mse));
  return TC_OK;
}

/* Nearest resize of one image (channels last): source index floor(dst * in / out). */
static void tc_nearest(const float *src, const int s[3], float *dst, const int d[3]) {
  for (int y = 0; y < d[0]; y++)
    for (int x = 0; x < d[1]; x++) {
      int sy = (int)((int64_t)y * s[0] / d[0]), sx = (int)((int64_t)x * s[1] / d[1]);
      for (int c = 0; c < d[2]; c++) /* a grey input beside colour targets repeats */
        dst[((size_t)y * d[1] + x) * d[2] + c] =
            src[((size_t)sy * s[1] + sx) * s[2] + (c < s[2] ? c : 0)];
    }
}

tc_status tc_train_pair_png(const char *path, int64_t n, const float *in, const int ishape[3],
                            const float *out, const float *tgt, const int tshape[3]) {
  const int cols = 8;
  int64_t groups = (n + cols - 1) / cols;
  size_t image = (size_t)tshape[0] * tshape[1] * tshape[2];
  size_t isize = (size_t)ishape[0] * ishape[1] * ishape[2];
  size_t cells = (size_t)groups * 3 * cols;
  float *grid = calloc(cells * image, sizeof *grid);
  if (grid == NULL)
    return tc_set_error(TC_ERR_NOMEM, "results grid '%s': out of memory", path);
  for (int64_t k = 0; k < n; k++) {
    size_t cell = (size_t)(k / cols) * 3 * cols + (size_t)(k % cols);
    tc_nearest(in + (size_t)k * isize, ishape, grid + cell * image, tshape);
    memcpy(grid + (cell + cols) * image, out + (size_t)k * image, image * sizeof *grid);
    memcpy(grid + (cell + 2 * cols) * image, tgt + (size_t)k * image, image * sizeof *grid);
  }
  tc_png_grid g = {.images = grid, .n = (int64_t)cells, .h = tshape[0], .w = tshape[1],
                   .rows = (int)groups * 3, .cols = cols, .channels = tshape[2]};
  tc_status s = tc_png_grid_write(path, &g);
  free(grid);
  return s;
}
