/* ops_loss.c — the logistic loss on logits (TF's sigmoid_cross_entropy_with_logits). */
#include <math.h>

#include "core/ops_extra.h"
#include "core/ops_util.h"

/* max(x, 0) - x*z + log(1 + exp(-|x|)): never exponentiates a positive number, so it is
 * finite for any finite logit (TF's form). */
static double bce_term(double x, double z) {
  return (x > 0.0 ? x : 0.0) - x * z + log1p(exp(-fabs(x)));
}

static double sigmoid(double x) {
  if (x >= 0.0)
    return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

static tc_status bce_backward(tc_node *node) {
  tc_tensor *x = node->in[0], *z = node->in[1];
  if (!x->requires_grad)
    return TC_OK;
  double scale = (double)node->out->grad[0] / (double)x->size;
  for (int64_t i = 0; i < x->size; i++)
    x->grad[i] += (float)(scale * (sigmoid(x->data[i]) - (double)z->data[i]));
  return TC_OK;
}

tc_status tc_op_bce_with_logits(tc_graph *g, tc_tensor *logits, tc_tensor *targets,
                                tc_tensor **out) {
  TC_TRY(tc_op_check_args("bce_with_logits", g, out, logits, targets));
  if (!tc_tensor_same_shape(logits, targets)) {
    char sa[96], sb[96];
    return tc_set_error(TC_ERR_SHAPE, "bce_with_logits: logits %s and targets %s differ",
                        tc_shape_str(logits, sa, sizeof sa),
                        tc_shape_str(targets, sb, sizeof sb));
  }
  tc_tensor *y;
  TC_TRY(tc_graph_new_output(g, &y, 0, NULL, &logits, 1));
  double acc = 0.0;
  for (int64_t i = 0; i < logits->size; i++)
    acc += bce_term(logits->data[i], targets->data[i]);
  y->data[0] = (float)(acc / (double)logits->size);
  tc_tensor *in[2] = {logits, targets};
  TC_TRY(tc_graph_record(g, "bce_with_logits", bce_backward, y, in, 2, NULL));
  *out = y;
  return TC_OK;
}
