/* train_opts.h — the options of `tconv train` and `tconv sample`, parsed and checked. */
#ifndef TC_TRAIN_OPTS_H
#define TC_TRAIN_OPTS_H

#include <stdio.h>

#include "core/activation.h"
#include "layers/constraint.h"
#include "layers/initializer.h"
#include "layers/regularizer.h"
#include "optim/optimizer.h"

typedef enum tc_model_kind { TC_MODEL_AUTOENCODER = 0, TC_MODEL_DCGAN } tc_model_kind;

/* Options applied to the model's Conv2DTranspose layers (the string grammar of
 * docs/strings.md); the output layer keeps its own activation (sigmoid / tanh). */
typedef struct tc_layer_opts {
  tc_activation activation;
  tc_initializer kernel_initializer, bias_initializer;
  tc_regularizer kernel_regularizer, bias_regularizer, activity_regularizer;
  tc_constraint kernel_constraint, bias_constraint;
} tc_layer_opts;

typedef struct tc_train_opts {
  tc_model_kind model;
  const char *data_dir;   /* NULL: Debian's Fashion-MNIST, else synthetic */
  int synthetic;
  const char *out_dir;    /* PNGs and, by default, the checkpoint */
  const char *checkpoint; /* NULL: <out_dir>/checkpoint.npz */
  int resume;
  int epochs;
  long batch;
  long limit;             /* at most this many training images; 0 = all */
  long latent;
  double lr;              /* < 0: the model's default */
  const char *optimizer;  /* NULL: the model's default */
  long seed;
  long threads;           /* 0: OpenMP's default */
  long shards;            /* 0: automatic (tools/train_dist.h) */
  long checkpoint_every;  /* steps; 0: only at the end and on Ctrl-C */
  long max_steps;         /* stop (with a checkpoint) once this many steps are done; 0: no limit */
  long sample_every;      /* dcgan: steps between sample grids */
  tc_layer_opts layer;
  tc_optim_config optim;  /* resolved from optimizer + lr */
} tc_train_opts;

/* Defaults, then argv. Returns 0 to go on, 1 when --help was printed, 2 on bad usage
 * (one line on stderr names the option and what was expected). */
int tc_train_opts_parse(int argc, char **argv, tc_train_opts *o);
void tc_train_opts_help(FILE *out);

/* The checkpoint path (o->checkpoint or <out_dir>/checkpoint.npz) into buf. */
void tc_train_checkpoint_path(const tc_train_opts *o, char *buf, size_t cap);

#endif
