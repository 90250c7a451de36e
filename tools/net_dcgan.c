/* net_dcgan.c — generator and discriminator of a GAN from its description. */
#include "tools/net_dcgan.h"

#include <stdlib.h>
#include <string.h>

#include "tools/train_net.h"

/* The node a loss key names and the one input it is computed from. */
static tc_status tc_gan_ends(tc_dcgan *d, const char *key, const char **node,
                             const char **input) {
  const char *name = tc_netdesc_attr(d->desc, -1, key);
  int count, i = name ? tc_netdesc_find(d->desc, name) : -1;
  int in = i >= 0 ? tc_netdesc_input_of(d->desc, i, &count) : -1;
  if (in < 0)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s:%d: loss gan: expected %s=NAME of a node "
                        "computed from one input", d->desc->source, d->desc->loss.line, key);
  *node = d->desc->nodes[i].name;
  *input = d->desc->nodes[in].name;
  return TC_OK;
}

static tc_status tc_gan_check(tc_dcgan *d) {
  int64_t s[3], t[3];
  int rg = tc_net_shape(d->net, d->gen, s), rx = tc_net_shape(d->net, d->x, t);
  if (rg != 3 || s[0] != d->h || s[1] != d->w || s[2] != 1 || rx != 3 || memcmp(s, t, sizeof s))
    return tc_set_error(TC_ERR_SHAPE, "%s: the generator's output '%s' and the discriminator's "
                        "input '%s' must both be %dx%dx1 like the training images",
                        d->desc->source, d->gen, d->x, d->h, d->w);
  int n = tc_model_param_count(d->model);
  d->d_weights = calloc((size_t)n + 1, sizeof *d->d_weights);
  if (d->d_weights == NULL)
    return tc_set_error(TC_ERR_NOMEM, "out of memory");
  for (int i = 0; i < n; i++) {
    tc_param *p = tc_model_param_at(d->model, i);
    int is_d = strncmp(p->name, "discriminator", 13) == 0;
    if (!is_d && strncmp(p->name, "generator", 9) != 0)
      return tc_set_error(TC_ERR_INVALID_ARG, "%s: variable '%s' belongs to neither a "
                          "generator* nor a discriminator* layer (each optimizer takes its "
                          "variables by that prefix)", d->desc->source, p->name);
    if (is_d && p->role == TC_PARAM_WEIGHT && p->trainable)
      d->d_weights[d->n_d_weights++] = p;
  }
  return TC_OK;
}

tc_status tc_dcgan_create(tc_dcgan *d, const tc_train_opts *o, int h, int w) {
  memset(d, 0, sizeof *d);
  d->h = h;
  d->w = w;
  if (o->net == NULL)
    TC_TRY(tc_train_net_desc(o, &d->owned));
  d->desc = o->net ? o->net : d->owned;
  TC_TRY(tc_gan_ends(d, "generator", &d->gen, &d->z));
  TC_TRY(tc_gan_ends(d, "discriminator", &d->disc, &d->x));
  TC_TRY(tc_model_create(&d->model, (uint64_t)o->seed));
  TC_TRY(tc_net_create(&d->net, d->model, d->desc));
  int64_t z[3];
  if (tc_net_shape(d->net, d->z, z) != 1)
    return tc_set_error(TC_ERR_SHAPE, "%s: the generator's input '%s' must be a vector "
                        "(shape=LATENT)", d->desc->source, d->z);
  d->latent = (int)z[0];
  return tc_gan_check(d);
}

void tc_dcgan_free(tc_dcgan *d) {
  tc_net_free(d->net);
  tc_model_free(d->model);
  tc_netdesc_free(d->owned);
  free(d->d_weights);
  memset(d, 0, sizeof *d);
}

tc_status tc_dcgan_generate(tc_dcgan *d, tc_graph *g, tc_tensor *z, int training,
                            tc_tensor **img) {
  return tc_net_forward(d->net, g, 1, &d->z, &z, d->gen, training, img);
}

tc_status tc_dcgan_discriminate(tc_dcgan *d, tc_graph *g, tc_tensor *x, tc_tensor **logit) {
  return tc_net_forward(d->net, g, 1, &d->x, &x, d->disc, 1, logit);
}

void tc_dcgan_freeze_discriminator(tc_dcgan *d, int frozen) {
  for (int i = 0; i < d->n_d_weights; i++)
    d->d_weights[i]->trainable = !frozen;
}
