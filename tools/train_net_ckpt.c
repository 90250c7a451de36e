/* train_net_ckpt.c — a run's network and options in its checkpoint, and back: prepare takes
 * the description from --net, --model or (with --resume) the checkpoint itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim/checkpoint.h"
#include "tools/train_data.h"
#include "tools/train_net.h"

/* "--activation relu contradicts the checkpoint's activation=elu", for the first flag whose
 * value differs from the variable the checkpoint was trained with. */
static tc_status tc_contradiction(const tc_train_opts *o, const char *ckpt, const char *vars) {
  static const char *const flags[TC_TRAIN_LAYER_OPTIONS] = {
      "activation",       "kernel-initializer",   "bias-initializer",  "kernel-regularizer",
      "bias-regularizer", "activity-regularizer", "kernel-constraint", "bias-constraint"};
  for (int k = 0; k < TC_TRAIN_LAYER_OPTIONS; k++) {
    if (o->layer_text[k] == NULL)
      continue;
    char key[80], flag[64];
    snprintf(flag, sizeof flag, "%s", flags[k]);
    for (char *p = flag; *p; p++)
      *p = *p == '-' ? '_' : *p;
    snprintf(key, sizeof key, "\n%s=", flag);
    const char *at = strstr(vars, key);
    const char *end = at ? strchr(at + strlen(key), '\n') : NULL;
    int len = end ? (int)(end - at - (int)strlen(key)) : 0;
    const char *was = at ? at + strlen(key) : NULL;
    if (at == NULL)
      return tc_set_error(TC_ERR_INVALID_ARG, "--%s %s contradicts checkpoint '%s', whose "
                          "network file has no variable %s: leave the option out (the "
                          "checkpoint describes its network)", flags[k], o->layer_text[k], ckpt,
                          flag);
    if (len != (int)strlen(o->layer_text[k]) || strncmp(was, o->layer_text[k], (size_t)len))
      return tc_set_error(TC_ERR_INVALID_ARG, "--%s %s contradicts checkpoint '%s', which was "
                          "trained with --%s %.*s: leave the option out (the checkpoint "
                          "describes its network)", flags[k], o->layer_text[k], ckpt, flags[k],
                          len, was);
  }
  return tc_set_error(TC_ERR_INVALID_ARG, "the options given build another network than the "
                      "one checkpoint '%s' holds (meta/net)", ckpt);
}

tc_status tc_train_net_from_ckpt(const tc_train_opts *o, const char *ckpt, tc_netdesc **out,
                                 char **source, char **vars) {
  char *net = NULL, *src = NULL, *stored = NULL, *written = NULL;
  *out = NULL;
  tc_status s = tc_ckpt_read_text(ckpt, "meta/net", &net);
  if (s == TC_OK)
    s = tc_ckpt_read_text(ckpt, "meta/net_source", &src);
  if (s == TC_OK)
    s = tc_ckpt_read_text(ckpt, "meta/net_vars", &stored);
  char name[64];
  snprintf(name, sizeof name, "meta/net_source");
  if (s == TC_OK)
    s = tc_train_net_parse(o, src, name, stored, out, vars);
  if (s == TC_OK)
    s = tc_netdesc_write(*out, &written);
  if (s == TC_OK && strcmp(written, net) != 0)
    s = tc_contradiction(o, ckpt, stored);
  if (s == TC_OK && source)
    *source = src, src = NULL;
  if (s != TC_OK) {
    tc_netdesc_free(*out);
    *out = NULL;
  }
  free(net), free(src), free(stored), free(written);
  return s;
}

/* With --net and --resume: the file must build the checkpoint's network. */
static tc_status tc_same_as_ckpt(const tc_train_opts *o, const tc_netdesc *d, const char *ckpt) {
  char *net = NULL, *written = NULL;
  tc_status s = tc_ckpt_read_text(ckpt, "meta/net", &net);
  if (s == TC_ERR_NOT_FOUND || s == TC_ERR_IO)
    return TC_OK; /* an older checkpoint, or none: the load reports what is wrong */
  if (s == TC_OK)
    s = tc_netdesc_write(d, &written);
  if (s == TC_OK && strcmp(net, written) != 0)
    s = tc_set_error(TC_ERR_INVALID_ARG, "--net %s builds another network than the one "
                     "checkpoint '%s' holds (meta/net): resume without --net to use the "
                     "checkpoint's", o->net_file, ckpt);
  free(net);
  free(written);
  return s;
}

/* The description of this run into o (and the texts a checkpoint keeps). */
static tc_status tc_load_desc(tc_train_opts *o) {
  char ckpt[TC_TRAIN_PATH_CAP];
  int resume = o->resume && tc_train_checkpoint_path(o, ckpt, sizeof ckpt) == TC_OK;
  tc_status s = TC_ERR_NOT_FOUND;
  if (resume && o->net_file == NULL) {
    s = tc_train_net_from_ckpt(o, ckpt, &o->net, &o->net_source, &o->net_vars);
    if (s != TC_ERR_NOT_FOUND && s != TC_ERR_IO)
      return s;
  }
  TC_TRY(tc_train_net_source(o, &o->net_source));
  TC_TRY(tc_train_net_parse(o, o->net_source, o->net_file ? o->net_file : "", NULL, &o->net,
                            &o->net_vars));
  return resume && o->net_file ? tc_same_as_ckpt(o, o->net, ckpt) : TC_OK;
}

int tc_train_net_prepare(tc_train_opts *o) {
  tc_status s = tc_load_desc(o);
  tc_netdesc *d = o->net;
  if (s == TC_OK && d->loss.line == 0)
    s = tc_set_error(TC_ERR_INVALID_ARG, "%s: tconv train needs a loss line (loss mse, mae, "
                     "huber or gan; docs/networks.md)", d->source);
  if (s == TC_OK && strcmp(d->loss.name, "gan") == 0) {
    o->model = TC_MODEL_DCGAN;
    o->latent = tc_train_net_latent(d);
    if (o->latent < 0)
      s = tc_set_error(TC_ERR_INVALID_ARG, "%s:%d: loss gan: expected generator=NAME of a node "
                       "computed from one input of shape=LATENT", d->source, d->loss.line);
  } else if (s == TC_OK) {
    int out, in;
    o->model = TC_MODEL_AUTOENCODER;
    s = tc_train_net_io(d, &out, &in);
  }
  if (s == TC_OK)
    s = tc_netdesc_write(d, &o->net_text);
  if (s == TC_OK)
    s = tc_netdesc_write_config(d, &o->layers_text);
  if (s != TC_OK) {
    fprintf(stderr, "tconv train: %s\n", tc_last_error());
    tc_train_opts_free(o);
    return 2;
  }
  return 0;
}

/* What the run trains with; not how often it saves or draws samples, nor --max-steps and
 * --threads, so that a run stopped and resumed keeps the same text as a straight one. */
void tc_train_net_options(tc_train_opts *o) {
  size_t cap = 1024 + 3 * TC_TRAIN_PATH_CAP; /* data=, targets= and room */
  char *t = malloc(cap);
  if (t == NULL)
    return;
  snprintf(t, cap,
           "# tconv train options of the run\nmodel=%s\nnet=%s\nepochs=%d\nbatch=%ld\n"
           "limit=%ld\nlatent=%ld\nlr=%.9g\noptimizer=%s\nseed=%ld\ndata=%s\nsynthetic=%d\n",
           o->model == TC_MODEL_DCGAN ? "dcgan" : "autoencoder",
           o->net_file ? o->net_file : "(shipped)", o->epochs, o->batch, o->limit, o->latent,
           (double)o->optim.lr, o->optimizer ? o->optimizer : "(default)", o->seed,
           o->data_dir ? o->data_dir : "(default)", o->synthetic);
  tc_train_data_options_text(o, t + strlen(t), cap - strlen(t)); /* tools/train_data.c */
  o->options_text = t;
}

void tc_train_net_meta(const tc_train_opts *o, tc_ckpt_meta *meta) {
  meta->net = o->net_text;
  meta->net_source = o->net_source;
  meta->net_vars = o->net_vars;
  meta->train_options = o->options_text;
  meta->layers = o->layers_text;
}
