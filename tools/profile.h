/* profile.h — `tconv train --profile`: where the training's wall time goes.
 *
 *   tc_prof_start(NULL);                 // or a path for the JSON form
 *   tc_graph_create(&g); tc_prof_graph(g);   // its ops are timed per (layer, op)
 *   double t = tc_prof_begin();  ...load a batch...  tc_prof_end(TC_PROF_DATA, t);
 *   tc_prof_images(batch);               // once per step
 *   tc_prof_graph_done(g); tc_graph_free(g);
 *   tc_prof_finish(stdout);              // the table; the JSON file when a path was given
 *
 * The core records op times on each graph (core/graph.h); this module adds the tool-side
 * categories (data, optimizer, checkpoint, PNG, evaluation), sums the graphs' rows and
 * prints them as percentages of the wall time since tc_prof_start (what no row claims is
 * "other") and of the training steps alone (ops, batches, optimizer, and the steps' other). While a category is timed the graphs stop profiling, so no second is counted
 * twice (the evaluation's forward passes are evaluation, not ops). Every hook does nothing
 * until tc_prof_start: the training loops call them unconditionally. Process-wide state,
 * for the one training run of a `tconv train`; one thread. */
#ifndef TC_PROFILE_H
#define TC_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "core/graph.h"

typedef enum tc_prof_cat {
  TC_PROF_LOAD = 0,  /* loading the data set (once) */
  TC_PROF_DATA,      /* filling each step's batches, drawing latents */
  TC_PROF_OPTIMIZER, /* the optimizer's step and the EMA update */
  TC_PROF_CHECKPOINT,
  TC_PROF_PNG,       /* the sample / reconstruction grids, their forward pass included */
  TC_PROF_EVAL,      /* the test-set score of the autoencoder */
  TC_PROF_N
} tc_prof_cat;

/* Starts the clock. json_path (may be NULL) gets the machine-readable form: it is created
 * now, so a path that cannot be written fails before the training (TC_ERR_IO naming it). */
tc_status tc_prof_start(const char *json_path);
int tc_prof_on(void);

/* Profiles g's ops from now on and remembers it (up to 16 graphs). */
void tc_prof_graph(tc_graph *g);
/* Adds g's rows to the totals and forgets it: call before tc_graph_free. */
void tc_prof_graph_done(tc_graph *g);

/* A category's time: t = tc_prof_begin() ... tc_prof_end(cat, t). Not nested. */
double tc_prof_begin(void);
void tc_prof_end(tc_prof_cat cat, double t0);

/* Around each training step: the steps' own time (less any checkpoint, PNG or evaluation
 * inside them) is the base of the table's "% step" column. */
void tc_prof_step_begin(void);
void tc_prof_step_end(void);

/* Training images processed (a step's batch), for the images/s line. */
void tc_prof_images(int64_t n);

/* Prints the table to out and writes the JSON file (if asked); TC_ERR_IO naming the file
 * when it cannot be written. Stops profiling. */
tc_status tc_prof_finish(FILE *out);

#endif
