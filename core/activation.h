/* activation.h — elementwise activations and their derivatives, as Keras defines them.
 *
 * The math lives in core so the graph can fuse and differentiate it; layers choose one by
 * value or by name ("relu", "leaky_relu:0.2"). softmax runs over the last axis of the
 * tensor as stored (Keras axis=-1): over channels for NHWC, over W for NCHW.
 * Derivatives at kinks follow TF: relu'(0)=0, relu6'(0)=relu6'(6)=0, leaky_relu'(0)=alpha,
 * hard_sigmoid'(±2.5)=0.2, elu'(0)=e^0 = 1 (z>0 is the test), selu likewise. */
#ifndef TC_ACTIVATION_H
#define TC_ACTIVATION_H

#include <stdint.h>

#include "core/status.h"

typedef enum tc_activation_kind {
  TC_ACT_LINEAR = 0,
  TC_ACT_RELU,
  TC_ACT_RELU6,
  TC_ACT_LEAKY_RELU,  /* alpha, default 0.3 (Keras) */
  TC_ACT_ELU,         /* alpha, default 1 */
  TC_ACT_SELU,
  TC_ACT_SIGMOID,
  TC_ACT_HARD_SIGMOID,
  TC_ACT_TANH,
  TC_ACT_SOFTPLUS,
  TC_ACT_SOFTSIGN,
  TC_ACT_SWISH,
  TC_ACT_GELU,        /* exact erf form */
  TC_ACT_EXPONENTIAL,
  TC_ACT_SOFTMAX,     /* over the last stored axis */
  TC_ACT_COUNT
} tc_activation_kind;

typedef struct tc_activation {
  tc_activation_kind kind;
  float alpha; /* leaky_relu and elu; ignored by the others */
} tc_activation;

/* {kind, its default alpha}. */
tc_activation tc_activation_make(tc_activation_kind kind);

/* Parses "relu", "leaky_relu", "leaky_relu:0.2", "elu:0.5", "none"/"linear", "silu" (=
 * swish), case-insensitive; grammar in docs/strings.md. Only leaky_relu and elu take an
 * ALPHA, a finite number >= 0. A bad string gets TC_ERR_INVALID_ARG with the string
 * quoted and the list of names; *out is then unchanged. */
tc_status tc_activation_parse(const char *s, tc_activation *out);
/* The canonical name ("leaky_relu"); "unknown" for a kind out of range. Static storage. */
const char *tc_activation_name(tc_activation_kind kind);

/* y = act(z), n elements; for softmax, rows of `axis_len` contiguous elements (n must be
 * a multiple of axis_len; the others ignore it). y may alias z. Stable forms: sigmoid
 * never exponentiates a positive number, softplus = max(z,0) + log1p(e^-|z|), softmax
 * subtracts the row max. */
void tc_activation_forward(tc_activation act, const float *z, float *y, int64_t n,
                           int64_t axis_len);

/* dz = act'(z) ⊙ dy (softmax: the row-wise Jacobian product). Needs z and y = act(z)
 * (sigmoid, tanh, exponential and softmax read y, the others z). dz may alias dy. */
void tc_activation_backward(tc_activation act, const float *z, const float *y,
                            const float *dy, float *dz, int64_t n, int64_t axis_len);

/* dx += act'(z) ⊙ dy in one pass, for every kind but softmax (TC_ERR_INVALID_ARG: it needs
 * tc_activation_backward's row-wise product first). The same bits as dz from
 * tc_activation_backward added to dx, without the buffer. dx must not alias z, y or dy. */
tc_status tc_activation_backward_add(tc_activation act, const float *z, const float *y,
                                     const float *dy, float *dx, int64_t n);

/* Which smooth piece of act the point z lies on (softmax: elementwise pieces of none).
 * The number changes exactly where act, act' or act'' jumps: 0 for relu, leaky_relu, elu,
 * selu and softsign (whose act'' jumps there); 0 and 6 for relu6; ±2.5 for hard_sigmoid.
 * The others are smooth everywhere and always answer 0. A central difference whose two
 * points share a piece estimates act' to O(h²); across pieces it is no test at all. */
int tc_activation_piece(tc_activation act, float z);

#endif
