/* train_common.c — data, directories, signals and batches for the training loops. */
#include "tools/train_common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/finite.h"
#include "core/io/outpath.h"
#include "tools/train_data.h"

tc_status tc_train_load_data(const tc_train_opts *o, tc_dataset **train, tc_dataset **test) {
  return tc_train_data_load(o, train, test); /* IDX, PNG folders, synthetic: train_data.c */
}

static tc_status tc_mkdir_p(const char *path) {
  char buf[TC_TRAIN_PATH_CAP];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return tc_set_error(TC_ERR_INVALID_ARG, "path '%.60s...' is too long", path);
  for (char *p = buf + 1;; p++) {
    char saved = *p;
    if (saved != '/' && saved != '\0')
      continue;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return tc_set_error(TC_ERR_IO, "cannot create directory '%s': %s", buf, strerror(errno));
    *p = saved;
    if (saved == '\0')
      return TC_OK;
  }
}

/* The checkpoint's directory, made if missing. */
static tc_status tc_mkdir_for(const char *file) {
  char dir[TC_TRAIN_PATH_CAP];
  snprintf(dir, sizeof dir, "%s", file); /* file was built to fit this cap */
  char *slash = strrchr(dir, '/');
  if (slash == NULL || slash == dir)
    return TC_OK;
  *slash = '\0';
  return tc_mkdir_p(dir);
}

/* Without --resume or --force, an existing checkpoint is not replaced silently. */
static tc_status tc_check_overwrite(const tc_train_opts *o, const char *ckpt) {
  struct stat st;
  if (o->resume || o->force || stat(ckpt, &st) != 0)
    return TC_OK;
  return tc_set_error(TC_ERR_EXISTS, "checkpoint '%s' exists: pass --resume to continue it, "
                      "or --force to start afresh and replace it", ckpt);
}

tc_status tc_train_prepare_dirs(const tc_train_opts *o) {
  char ckpt[TC_TRAIN_PATH_CAP], png[TC_TRAIN_PATH_CAP];
  TC_TRY(tc_train_checkpoint_path(o, ckpt, sizeof ckpt));
  const char *name = o->model == TC_MODEL_DCGAN        ? "samples.png"
                     : o->pairs.kind != TC_PAIRS_NONE ? "results.png" /* tools/train_pairs.h */
                                                      : "reconstructions.png";
  TC_TRY(tc_train_out_path(o, name, png, sizeof png));
  TC_TRY(tc_output_path_check(ckpt));
  TC_TRY(tc_output_path_check(png));
  TC_TRY(tc_check_overwrite(o, ckpt));
  TC_TRY(tc_mkdir_p(o->out_dir));
  TC_TRY(tc_mkdir_for(ckpt));
  TC_TRY(tc_output_dir_check(png));
  return tc_output_dir_check(ckpt);
}

tc_status tc_train_check_loss(const tc_tensor *loss, const char *what, int64_t step,
                              const char *ckpt, int64_t saved_step) {
  if (tc_loss_check_finite(loss, what, step) == TC_OK)
    return TC_OK;
  char why[512];
  snprintf(why, sizeof why, "%s", tc_last_error());
  if (saved_step < 0)
    return tc_set_error(TC_ERR_STATE, "%s; no checkpoint was saved by this run", why);
  return tc_set_error(TC_ERR_STATE, "%s; the checkpoint '%s' of step %lld is kept", why, ckpt,
                      (long long)saved_step);
}

void tc_train_side_fail(tc_train_side *side) {
  side->failed = 1;
  snprintf(side->msg, sizeof side->msg, "%s", tc_last_error());
}

tc_status tc_train_side_report(const tc_train_side *side, const char *ckpt, int64_t step) {
  return tc_set_error(TC_ERR_IO, "%s; the run stopped after saving the checkpoint '%s' at step "
                      "%lld (--resume continues)", side->msg, ckpt, (long long)step);
}

tc_status tc_train_net_status(tc_status built) {
  if (built != TC_ERR_SHAPE && built != TC_ERR_UNSUPPORTED)
    return built;
  char why[1024];
  snprintf(why, sizeof why, "%s", tc_last_error());
  return tc_set_error(TC_ERR_INVALID_ARG, "%s", why);
}

tc_status tc_train_resume_check(const tc_train_opts *o, const tc_train_position *p,
                                const tc_ckpt_meta *meta, const char *ckpt) {
  if (meta->batch > 0 && meta->batch != o->batch)
    return tc_set_error(TC_ERR_INVALID_ARG, "checkpoint '%s' was trained with --batch %lld, "
                        "this run has --batch %ld: resume with --batch %lld (another batch "
                        "size would re-map the epoch position), or start afresh with --force",
                        ckpt, (long long)meta->batch, o->batch, (long long)meta->batch);
  if (meta->shards > 0 && meta->shards != o->shards)
    return tc_set_error(TC_ERR_INVALID_ARG, "checkpoint '%s' was trained with --shards %lld, "
                        "this run has --shards %ld: resume with --shards %lld (the shards "
                        "decide batch norm's statistics and the order of the gradient sums)",
                        ckpt, (long long)meta->shards, o->shards, (long long)meta->shards);
  int64_t epoch = meta->step / p->steps_per_epoch;
  if (epoch != meta->epoch)
    return tc_set_error(TC_ERR_INVALID_ARG, "checkpoint '%s' is at step %lld of epoch %lld, "
                        "but this run's %lld steps per epoch put that step in epoch %lld: "
                        "resume with the same data, --limit and --batch", ckpt,
                        (long long)meta->step, (long long)meta->epoch + 1,
                        (long long)p->steps_per_epoch, (long long)epoch + 1);
  return TC_OK;
}

void tc_train_resume_lr(const tc_train_opts *o, tc_optim *const *optims, int n, char *note,
                        size_t cap) {
  float saved = tc_optim_lr(optims[0]);
  for (int i = 0; o->lr_schedule != NULL && i < n; i++) /* parsed and checked at start */
    tc_optim_set_schedule(optims[i], &o->sched);
  if (o->lr < 0.0) {
    snprintf(note, cap, "learning rate %g from the checkpoint", (double)saved);
    return;
  }
  for (int i = 0; i < n; i++)
    tc_optim_set_lr(optims[i], (float)o->lr);
  snprintf(note, cap, "learning rate %g from --lr (the checkpoint had %g)", (double)(float)o->lr,
           (double)saved);
}

static volatile sig_atomic_t tc_stop_requested;

static void tc_on_signal(int sig) {
  if (tc_stop_requested)
    signal(sig, SIG_DFL), raise(sig);
  tc_stop_requested = 1;
}

void tc_train_catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = tc_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int tc_train_interrupted(void) { return tc_stop_requested != 0; }

/* Several MPI ranks: a stop request counts from the step that all ranks agreed on it
 * (tools/train_dist.c), so that every rank stops after the same step. -1: one process. */
static int tc_stop_agreed = -1;
void tc_train_agree_stop(int any) { tc_stop_agreed = any; }

int tc_train_stop_reason(const tc_train_opts *o, const tc_train_position *p) {
  if (tc_stop_agreed >= 0 ? tc_stop_agreed : tc_stop_requested)
    return 1;
  return tc_train_limit_reached(o, p) ? 2 : 0;
}

int tc_train_limit_reached(const tc_train_opts *o, const tc_train_position *p) {
  return o->max_steps >= 0 && p->step >= o->max_steps;
}

tc_status tc_train_batch(const tc_dataset *d, const int64_t *idx, tc_tensor *x, float lo,
                         float hi) {
  TC_TRY(tc_dataset_batch(d, idx, x->shape[0], TC_CHANNELS_LAST, x->data, NULL));
  if (lo != 0.0f || hi != 1.0f)
    for (int64_t i = 0; i < x->size; i++)
      x->data[i] = lo + (hi - lo) * x->data[i];
  return TC_OK;
}
