/* train_opts.h — the options of `tconv train` and `tconv sample`, parsed and checked. */
#ifndef TC_TRAIN_OPTS_H
#define TC_TRAIN_OPTS_H

#include <stdio.h>

#include "layers/layer_common.h"
#include "optim/optimizer.h"
#include "tools/pairs.h"

typedef enum tc_model_kind { TC_MODEL_AUTOENCODER = 0, TC_MODEL_DCGAN } tc_model_kind;

/* Options applied to the model's Conv2DTranspose layers (the string grammar of
 * docs/strings.md) are the layers' own shared config, tc_layer_common: a network copies
 * it whole (cfg.common = o->layer) and then sets what is its own (name, bias, and the
 * output layer's activation, sigmoid / tanh). */
typedef tc_layer_common tc_layer_opts;

/* --activation, --kernel-initializer, ... (in that order; tools/train_net.c) */
#define TC_TRAIN_LAYER_OPTIONS 8
struct tc_netdesc;

typedef struct tc_train_opts {
  tc_model_kind model;
  const char *data_dir;   /* NULL: Debian's Fashion-MNIST, else synthetic */
  int synthetic;
  const char *targets_dir; /* --targets DIR: paired folders (docs/data.md) */
  const char *pairs_text; /* --pairs sr:S | noise:SIGMA as given */
  tc_pairs pairs;         /* parsed; kind TC_PAIRS_FILES with --targets */
  int image_h, image_w;   /* --image-size HxW (centre crop); 0: as loaded */
  char *data_saved;       /* --resume: the checkpoint's meta/train_options (owned) */
  const char *out_dir;    /* PNGs and, by default, the checkpoint */
  const char *checkpoint; /* NULL: <out_dir>/checkpoint.npz */
  int resume;
  int force;              /* start afresh over an existing checkpoint */
  int epochs;
  long batch;
  long limit;             /* at most this many training images; 0 = all */
  long latent;
  double lr;              /* < 0: the model's default */
  const char *optimizer;  /* NULL: the model's default */
  const char *lr_schedule; /* NULL: constant (or the checkpoint's on --resume) */
  tc_lr_schedule sched;   /* parsed from lr_schedule */
  double ema;             /* --ema decay in [0, 1); < 0: no EMA of the weights */
  long seed;
  long threads;           /* 0: OpenMP's default */
  long shards;            /* 0: automatic (tools/train_dist.h) */
  long accumulate;        /* --accumulate K: micro-batches per step (tools/train_accumulate.h) */
  long checkpoint_every;  /* steps; 0: only at the end and on Ctrl-C */
  long max_steps;         /* stop (with a checkpoint) once this many steps are done; -1: no limit */
  long sample_every;      /* dcgan: steps between sample grids */
  int profile;            /* --profile: print where the time went (tools/profile.h) */
  const char *profile_file; /* --profile=FILE: also write it as JSON there */
  tc_layer_opts layer;
  tc_optim_config optim;  /* resolved from optimizer + lr */
  const char *net_file;   /* --net FILE; NULL: the shipped file of --model */
  int model_given;        /* 1: --model was on the command line */
  const char *layer_text[TC_TRAIN_LAYER_OPTIONS]; /* layer options as given, or NULL */
  struct tc_netdesc *net; /* the description trained (owned; tc_train_opts_free) */
  char *net_text, *net_source, *net_vars, *options_text, *layers_text; /* meta/ texts */
} tc_train_opts;

/* Defaults, then argv. Returns 0 to go on, 1 when --help was printed, 2 on bad usage
 * (one line on stderr names the option and what was expected). */
int tc_train_opts_parse(int argc, char **argv, tc_train_opts *o);
void tc_train_opts_help(FILE *out);
/* Frees what parse allocated (the description). */
void tc_train_opts_free(tc_train_opts *o);

/* Room for any path the training writes (PATH_MAX on Linux). */
#define TC_TRAIN_PATH_CAP 4096

/* The checkpoint path (o->checkpoint or <out_dir>/checkpoint.npz) into buf, and
 * <out_dir>/<name>: TC_ERR_INVALID_ARG when it does not fit in cap (never cut short). */
tc_status tc_train_checkpoint_path(const tc_train_opts *o, char *buf, size_t cap);
tc_status tc_train_out_path(const tc_train_opts *o, const char *name, char *buf, size_t cap);

#endif
