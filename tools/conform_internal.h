/* conform_internal.h — the per-kind runners and their shared builders (tools/ only). */
#ifndef TC_CONFORM_INTERNAL_H
#define TC_CONFORM_INTERNAL_H

#include "layers/conv2d_transpose.h"
#include "tools/conform.h"

void tc_conform_layer(const tc_case *c, tc_conform_outcome *out);
void tc_conform_train(const tc_case *c, tc_conform_outcome *out);
void tc_conform_regularizer(const tc_case *c, tc_conform_outcome *out);
void tc_conform_constraint(const tc_case *c, tc_conform_outcome *out);
void tc_conform_op(const tc_case *c, tc_conform_outcome *out);

/* Creates the layer described by the attrs under `prefix` ("" or "l0.") and loads its
 * kernel and bias from the named tensors. */
tc_status tc_conform_build_layer(const tc_case *c, const char *prefix, tc_model *m,
                                 int in_channels, const char *kernel_name,
                                 const char *bias_name, tc_conv2d_transpose **out);

/* An owned copy of the case tensor `name` (with a gradient buffer when grad is 1). */
tc_status tc_conform_input(const tc_case *c, const char *name, int grad, tc_tensor **out);

/* Channels of a rank-4 tensor in the named data_format. */
int tc_conform_channels(const tc_tensor *x, const char *data_format);

#endif
