/* train_pairs.h — what the reconstruction loop (tools/train_autoencoder.c) needs to train
 * on (input, target) pairs (tools/pairs.h, docs/data.md): batches as two tensors, the
 * baseline line printed once, and OUT/results.png. */
#ifndef TC_TRAIN_PAIRS_H
#define TC_TRAIN_PAIRS_H

#include <stddef.h>

#include "core/tensor.h"
#include "tools/dataset.h"
#include "tools/train_opts.h"

/* 1 when the run trains on pairs (--pairs or --targets). */
int tc_train_paired(const tc_train_opts *o);

/* The per-image shapes (h, w, c) of the inputs and the targets; without pairs both are the
 * images'. Errors as tc_pairs_shapes. */
tc_status tc_train_pair_shapes(const tc_train_opts *o, const tc_dataset *d, int in[3],
                               int tgt[3]);

/* Images idx[0..x->shape[0]) of d as inputs into x and targets into t (t may be x without
 * pairs: then x is filled once). epoch: training epoch, or TC_PAIRS_TEST_EPOCH. */
tc_status tc_train_pair_fill(const tc_train_opts *o, const tc_dataset *d, const int64_t *idx,
                             int64_t epoch, tc_tensor *x, tc_tensor *t);

/* The line printed once before training: "bicubic xS baseline: test PSNR X dB" (sr) or
 * "noisy input: test PSNR X dB" (noise); an empty line for other runs. */
tc_status tc_train_pair_baseline(const tc_train_opts *o, const tc_dataset *test, char *line,
                                 size_t cap);

/* OUT/results.png: n examples in groups of 8 columns, three rows a group: the input
 * (nearest-resized to the target size), the output, the target. in/out/tgt are channels
 * last of the shapes given. */
tc_status tc_train_pair_png(const char *path, int64_t n, const float *in, const int ishape[3],
                            const float *out, const float *tgt, const int tshape[3]);

#endif
