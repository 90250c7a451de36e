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
#include "tools/progress.h"
#include "tools/train_common.h"
#include "tools/train_net.h"
#include "tools/train_runs.h"

#define TC_GAN_SAMPLES 64

typedef struct tc_gan_run {
  const tc_train_opts *o;
  tc_dcgan net;
  tc_graph *gg, *gd;          /* the generator's step and the discriminator's */
  tc_optim *opt_g, *opt_d;
  tc_progress *progress;
  tc_tensor *real, *fake, *z, *ones, *zeros, *fixed_z;
  tc_rng rng;                 /* latent draws; saved in checkpoints */
  int64_t *order;
  tc_train_position pos;
  int64_t saved_step; /* the step of the checkpoint on disk for this run; -1: none */
  tc_train_side side; /* a PNG that failed: stop, save, report */
  char ckpt[TC_TRAIN_PATH_CAP];
  double last_d, last_g;
} tc_gan_run;

static tc_status tc_gan_save(tc_gan_run *r) {
  tc_ckpt_optim co[2] = {{"generator", r->opt_g}, {"discriminator", r->opt_d}};
  tc_ckpt_meta meta = {.step = r->pos.step, .epoch = tc_train_epoch_of(&r->pos), .rng = r->rng,
                       .batch = r->o->batch};
  tc_train_net_meta(r->o, &meta); /* the network and options: a self-describing checkpoint */
  TC_TRY(tc_ckpt_save(r->ckpt, r->net.model, co, 2, &meta));
  r->saved_step = r->pos.step;
  return TC_OK;
}

static void tc_gan_normal(tc_rng *rng, tc_tensor *t) {
  for (int64_t i = 0; i < t->size; i++)
    t->data[i] = (float)tc_rng_normal(rng);
}

static void tc_gan_freeze_discriminator(tc_gan_run *r, int frozen) {
  tc_dcgan_freeze_discriminator(&r->net, frozen);
}

/* D step: real images toward 1, the generator's (detached) images toward 0. */
static tc_status tc_gan_d_step(tc_gan_run *r) {
  tc_tensor *lr, *lf, *l1, *l0, *loss;
  tc_graph_reset(r->gd);
  tc_gan_freeze_discriminator(r, 0);
  TC_TRY(tc_dcgan_discriminate(&r->net, r->gd, r->real, &lr));
  TC_TRY(tc_dcgan_discriminate(&r->net, r->gd, r->fake, &lf));
  TC_TRY(tc_op_bce_with_logits(r->gd, lr, r->ones, &l1));
  TC_TRY(tc_op_bce_with_logits(r->gd, lf, r->zeros, &l0));
  TC_TRY(tc_op_add(r->gd, l1, l0, &loss));
  TC_TRY(tc_train_check_loss(loss, "discriminator loss", r->pos.step + 1, r->ckpt,
                             r->saved_step));
  TC_TRY(tc_graph_backward(r->gd, loss));
  r->last_d = loss->data[0];
  return tc_optim_step(r->opt_d, NULL);
}

/* One iteration: G makes a batch, D learns from it, then G learns through the new D. */
static tc_status tc_gan_step(tc_gan_run *r, const tc_dataset *train, int64_t s, int64_t epoch) {
  tc_tensor *img, *logit, *loss;
  TC_TRY(tc_train_batch(train, r->order + s * r->o->batch, r->real, -1.0f, 1.0f));
  tc_gan_normal(&r->rng, r->z);
  tc_graph_reset(r->gg);
  TC_TRY(tc_dcgan_generate(&r->net, r->gg, r->z, 1, &img));
  memcpy(r->fake->data, img->data, (size_t)img->size * sizeof(float));
  TC_TRY(tc_gan_d_step(r));
  tc_gan_freeze_discriminator(r, 1); /* G's step needs no discriminator weight gradients */
  TC_TRY(tc_dcgan_discriminate(&r->net, r->gg, img, &logit));
  TC_TRY(tc_op_bce_with_logits(r->gg, logit, r->ones, &loss));
  TC_TRY(tc_train_check_loss(loss, "generator loss", r->pos.step + 1, r->ckpt, r->saved_step));
  TC_TRY(tc_graph_backward(r->gg, loss));
  TC_TRY(tc_optim_step(r->opt_g, NULL));
  tc_gan_freeze_discriminator(r, 0);
  r->last_g = loss->data[0];
  r->pos.step++;
  tc_progress_step(r->progress, (int)epoch + 1, s + 1, r->last_g);
  return TC_OK;
}

/* OUT/samples.png (and a numbered copy): the generator on the fixed latent batch, in
 * inference mode (batch norm's moving statistics). */
static tc_status tc_gan_samples(tc_gan_run *r) {
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

static tc_status tc_gan_after_step(tc_gan_run *r) {
  if (r->pos.step % r->o->sample_every == 0) {
    if (tc_gan_samples(r) != TC_OK) {
      tc_train_side_fail(&r->side);
      return TC_OK;
    }
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
      TC_TRY(tc_gan_step(r, train, s, e));
      TC_TRY(tc_gan_after_step(r));
      if ((*stopped = r->side.failed ? 3 : tc_train_stop_reason(r->o, &r->pos)) != 0)
        return TC_OK;
    }
    tc_progress_note(r->progress, "epoch %lld: d loss %.4f, g loss %.4f", (long long)e + 1,
                     r->last_d, r->last_g);
  }
  if (tc_gan_samples(r) != TC_OK) {
    tc_train_side_fail(&r->side);
    *stopped = 3;
  }
  return TC_OK;
}

static tc_status tc_gan_tensors(tc_gan_run *r, const tc_dataset *train) {
  int64_t n = r->o->batch, img[4] = {n, train->h, train->w, 1}, lat[2] = {n, r->o->latent};
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

static tc_status tc_gan_setup(tc_gan_run *r, const tc_dataset *train) {
  const tc_train_opts *o = r->o;
  r->pos.steps_per_epoch = train->n / o->batch;
  if (r->pos.steps_per_epoch == 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "--batch %ld is larger than the %lld training images",
                        o->batch, (long long)train->n);
  TC_TRY(tc_dcgan_create(&r->net, o, train->h, train->w));
  TC_TRY(tc_graph_create(&r->gg));
  TC_TRY(tc_graph_create(&r->gd));
  TC_TRY(tc_optim_create(&r->opt_g, &o->optim, r->net.model, "generator"));
  TC_TRY(tc_optim_create(&r->opt_d, &o->optim, r->net.model, "discriminator"));
  TC_TRY(tc_gan_tensors(r, train));
  TC_TRY(tc_train_checkpoint_path(o, r->ckpt, sizeof r->ckpt));
  r->saved_step = -1;
  if (o->resume) {
    tc_ckpt_optim co[2] = {{"generator", r->opt_g}, {"discriminator", r->opt_d}};
    tc_ckpt_meta meta;
    TC_TRY(tc_ckpt_load(r->ckpt, r->net.model, co, 2, &meta, 0));
    TC_TRY(tc_train_resume_check(o, &r->pos, &meta, r->ckpt));
    r->pos.step = r->saved_step = meta.step;
    r->rng = meta.rng;
    char lr[160];
    tc_optim *opts[2] = {r->opt_g, r->opt_d};
    tc_train_resume_lr(o, opts, 2, lr, sizeof lr);
    printf("resumed from %s at step %lld (epoch %lld), %s\n", r->ckpt, (long long)meta.step,
           (long long)tc_train_epoch_of(&r->pos) + 1, lr);
  }
  tc_progress_config pc = {.epochs = o->epochs, .steps = r->pos.steps_per_epoch, .batch = o->batch};
  return tc_progress_create(&r->progress, &pc);
}

static void tc_gan_free(tc_gan_run *r) {
  if (r->progress)
    tc_progress_finish(r->progress);
  tc_progress_free(r->progress);
  free(r->order);
  tc_tensor *t[6] = {r->real, r->fake, r->z, r->ones, r->zeros, r->fixed_z};
  for (int i = 0; i < 6; i++)
    tc_tensor_free(t[i]);
  tc_optim_free(r->opt_g);
  tc_optim_free(r->opt_d);
  tc_graph_free(r->gg);
  tc_graph_free(r->gd);
  tc_dcgan_free(&r->net);
}

tc_status tc_train_dcgan(const tc_train_opts *o, const tc_dataset *train, int *stopped) {
  tc_gan_run r;
  memset(&r, 0, sizeof r);
  r.o = o;
  *stopped = 0;
  tc_status s = tc_gan_setup(&r, train);
  if (s == TC_OK)
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
