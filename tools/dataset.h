/* dataset.h — an in-memory set of grayscale images with labels, shuffling and batching.
 *
 *   tc_dataset *d;                                   // from tc_dataset_load_idx or
 *   if (tc_dataset_synthetic(&d, 1000, 28, 28, 7) != TC_OK) ...;   // tc_dataset_synthetic
 *   int64_t *order = malloc(d->n * sizeof *order);
 *   tc_shuffle_indices(order, d->n, seed, epoch);    // a new order per epoch
 *   for (int64_t b = 0; b + batch <= d->n; b += batch)
 *     tc_dataset_batch(d, order + b, batch, TC_CHANNELS_LAST, x, labels);
 *   tc_dataset_free(d);
 *
 * Images are float32 in [0, 1], (N, H, W, C) row-major (channels last), C = 1 (grey: IDX,
 * synthetic, grey PNGs) or 3 (RGB PNGs). Paired folders (--targets, docs/data.md) carry
 * their targets as a second set of the same n in `targets`. Nothing here prints; every
 * call is reentrant (no hidden state), so threads may batch from one data set. */
#ifndef TC_DATASET_H
#define TC_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "core/conv2dt.h"
#include "core/status.h"

typedef enum tc_dataset_split {
  TC_SPLIT_TRAIN = 0, /* the 60000-image part of (Fashion-)MNIST */
  TC_SPLIT_TEST = 1   /* the 10000-image "t10k" part */
} tc_dataset_split;

typedef struct tc_dataset {
  int64_t n;          /* number of images */
  int h, w;           /* image height and width */
  int c;              /* channels: 1 grey, 3 RGB */
  int num_classes;    /* 1 + the largest label */
  float *images;      /* n*h*w*c floats in [0,1], TC_ALIGN-aligned; owned */
  uint8_t *labels;    /* n labels; owned */
  char source[4352];  /* where it came from ("dir/train-images-idx3-ubyte.gz", "synthetic"),
                         with room for any path: never cut */
  struct tc_dataset *targets; /* paired folders: image i's target; NULL otherwise; owned */
} tc_dataset;

/* Allocates a data set of n zeroed images of h x w and n zero labels. Errors:
 * TC_ERR_INVALID_ARG (out NULL), TC_ERR_SHAPE (n, h or w < 1, or an overflowing size),
 * TC_ERR_NOMEM. */
tc_status tc_dataset_create(tc_dataset **out, int64_t n, int h, int w);
/* The same with c channels per pixel (1..4). */
tc_status tc_dataset_create_c(tc_dataset **out, int64_t n, int h, int w, int c);

/* Frees the data set, its buffers and its targets. NULL does nothing. */
void tc_dataset_free(tc_dataset *d);

/* "train" or "test". */
const char *tc_dataset_split_name(tc_dataset_split split);

/* The counter-based generator shared by the toolkit: a pure function of (seed, counter),
 * SplitMix64's finalizer over seed + counter * golden ratio. Stateless, so the k-th draw
 * never depends on call order or thread count. */
uint64_t tc_mix64(uint64_t seed, uint64_t counter);

/* Fills idx[0..n) with a permutation of 0..n-1, Fisher–Yates driven by tc_mix64 keyed on
 * (seed, epoch): the same (seed, epoch) always gives the same order. n >= 0. */
void tc_shuffle_indices(int64_t *idx, int64_t n, uint64_t seed, uint64_t epoch);

/* Copies `count` images, d->images[idx[k]] for k < count (idx NULL: images 0..count-1),
 * into x, and their labels into labels (may be NULL). With one channel (N,H,W,1) NHWC and
 * (N,1,H,W) NCHW are the same bytes; with more, NCHW is transposed from the stored NHWC.
 * x holds count*h*w*c floats. Errors: TC_ERR_INVALID_ARG (NULL d or x, bad format),
 * TC_ERR_SHAPE (count < 0 or past the end, an index out of range). */
tc_status tc_dataset_batch(const tc_dataset *d, const int64_t *idx, int64_t count,
                           tc_data_format format, float *x, uint8_t *labels);

#endif
