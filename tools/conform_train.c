/* conform_train.c — `kind train` cases: whole training runs (docs/semantics.md). */
#include <stdio.h>
#include <string.h>

#include "core/ops.h"
#include "optim/optimizer.h"
#include "tools/conform_compare.h"
#include "tools/conform_internal.h"

typedef struct tc_train_run {
  tc_model *model;
  tc_graph *graph;
  tc_optim *opt;
  tc_conv2d_transpose *layers[2];
  int n_layers, steps;
  tc_tensor *x, *target;
} tc_train_run;

static tc_status tc_train_setup(const tc_case *c, tc_train_run *r) {
  TC_TRY(tc_case_int(c, "layers", 0, &r->n_layers));
  TC_TRY(tc_case_int(c, "steps", 0, &r->steps));
  if (r->n_layers < 1 || r->n_layers > 2)
    return tc_set_error(TC_ERR_FORMAT, "case '%s': layers must be 1 or 2", c->name);
  TC_TRY(tc_model_create(&r->model, 0));
  TC_TRY(tc_graph_create(&r->graph));
  TC_TRY(tc_conform_input(c, "x", 0, &r->x));
  TC_TRY(tc_conform_input(c, "target", 0, &r->target));
  const char *fmt;
  TC_TRY(tc_case_str(c, "l0.data_format", &fmt));
  int in_ch = tc_conform_channels(r->x, fmt);
  for (int l = 0; l < r->n_layers; l++) {
    char prefix[16], kname[32], bname[32], fkey[32];
    snprintf(prefix, sizeof prefix, "l%d.", l);
    snprintf(kname, sizeof kname, "l%d.kernel.init", l);
    snprintf(bname, sizeof bname, "l%d.bias.init", l);
    TC_TRY(tc_conform_build_layer(c, prefix, r->model, in_ch, kname, bname, &r->layers[l]));
    snprintf(fkey, sizeof fkey, "l%d.filters", l);
    TC_TRY(tc_case_int(c, fkey, 0, &in_ch));
  }
  const tc_case_attr *oa = tc_case_attr_find(c, "optimizer");
  if (oa == NULL)
    return tc_set_error(TC_ERR_FORMAT, "case '%s': attr 'optimizer' is missing", c->name);
  char spec[512];
  tc_conform_optimizer_spec(oa, spec, sizeof spec);
  tc_optim_config oc;
  TC_TRY(tc_optim_config_parse(spec, &oc));
  return tc_optim_create(&r->opt, &oc, r->model, NULL);
}

/* total = mse + Σ activity losses (on the tape) + weight penalties (from the optimizer). */
static tc_status tc_train_step(tc_train_run *r, float *total) {
  tc_graph_reset(r->graph);
  tc_tensor *y = r->x, *loss;
  for (int l = 0; l < r->n_layers; l++)
    TC_TRY(tc_conv2d_transpose_forward(r->layers[l], r->graph, y, &y));
  TC_TRY(tc_op_mse(r->graph, y, r->target, &loss));
  for (int i = 0; i < tc_graph_loss_count(r->graph); i++)
    TC_TRY(tc_op_add(r->graph, loss, tc_graph_loss_at(r->graph, i), &loss));
  double reg;
  TC_TRY(tc_optim_regularization(r->opt, &reg));
  *total = (float)((double)loss->data[0] + reg);
  if (loss->requires_grad)
    TC_TRY(tc_graph_backward(r->graph, loss));
  return tc_optim_step(r->opt, NULL);
}

static void tc_train_compare(const tc_case *c, const tc_train_run *r, int t, float total,
                             tc_conform_outcome *out) {
  const double atol = 1e-4, rtol = 1e-3; /* docs/conformance.md */
  char name[64];
  snprintf(name, sizeof name, "loss.%d", t);
  tc_conform_compare(c, name, &total, 0, NULL, atol, rtol, out);
  for (int l = 0; l < r->n_layers; l++) {
    tc_param *k = tc_conv2d_transpose_kernel(r->layers[l]);
    tc_param *b = tc_conv2d_transpose_bias(r->layers[l]);
    snprintf(name, sizeof name, "l%d.kernel.%d", l, t);
    tc_conform_compare(c, name, k->value->data, k->value->rank, k->value->shape, atol, rtol, out);
    if (b) {
      snprintf(name, sizeof name, "l%d.bias.%d", l, t);
      tc_conform_compare(c, name, b->value->data, b->value->rank, b->value->shape, atol, rtol, out);
    }
  }
}

void tc_conform_train(const tc_case *c, tc_conform_outcome *out) {
  tc_train_run r;
  memset(&r, 0, sizeof r);
  tc_status s = tc_train_setup(c, &r);
  for (int t = 1; s == TC_OK && t <= r.steps; t++) {
    float total = 0.0f;
    s = tc_train_step(&r, &total);
    if (s == TC_OK)
      tc_train_compare(c, &r, t, total, out);
  }
  if (s != TC_OK)
    tc_conform_fail_run(out, "train");
  tc_optim_free(r.opt);
  for (int l = 0; l < 2; l++)
    tc_conv2d_transpose_free(r.layers[l]);
  tc_tensor_free(r.x);
  tc_tensor_free(r.target);
  tc_graph_free(r.graph);
  tc_model_free(r.model);
}
