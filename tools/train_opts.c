/* train_opts.c — option table, defaults and help for `tconv train`. */
#include "tools/train_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/netfile.h"
#include "tools/cli_args.h"
#include "tools/train_data.h"
#include "tools/train_net.h"

void tc_train_opts_help(FILE *out) {
  fprintf(out,
    "usage: tconv train [OPTIONS]\n\n"
    "Trains a network built on Conv2DTranspose layers on Fashion-MNIST (Debian's\n"
    "dataset-fashion-mnist), any IDX directory (--data), or a built-in synthetic set.\n\n"
    "models:\n"
    "  --model autoencoder  (default) conv encoder -> latent -> Conv2DTranspose decoder;\n"
    "                       reports test MSE and PSNR per epoch and writes\n"
    "                       OUT/reconstructions.png (test images beside reconstructions)\n"
    "  --model dcgan        generator (dense -> reshape -> Conv2DTranspose + batch norm,\n"
    "                       tanh) against a conv discriminator; writes OUT/samples.png\n"
    "                       from a fixed latent batch every --sample-every steps\n"
    "  --net FILE           a network description (docs/networks.md); its loss line says\n"
    "                       how it trains (mse/mae/huber: reconstruct the input; gan: as\n"
    "                       dcgan). --model NAME is the shipped examples/nets/NAME.net\n\n"
    "training:\n"
    "  --epochs N           passes over the training set (default 5 autoencoder, 8 dcgan)\n"
    "  --batch N            images per step (default 64)\n"
    "  --lr X               learning rate (default 0.001 autoencoder, 0.0002 dcgan)\n"
    "  --optimizer SPEC     adam (default), adamw, sgd, momentum, rmsprop, adagrad, with\n"
    "                       :key=value options, e.g. adam:beta1=0.5 (docs/strings.md)\n"
    "  --lr-schedule SPEC   constant (default), step, exponential or cosine, with warmup,\n"
    "                       e.g. cosine:decay_steps=5000:warmup=500 (docs/strings.md)\n"
    "  --ema DECAY          keep an exponential moving average of the weights (e.g.\n"
    "                       0.999), saved as ema/... and used for the PNG grids and\n"
    "                       tconv sample (docs/training.md)\n"
    "  --latent N           latent size (default 32 autoencoder, 64 dcgan)\n"
    "  --seed N             seed of initialization, shuffling and latents (default 1)\n"
    "  --threads N          OpenMP threads (default: all cores)\n"
    "  --limit N            use only the first N training images\n"
    "  --accumulate K       accumulate the gradients of K micro-batches of --batch\n"
    "                       images per step (a power of two; = --batch K*B --shards K*S)\n"
    "  --shards N           split each batch into N shards summed in a fixed tree, so that\n"
    "                       1, 2, 4 ... MPI ranks dividing N give the same bits (a power of\n"
    "                       two; default: 4, or fewer when --batch needs; docs/distributed.md)\n\n"
    "data and output:\n"
    "  --data DIR           {train,t10k}-{images,labels}-idx?-ubyte[.gz] (MNIST works too),\n"
    "                       or a folder of *.png (grey or RGB, one size; DIR/train and\n"
    "                       DIR/test if both exist, else the last 10%% of the sorted\n"
    "                       names is the test set; docs/data.md)\n"
    "  --image-size HxW     centre-crop every image to HxW (any set: PNG folders of\n"
    "                       mixed sizes, 27x27 for --pairs sr:3 on 28x28 images)\n"
    "  --targets DIR        paired folders: the input is --data DIR/NAME.png, the target\n"
    "                       DIR/NAME.png (same names); the loss compares with the target\n"
    "  --pairs sr:S         pairs made from each image: input = the image downscaled by\n"
    "                       S (2 or 3, area filter), target = the image; prints a\n"
    "                       bicubic baseline\n"
    "  --pairs noise:SIGMA  input = image + Gaussian noise N(0, SIGMA^2) (not clipped),\n"
    "                       fresh each epoch, fixed for the test set; target = the image.\n"
    "                       With pairs or --targets the per-epoch test MSE/PSNR is against\n"
    "                       the target and OUT/results.png shows input/output/target\n"
    "  --synthetic          the built-in synthetic set even if Fashion-MNIST is installed\n"
    "  --out DIR            where PNGs and the checkpoint go (default tconv-run)\n"
    "  --checkpoint PATH    checkpoint file (default OUT/checkpoint.npz)\n"
    "  --checkpoint-every N also save every N steps (default 500; 0: only at the end)\n"
    "  --resume             continue from the checkpoint, bit for bit (same --batch,\n"
    "                       --limit and data; --lr and --lr-schedule, if given, replace\n"
    "                       the saved ones)\n"
    "  --force              start afresh even though the checkpoint exists (it is\n"
    "                       replaced at the first save); without --resume or --force an\n"
    "                       existing checkpoint is an error\n"
    "  --max-steps N        stop after N steps in all (counting resumed ones), with a\n"
    "                       checkpoint, as if interrupted; --resume continues; 0\n"
    "                       saves the initial weights and trains nothing\n"
    "  --sample-every N     dcgan: steps between sample grids (default 200)\n"
    "  --profile            at the end, print where the time went: seconds and %% of the\n"
    "                       wall time per layer and op (forward, backward), optimizer,\n"
    "                       data, checkpoint, PNG, evaluation, other (stdout)\n"
    "  --profile=FILE       the same, and write it as JSON to FILE (docs/training.md)\n\n"
    "layer options (the decoder's/generator's Conv2DTranspose layers; docs/strings.md;\n"
    "with --net, each sets the file's variable of that name, e.g. var activation=relu):\n"
    "  --activation SPEC            e.g. relu (default), leaky_relu:0.2, elu\n"
    "  --kernel-initializer SPEC    e.g. glorot_uniform (default), he_normal, icnr\n"
    "  --bias-initializer SPEC      e.g. zeros (default), constant:0.1\n"
    "  --kernel-regularizer SPEC    e.g. l2:1e-4, tf_l2:1e-4\n"
    "  --bias-regularizer SPEC\n"
    "  --activity-regularizer SPEC\n"
    "  --kernel-constraint SPEC     e.g. max_norm:2:axis=0,1,2\n"
    "  --bias-constraint SPEC\n\n"
    "Ctrl-C saves a checkpoint and stops (exit status 130); --resume continues it.\n"
    "Several processes: mpirun -np N tconv train ... (docs/distributed.md).\n");
}

static void tc_defaults(tc_train_opts *o) {
  memset(o, 0, sizeof *o);
  o->model = TC_MODEL_AUTOENCODER;
  o->out_dir = "tconv-run";
  o->epochs = -1;
  o->batch = 64;
  o->latent = -1;
  o->lr = -1.0;
  o->ema = -1.0;
  o->seed = 1;
  o->checkpoint_every = 500;
  o->max_steps = -1;
  o->sample_every = 200;
  o->layer = tc_layer_common_default();
  o->layer.activation = tc_activation_make(TC_ACT_RELU);
}

static const char *const tc_layer_option_names[] = {
    "--activation",        "--kernel-initializer", "--bias-initializer",
    "--kernel-regularizer", "--bias-regularizer",  "--activity-regularizer",
    "--kernel-constraint", "--bias-constraint"};

/* 1 + the index of a layer option, or 0. */
static int tc_is_layer_option(const char *a) {
  for (size_t k = 0; k < sizeof tc_layer_option_names / sizeof tc_layer_option_names[0]; k++)
    if (strcmp(a, tc_layer_option_names[k]) == 0)
      return (int)k + 1;
  return 0;
}

/* The string-valued layer options: each parsed by its module's parser. */
static int tc_layer_option(const char *opt, const char *v, tc_layer_opts *l, int *rc) {
  tc_status s;
  if (strcmp(opt, "--activation") == 0)
    s = tc_activation_parse(v, &l->activation);
  else if (strcmp(opt, "--kernel-initializer") == 0)
    s = tc_initializer_parse(v, &l->kernel_initializer);
  else if (strcmp(opt, "--bias-initializer") == 0)
    s = tc_initializer_parse(v, &l->bias_initializer);
  else if (strcmp(opt, "--kernel-regularizer") == 0)
    s = tc_regularizer_parse(v, &l->kernel_regularizer);
  else if (strcmp(opt, "--bias-regularizer") == 0)
    s = tc_regularizer_parse(v, &l->bias_regularizer);
  else if (strcmp(opt, "--activity-regularizer") == 0)
    s = tc_regularizer_parse(v, &l->activity_regularizer);
  else if (strcmp(opt, "--kernel-constraint") == 0)
    s = tc_constraint_parse(v, &l->kernel_constraint);
  else if (strcmp(opt, "--bias-constraint") == 0)
    s = tc_constraint_parse(v, &l->bias_constraint);
  else
    return 0;
  if (s != TC_OK) {
    fprintf(stderr, "tconv train: %s: %s\n", opt, tc_last_error());
    *rc = -1;
  }
  return 1;
}

static int tc_model_option(const char *v, tc_train_opts *o) {
  o->model_given = 1;
  if (strcmp(v, "autoencoder") == 0)
    o->model = TC_MODEL_AUTOENCODER;
  else if (strcmp(v, "dcgan") == 0)
    o->model = TC_MODEL_DCGAN;
  else {
    fprintf(stderr, "tconv train: --model '%s': expected autoencoder or dcgan\n", v);
    return -1;
  }
  return 0;
}

/* --image-size HxW: both in 1..65535. */
static int tc_image_size_option(const char *v, tc_train_opts *o) {
  int h = 0, w = 0, used = 0;
  if (sscanf(v, "%dx%d%n", &h, &w, &used) == 2 && v[used] == '\0' && h >= 1 && w >= 1 &&
      h <= 65535 && w <= 65535 && v[0] >= '0' && v[0] <= '9') {
    o->image_h = h;
    o->image_w = w;
    return 0;
  }
  fprintf(stderr, "tconv train: --image-size '%s': expected HxW, e.g. 64x64\n", v);
  return -1;
}

/* The data options together: pairs come from one source; paired folders need --data. */
static int tc_data_options(tc_train_opts *o) {
  const char *why = NULL;
  if (o->targets_dir && o->pairs_text)
    why = "--targets (paired folders) and --pairs (pairs made from one set) exclude each other";
  else if (o->targets_dir && o->data_dir == NULL)
    why = "--targets DIR pairs each --data IN_DIR/NAME.png with DIR/NAME.png: give --data";
  else if ((o->targets_dir || o->pairs_text) && o->model == TC_MODEL_DCGAN)
    why = "--pairs and --targets train image-to-image networks (loss mse, mae or huber), "
          "not a gan";
  if (why != NULL) {
    fprintf(stderr, "tconv train: %s\n", why);
    return -1;
  }
  if (o->targets_dir)
    o->pairs.kind = TC_PAIRS_FILES;
  return 0;
}

/* One option at argv[*i]; returns 0, -1 (bad value, already reported) or 1 (unknown). */
static int tc_one_option(int argc, char **argv, int *i, tc_train_opts *o) {
  const char *a = argv[*i];
  long v;
  int rc = 0;
  if (strcmp(a, "--model") == 0) {
    const char *m = tc_arg_string(argc, argv, i);
    rc = m ? tc_model_option(m, o) : -1;
  } else if (strcmp(a, "--data") == 0) {
    rc = (o->data_dir = tc_arg_string(argc, argv, i)) ? 0 : -1;
  } else if (strcmp(a, "--targets") == 0) {
    rc = (o->targets_dir = tc_arg_string(argc, argv, i)) ? 0 : -1;
  } else if (strcmp(a, "--pairs") == 0) {
    rc = (o->pairs_text = tc_arg_string(argc, argv, i)) ? 0 : -1;
    if (rc == 0 && tc_pairs_parse(o->pairs_text, &o->pairs) != TC_OK) {
      fprintf(stderr, "tconv train: %s\n", tc_last_error());
      rc = -1;
    }
  } else if (strcmp(a, "--image-size") == 0) {
    const char *v = tc_arg_string(argc, argv, i);
    rc = v ? tc_image_size_option(v, o) : -1;
  } else if (strcmp(a, "--out") == 0) {
    rc = (o->out_dir = tc_arg_string(argc, argv, i)) ? 0 : -1;
  } else if (strcmp(a, "--checkpoint") == 0) {
    rc = (o->checkpoint = tc_arg_string(argc, argv, i)) ? 0 : -1;
  } else if (strcmp(a, "--optimizer") == 0) {
    rc = (o->optimizer = tc_arg_string(argc, argv, i)) ? 0 : -1;
  } else if (strcmp(a, "--lr-schedule") == 0) {
    rc = (o->lr_schedule = tc_arg_string(argc, argv, i)) ? 0 : -1;
  } else if (strcmp(a, "--ema") == 0) {
    rc = tc_arg_double(argc, argv, i, 0.0, 1.0, &o->ema);
    if (rc == 0 && o->ema >= 1.0) {
      fprintf(stderr, "tconv train: --ema wants a decay in [0, 1), got 1\n");
      rc = -1;
    }
  } else if (strcmp(a, "--synthetic") == 0) {
    o->synthetic = 1;
  } else if (strcmp(a, "--resume") == 0) {
    o->resume = 1;
  } else if (strcmp(a, "--force") == 0) {
    o->force = 1;
  } else if (strcmp(a, "--epochs") == 0) {
    rc = tc_arg_long(argc, argv, i, 1, 100000, &v);
    o->epochs = (int)v;
  } else if (strcmp(a, "--batch") == 0) {
    rc = tc_arg_long(argc, argv, i, 1, 65536, &o->batch);
  } else if (strcmp(a, "--limit") == 0) {
    rc = tc_arg_long(argc, argv, i, 1, 1L << 40, &o->limit);
  } else if (strcmp(a, "--latent") == 0) {
    rc = tc_arg_long(argc, argv, i, 1, 4096, &o->latent);
  } else if (strcmp(a, "--lr") == 0) {
    rc = tc_arg_double(argc, argv, i, 0.0, 1e6, &o->lr);
  } else if (strcmp(a, "--seed") == 0) {
    rc = tc_arg_long(argc, argv, i, 0, 0x7fffffffL, &o->seed);
  } else if (strcmp(a, "--threads") == 0) {
    rc = tc_arg_long(argc, argv, i, 1, 1024, &o->threads);
  } else if (strcmp(a, "--accumulate") == 0) {
    rc = tc_arg_long(argc, argv, i, 1, 1024, &o->accumulate);
  } else if (strcmp(a, "--shards") == 0) {
    rc = tc_arg_long(argc, argv, i, 1, 1024, &o->shards);
  } else if (strcmp(a, "--checkpoint-every") == 0) {
    rc = tc_arg_long(argc, argv, i, 0, 1L << 40, &o->checkpoint_every);
  } else if (strcmp(a, "--max-steps") == 0) {
    rc = tc_arg_long(argc, argv, i, 0, 1L << 40, &o->max_steps);
  } else if (strcmp(a, "--sample-every") == 0) {
    rc = tc_arg_long(argc, argv, i, 1, 1L << 40, &o->sample_every);
  } else if (strcmp(a, "--profile") == 0) {
    o->profile = 1;
  } else if (strncmp(a, "--profile=", 10) == 0) {
    o->profile = 1;
    o->profile_file = a + 10;
    if (*o->profile_file == '\0') {
      fprintf(stderr, "tconv train: --profile=FILE wants a file name after '='\n");
      rc = -1;
    }
  } else if (strcmp(a, "--net") == 0) {
    rc = (o->net_file = tc_arg_string(argc, argv, i)) ? 0 : -1;
  } else if (tc_is_layer_option(a)) {
    int k = tc_is_layer_option(a) - 1;
    const char *value = tc_arg_string(argc, argv, i);
    if (value == NULL)
      rc = -1;
    else
      tc_layer_option(a, value, &o->layer, &rc);
    o->layer_text[k] = value; /* the network description's variable (tools/train_net.c) */
  } else {
    return 1;
  }
  return rc;
}

/* Model-dependent defaults and the optimizer, once all options are known. */
static int tc_resolve(tc_train_opts *o) {
  int gan = o->model == TC_MODEL_DCGAN;
  if (o->epochs < 0)
    o->epochs = gan ? 8 : 5;
  if (o->latent < 0)
    o->latent = gan ? 64 : 32;
  const char *spec = o->optimizer ? o->optimizer : (gan ? "adam:beta1=0.5" : "adam");
  if (tc_optim_config_parse(spec, &o->optim) != TC_OK) {
    fprintf(stderr, "tconv train: --optimizer: %s\n", tc_last_error());
    return -1;
  }
  o->sched = tc_lr_schedule_constant();
  if (o->lr_schedule && tc_lr_schedule_parse(o->lr_schedule, &o->sched) != TC_OK) {
    fprintf(stderr, "tconv train: --lr-schedule: %s\n", tc_last_error());
    return -1;
  }
  if (o->lr >= 0.0)
    o->optim.lr = (float)o->lr;
  else if (o->optimizer == NULL)
    o->optim.lr = gan ? 2e-4f : 1e-3f;
  return 0;
}

int tc_train_opts_parse(int argc, char **argv, tc_train_opts *o) {
  tc_defaults(o);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      tc_train_opts_help(stdout);
      return 1;
    }
    int rc = tc_one_option(argc, argv, &i, o);
    if (rc == 1)
      fprintf(stderr, "tconv %s: unknown option '%s' (see tconv %s --help)\n", argv[0], argv[i],
              argv[0]);
    if (rc != 0)
      return 2;
  }
  if (o->resume && o->force) {
    fprintf(stderr, "tconv train: --resume continues the checkpoint and --force replaces it: "
                    "give one of them\n");
    return 2;
  }
  if (tc_train_net_prepare(o) != 0)
    return 2;
  if (tc_train_data_resume(o) != 0 || tc_data_options(o) != 0 || tc_resolve(o) != 0) {
    tc_train_opts_free(o);
    return 2;
  }
  tc_train_net_options(o);
  return 0;
}
