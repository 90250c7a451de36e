/* pairs.h — (input, target) image pairs for image-to-image training (docs/data.md):
 * made on the fly from one image set (`--pairs sr:S`, `--pairs noise:SIGMA`), or read from
 * paired folders (`--targets DIR`: the data set carries its targets, tc_dataset.targets).
 *
 *   tc_pairs p;
 *   if (tc_pairs_parse("sr:2", &p) != TC_OK) ... tc_last_error() ...;
 *   int in[3], tgt[3];
 *   TC_TRY(tc_pairs_shapes(&p, train, in, tgt));         // (h, w, c) of inputs and targets
 *   TC_TRY(tc_pairs_batch(&p, seed, train, idx, n, epoch, xin, xtgt));
 *
 * sr:S     target = the image; input = its area (box) downscale by S: each low-resolution
 *          pixel is the mean of an SxS block. Heights and widths not divisible by S are
 *          refused (--image-size crops them).
 * noise:σ  target = the image; input = target + N(0, σ²) per element, NOT clipped. The
 *          draws are a pure function of (seed, epoch, image index) for training and of
 *          (seed, image index) for the test set (the same every epoch): see tc_noise_key.
 * Nothing prints. */
#ifndef TC_PAIRS_H
#define TC_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "tools/dataset.h"

typedef enum tc_pairs_kind {
  TC_PAIRS_NONE = 0, /* reconstruction: the target is the input */
  TC_PAIRS_SR,       /* super-resolution by an integer scale */
  TC_PAIRS_NOISE,    /* additive Gaussian noise */
  TC_PAIRS_FILES     /* paired folders (--targets) */
} tc_pairs_kind;

typedef struct tc_pairs {
  tc_pairs_kind kind;
  int scale;    /* sr: 2 or 3 */
  double sigma; /* noise: finite, > 0 */
} tc_pairs;

/* The test set's epoch slot in tc_noise_key (training epochs are 0, 1, ...). */
#define TC_PAIRS_TEST_EPOCH (-1)

/* "sr:2", "sr:3", "noise:0.2" (sigma finite and in (0, 10]). Errors: TC_ERR_INVALID_ARG
 * naming the text and what is accepted. */
tc_status tc_pairs_parse(const char *text, tc_pairs *p);

/* "sr:2", "noise:0.2", "files" or "none" into buf (the checkpoint's options text). */
void tc_pairs_format(const tc_pairs *p, char *buf, size_t cap);

/* The per-image shapes (h, w, c) of the inputs and the targets a set gives. Errors:
 * TC_ERR_INVALID_ARG (sr: a size not divisible by the scale; files: no targets). */
tc_status tc_pairs_shapes(const tc_pairs *p, const tc_dataset *d, int in[3], int tgt[3]);

/* Area downscale of one h x w x c image (channels last) by s: dst is (h/s) x (w/s) x c,
 * each value the mean of its s x s block (summed in double, in row order). h and w are
 * multiples of s (checked by the caller). */
void tc_area_downscale(const float *src, int h, int w, int c, int s, float *dst);

/* The key of one image's noise: tc_mix64(tc_mix64(seed ^ 0x6E6F697365, epoch + 1), index)
 * (epoch TC_PAIRS_TEST_EPOCH for the test set gives slot 0). */
uint64_t tc_noise_key(uint64_t seed, int64_t epoch, int64_t index);

/* dst[j] = src[j] + sigma * z_j for j < n, z_j standard normal by Box–Muller from the
 * draws r1 = tc_mix64(key, 2j), r2 = tc_mix64(key, 2j+1): u1 = ((r1 >> 11) + 1) / 2^53 in
 * (0, 1], u2 = (r2 >> 11) / 2^53, z = sqrt(-2 ln u1) cos(2 pi u2), in double, rounded once
 * to float. dst may equal src. */
void tc_noise_add(const float *src, size_t n, double sigma, uint64_t key, float *dst);

/* The inputs and targets of images idx[0..count) (idx NULL: 0..count-1) of d into in and
 * tgt (channels last; sizes from tc_pairs_shapes). epoch: the training epoch (0-based), or
 * TC_PAIRS_TEST_EPOCH for the test set. Errors as tc_dataset_batch and tc_pairs_shapes. */
tc_status tc_pairs_batch(const tc_pairs *p, uint64_t seed, const tc_dataset *d,
                         const int64_t *idx, int64_t count, int64_t epoch, float *in,
                         float *tgt);

/* The mean squared error of n values against a reference, in double. */
double tc_pairs_mse(const float *a, const float *b, size_t n);

/* 10 log10(1 / mse) for images in [0, 1]. */
double tc_psnr(double mse);

#endif
