/* netfile_config.c — a node's KEY=VALUE pairs to the config of its layer. The values were
 * checked by the parser, so converting cannot fail except where a spec names a callback. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "layers/netfile_build.h"

int tc_nc_int(const tc_net_node *nd, const char *key, int dflt) {
  const char *v = tc_nc_value(nd, key);
  int64_t x[1];
  return v && tc_net_ints(v, x, 1) == 1 ? (int)x[0] : dflt;
}

void tc_nc_int2(const tc_net_node *nd, const char *key, int out[2]) {
  const char *v = tc_nc_value(nd, key);
  int64_t x[2];
  int n = v ? tc_net_ints(v, x, 2) : 0;
  if (n >= 1) {
    out[0] = (int)x[0];
    out[1] = (int)(n == 2 ? x[1] : x[0]);
  }
}

int tc_nc_bool(const tc_net_node *nd, const char *key, int dflt) {
  const char *v = tc_nc_value(nd, key);
  return v ? strcasecmp(v, "true") == 0 : dflt;
}

float tc_nc_float(const tc_net_node *nd, const char *key, float dflt) {
  const char *v = tc_nc_value(nd, key);
  return v ? strtof(v, NULL) : dflt;
}

const char *tc_nc_value(const tc_net_node *nd, const char *key) {
  for (int k = 0; k < nd->n_attr; k++)
    if (strcmp(nd->attr[k].key, key) == 0)
      return nd->attr[k].value;
  return NULL;
}

/* The shared part of conv2d_transpose, conv2d and dense. */
static tc_status tc_nc_common(const tc_net_node *nd, tc_layer_common *c) {
  const char *v;
  if ((v = tc_nc_value(nd, "activation")))
    TC_TRY(tc_activation_parse(v, &c->activation));
  c->use_bias = tc_nc_bool(nd, "use_bias", c->use_bias);
  c->trainable = tc_nc_bool(nd, "trainable", c->trainable);
  if ((v = tc_nc_value(nd, "kernel_initializer")))
    TC_TRY(tc_initializer_parse(v, &c->kernel_initializer));
  if ((v = tc_nc_value(nd, "bias_initializer")))
    TC_TRY(tc_initializer_parse(v, &c->bias_initializer));
  if ((v = tc_nc_value(nd, "kernel_regularizer")))
    TC_TRY(tc_regularizer_parse(v, &c->kernel_regularizer));
  if ((v = tc_nc_value(nd, "bias_regularizer")))
    TC_TRY(tc_regularizer_parse(v, &c->bias_regularizer));
  if ((v = tc_nc_value(nd, "activity_regularizer")))
    TC_TRY(tc_regularizer_parse(v, &c->activity_regularizer));
  if ((v = tc_nc_value(nd, "kernel_constraint")))
    TC_TRY(tc_constraint_parse(v, &c->kernel_constraint));
  if ((v = tc_nc_value(nd, "bias_constraint")))
    TC_TRY(tc_constraint_parse(v, &c->bias_constraint));
  c->name = nd->name;
  return TC_OK;
}

tc_status tc_nc_conv2d_transpose(const tc_net_node *nd, tc_conv2d_transpose_config *c) {
  int k[2] = {1, 1};
  tc_nc_int2(nd, "kernel_size", k);
  *c = tc_conv2d_transpose_config_default(tc_nc_int(nd, "filters", 1), k[0], k[1]);
  tc_nc_int2(nd, "strides", c->strides);
  tc_nc_int2(nd, "output_padding", c->output_padding);
  tc_nc_int2(nd, "dilation_rate", c->dilation_rate);
  c->groups = tc_nc_int(nd, "groups", c->groups);
  if (tc_nc_value(nd, "padding"))
    c->padding = tc_nc_value(nd, "padding");
  if (tc_nc_value(nd, "data_format"))
    c->data_format = tc_nc_value(nd, "data_format");
  return tc_nc_common(nd, &c->common);
}

tc_status tc_nc_conv2d(const tc_net_node *nd, tc_conv2d_config *c) {
  int k[2] = {1, 1};
  tc_nc_int2(nd, "kernel_size", k);
  *c = tc_conv2d_config_default(tc_nc_int(nd, "filters", 1), k[0], k[1]);
  tc_nc_int2(nd, "strides", c->strides);
  tc_nc_int2(nd, "dilation_rate", c->dilation_rate);
  c->groups = tc_nc_int(nd, "groups", c->groups);
  if (tc_nc_value(nd, "padding"))
    c->padding = tc_nc_value(nd, "padding");
  if (tc_nc_value(nd, "data_format"))
    c->data_format = tc_nc_value(nd, "data_format");
  return tc_nc_common(nd, &c->common);
}

tc_status tc_nc_dense(const tc_net_node *nd, tc_dense_config *c) {
  *c = tc_dense_config_default(tc_nc_int(nd, "units", 1));
  return tc_nc_common(nd, &c->common);
}

static tc_status tc_nc_init(const tc_net_node *nd, const char *key, tc_initializer *out) {
  const char *v = tc_nc_value(nd, key);
  return v ? tc_initializer_parse(v, out) : TC_OK;
}

tc_status tc_nc_batch_norm(const tc_net_node *nd, tc_batch_norm_config *c) {
  *c = tc_batch_norm_config_default();
  c->axis = tc_nc_int(nd, "axis", c->axis);
  c->momentum = tc_nc_float(nd, "momentum", c->momentum);
  c->epsilon = tc_nc_float(nd, "epsilon", c->epsilon);
  c->center = tc_nc_bool(nd, "center", c->center);
  c->scale = tc_nc_bool(nd, "scale", c->scale);
  c->trainable = tc_nc_bool(nd, "trainable", c->trainable);
  const char *f = tc_nc_value(nd, "fused");
  if (f)
    c->fused = strcasecmp(f, "auto") == 0 ? -1 : strcasecmp(f, "true") == 0;
  TC_TRY(tc_nc_init(nd, "beta_initializer", &c->beta_initializer));
  TC_TRY(tc_nc_init(nd, "gamma_initializer", &c->gamma_initializer));
  TC_TRY(tc_nc_init(nd, "moving_mean_initializer", &c->moving_mean_initializer));
  TC_TRY(tc_nc_init(nd, "moving_variance_initializer", &c->moving_variance_initializer));
  const char *v;
  if ((v = tc_nc_value(nd, "beta_regularizer")))
    TC_TRY(tc_regularizer_parse(v, &c->beta_regularizer));
  if ((v = tc_nc_value(nd, "gamma_regularizer")))
    TC_TRY(tc_regularizer_parse(v, &c->gamma_regularizer));
  if ((v = tc_nc_value(nd, "beta_constraint")))
    TC_TRY(tc_constraint_parse(v, &c->beta_constraint));
  if ((v = tc_nc_value(nd, "gamma_constraint")))
    TC_TRY(tc_constraint_parse(v, &c->gamma_constraint));
  c->name = nd->name;
  return TC_OK;
}

int tc_nc_channels_first(const tc_net_node *nd) {
  const char *f = tc_nc_value(nd, "data_format");
  return f != NULL && strcasecmp(f, "channels_first") == 0;
}

/* pad= and crop=: 1 number (all sides), 2 (rows, columns) or 4 (top, bottom, left, right). */
int tc_nc_sides(const tc_net_node *nd, const char *key, int out[4]) {
  int64_t v[5];
  int n = tc_net_ints(tc_nc_value(nd, key), v, 4);
  if (n == 1)
    v[1] = v[2] = v[3] = v[0];
  else if (n == 2)
    v[2] = v[3] = v[1], v[1] = v[0];
  else if (n != 4)
    return 0;
  for (int i = 0; i < 4; i++)
    out[i] = (int)v[i];
  return 1;
}
