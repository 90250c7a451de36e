/* progress.h — training progress: a one-line bar on a terminal, plain lines in a log.
 *
 *   tc_progress *p;
 *   tc_progress_config cfg = {.epochs = 10, .steps = 469, .batch = 128};
 *   if (tc_progress_create(&p, &cfg) != TC_OK) ...;
 *   for (int e = 1; e <= 10; e++)
 *     for (int64_t s = 1; s <= 469; s++) { ...train...; tc_progress_step(p, e, s, loss); }
 *   tc_progress_finish(p);
 *   tc_progress_free(p);
 *
 * On a terminal the bar is redrawn in place with '\r' (at most ten times a second) and
 * each finished epoch leaves one line behind:
 *   epoch 3/10 [=========>          ] 120/469 loss 0.02314 1523 img/s ETA 4:02
 * Elsewhere (a pipe, a file, a CI log) it writes a plain line every line_every steps or
 * line_seconds seconds, whichever comes first, and one at each epoch's end:
 *   epoch 3/10 step 120/469 loss 0.02314 1523 img/s ETA 4:02
 * The loss shown is the mean over the epoch so far. This is the one toolkit module that
 * prints. One reporter belongs to one thread. */
#ifndef TC_PROGRESS_H
#define TC_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#include "core/status.h"

typedef enum tc_progress_mode {
  TC_PROGRESS_AUTO = 0, /* BAR when the stream is a terminal, else LINES */
  TC_PROGRESS_BAR,
  TC_PROGRESS_LINES,
  TC_PROGRESS_QUIET     /* prints nothing, notes included */
} tc_progress_mode;

typedef struct tc_progress_config {
  FILE *stream;          /* NULL: stderr */
  tc_progress_mode mode;
  int epochs;            /* total epochs, >= 1 */
  int64_t steps;         /* steps per epoch, >= 1 */
  int64_t batch;         /* images per step (for img/s), >= 1 */
  int64_t line_every;    /* LINES: a line every this many steps; 0: 10 per epoch; < 0: never */
  double line_seconds;   /* LINES: or after this many seconds; 0: 10 s; < 0: never */
  double (*now)(void);   /* clock in seconds (tests pass a fake); NULL: CLOCK_MONOTONIC */
} tc_progress_config;

typedef struct tc_progress tc_progress;

/* Errors: TC_ERR_INVALID_ARG (NULL, epochs/steps/batch < 1, a bad mode), TC_ERR_NOMEM. */
tc_status tc_progress_create(tc_progress **out, const tc_progress_config *cfg);

/* Reports that `step` (1-based) of `epoch` (1-based) finished with this loss. Steps of an
 * epoch come in order; a new epoch number starts a new mean. */
void tc_progress_step(tc_progress *p, int epoch, int64_t step, double loss);

/* Prints one line of text ("saved checkpoint ...") without breaking the bar: the bar is
 * cleared, the note printed, the bar redrawn. */
void tc_progress_note(tc_progress *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Ends a pending bar line with a newline. Call once at the end (also after an error). */
void tc_progress_finish(tc_progress *p);

/* The mode in use after AUTO was resolved. */
tc_progress_mode tc_progress_mode_used(const tc_progress *p);

void tc_progress_free(tc_progress *p);

#endif
