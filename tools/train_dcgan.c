/* train_dcgan.c — the training loop of `tconv train --model dcgan`: alternating
 * discriminator and generator steps with the non-saturating loss. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "core/ops_extra.h"
#include "optim/checkpoint.h"
#include "tools/net_dcgan.h"
#include "tools/png_grid.h"
#include "tools/profile.h"
#include "tools/progress.h"
#include "tools/train_common.h"
#include "tools/train_schedule.h"
#include "tools/train_ema.h"
#include "tools/train_dist.h"
#include "tools/train_net.h"
#include "tools/train_runs.h"

#define TC_GAN_SAMPLES 64

typedef struct tc_gan_run {
  const tc_train_opts *o;
  tc_dcgan net;
  tc_graph **gg, *gd;         /* the generator's step (one per local shard) and D's */
  tc_tensor **img;            /* each local shard's generated images, on its gg */
  int n_local;
  tc_optim *opt_g, *opt_d;
  tc_dist_sum *state_sum, *d_sum, *g_sum; /* batch-norm statistics, D's and G's gradients */
  tc_progress *progress;
  tc_tensor *real, *fake, *z, *ones, *zeros, *fixed_z; /* z: the whole batch; others a shard */
  tc_rng rng;                 /* latent draws; saved in checkpoints */
  int64_t *order;
  tc_train_position pos;
  int64_t saved_step; /* the step of the checkpoint on disk for this run; -1: none */
  tc_train_side side; /* a PNG that failed: stop, save, report */
  char ckpt[TC_TRAIN_PATH_CAP];
  tc_ema *ema; /* --ema: the shadow weights; NULL without */
  double last_d, last_g;
} tc_gan_run;

static tc_status tc_gan_save_now(tc_gan_run *r) {
  tc_ckpt_optim co[2] = {{"generator", r->opt_g}, {"discriminator", r->opt_d}};
  tc_ckpt_meta meta = {.step = r->pos.step, .epoch = tc_train_epoch_of(&r->pos), .rng = r->rng,
                       .batch = r->o->batch, .ema = r->ema};
  tc_train_net_meta(r->o, &meta); /* the network and options: a self-describing checkpoint */
  TC_TRY(tc_train_dist_save(r->ckpt, r->net.model, co, 2, &meta));
  r->saved_step = r->pos.step;
  return TC_OK;
}

static tc_status tc_gan_save(tc_gan_run *r) {
  double t = tc_prof_begin();
  tc_status s = tc_gan_save_now(r);
  tc_prof_end(TC_PROF_CHECKPOINT, t);
  return s;
}

static void tc_gan_normal(tc_rng *rng, tc_tensor *t) {
  for (int64_t i = 0; i < t->size; i++)
    t->data[i] = (float)tc_rng_normal(rng);
}

static void tc_gan_freeze_discriminator(tc_gan_run *r, int frozen) {
  tc_dcgan_freeze_discriminator(&r->net, frozen);
}

/* Where a dropout mask is drawn within a step: the phase and the shard (< 1024, --shards). */
enum { TC_GAN_GENERATE = 0, TC_GAN_D_STEP = 1, TC_GAN_G_STEP = 2 };
static uint32_t tc_gan_site(int phase, int shard) { return (uint32_t)(phase * 1024 + shard); }

/* Shard k's generator pass (training mode: batch norm on the shard's statistics, from the
 * step's moving statistics) on its rows of z, taped on graph kl for G's step. */
static tc_status tc_gan_generate_shard(tc_gan_run *r, int kl, int k) {
  int64_t b = r->real->shape[0], shape[2] = {b, r->o->latent};
  tc_tensor *z;
  tc_graph_reset(r->gg[kl]);
  tc_dist_sum_restore(r->state_sum);
  TC_TRY(tc_tensor_arena(&z, tc_graph_arena(r->gg[kl]), 2, shape));
  memcpy(z->data, r->z->data + (int64_t)k * z->size, (size_t)z->size * sizeof(float));
  tc_net_dropout_seek(r->net.net, (uint64_t)r->pos.step, tc_gan_site(TC_GAN_GENERATE, k));
  TC_TRY(tc_dcgan_generate(&r->net, r->gg[kl], z, 1, &r->img[kl]));
  return tc_dist_sum_push(r->state_sum, NULL);
}

/* D on shard k: real images toward 1, the generator's (detached) images toward 0. */
static tc_status tc_gan_d_shard(tc_gan_run *r, const tc_dataset *train, const int64_t *idx,
                                int kl, int k) {
  tc_tensor *lr, *lf, *l1, *l0, *loss;
  double t = tc_prof_begin();
  tc_status s = tc_train_shard_batch(train, idx, k, r->real, -1.0f, 1.0f);
  tc_prof_end(TC_PROF_DATA, t);
  TC_TRY(s);
  memcpy(r->fake->data, r->img[kl]->data, (size_t)r->fake->size * sizeof(float));
  tc_graph_reset(r->gd);
  tc_net_dropout_seek(r->net.net, (uint64_t)r->pos.step, tc_gan_site(TC_GAN_D_STEP, k));
  TC_TRY(tc_dcgan_discriminate(&r->net, r->gd, r->real, &lr));
  TC_TRY(tc_dcgan_discriminate(&r->net, r->gd, r->fake, &lf));
  TC_TRY(tc_op_bce_with_logits(r->gd, lr, r->ones, &l1));
  TC_TRY(tc_op_bce_with_logits(r->gd, lf, r->zeros, &l0));
  TC_TRY(tc_op_add(r->gd, l1, l0, &loss));
  TC_TRY(tc_train_check_loss(loss, "discriminator loss", r->pos.step + 1, r->ckpt,
                             r->saved_step));
  TC_TRY(tc_graph_backward(r->gd, loss));
  return tc_dist_sum_push(r->d_sum, &loss->data[0]);
}

/* G on shard kl: its images through the new D toward 1 (G's step needs no D gradients). */
static tc_status tc_gan_g_shard(tc_gan_run *r, int kl, int k) {
  tc_tensor *logit, *loss;
  tc_net_dropout_seek(r->net.net, (uint64_t)r->pos.step, tc_gan_site(TC_GAN_G_STEP, k));
  TC_TRY(tc_dcgan_discriminate(&r->net, r->gg[kl], r->img[kl], &logit));
  TC_TRY(tc_op_bce_with_logits(r->gg[kl], logit, r->ones, &loss));
  TC_TRY(tc_train_check_loss(loss, "generator loss", r->pos.step + 1, r->ckpt, r->saved_step));
  TC_TRY(tc_graph_backward(r->gg[kl], loss));
  return tc_dist_sum_push(r->g_sum, &loss->data[0]);
}

/* One iteration: G makes a batch, D learns from it, then G learns through the new D; each
 * phase over this rank's shards, summed across ranks (tools/train_dist.h). */
static tc_status tc_gan_step(tc_gan_run *r, const tc_dataset *train, int64_t s, int64_t epoch) {
  const int64_t *idx = r->order + s * r->o->batch;
  int first, count;
  float d_loss, g_loss;
  tc_dist_sum_local(r->d_sum, &first, &count);
  double t = tc_prof_begin();
  tc_gan_normal(&r->rng, r->z);
  tc_prof_end(TC_PROF_DATA, t);
  tc_status st = tc_dist_sum_begin(r->state_sum);
  for (int kl = 0; st == TC_OK && kl < count; kl++)
    st = tc_gan_generate_shard(r, kl, first + kl);
  TC_TRY(tc_train_dist_finish(r->state_sum, st, NULL));
  tc_gan_freeze_discriminator(r, 0);
  st = tc_dist_sum_begin(r->d_sum);
  for (int kl = 0; st == TC_OK && kl < count; kl++)
    st = tc_gan_d_shard(r, train, idx, kl, first + kl);
  TC_TRY(tc_train_dist_finish(r->d_sum, st, &d_loss));
  t = tc_prof_begin();
  st = tc_optim_step(r->opt_d, NULL);
  tc_prof_end(TC_PROF_OPTIMIZER, t);
  TC_TRY(st);
  r->last_d = d_loss;
  tc_gan_freeze_discriminator(r, 1);
  st = tc_dist_sum_begin(r->g_sum);
  for (int kl = 0; st == TC_OK && kl < count; kl++)
    st = tc_gan_g_shard(r, kl, first + kl);
  st = tc_train_dist_finish(r->g_sum, st, &g_loss);
  tc_gan_freeze_discriminator(r, 0);
  TC_TRY(st);
  t = tc_prof_begin();
  st = tc_optim_step(r->opt_g, NULL);
  if (st == TC_OK)
    tc_ema_update(r->ema);
  tc_prof_end(TC_PROF_OPTIMIZER, t);
  TC_TRY(st);
  tc_prof_images(r->o->batch);
  r->last_g = g_loss;
  r->pos.step++;
  tc_progress_step(r->progress, (int)epoch + 1, s + 1, r->last_g);
  return TC_OK;
}

/* OUT/samples.png (and a numbered copy): the generator on the fixed latent batch, in
 * inference mode (batch norm's moving statistics). */
static tc_status tc_gan_samples_now(tc_gan_run *r) {
  tc_tensor *img;
  tc_graph_reset(r->gd);
  tc_graph_set_recording(r->gd, 0);
  tc_status s = tc_dcgan_generate(&r->net, r->gd, r->fixed_z, 0, &img);
  char path[TC_TRAIN_PATH_CAP], name[64];
  tc_png_grid grid = {.n = TC_GAN_SAMPLES, .h = r->net.h, .w = r->net.w, .rows = 8, .cols = 8,
                      .signed_range = 1};
  if (s == TC_OK) {
    grid.images = img->data;
    snprintf(name, sizeof name, "samples_%06lld.png", (long long)r->pos.step);
    s = tc_train_out_path(r->o, name, path, sizeof path);
  }
  if (s == TC_OK)
    s = tc_png_grid_write(path, &grid);
  if (s == TC_OK)
    s = tc_train_out_path(r->o, "samples.png", path, sizeof path);
  if (s == TC_OK)
    s = tc_png_grid_write(path, &grid);
  tc_graph_set_recording(r->gd, 1);
  tc_graph_reset(r->gd);
  return s;
}

/* The grid from the EMA shadows when there are (swapped in, then back). */
static tc_status tc_gan_samples(tc_gan_run *r) {
  double t = tc_prof_begin();
  tc_ema_swap(r->ema);
  tc_status s = tc_gan_samples_now(r);
  tc_ema_swap(r->ema);
  tc_prof_end(TC_PROF_PNG, t);
  return s;
}

/* Rank 0 alone writes the grids; every rank learns whether it could. */
static tc_status tc_gan_root_samples(tc_gan_run *r) {
  if (tc_train_root() && tc_gan_samples(r) != TC_OK)
    tc_train_side_fail(&r->side); /* a side output: stop, save, report (train_common.h) */
  return tc_train_dist_share_side(&r->side);
}

static tc_status tc_gan_after_step(tc_gan_run *r) {
  if (r->pos.step % r->o->sample_every == 0) {
    TC_TRY(tc_gan_root_samples(r));
    if (r->side.failed)
      return TC_OK;
    tc_progress_note(r->progress, "step %lld: d loss %.4f, g loss %.4f, wrote %s/samples.png",
                     (long long)r->pos.step, r->last_d, r->last_g, r->o->out_dir);
  }
  if (r->o->checkpoint_every > 0 && r->pos.step % r->o->checkpoint_every == 0)
    TC_TRY(tc_gan_save(r));
  return TC_OK;
}

static tc_status tc_gan_epochs(tc_gan_run *r, const tc_dataset *train, int *stopped) {
  for (int64_t e = tc_train_epoch_of(&r->pos); e < r->o->epochs; e++) {
    tc_shuffle_indices(r->order, train->n, (uint64_t)r->o->seed, (uint64_t)e);
    for (int64_t s = tc_train_offset_of(&r->pos); s < r->pos.steps_per_epoch; s++) {
      tc_prof_step_begin();
      TC_TRY(tc_gan_step(r, train, s, e));
      tc_prof_step_end();
      TC_TRY(tc_gan_after_step(r));
      if ((*stopped = r->side.failed ? 3 : tc_train_stop_reason(r->o, &r->pos)) != 0)
        return TC_OK;
    }
    tc_progress_note(r->progress, "epoch %lld: d loss %.4f, g loss %.4f", (long long)e + 1,
                     r->last_d, r->last_g);
  }
  TC_TRY(tc_gan_root_samples(r));
  if (r->side.failed)
    *stopped = 3;
  return TC_OK;
}

static tc_status tc_gan_tensors(tc_gan_run *r, const tc_dataset *train) {
  int64_t n = r->o->batch / r->o->shards, img[4] = {n, train->h, train->w, 1};
  int64_t lat[2] = {r->o->batch, r->o->latent};
  int64_t lab[2] = {n, 1}, fix[2] = {TC_GAN_SAMPLES, r->o->latent};
  TC_TRY(tc_tensor_create(&r->real, 4, img));
  TC_TRY(tc_tensor_create(&r->fake, 4, img));
  TC_TRY(tc_tensor_create(&r->z, 2, lat));
  TC_TRY(tc_tensor_create(&r->ones, 2, lab));
  TC_TRY(tc_tensor_create(&r->zeros, 2, lab));
  TC_TRY(tc_tensor_create(&r->fixed_z, 2, fix));
  tc_tensor_fill(r->ones, 1.0f);
  tc_rng fixed;
  tc_rng_init(&fixed, (uint64_t)r->o->seed, 2); /* its own stream: the same on resume */
  tc_gan_normal(&fixed, r->fixed_z);
  tc_rng_init(&r->rng, (uint64_t)r->o->seed, 1);
  r->order = malloc((size_t)train->n * sizeof *r->order);
  return r->order ? TC_OK : tc_set_error(TC_ERR_NOMEM, "out of memory for the shuffle order");
}

/* The shard sums, and a graph per local shard (G's tape lives from its forward to its step). */
static tc_status tc_gan_shards(tc_gan_run *r) {
  int shards = (int)r->o->shards, first;
  TC_TRY(tc_dist_sum_create(&r->state_sum, tc_train_dist(), shards, 0));
  TC_TRY(tc_dist_sum_add_state(r->state_sum, r->net.model));
  TC_TRY(tc_dist_sum_create(&r->d_sum, tc_train_dist(), shards, 1));
  TC_TRY(tc_dist_sum_add_optim(r->d_sum, r->opt_d));
  TC_TRY(tc_dist_sum_create(&r->g_sum, tc_train_dist(), shards, 1));
  TC_TRY(tc_dist_sum_add_optim(r->g_sum, r->opt_g));
  tc_dist_sum_local(r->d_sum, &first, &r->n_local);
  r->gg = calloc((size_t)r->n_local, sizeof *r->gg);
  r->img = calloc((size_t)r->n_local, sizeof *r->img);
  if (r->gg == NULL || r->img == NULL)
    return tc_set_error(TC_ERR_NOMEM, "out of memory for %d shards", r->n_local);
  for (int kl = 0; kl < r->n_local; kl++) {
    TC_TRY(tc_graph_create(&r->gg[kl]));
    tc_prof_graph(r->gg[kl]);
  }
  return TC_OK;
}

static tc_status tc_gan_setup(tc_gan_run *r, const tc_dataset *train) {
  const tc_train_opts *o = r->o;
  r->pos.steps_per_epoch = train->n / o->batch;
  if (r->pos.steps_per_epoch == 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "--batch %ld is larger than the %lld training images",
                        o->batch, (long long)train->n);
  TC_TRY(tc_train_net_status(tc_dcgan_create(&r->net, o, train->h, train->w)));
  TC_TRY(tc_graph_create(&r->gd));
  tc_prof_graph(r->gd);
  TC_TRY(tc_optim_create(&r->opt_g, &o->optim, r->net.model, "generator"));
  TC_TRY(tc_optim_create(&r->opt_d, &o->optim, r->net.model, "discriminator"));
  tc_optim *both[2] = {r->opt_g, r->opt_d};
  TC_TRY(tc_train_set_schedule(o, r->pos.steps_per_epoch, both, 2));
  TC_TRY(tc_gan_tensors(r, train));
  TC_TRY(tc_gan_shards(r));
  TC_TRY(tc_train_checkpoint_path(o, r->ckpt, sizeof r->ckpt));
  r->saved_step = -1;
  if (o->resume) {
    tc_ckpt_optim co[2] = {{"generator", r->opt_g}, {"discriminator", r->opt_d}};
    tc_ckpt_meta meta;
    TC_TRY(tc_train_dist_resume(r->ckpt, r->net.model, co, 2, &meta));
    TC_TRY(tc_train_resume_check(o, &r->pos, &meta, r->ckpt));
    r->pos.step = r->saved_step = meta.step;
    r->rng = meta.rng;
    tc_optim *opts[2] = {r->opt_g, r->opt_d};
    tc_train_dist_resumed(o, opts, 2, r->ckpt, &r->pos);
  } else {
    TC_TRY(tc_dist_broadcast_model(tc_train_dist(), r->net.model));
  }
  TC_TRY(tc_train_ema_start(o, r->net.model, "generator", r->ckpt, &r->ema));
  tc_progress_config pc = {.epochs = o->epochs, .steps = r->pos.steps_per_epoch, .batch = o->batch,
                           .mode = tc_train_root() ? TC_PROGRESS_AUTO : TC_PROGRESS_QUIET};
  return tc_progress_create(&r->progress, &pc);
}

static void tc_gan_free(tc_gan_run *r) {
  if (r->progress)
    tc_progress_finish(r->progress);
  tc_progress_free(r->progress);
  if (r->d_sum)
    tc_train_dist_report((const tc_dist_sum *const[]){r->state_sum, r->d_sum, r->g_sum}, 3,
                         stdout);
  tc_dist_sum_free(r->state_sum);
  tc_dist_sum_free(r->d_sum);
  tc_dist_sum_free(r->g_sum);
  for (int kl = 0; r->gg && kl < r->n_local; kl++) {
    tc_prof_graph_done(r->gg[kl]);
    tc_graph_free(r->gg[kl]);
  }
  free(r->gg);
  free(r->img);
  free(r->order);
  tc_tensor *t[6] = {r->real, r->fake, r->z, r->ones, r->zeros, r->fixed_z};
  for (int i = 0; i < 6; i++)
    tc_tensor_free(t[i]);
  tc_ema_free(r->ema);
  tc_optim_free(r->opt_g);
  tc_optim_free(r->opt_d);
  tc_prof_graph_done(r->gd);
  tc_graph_free(r->gd);
  tc_dcgan_free(&r->net);
}

tc_status tc_train_dcgan(const tc_train_opts *o, const tc_dataset *train, int *stopped) {
  tc_gan_run r;
  memset(&r, 0, sizeof r);
  r.o = o;
  *stopped = 0;
  tc_status s = tc_gan_setup(&r, train);
  if (s == TC_OK && tc_train_limit_reached(o, &r.pos))
    *stopped = 2; /* --max-steps 0, or a resume already there: the weights as they are */
  if (s == TC_OK && !*stopped)
    s = tc_gan_epochs(&r, train, stopped);
  if (s == TC_OK)
    s = tc_gan_save(&r);
  if (s == TC_OK)
    tc_progress_note(r.progress, "%s checkpoint %s at step %lld",
                     *stopped == 1 ? "interrupted: saved" : "saved", r.ckpt, (long long)r.pos.step);
  if (s == TC_OK && r.side.failed)
    s = tc_train_side_report(&r.side, r.ckpt, r.pos.step);
  tc_gan_free(&r);
  return s;
}
