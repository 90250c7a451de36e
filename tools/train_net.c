/* train_net.c — the description behind a training run: a file, a shipped one, or the one a
 * checkpoint carries, with the command line's variables; and the texts a checkpoint keeps
 * of it (meta/net, meta/net_source, meta/net_vars, meta/train_options). */
#include "tools/train_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "optim/checkpoint.h"

static const char *const tc_layer_var_names[TC_TRAIN_LAYER_OPTIONS] = {
    "activation",       "kernel_initializer",   "bias_initializer",  "kernel_regularizer",
    "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"};

#define TC_MAX_SET (TC_TRAIN_LAYER_OPTIONS + TC_NET_MAX_VARS + 1)

/* The variables: those of vars_text ("name=value" lines, from a checkpoint) first, then
 * --latent and the layer options given now, which replace them. Values point into buf. */
typedef struct tc_varset {
  tc_net_var v[TC_MAX_SET];
  int n;
  char latent[32];
  char buf[4096];
} tc_varset;

static void tc_varset_put(tc_varset *s, const char *name, const char *value) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->v[i].name, name) == 0) {
      s->v[i].value = value;
      return;
    }
  if (s->n < TC_MAX_SET)
    s->v[s->n++] = (tc_net_var){name, value};
}

static void tc_varset_make(tc_varset *s, const tc_train_opts *o, const char *vars_text) {
  memset(s, 0, sizeof *s);
  snprintf(s->buf, sizeof s->buf, "%s", vars_text ? vars_text : "");
  for (char *line = strtok(s->buf, "\n"); line; line = strtok(NULL, "\n")) {
    char *eq = strchr(line, '=');
    if (line[0] != '#' && eq != NULL) {
      *eq = '\0';
      tc_varset_put(s, line, eq + 1);
    }
  }
  if (o->latent > 0) {
    snprintf(s->latent, sizeof s->latent, "%ld", o->latent);
    tc_varset_put(s, "latent", s->latent);
  }
  for (int k = 0; k < TC_TRAIN_LAYER_OPTIONS; k++)
    if (o->layer_text[k] != NULL)
      tc_varset_put(s, tc_layer_var_names[k], o->layer_text[k]);
}

const char *tc_builtin_net_text(const char *name) {
  for (const tc_builtin_net *b = tc_builtin_nets; b->name; b++)
    if (strcmp(b->name, name) == 0)
      return b->text;
  return NULL;
}

static char *tc_read_file(const char *path, tc_status *s) {
  struct stat st;
  *s = TC_OK;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > TC_NET_MAX_BYTES) {
    /* the library's loader words every case; let it */
    tc_netdesc *d = NULL;
    *s = tc_netdesc_load(&d, path, NULL, 0);
    tc_netdesc_free(d);
    if (*s == TC_OK)
      *s = tc_set_error(TC_ERR_IO, "network file '%s' changed while read", path);
    return NULL;
  }
  FILE *f = fopen(path, "rb");
  char *buf = f ? malloc((size_t)st.st_size + 1) : NULL;
  size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
  if (f)
    fclose(f);
  if (buf == NULL || n != (size_t)st.st_size) {
    free(buf);
    *s = tc_set_error(TC_ERR_IO, "network file '%s': %s", path, strerror(errno ? errno : EIO));
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

tc_status tc_train_net_parse(const tc_train_opts *o, const char *source, const char *name,
                               const char *vars_text, tc_netdesc **out, char **vars) {
  tc_varset *s = malloc(sizeof *s);
  if (s == NULL)
    return tc_set_error(TC_ERR_NOMEM, "out of memory");
  tc_varset_make(s, o, vars_text);
  char shipped[64];
  if (name[0] == '\0') /* a shipped file */
    snprintf(shipped, sizeof shipped, "examples/nets/%s.net",
             o->model == TC_MODEL_DCGAN ? "dcgan" : "autoencoder");
  tc_status st = tc_netdesc_parse(out, source, strlen(source), name[0] ? name : shipped, s->v,
                                  s->n);
  size_t cap = 64;
  for (int i = 0; i < s->n; i++)
    cap += strlen(s->v[i].name) + strlen(s->v[i].value) + 2;
  if (st == TC_OK && vars && (*vars = malloc(cap)) != NULL) {
    size_t len = (size_t)snprintf(*vars, cap, "# variables set from outside\n");
    for (int i = 0; i < s->n; i++)
      len += (size_t)snprintf(*vars + len, cap - len, "%s=%s\n", s->v[i].name, s->v[i].value);
  }
  free(s);
  return st;
}

tc_status tc_train_net_source(const tc_train_opts *o, char **text) {
  if (o->net_file != NULL) {
    tc_status s;
    *text = tc_read_file(o->net_file, &s);
    return s;
  }
  const char *b = tc_builtin_net_text(o->model == TC_MODEL_DCGAN ? "dcgan" : "autoencoder");
  if ((*text = malloc(strlen(b) + 1)) == NULL)
    return tc_set_error(TC_ERR_NOMEM, "out of memory");
  memcpy(*text, b, strlen(b) + 1);
  return TC_OK;
}

tc_status tc_train_net_desc(const tc_train_opts *o, tc_netdesc **out) {
  char *text = NULL;
  TC_TRY(tc_train_net_source(o, &text));
  tc_status s = tc_train_net_parse(o, text, o->net_file ? o->net_file : "", NULL, out, NULL);
  free(text);
  return s;
}

tc_status tc_train_net_io(const tc_netdesc *d, int *output, int *input) {
  const char *name = tc_netdesc_attr(d, -1, "output");
  if (name == NULL && d->n_outputs != 1)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s:%d: loss %s: the description has %d outputs; "
                        "say which one is trained with output=NAME", d->source, d->loss.line,
                        d->loss.name, d->n_outputs);
  *output = name ? tc_netdesc_find(d, name) : d->outputs[0];
  int count;
  *input = tc_netdesc_input_of(d, *output, &count);
  if (*input < 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: output '%s' depends on %d inputs; a "
                        "reconstruction loss needs exactly one", d->source,
                        d->nodes[*output].name, count);
  return TC_OK;
}

long tc_train_net_latent(const tc_netdesc *d) {
  const char *gen = tc_netdesc_attr(d, -1, "generator");
  int count, z = gen ? tc_netdesc_input_of(d, tc_netdesc_find(d, gen), &count) : -1;
  const char *shape = z >= 0 ? tc_netdesc_attr(d, z, "shape") : NULL;
  if (shape == NULL && tc_netdesc_find(d, "encoder_latent") >= 0)
    shape = tc_netdesc_attr(d, tc_netdesc_find(d, "encoder_latent"), "units");
  if (shape == NULL || strchr(shape, ',') != NULL)
    return -1;
  return strtol(shape, NULL, 10); /* checked by the parser: 1..65536 */
}
