/* cmd_sample.c — `tconv sample CKPT --out grid.png`: images from a trained generator or
 * decoder. For a DCGAN checkpoint the default latents are the fixed batch that training
 * drew its sample grids from, so the grid equals the run's last samples.png. */
#include <stdio.h>
#include <string.h>

#include "core/io/npz.h"
#include "optim/checkpoint.h"
#include "optim/checkpoint_ema.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/net_autoencoder.h"
#include "tools/net_dcgan.h"
#include "tools/train_net.h"
#include "tools/png_grid.h"

static void tc_sample_help(FILE *out) {
  fprintf(out,
          "usage: tconv sample CKPT.npz --out GRID.png [--seed S] [--activation SPEC]\n\n"
          "Rebuilds the network of a `tconv train` checkpoint from the description it carries\n"
          "(meta/net; checkpoints of older writers: guessed from their keys), loads its\n"
          "weights and writes an 8x8 PNG grid of images\n"
          "generated from 64 latent vectors drawn from N(0, 1) by the run's seed (or --seed).\n"
          "For --model dcgan these are the fixed latents of training's samples.png, drawn in\n"
          "inference mode (batch-norm moving statistics), so the grid is the same image. For\n"
          "the autoencoder, its decoder turns the draws into images (its latent space is not\n"
          "trained to be normal, so they are less clean). --activation is not needed: one\n"
          "that contradicts the checkpoint is an error (older checkpoints: pass the\n"
          "--activation used for training if it was not the default).\n");
}

/* A self-describing checkpoint: its network (meta/net), whose loss says the model kind. */
static tc_status tc_sample_described(const char *path, tc_train_opts *o) {
  long latent = o->latent;
  o->latent = -1; /* not a variable to set: the checkpoint has its own */
  tc_status s = tc_train_net_from_ckpt(o, path, &o->net, NULL, NULL);
  if (s != TC_OK) {
    o->latent = latent;
    return s;
  }
  o->model = strcmp(o->net->loss.name, "gan") == 0 ? TC_MODEL_DCGAN : TC_MODEL_AUTOENCODER;
  o->latent = tc_train_net_latent(o->net);
  if (o->latent < 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "checkpoint '%s': its network has no latent input "
                        "to sample from (a gan's generator input, or a node encoder_latent)",
                        path);
  return TC_OK;
}

/* Reads the model kind, latent size and seed from the checkpoint: its network description,
 * or (checkpoints of older writers) its keys. */
static tc_status tc_sample_probe(const char *path, tc_train_opts *o) {
  tc_status described = tc_sample_described(path, o);
  if (described != TC_OK && described != TC_ERR_NOT_FOUND)
    return described;
  tc_npz_file *f;
  TC_TRY(tc_npz_read(path, &f, NULL));
  const tc_npz_array *g = tc_npz_find(f, "generator_dense/kernel");
  const tc_npz_array *d = tc_npz_find(f, "decoder_dense/kernel");
  const tc_npz_array *rng = tc_npz_find(f, "meta/rng");
  tc_status s = TC_OK;
  if (described == TC_OK && rng != NULL && rng->dtype == TC_NPZ_U64 && rng->size >= 1)
    o->seed = (long)((const uint64_t *)rng->data)[0];
  else if ((g == NULL && d == NULL) || rng == NULL || rng->dtype != TC_NPZ_U64 || rng->size < 1)
    s = tc_set_error(TC_ERR_FORMAT, "'%s' is not a tconv train checkpoint (no "
                     "generator_dense/kernel or decoder_dense/kernel, or no meta/rng)", path);
  else {
    o->model = g ? TC_MODEL_DCGAN : TC_MODEL_AUTOENCODER;
    o->latent = (g ? g : d)->shape[0];
    o->seed = (long)((const uint64_t *)rng->data)[0];
  }
  tc_npz_file_free(f);
  return s;
}

/* The 64 images of the grid for the network the options describe, into grid->images. */
static tc_status tc_sample_generate(const char *ckpt, const tc_train_opts *o, tc_graph *g,
                                    tc_tensor *z, const char *out_png) {
  tc_autoencoder ae;
  tc_dcgan gan;
  int is_gan = o->model == TC_MODEL_DCGAN;
  tc_model *m;
  tc_tensor *img = NULL;
  memset(&ae, 0, sizeof ae);
  memset(&gan, 0, sizeof gan);
  tc_status s = is_gan ? tc_dcgan_create(&gan, o, 28, 28) : tc_autoencoder_create(&ae, o, 28, 28);
  m = is_gan ? gan.model : ae.model;
  if (s == TC_OK)
    s = tc_ckpt_load(ckpt, m, NULL, 0, NULL, 1);
  int ema_used = 0; /* a run with --ema samples from its shadow weights, as its grids did */
  if (s == TC_OK)
    s = tc_ckpt_use_ema(ckpt, m, &ema_used);
  if (s == TC_OK)
    s = is_gan ? tc_dcgan_generate(&gan, g, z, 0, &img) : tc_autoencoder_decode(&ae, g, z, &img);
  if (s == TC_OK) {
    tc_png_grid grid = {.images = img->data, .n = z->shape[0], .h = 28, .w = 28, .rows = 8,
                        .cols = 8, .signed_range = is_gan};
    s = tc_png_grid_write(out_png, &grid);
  }
  if (is_gan)
    tc_dcgan_free(&gan);
  else
    tc_autoencoder_free(&ae);
  return s;
}

static int tc_sample_args(int argc, char **argv, const char **ckpt, const char **out,
                          long *seed, tc_train_opts *o) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      tc_sample_help(stdout);
      return 1;
    } else if (strcmp(argv[i], "--out") == 0) {
      if ((*out = tc_arg_string(argc, argv, &i)) == NULL)
        return 2;
    } else if (strcmp(argv[i], "--seed") == 0) {
      if (tc_arg_long(argc, argv, &i, 0, 0x7fffffffL, seed) != 0)
        return 2;
    } else if (strcmp(argv[i], "--activation") == 0) {
      const char *v = tc_arg_string(argc, argv, &i);
      if (v == NULL || tc_activation_parse(v, &o->layer.activation) != TC_OK) {
        if (v)
          fprintf(stderr, "tconv sample: --activation: %s\n", tc_last_error());
        return 2;
      }
      o->layer_text[0] = v; /* the shipped file's variable activation */
    } else if (argv[i][0] != '-' && *ckpt == NULL) {
      *ckpt = argv[i];
    } else {
      fprintf(stderr, "tconv sample: unexpected argument '%s'\n", argv[i]);
      return 2;
    }
  }
  if (*ckpt == NULL || *out == NULL) {
    tc_sample_help(stderr);
    return 2;
  }
  return 0;
}

int tc_cmd_sample(int argc, char **argv) {
  const char *ckpt = NULL, *out = NULL;
  long seed = -1;
  tc_train_opts o;
  char *defaults[1] = {"sample"};
  tc_train_opts_parse(1, defaults, &o);
  tc_train_opts_free(&o); /* the network comes from the checkpoint's model kind */
  int rc = tc_sample_args(argc, argv, &ckpt, &out, &seed, &o);
  if (rc != 0)
    return rc == 1 ? 0 : rc;
  tc_graph *g = NULL;
  tc_tensor *z = NULL;
  tc_status s = tc_sample_probe(ckpt, &o);
  if (s == TC_OK && seed >= 0)
    o.seed = seed;
  int64_t zs[2] = {64, o.latent};
  if (s == TC_OK)
    s = tc_graph_create(&g);
  if (s == TC_OK)
    s = tc_tensor_create(&z, 2, zs);
  if (s == TC_OK) {
    tc_rng rng;
    tc_rng_init(&rng, (uint64_t)o.seed, 2); /* the stream of training's fixed latents */
    for (int64_t i = 0; i < z->size; i++)
      z->data[i] = (float)tc_rng_normal(&rng);
    tc_graph_set_recording(g, 0);
    s = tc_sample_generate(ckpt, &o, g, z, out);
  }
  tc_tensor_free(z);
  tc_graph_free(g);
  tc_train_opts_free(&o);
  if (s != TC_OK) {
    fprintf(stderr, "tconv sample: %s\n", tc_last_error());
    return 1;
  }
  printf("wrote %s (%s, 64 samples, seed %ld)\n", out,
         o.model == TC_MODEL_DCGAN ? "dcgan generator" : "autoencoder decoder", o.seed);
  return 0;
}
