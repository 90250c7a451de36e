/* train_dist.c — the job behind `mpirun -np N tconv train` (and a plain run, as one rank). */
#include "tools/train_dist.h"
#include "tools/train_accumulate.h"

#include <stdio.h>
#include <string.h>

#include "tools/train_common.h"

static tc_dist *tc_job;

/* Lazily one rank, for a training loop run without tc_train_dist_start (tests). */
tc_dist *tc_train_dist(void) {
  if (tc_job == NULL && tc_dist_init(&tc_job) != TC_OK)
    tc_job = NULL;
  return tc_job;
}
int tc_train_root(void) { return tc_job == NULL || tc_dist_rank(tc_job) == 0; }

int tc_train_shard_count(const tc_train_opts *o) {
  if (o->shards > 0)
    return (int)o->shards;
  int s = 4;
  while (s > 1 && o->batch % s != 0)
    s /= 2;
  return s;
}

/* The options that decide the numbers; paths and thread counts may differ per machine. */
static uint64_t tc_options_fingerprint(int argc, char **argv) {
  static const char *const local[] = {"--threads", "--data", "--out", "--checkpoint"};
  uint64_t h = 0;
  for (int i = 1; i < argc; i++) {
    int skip = 0;
    for (size_t k = 0; k < sizeof local / sizeof *local; k++)
      skip |= strcmp(argv[i], local[k]) == 0;
    if (skip) {
      i++;
      continue;
    }
    h = tc_dist_fingerprint(h, argv[i], strlen(argv[i]) + 1);
  }
  return h;
}

static tc_status tc_check_shards(const tc_train_opts *o, int shards, int ranks) {
  if (o->batch % shards != 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "--batch %ld is not a multiple of --shards %d",
                        o->batch, shards);
  if ((shards & (shards - 1)) != 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "--shards %d is not a power of two", shards);
  if (shards % ranks != 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "%d ranks do not divide --shards %d (each rank "
                        "computes shards/ranks of every batch)", ranks, shards);
  return TC_OK;
}

tc_status tc_train_dist_start(int argc, char **argv, tc_train_opts *o) {
  if (tc_job == NULL)
    TC_TRY(tc_dist_init(&tc_job));
  o->shards = tc_train_shard_count(o);
  TC_TRY(tc_train_accumulate(o));
  TC_TRY(tc_dist_check_same(tc_job, tc_options_fingerprint(argc, argv), "the options"));
  return tc_check_shards(o, (int)o->shards, tc_dist_size(tc_job));
}

void tc_train_dist_end(void) {
  tc_dist_free(tc_job);
  tc_job = NULL;
}

tc_status tc_train_dist_check_data(tc_status local, const tc_dataset *train) {
  TC_TRY(tc_dist_agree(tc_job, local));
  uint64_t h = tc_dist_fingerprint(0, &train->n, sizeof train->n);
  h = tc_dist_fingerprint(h, &train->h, sizeof train->h);
  h = tc_dist_fingerprint(h, &train->w, sizeof train->w);
  h = tc_dist_fingerprint(h, &train->c, sizeof train->c);
  for (const tc_dataset *d = train; d != NULL && tc_dist_size(tc_job) > 1; d = d->targets)
    /* one pass over the pixels (and paired targets), only where ranks can differ */
    h = tc_dist_fingerprint(h, d->images, (size_t)(d->n * d->h * d->w * d->c) * sizeof(float));
  return tc_dist_check_same(tc_job, h, "the training images");
}

tc_status tc_train_dist_after_root(tc_status root_status) {
  return tc_dist_agree(tc_job, tc_train_root() ? root_status : TC_OK);
}

tc_status tc_train_dist_save(const char *path, const tc_model *model, const tc_ckpt_optim *co,
                             int n_optims, const tc_ckpt_meta *meta) {
  tc_status s = TC_OK;
  if (tc_train_root())
    s = tc_ckpt_save(path, model, co, n_optims, meta);
  return tc_train_dist_after_root(s);
}

tc_status tc_train_dist_resume(const char *path, tc_model *model, const tc_ckpt_optim *co,
                               int n_optims, tc_ckpt_meta *meta) {
  memset(meta, 0, sizeof *meta);
  tc_status s = TC_OK;
  if (tc_train_root())
    s = tc_ckpt_load(path, model, co, n_optims, meta, 0);
  TC_TRY(tc_train_dist_after_root(s));
  TC_TRY(tc_dist_broadcast_model(tc_job, model));
  for (int k = 0; k < n_optims; k++)
    TC_TRY(tc_dist_broadcast_optim(tc_job, co[k].optim));
  return tc_dist_broadcast(tc_job, meta, sizeof *meta);
}

void tc_train_dist_resumed(const tc_train_opts *o, tc_optim *const *optims, int n,
                           const char *path, const tc_train_position *p) {
  char lr[160];
  tc_train_resume_lr(o, optims, n, lr, sizeof lr); /* every rank: --lr is the same on all */
  if (tc_train_root())
    printf("resumed from %s at step %lld (epoch %lld), %s\n", path, (long long)p->step,
           (long long)tc_train_epoch_of(p) + 1, lr);
}

tc_status tc_train_dist_share_side(tc_train_side *side) {
  return tc_dist_broadcast(tc_job, &side->failed, sizeof side->failed);
}

tc_status tc_train_shard_batch(const tc_dataset *d, const int64_t *step_idx, int k, tc_tensor *x,
                               float lo, float hi) {
  return tc_train_batch(d, step_idx + (int64_t)k * x->shape[0], x, lo, hi);
}

tc_status tc_train_dist_finish(tc_dist_sum *sum, tc_status local, float *extra_out) {
  int any_stop = 0;
  TC_TRY(tc_dist_sum_finish(sum, local, tc_train_interrupted(), extra_out, &any_stop));
  if (tc_dist_size(tc_job) > 1)
    tc_train_agree_stop(any_stop);
  return TC_OK;
}

void tc_train_dist_report(const tc_dist_sum *const *sums, int n, FILE *out) {
  if (!tc_train_root() || tc_dist_size(tc_job) == 1)
    return;
  for (int i = 0; i < n; i++) {
    tc_dist_sum_stats st = tc_dist_sum_stats_of(sums[i]);
    if (st.steps == 0)
      continue;
    double us = 1e6 * st.seconds / (double)st.steps, bytes = 4.0 * (double)st.elements;
    fprintf(out, "dist: %d ranks, sum %d: %lld floats per step, %.1f us per sum (%.1f MB/s of "
            "gradient) after %.1f us of rank 0's shards\n", tc_dist_size(tc_job), i,
            (long long)st.elements, us, bytes / us, 1e6 * st.local_seconds / (double)st.steps);
  }
}
