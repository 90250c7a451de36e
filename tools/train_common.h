/* train_common.h — what both training loops share: data, the output directory, Ctrl-C,
 * the resume position, and one-line reporting of a failed step. */
#ifndef TC_TRAIN_COMMON_H
#define TC_TRAIN_COMMON_H

#include <stdint.h>

#include "tools/dataset.h"
#include "tools/train_opts.h"

/* Loads the training and test sets the options ask for (Fashion-MNIST, --data, or the
 * synthetic set, with a note on stderr when falling back), applying --limit. */
tc_status tc_train_load_data(const tc_train_opts *o, tc_dataset **train, tc_dataset **test);

/* Creates the output directory (and the checkpoint's) if missing. */
tc_status tc_train_prepare_dirs(const tc_train_opts *o);

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

/* 0 to go on; 1 after Ctrl-C; 2 once --max-steps steps are done. */
int tc_train_stop_reason(const tc_train_opts *o, const tc_train_position *p);

/* Fills a batch tensor (N,H,W,1) with the images idx[0..N) scaled to [lo, hi]. */
tc_status tc_train_batch(const tc_dataset *d, const int64_t *idx, tc_tensor *x, float lo,
                         float hi);

#endif
