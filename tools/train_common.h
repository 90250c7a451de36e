/* train_common.h — what both training loops share: data, the output directory, Ctrl-C,
 * the resume position, and one-line reporting of a failed step. */
#ifndef TC_TRAIN_COMMON_H
#define TC_TRAIN_COMMON_H

#include <stdint.h>

#include "core/tensor.h"
#include "optim/checkpoint.h"
#include "tools/dataset.h"
#include "tools/train_opts.h"

/* Loads the training and test sets the options ask for (Fashion-MNIST, --data as IDX or
 * PNG folders, --targets, or the synthetic set, with a note on stderr when falling back),
 * applying --image-size and --limit (tools/train_data.h). */
tc_status tc_train_load_data(const tc_train_opts *o, tc_dataset **train, tc_dataset **test);

/* Checks every output before the first step: the paths fit (never cut), the checkpoint and
 * the PNG are regular files or absent (core/outpath.h), an existing checkpoint is only
 * replaced with --force (TC_ERR_EXISTS naming --resume and --force otherwise); then creates
 * the output directory and the checkpoint's if missing, and checks a file can be created
 * in each (TC_ERR_IO naming the directory). */
tc_status tc_train_prepare_dirs(const tc_train_opts *o);

/* TC_OK when the loss of `step` is finite; else TC_ERR_STATE saying so and which
 * checkpoint is kept (the one at ckpt saved at saved_step; none when saved_step < 0). The
 * loops check before applying the step, so diverged weights are never stepped or saved. */
tc_status tc_train_check_loss(const tc_tensor *loss, const char *what, int64_t step,
                              const char *ckpt, int64_t saved_step);

/* A side output (a PNG) that failed: the loop stops, saves its checkpoint as usual, and
 * then returns tc_train_side_report (TC_ERR_IO: the PNG's error, and that the checkpoint
 * was saved): a failed image never costs the training. */
typedef struct tc_train_side {
  int failed;
  char msg[1024];
} tc_train_side;
void tc_train_side_fail(tc_train_side *side); /* records tc_last_error() */
tc_status tc_train_side_report(const tc_train_side *side, const char *ckpt, int64_t step);

/* Ctrl-C: the first SIGINT (or SIGTERM) asks the loop to save and stop; a second one kills. */
void tc_train_catch_signals(void);
int tc_train_interrupted(void);
/* Several MPI ranks: from now on, tc_train_stop_reason's Ctrl-C is the agreed `any`. */
void tc_train_agree_stop(int any);

/* Where a run resumes: the epoch (0-based) and the step within it. */
typedef struct tc_train_position {
  int64_t steps_per_epoch;
  int64_t step; /* global steps done */
} tc_train_position;

static inline int64_t tc_train_epoch_of(const tc_train_position *p) {
  return p->step / p->steps_per_epoch;
}
static inline int64_t tc_train_offset_of(const tc_train_position *p) {
  return p->step % p->steps_per_epoch;
}

/* The status of building the network from the command's layer options: a layer that refuses
 * what the options asked for (a shape, a setting it does not support) is bad usage, exit 2,
 * as a bad option string is; the message stays the layer's. */
tc_status tc_train_net_status(tc_status built);

/* On --resume, after the checkpoint loaded: TC_ERR_INVALID_ARG (naming both numbers and
 * the way out) when it was saved with another --batch, or when this run's steps per epoch
 * (data, --limit, --batch) would put its step in another epoch than it records. */
tc_status tc_train_resume_check(const tc_train_opts *o, const tc_train_position *p,
                                const tc_ckpt_meta *meta, const char *ckpt);

/* On --resume: the checkpoint's learning rate stays unless --lr was given, which replaces
 * it in all n optimizers. note (for the "resumed" line) says which rate is used and why. */
void tc_train_resume_lr(const tc_train_opts *o, tc_optim *const *optims, int n, char *note,
                        size_t cap);

/* 0 to go on; 1 after Ctrl-C; 2 once --max-steps steps are done. */
int tc_train_stop_reason(const tc_train_opts *o, const tc_train_position *p);

/* Whether --max-steps is reached: checked before the first step as well (--max-steps 0
 * saves the initial weights), and the same on every MPI rank, unlike a Ctrl-C. */
int tc_train_limit_reached(const tc_train_opts *o, const tc_train_position *p);

/* Fills a batch tensor (N,H,W,1) with the images idx[0..N) scaled to [lo, hi]. */
tc_status tc_train_batch(const tc_dataset *d, const int64_t *idx, tc_tensor *x, float lo,
                         float hi);

#endif
