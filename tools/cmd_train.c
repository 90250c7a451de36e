/* cmd_train.c — `tconv train`: the main job.
 *
 * The default model is a decoder that rebuilds 28×28 images from their 7×7 average-pooled
 * codes with two stride-2 Conv2DTranspose layers (7 → 14 → 28), trained with SGD on
 * Fashion-MNIST when Debian's dataset-fashion-mnist is installed (or --data DIR), else on
 * the built-in synthetic set. Built only from the public API: an example of a C network. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "layers/conv2d_transpose.h"
#include "optim/optimizer.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/idx.h"
#include "tools/progress.h"
#include "tools/synthetic.h"

typedef struct tc_train_opts {
  const char *data_dir;
  const char *optimizer;
  int epochs;
  long batch;
  long limit;        /* use at most this many training images; 0 = all */
  double lr;
  long seed;
  long threads;
} tc_train_opts;

static void tc_train_help(FILE *out) {
  fprintf(out,
          "usage: tconv train [OPTIONS]\n\n"
          "Trains a Conv2DTranspose decoder that rebuilds 28x28 images from their 7x7\n"
          "average-pooled codes (7 -> 14 -> 28), and reports the training loss and the\n"
          "test-set MSE after each epoch. Data: Fashion-MNIST from Debian's\n"
          "dataset-fashion-mnist when installed, any IDX directory with --data, else a\n"
          "built-in synthetic set.\n\n"
          "  --data DIR        directory with {train,t10k}-{images,labels}-idx?-ubyte[.gz]\n"
          "  --synthetic       use the built-in synthetic set even if Fashion-MNIST exists\n"
          "  --epochs N        passes over the training set (default 2)\n"
          "  --batch N         images per step (default 32)\n"
          "  --limit N         use only the first N training images (default: all)\n"
          "  --lr X            learning rate (default 0.5 for sgd)\n"
          "  --optimizer SPEC  sgd (default), momentum, adam, rmsprop, adagrad, with\n"
          "                    :key=value options (docs/strings.md)\n"
          "  --seed N          initialization and shuffling seed (default 1)\n"
          "  --threads N       OpenMP threads (default: all cores)\n");
}

static int tc_train_parse(int argc, char **argv, tc_train_opts *o, int *use_synthetic) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    long v;
    int rc = 0;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      tc_train_help(stdout);
      return 1;
    } else if (strcmp(a, "--data") == 0) {
      rc = (o->data_dir = tc_arg_string(argc, argv, &i)) ? 0 : -1;
    } else if (strcmp(a, "--optimizer") == 0) {
      rc = (o->optimizer = tc_arg_string(argc, argv, &i)) ? 0 : -1;
    } else if (strcmp(a, "--synthetic") == 0) {
      *use_synthetic = 1;
    } else if (strcmp(a, "--epochs") == 0) {
      rc = tc_arg_long(argc, argv, &i, 1, 100000, &v);
      o->epochs = (int)v;
    } else if (strcmp(a, "--batch") == 0) {
      rc = tc_arg_long(argc, argv, &i, 1, 65536, &o->batch);
    } else if (strcmp(a, "--limit") == 0) {
      rc = tc_arg_long(argc, argv, &i, 1, 1L << 40, &o->limit);
    } else if (strcmp(a, "--lr") == 0) {
      rc = tc_arg_double(argc, argv, &i, 0.0, 1e6, &o->lr);
    } else if (strcmp(a, "--seed") == 0) {
      rc = tc_arg_long(argc, argv, &i, 0, 0x7fffffffL, &o->seed);
    } else if (strcmp(a, "--threads") == 0) {
      rc = tc_arg_long(argc, argv, &i, 1, 1024, &o->threads);
    } else {
      fprintf(stderr, "tconv train: unknown option '%s' (see tconv train --help)\n", a);
      return 2;
    }
    if (rc != 0)
      return 2;
  }
  return 0;
}

typedef struct tc_decoder {
  tc_model *model;
  tc_conv2d_transpose *up1, *up2;
} tc_decoder;

static tc_status tc_decoder_create(tc_decoder *d, uint64_t seed) {
  TC_TRY(tc_model_create(&d->model, seed));
  tc_conv2d_transpose_config c1 = tc_conv2d_transpose_config_default(16, 4, 4);
  c1.strides[0] = c1.strides[1] = 2;
  c1.padding = "same";
  c1.activation = tc_activation_make(TC_ACT_RELU);
  c1.name = "up1";
  TC_TRY(tc_conv2d_transpose_create(&d->up1, d->model, &c1, 1));
  tc_conv2d_transpose_config c2 = tc_conv2d_transpose_config_default(1, 4, 4);
  c2.strides[0] = c2.strides[1] = 2;
  c2.padding = "same";
  c2.activation = tc_activation_make(TC_ACT_SIGMOID);
  c2.name = "up2";
  return tc_conv2d_transpose_create(&d->up2, d->model, &c2, 16);
}

static void tc_decoder_free(tc_decoder *d) {
  tc_conv2d_transpose_free(d->up1);
  tc_conv2d_transpose_free(d->up2);
  tc_model_free(d->model);
}

/* The decoder's input: each 28×28 image averaged over 4×4 blocks (NHWC, one channel). */
static void tc_pool4(const tc_tensor *img, tc_tensor *code) {
  int64_t n = img->shape[0], h = img->shape[1], w = img->shape[2];
  for (int64_t b = 0; b < n; b++)
    for (int64_t i = 0; i < h / 4; i++)
      for (int64_t j = 0; j < w / 4; j++) {
        float acc = 0.0f;
        for (int a = 0; a < 4; a++)
          for (int c = 0; c < 4; c++)
            acc += img->data[(b * h + 4 * i + a) * w + 4 * j + c];
        code->data[(b * (h / 4) + i) * (w / 4) + j] = acc / 16.0f;
      }
}

static tc_status tc_decoder_loss(tc_decoder *d, tc_graph *g, tc_tensor *code, tc_tensor *img,
                                 tc_tensor **loss) {
  tc_tensor *h1, *y;
  TC_TRY(tc_conv2d_transpose_forward(d->up1, g, code, &h1));
  TC_TRY(tc_conv2d_transpose_forward(d->up2, g, h1, &y));
  return tc_op_mse(g, y, img, loss);
}

typedef struct tc_batch {
  tc_tensor *img, *code;
} tc_batch;

static tc_status tc_batch_create(tc_batch *b, int64_t n, int h, int w) {
  int64_t is[4] = {n, h, w, 1}, cs[4] = {n, h / 4, w / 4, 1};
  TC_TRY(tc_tensor_create(&b->img, 4, is));
  return tc_tensor_create(&b->code, 4, cs);
}

static void tc_batch_free(tc_batch *b) {
  tc_tensor_free(b->img);
  tc_tensor_free(b->code);
}

static tc_status tc_batch_fill(tc_batch *b, const tc_dataset *d, const int64_t *idx) {
  TC_TRY(tc_dataset_batch(d, idx, b->img->shape[0], TC_CHANNELS_LAST, b->img->data, NULL));
  tc_pool4(b->img, b->code);
  return TC_OK;
}

static tc_status tc_eval_mse(tc_decoder *d, tc_graph *g, const tc_dataset *test, int64_t bs,
                             double *mse) {
  double total = 0.0;
  int64_t *idx = malloc((size_t)bs * sizeof *idx);
  if (idx == NULL)
    return tc_set_error(TC_ERR_NOMEM, "evaluation: out of memory");
  tc_status s = TC_OK;
  tc_graph_set_recording(g, 0);
  for (int64_t start = 0; s == TC_OK && start < test->n; start += bs) {
    int64_t n = test->n - start < bs ? test->n - start : bs;
    for (int64_t i = 0; i < n; i++)
      idx[i] = start + i;
    tc_batch b = {0};
    tc_tensor *loss;
    s = tc_batch_create(&b, n, test->h, test->w);
    if (s == TC_OK)
      s = tc_batch_fill(&b, test, idx);
    if (s == TC_OK)
      s = tc_decoder_loss(d, g, b.code, b.img, &loss);
    if (s == TC_OK)
      total += (double)loss->data[0] * (double)n;
    tc_batch_free(&b);
    tc_graph_reset(g);
  }
  tc_graph_set_recording(g, 1);
  free(idx);
  *mse = total / (double)test->n;
  return s;
}

static tc_status tc_load_data(const tc_train_opts *o, int synthetic, tc_dataset **train,
                              tc_dataset **test) {
  const char *dir = o->data_dir ? o->data_dir : (synthetic ? NULL : tc_dataset_default_dir());
  if (dir != NULL) {
    TC_TRY(tc_dataset_load_idx(dir, TC_SPLIT_TRAIN, train));
    return tc_dataset_load_idx(dir, TC_SPLIT_TEST, test);
  }
  if (!synthetic)
    fprintf(stderr, "tconv train: Fashion-MNIST is not installed (apt-get install "
                    "dataset-fashion-mnist); using the built-in synthetic set\n");
  TC_TRY(tc_dataset_synthetic(train, 6000, 28, 28, (uint64_t)o->seed));
  return tc_dataset_synthetic(test, 1000, 28, 28, (uint64_t)o->seed + 1);
}

typedef struct tc_trainer {
  tc_decoder dec;
  tc_graph *graph;
  tc_optim *opt;
  tc_progress *progress;
  tc_batch batch;
  int64_t *order;
  int64_t steps_per_epoch;
} tc_trainer;

static tc_status tc_train_epoch(tc_trainer *t, const tc_dataset *train, const tc_train_opts *o,
                                int epoch, double *mean_loss) {
  tc_shuffle_indices(t->order, train->n, (uint64_t)o->seed, (uint64_t)epoch);
  double acc = 0.0;
  for (int64_t step = 0; step < t->steps_per_epoch; step++) {
    tc_tensor *loss;
    tc_graph_reset(t->graph);
    TC_TRY(tc_batch_fill(&t->batch, train, t->order + step * o->batch));
    TC_TRY(tc_decoder_loss(&t->dec, t->graph, t->batch.code, t->batch.img, &loss));
    TC_TRY(tc_graph_backward(t->graph, loss));
    TC_TRY(tc_optim_step(t->opt, NULL));
    acc += loss->data[0];
    tc_progress_step(t->progress, epoch, step + 1, loss->data[0]);
  }
  tc_graph_reset(t->graph);
  *mean_loss = acc / (double)t->steps_per_epoch;
  return TC_OK;
}

static tc_status tc_trainer_setup(tc_trainer *t, const tc_dataset *train, const tc_train_opts *o) {
  t->steps_per_epoch = train->n / o->batch;
  if (t->steps_per_epoch == 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "batch %ld is larger than the %lld training images",
                        o->batch, (long long)train->n);
  TC_TRY(tc_decoder_create(&t->dec, (uint64_t)o->seed));
  TC_TRY(tc_graph_create(&t->graph));
  tc_optim_config oc;
  TC_TRY(tc_optim_config_parse(o->optimizer, &oc));
  if (o->lr >= 0.0)
    oc.lr = (float)o->lr;
  TC_TRY(tc_optim_create(&t->opt, &oc, t->dec.model, NULL));
  TC_TRY(tc_batch_create(&t->batch, o->batch, train->h, train->w));
  t->order = malloc((size_t)train->n * sizeof *t->order);
  if (t->order == NULL)
    return tc_set_error(TC_ERR_NOMEM, "out of memory for the shuffle order");
  tc_progress_config pc = {.epochs = o->epochs, .steps = t->steps_per_epoch, .batch = o->batch};
  return tc_progress_create(&t->progress, &pc);
}

static void tc_trainer_free(tc_trainer *t) {
  if (t->progress)
    tc_progress_finish(t->progress);
  tc_progress_free(t->progress);
  free(t->order);
  tc_batch_free(&t->batch);
  tc_optim_free(t->opt);
  tc_graph_free(t->graph);
  tc_decoder_free(&t->dec);
}

static tc_status tc_train_run(const tc_train_opts *o, const tc_dataset *train,
                              const tc_dataset *test) {
  tc_trainer t;
  memset(&t, 0, sizeof t);
  tc_status s = tc_trainer_setup(&t, train, o);
  double mse;
  if (s == TC_OK && (s = tc_eval_mse(&t.dec, t.graph, test, 256, &mse)) == TC_OK)
    tc_progress_note(t.progress, "epoch 0: test mse %.6f (untrained)", mse);
  for (int e = 1; s == TC_OK && e <= o->epochs; e++) {
    double train_loss;
    s = tc_train_epoch(&t, train, o, e, &train_loss);
    if (s == TC_OK)
      s = tc_eval_mse(&t.dec, t.graph, test, 256, &mse);
    if (s == TC_OK)
      tc_progress_note(t.progress, "epoch %d: train loss %.6f, test mse %.6f, psnr %.2f dB", e,
                       train_loss, mse, 10.0 * log10(1.0 / mse));
  }
  tc_trainer_free(&t);
  return s;
}

int tc_cmd_train(int argc, char **argv) {
  tc_train_opts o = {.optimizer = "sgd", .epochs = 2, .batch = 32, .lr = -1.0, .seed = 1};
  int synthetic = 0;
  int rc = tc_train_parse(argc, argv, &o, &synthetic);
  if (rc != 0)
    return rc == 1 ? 0 : rc;
  if (strcmp(o.optimizer, "sgd") == 0 && o.lr < 0.0)
    o.lr = 0.5;
  if (o.threads > 0)
    omp_set_num_threads((int)o.threads);
  tc_dataset *train = NULL, *test = NULL;
  tc_status s = tc_load_data(&o, synthetic, &train, &test);
  if (s == TC_OK && o.limit > 0 && o.limit < train->n)
    train->n = o.limit;
  if (s == TC_OK) {
    printf("tconv train: %lld training and %lld test images from %s\n", (long long)train->n,
           (long long)test->n, train->source);
    fflush(stdout); /* the progress reporter writes to stderr */
    s = tc_train_run(&o, train, test);
  }
  tc_dataset_free(train);
  tc_dataset_free(test);
  if (s != TC_OK) {
    fprintf(stderr, "tconv train: %s\n", tc_last_error());
    return 1;
  }
  return 0;
}
