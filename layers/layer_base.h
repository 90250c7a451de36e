/* layer_base.h (@internal) — what every layer does the same way (internal to layers/, not
 * installed): claim its name, make its variables, undo all of it when create fails, and the
 * forward tail (activation, activity regularizer, in place where the activation allows).
 * A layer struct holds a tc_layer_base and calls
 *
 *   s = tc_layer_begin(&l->base, model, "dense", cfg->name);     // mark, claim the name
 *   if (s == TC_OK) s = tc_layer_add_kernel_bias(&l->base, &cfg->common, 2, ks, units);
 *   if (s != TC_OK) return tc_layer_fail(&l->base, s, cfg->name);   // roll back, prefix
 *
 * so a create either succeeds whole or leaves the model as it was (docs/layers.md). */
#ifndef TC_LAYER_BASE_H
#define TC_LAYER_BASE_H

#include "core/graph.h"
#include "layers/layer_common.h"
#include "layers/model.h"

typedef struct tc_layer_base {
  char name[TC_NAME_MAX];
  const char *kind;              /* "conv2d", ...: the start of every message */
  tc_model *model;
  tc_model_mark mark;            /* where a failed create rolls the model back to */
  tc_param *kernel, *bias;       /* batch_normalization: gamma, beta; either may be NULL */
  tc_activation activation;      /* the forward tail */
  tc_regularizer activity_regularizer;
} tc_layer_base;

/* How one variable is made: its initializer (TC_INIT_DEFAULT → fallback), and for a
 * weight its trainable flag, regularizer and constraint. */
typedef struct tc_var_spec {
  const char *var;           /* "kernel", "gamma", ... */
  tc_param_role role;
  tc_initializer init;
  tc_init_kind fallback;
  int trainable;             /* weights only; state is never trained */
  tc_regularizer regularizer;
  tc_constraint constraint;
} tc_var_spec;

/* Starts a create: remembers the model's state, then claims the name. */
tc_status tc_layer_begin(tc_layer_base *b, tc_model *m, const char *kind, const char *requested);

/* The activation (known kind, finite alpha) and the activity regularizer of c; copies
 * them into b for the forward tail. */
tc_status tc_layer_take_common(tc_layer_base *b, const tc_layer_common *c);

/* Checks spec against the shape (initializer, regularizer, constraint), then creates
 * "<layer>/<var>", draws it from the model's next Philox stream and sets its attributes.
 * Messages name the variable and the value ("bias_initializer orthogonal: ..."). */
tc_status tc_layer_add_variable(tc_layer_base *b, const tc_var_spec *spec, int rank,
                                const int64_t *shape, tc_param **out);

/* The kernel (kshape; glorot_uniform by default) and, when c->use_bias, the bias
 * (bias_len; zeros by default), into b->kernel and b->bias. */
tc_status tc_layer_add_kernel_bias(tc_layer_base *b, const tc_layer_common *c, int rank,
                                   const int64_t *kshape, int64_t bias_len);

/* Ends a failed create: frees what it added to the model, releases the name, and
 * prefixes the message with "<kind> '<name>'" (dropping a "<kind>: " the message may
 * already start with). Returns s. */
tc_status tc_layer_fail(tc_layer_base *b, tc_status s, const char *requested);

/* Prefixes the current message with "<kind> '<name>'" as tc_layer_fail does. */
void tc_layer_prefix_error(const tc_layer_base *b);

/* Before a forward pass: a frozen layer's weights need no gradient (its input still gets
 * one). */
void tc_layer_require_grads(const tc_layer_base *b);

/* y = activation(z), then the activity penalty on y (its gradient flows into y). The
 * activation is computed over z's data where its kind allows (tc_op_activation_in_place):
 * z must be the layer's own op output, which no other op reads. */
tc_status tc_layer_tail(const tc_layer_base *b, tc_graph *g, tc_tensor *z, tc_tensor **y);

/* Freezes (0) or unfreezes the layer's kernel and bias. */
void tc_layer_set_trainable(tc_layer_base *b, int trainable);

#endif
