/* train_dist.h — `tconv train` on one or several MPI ranks (docs/distributed.md): the job,
 * the shard count, which images a rank reads, and the rules that keep ranks in step (rank 0
 * alone writes files; every rank agrees on every outcome before going on). */
#ifndef TC_TRAIN_DIST_H
#define TC_TRAIN_DIST_H

#include "optim/checkpoint.h"
#include "optim/dist.h"
#include "tools/dataset.h"
#include "tools/train_common.h"
#include "tools/train_opts.h"

/* Joins the job (tc_dist_init) once per process and checks that every rank was given the
 * same options (argv without --threads, --data, --out, --checkpoint, which may differ per
 * machine) and resolves the shard count. Errors name the option or the rank. */
tc_status tc_train_dist_start(int argc, char **argv, tc_train_opts *o);
void tc_train_dist_end(void);

tc_dist *tc_train_dist(void); /* the job; NULL before start */
int tc_train_root(void);      /* 1 on rank 0 (and when there is no job) */

/* The shard count --shards asked for, or the default: 4, halved while it does not divide
 * --batch. */
int tc_train_shard_count(const tc_train_opts *o);

/* Fails on every rank when some rank's data set (its size and pixels) differs from rank
 * 0's, or when a rank failed to load it (local). */
tc_status tc_train_dist_check_data(tc_status local, const tc_dataset *train);

/* Rank 0 did (or skipped) something alone that may fail; every rank learns the outcome. */
tc_status tc_train_dist_after_root(tc_status root_status);

/* Saves the checkpoint on rank 0 only, then agrees (tc_ckpt_save is atomic: a rank that
 * fails before never leaves a half-written or mixed file). */
tc_status tc_train_dist_save(const char *path, const tc_model *model, const tc_ckpt_optim *co,
                             int n_optims, const tc_ckpt_meta *meta);

/* Loads the checkpoint on rank 0 and copies the model, optimizers and meta to every rank.
 * Works with any rank count (the checkpoint has none). */
tc_status tc_train_dist_resume(const char *path, tc_model *model, const tc_ckpt_optim *co,
                               int n_optims, tc_ckpt_meta *meta);

/* After a checked resume: the learning rate by tc_train_resume_lr on every rank, and rank 0
 * prints "resumed from PATH at step S (epoch E), <which learning rate>". */
void tc_train_dist_resumed(const tc_train_opts *o, tc_optim *const *optims, int n,
                           const char *path, const tc_train_position *p);

/* Rank 0's side-output failure (a PNG it alone writes) told to every rank, so that all stop
 * after the same step (train_common.h, tc_train_side). */
tc_status tc_train_dist_share_side(tc_train_side *side);

/* The images of shard k of a step whose global batch is idx[0..batch): x->shape[0] of
 * them, starting at k * x->shape[0]. */
tc_status tc_train_shard_batch(const tc_dataset *d, const int64_t *step_idx, int k, tc_tensor *x,
                               float lo, float hi);

/* tc_dist_sum_finish with this rank's stop request; in a job of several ranks the stop
 * that tc_train_stop_reason sees is then the one all ranks agreed on. */
tc_status tc_train_dist_finish(tc_dist_sum *sum, tc_status local, float *extra_out);

/* Rank 0 notes how long the cross-rank sums took (a job of several ranks only). */
void tc_train_dist_report(const tc_dist_sum *const *sums, int n, FILE *out);

#endif
