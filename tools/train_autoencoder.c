/* train_autoencoder.c — the training loop of `tconv train --model autoencoder`. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "optim/checkpoint.h"
#include "tools/net_autoencoder.h"
#include "tools/png_grid.h"
#include "tools/profile.h"
#include "tools/progress.h"
#include "tools/train_ae_lanes.h"
#include "tools/train_common.h"
#include "tools/train_schedule.h"
#include "tools/train_ema.h"
#include "tools/train_dist.h"
#include "tools/train_net.h"
#include "tools/train_pairs.h"
#include "tools/train_runs.h"

typedef struct tc_ae_run {
  const tc_train_opts *o;
  tc_autoencoder net;
  tc_graph *g;
  tc_optim *opt;
  tc_progress *progress;
  tc_tensor *x;               /* one shard: batch / shards images */
  tc_tensor *t;               /* its targets: x itself, or pairs' (tools/train_pairs.h) */
  int in[3], tgt[3];          /* per-image shapes (h, w, c) of inputs and targets */
  tc_dist_sum *sum;           /* the shards' gradients, summed in the fixed tree */
  int64_t *order;
  tc_train_position pos;
  int64_t saved_step; /* the step of the checkpoint on disk for this run; -1: none */
  tc_train_side side; /* a PNG that failed: stop, save, report */
  char ckpt[TC_TRAIN_PATH_CAP];
  tc_ema *ema; /* --ema: the shadow weights; NULL without */
  tc_ae_lanes lanes; /* lane 0: net, g, x, t; replicas beside it (tools/train_ae_lanes.h) */
} tc_ae_run;

static tc_status tc_ae_save_now(tc_ae_run *r) {
  tc_ckpt_optim co = {"optimizer", r->opt};
  tc_ckpt_meta meta = {.step = r->pos.step, .epoch = tc_train_epoch_of(&r->pos),
                       .batch = r->o->batch, .ema = r->ema};
  tc_rng_init(&meta.rng, (uint64_t)r->o->seed, 0);
  tc_train_net_meta(r->o, &meta); /* the network and options: a self-describing checkpoint */
  TC_TRY(tc_train_dist_save(r->ckpt, r->net.model, &co, 1, &meta));
  r->saved_step = r->pos.step;
  return TC_OK;
}

static tc_status tc_ae_save(tc_ae_run *r) {
  double t = tc_prof_begin();
  tc_status s = tc_ae_save_now(r);
  tc_prof_end(TC_PROF_CHECKPOINT, t);
  return s;
}

/* Data loss plus the activity penalties the layers put on the tape, on net and graph g. */
static tc_status tc_ae_loss(tc_autoencoder *net, tc_graph *g, tc_tensor *x, tc_tensor *t,
                            tc_tensor **loss, float *data_loss) {
  tc_tensor *y;
  TC_TRY(tc_autoencoder_forward(net, g, x, &y));
  TC_TRY(tc_autoencoder_loss(net, g, y, t, loss));
  *data_loss = (*loss)->data[0];
  for (int i = 0; i < tc_graph_loss_count(g); i++)
    TC_TRY(tc_op_add(g, *loss, tc_graph_loss_at(g, i), loss));
  return TC_OK;
}

/* The test images idx[0..n) (idx NULL: 0..n-1) as inputs x and targets t (x itself
 * without pairs) in the arena. */
static tc_status tc_ae_test_inputs(tc_ae_run *r, const tc_dataset *test, const int64_t *idx,
                                   int64_t n, tc_tensor **x, tc_tensor **t) {
  int64_t xs[4] = {n, r->in[0], r->in[1], r->in[2]}, ts[4] = {n, r->tgt[0], r->tgt[1], r->tgt[2]};
  TC_TRY(tc_tensor_arena(x, tc_graph_arena(r->g), 4, xs));
  *t = *x;
  if (tc_train_paired(r->o))
    TC_TRY(tc_tensor_arena(t, tc_graph_arena(r->g), 4, ts));
  return tc_train_pair_fill(r->o, test, idx, TC_PAIRS_TEST_EPOCH, *x, *t);
}

/* The test set's images idx[0..n) = start.. into x (the arena), reconstructed and scored. */
static tc_status tc_ae_test_batch(tc_ae_run *r, const tc_dataset *test, int64_t start,
                                  int64_t n, int64_t *idx, double *sum) {
  tc_tensor *x, *t, *y, *loss;
  for (int64_t i = 0; i < n; i++)
    idx[i] = start + i;
  TC_TRY(tc_ae_test_inputs(r, test, idx, n, &x, &t));
  TC_TRY(tc_autoencoder_forward(&r->net, r->g, x, &y));
  TC_TRY(tc_op_mse(r->g, y, t, &loss));
  *sum += (double)loss->data[0] * (double)n;
  return TC_OK;
}

static tc_status tc_ae_test_mse(tc_ae_run *r, const tc_dataset *test, double *mse) {
  const int64_t bs = 250;
  int64_t *idx = malloc((size_t)bs * sizeof *idx);
  if (idx == NULL)
    return tc_set_error(TC_ERR_NOMEM, "evaluation: out of memory");
  double t = tc_prof_begin();
  double total = 0.0;
  tc_status s = TC_OK;
  tc_graph_set_recording(r->g, 0);
  for (int64_t start = 0; s == TC_OK && start < test->n; start += bs) {
    s = tc_ae_test_batch(r, test, start, test->n - start < bs ? test->n - start : bs, idx, &total);
    tc_graph_reset(r->g);
  }
  tc_graph_set_recording(r->g, 1);
  free(idx);
  tc_prof_end(TC_PROF_EVAL, t);
  *mse = total / (double)test->n;
  return s;
}

/* OUT/reconstructions.png: the first 32 test images, each beside its reconstruction; with
 * pairs OUT/results.png: the first 16 as input, output and target rows. */
static tc_status tc_ae_write_png_now(tc_ae_run *r, const tc_dataset *test) {
  int paired = tc_train_paired(r->o);
  int64_t cap = paired ? 16 : 32, n = test->n < cap ? test->n : cap;
  tc_tensor *x, *t, *y;
  tc_graph_set_recording(r->g, 0);
  tc_status s = tc_ae_test_inputs(r, test, NULL, n, &x, &t);
  if (s == TC_OK)
    s = tc_autoencoder_forward(&r->net, r->g, x, &y);
  char path[TC_TRAIN_PATH_CAP];
  if (s == TC_OK)
    s = tc_train_out_path(r->o, paired ? "results.png" : "reconstructions.png", path,
                          sizeof path);
  if (s == TC_OK && paired) {
    s = tc_train_pair_png(path, n, x->data, r->in, y->data, t->data, r->tgt);
  } else if (s == TC_OK) {
    tc_png_grid grid = {.images = x->data, .pairs = y->data, .n = n, .h = test->h, .w = test->w,
                        .rows = 4, .cols = 8, .channels = test->c};
    s = tc_png_grid_write(path, &grid);
  }
  tc_graph_reset(r->g);
  tc_graph_set_recording(r->g, 1);
  return s;
}

/* The grid from the EMA shadows when there are (swapped in, then back). */
static tc_status tc_ae_write_png(tc_ae_run *r, const tc_dataset *test) {
  double t = tc_prof_begin();
  tc_ema_swap(r->ema);
  tc_status s = tc_ae_write_png_now(r, test);
  tc_ema_swap(r->ema);
  tc_prof_end(TC_PROF_PNG, t);
  return s;
}

/* Shard k of the step's batch on lane l: its gradients and loss (l->data_loss), left in the
 * lane's variables for the tree. The lane's state variables start from the step's values. */
static tc_status tc_ae_shard(tc_ae_run *r, tc_ae_lane *l, const tc_dataset *train,
                             const int64_t *idx, int k) {
  tc_tensor *loss;
  tc_graph_reset(l->g);
  double t = tc_prof_begin();
  tc_status s;
  if (tc_train_paired(r->o)) /* shard k's images, as tc_train_shard_batch takes them */
    s = tc_train_pair_fill(r->o, train, idx + (int64_t)k * l->x->shape[0],
                           tc_train_epoch_of(&r->pos), l->x, l->t);
  else
    s = tc_train_shard_batch(train, idx, k, l->x, 0.0f, 1.0f);
  tc_prof_end(TC_PROF_DATA, t);
  TC_TRY(s);
  tc_net_dropout_seek(l->net->net, (uint64_t)r->pos.step, (uint32_t)k);
  TC_TRY(tc_ae_loss(l->net, l->g, l->x, l->t, &loss, &l->data_loss));
  TC_TRY(tc_train_check_loss(loss, "loss", r->pos.step + 1, r->ckpt, r->saved_step));
  return tc_graph_backward(l->g, loss);
}

/* Shard k0 + i on lane i, its status and message kept in the lane. */
static void tc_ae_lane_shard(tc_ae_run *r, int i, const tc_dataset *train, const int64_t *idx,
                             int k0) {
  tc_ae_lane *l = &r->lanes.lane[i];
  l->st = tc_ae_shard(r, l, train, idx, k0 + i);
  if (l->st != TC_OK)
    snprintf(l->msg, sizeof l->msg, "%s", tc_last_error());
}

/* Shards [k0, k0 + n) on lanes 0..n-1 side by side (n = 1: on the calling thread), then into
 * the tree in shard order; the first failed shard's error. */
static tc_status tc_ae_round(tc_ae_run *r, const tc_dataset *train, const int64_t *idx, int k0,
                             int n) {
  tc_dist_sum_restore(r->sum);
  for (int i = 1; i < n; i++)
    tc_dist_sum_restore_into(r->sum, r->lanes.lane[i].own.model);
  if (n == 1) /* no enclosing region: libgomp gives nested teams threads of their own */
    tc_ae_lane_shard(r, 0, train, idx, k0);
  else
#pragma omp parallel num_threads(n)
    tc_ae_lane_shard(r, omp_get_thread_num(), train, idx, k0);
  for (int i = 0; i < n; i++) {
    tc_ae_lane *l = &r->lanes.lane[i];
    if (l->st != TC_OK)
      return tc_set_error(l->st, "%s", l->msg);
    TC_TRY(tc_dist_sum_push_from(r->sum, i ? l->net->model : NULL, &l->data_loss));
  }
  return TC_OK;
}

static tc_status tc_ae_step(tc_ae_run *r, const tc_dataset *train, int64_t s, int64_t epoch) {
  int first, count;
  float data_loss;
  tc_dist_sum_local(r->sum, &first, &count);
  tc_status st = tc_dist_sum_begin(r->sum);
  tc_ae_lanes_sync(&r->lanes);
  for (int k = first; st == TC_OK && k < first + count; k += r->lanes.n)
    st = tc_ae_round(r, train, r->order + s * r->o->batch, k, r->lanes.n);
  TC_TRY(tc_train_dist_finish(r->sum, st, &data_loss));
  double t = tc_prof_begin();
  st = tc_optim_step(r->opt, NULL);
  if (st == TC_OK)
    tc_ema_update(r->ema);
  tc_prof_end(TC_PROF_OPTIMIZER, t);
  TC_TRY(st);
  tc_prof_images(r->o->batch);
  r->pos.step++;
  tc_progress_step(r->progress, (int)epoch + 1, s + 1, data_loss);
  if (r->o->checkpoint_every > 0 && r->pos.step % r->o->checkpoint_every == 0)
    TC_TRY(tc_ae_save(r));
  return TC_OK;
}

static tc_status tc_ae_epoch_end(tc_ae_run *r, const tc_dataset *test, int64_t epoch) {
  double mse;
  tc_status s = TC_OK;
  if (tc_train_root()) { /* rank 0 alone evaluates and writes */
    s = tc_ae_test_mse(r, test, &mse);
    if (s == TC_OK && tc_ae_write_png(r, test) != TC_OK)
      tc_train_side_fail(&r->side);
    else if (s == TC_OK)
      tc_progress_note(r->progress, "epoch %lld: test mse %.6f, psnr %.2f dB",
                       (long long)epoch + 1, mse, 10.0 * log10(1.0 / mse));
  }
  TC_TRY(tc_train_dist_after_root(s));
  return tc_train_dist_share_side(&r->side);
}

/* Pairs made on the fly: the baseline a network must beat, printed once by rank 0. */
static tc_status tc_ae_baseline(tc_ae_run *r, const tc_dataset *test) {
  char line[128];
  tc_status s = tc_train_root() ? tc_train_pair_baseline(r->o, test, line, sizeof line) : TC_OK;
  if (s == TC_OK && tc_train_root() && line[0] != '\0')
    tc_progress_note(r->progress, "%s", line);
  return tc_train_dist_after_root(s);
}

/* Runs the epochs from the resume position; *stopped says why it ended early (if it did).
 * An epoch whose last step was done still gets its evaluation before a stop. */
static tc_status tc_ae_epochs(tc_ae_run *r, const tc_dataset *train, const tc_dataset *test,
                              int *stopped) {
  for (int64_t e = tc_train_epoch_of(&r->pos); e < r->o->epochs && !*stopped; e++) {
    tc_shuffle_indices(r->order, train->n, (uint64_t)r->o->seed, (uint64_t)e);
    int64_t s = tc_train_offset_of(&r->pos);
    while (s < r->pos.steps_per_epoch && !*stopped) {
      tc_prof_step_begin();
      TC_TRY(tc_ae_step(r, train, s++, e));
      tc_prof_step_end();
      *stopped = tc_train_stop_reason(r->o, &r->pos);
    }
    if (s == r->pos.steps_per_epoch)
      TC_TRY(tc_ae_epoch_end(r, test, e));
    if (r->side.failed)
      *stopped = 3;
  }
  return TC_OK;
}

static tc_status tc_ae_setup(tc_ae_run *r, const tc_dataset *train) {
  const tc_train_opts *o = r->o;
  r->pos.steps_per_epoch = train->n / o->batch;
  if (r->pos.steps_per_epoch == 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "--batch %ld is larger than the %lld training images",
                        o->batch, (long long)train->n);
  TC_TRY(tc_train_pair_shapes(o, train, r->in, r->tgt));
  if (tc_train_paired(o) || train->c != 1)
    TC_TRY(tc_train_net_status(tc_autoencoder_create_io(&r->net, o, r->in, r->tgt, train->source)));
  else
    TC_TRY(tc_train_net_status(tc_autoencoder_create(&r->net, o, train->h, train->w)));
  TC_TRY(tc_graph_create(&r->g));
  tc_prof_graph(r->g);
  TC_TRY(tc_optim_create(&r->opt, &o->optim, r->net.model, NULL));
  TC_TRY(tc_train_set_schedule(o, r->pos.steps_per_epoch, &r->opt, 1));
  int64_t shape[4] = {o->batch / o->shards, r->in[0], r->in[1], r->in[2]};
  int64_t tshape[4] = {shape[0], r->tgt[0], r->tgt[1], r->tgt[2]};
  TC_TRY(tc_tensor_create(&r->x, 4, shape));
  r->t = r->x;
  if (tc_train_paired(o))
    TC_TRY(tc_tensor_create(&r->t, 4, tshape));
  TC_TRY(tc_dist_sum_create(&r->sum, tc_train_dist(), (int)o->shards, 1));
  TC_TRY(tc_dist_sum_add_optim(r->sum, r->opt));
  TC_TRY(tc_dist_sum_add_state(r->sum, r->net.model));
  int first, count;
  tc_dist_sum_local(r->sum, &first, &count);
  TC_TRY(tc_ae_lanes_create(&r->lanes, tc_ae_lanes_count(count), o, &r->net, r->g, r->x,
                            r->t, r->in, r->tgt, train, r->sum));
  r->order = malloc((size_t)train->n * sizeof *r->order);
  if (r->order == NULL)
    return tc_set_error(TC_ERR_NOMEM, "out of memory for the shuffle order");
  TC_TRY(tc_train_checkpoint_path(o, r->ckpt, sizeof r->ckpt));
  r->saved_step = -1;
  if (o->resume) {
    tc_ckpt_optim co = {"optimizer", r->opt};
    tc_ckpt_meta meta;
    TC_TRY(tc_train_dist_resume(r->ckpt, r->net.model, &co, 1, &meta));
    TC_TRY(tc_train_resume_check(o, &r->pos, &meta, r->ckpt));
    r->pos.step = r->saved_step = meta.step;
    tc_train_dist_resumed(o, &r->opt, 1, r->ckpt, &r->pos);
  } else {
    TC_TRY(tc_dist_broadcast_model(tc_train_dist(), r->net.model));
  }
  TC_TRY(tc_train_ema_start(o, r->net.model, NULL, r->ckpt, &r->ema));
  tc_progress_config pc = {.epochs = o->epochs, .steps = r->pos.steps_per_epoch, .batch = o->batch,
                           .mode = tc_train_root() ? TC_PROGRESS_AUTO : TC_PROGRESS_QUIET};
  TC_TRY(tc_progress_create(&r->progress, &pc));
  if (r->lanes.n > 1)
    tc_progress_note(r->progress, "shards: %d at a time, one thread each (replicas of the "
                     "network; the same sums)", r->lanes.n);
  return TC_OK;
}

static void tc_ae_free(tc_ae_run *r) {
  if (r->progress)
    tc_progress_finish(r->progress);
  tc_progress_free(r->progress);
  if (r->sum)
    tc_train_dist_report((const tc_dist_sum *const[]){r->sum}, 1, stdout);
  tc_ae_lanes_free(&r->lanes);
  tc_dist_sum_free(r->sum);
  free(r->order);
  if (r->t != r->x)
    tc_tensor_free(r->t);
  tc_tensor_free(r->x);
  tc_ema_free(r->ema);
  tc_optim_free(r->opt);
  tc_prof_graph_done(r->g);
  tc_graph_free(r->g);
  tc_autoencoder_free(&r->net);
}

tc_status tc_train_autoencoder(const tc_train_opts *o, const tc_dataset *train,
                               const tc_dataset *test, int *stopped) {
  tc_ae_run r;
  memset(&r, 0, sizeof r);
  r.o = o;
  *stopped = 0;
  tc_status s = tc_ae_setup(&r, train);
  if (s == TC_OK)
    s = tc_ae_baseline(&r, test);
  if (s == TC_OK && r.pos.step == 0) {
    double mse;
    if (tc_train_root())
      s = tc_ae_test_mse(&r, test, &mse);
    if (s == TC_OK && tc_train_root())
      tc_progress_note(r.progress, "epoch 0: test mse %.6f (untrained)", mse);
    s = tc_train_dist_after_root(s);
  }
  if (s == TC_OK && tc_train_limit_reached(o, &r.pos))
    *stopped = 2; /* --max-steps 0, or a resume already there: the weights as they are */
  if (s == TC_OK)
    s = tc_ae_epochs(&r, train, test, stopped);
  if (s == TC_OK)
    s = tc_ae_save(&r);
  if (s == TC_OK)
    tc_progress_note(r.progress, "%s checkpoint %s at step %lld", *stopped == 1 ? "interrupted: saved" : "saved",
                     r.ckpt, (long long)r.pos.step);
  if (s == TC_OK && r.side.failed)
    s = tc_train_side_report(&r.side, r.ckpt, r.pos.step);
  tc_ae_free(&r);
  return s;
}
