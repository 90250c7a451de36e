/* ops_layout.h — ops that move elements without arithmetic: concat, split, slice, pad,
 * crop and transpose, for U-Net skips and layout changes.
 *
 *   tc_tensor *skip[2] = {decoded, encoder_features}, *h, *p;
 *   tc_op_concat(g, 2, skip, -1, &h);                 // NHWC: along channels
 *   int64_t pads[8] = {0, 0, 1, 1, 1, 1, 0, 0};       // (before, after) per axis
 *   tc_op_pad(g, h, pads, TC_PAD_REFLECT, 0.0f, &p);
 *
 * Each checks its arguments, computes its output in the graph's arena, records its exact
 * backward when an input requires a gradient (every output gradient added to the element
 * it was copied from), and fails with a status and a message that names the op, the axis
 * and the sizes. Axes may be negative (-1 = last). */
#ifndef TC_OPS_LAYOUT_H
#define TC_OPS_LAYOUT_H

#include "core/graph.h"

/* tf.concat(xs, axis): n >= 1 inputs of one rank (>= 1) whose dims agree except along
 * axis; any n (the tape has no input limit). The gradient of input k is the slice of the
 * output gradient it occupies. */
tc_status tc_op_concat(tc_graph *g, int n, tc_tensor *const *xs, int axis, tc_tensor **out);

/* tf.slice(x, begin, size): begin[d] >= 0, size[d] >= 1 or -1 (= to the end), and
 * begin + size <= dim on every axis. The gradient is zero outside the box. */
tc_status tc_op_slice(tc_graph *g, tc_tensor *x, const int64_t *begin, const int64_t *size,
                      tc_tensor **out);

/* tf.split(x, sizes, axis): n pieces along axis whose sizes (each >= 1) sum to its dim;
 * sizes NULL splits into n equal pieces (the dim must divide by n). outs has n entries. */
tc_status tc_op_split(tc_graph *g, tc_tensor *x, int axis, int n, const int64_t *sizes,
                      tc_tensor **outs);

typedef enum tc_pad_mode {
  TC_PAD_CONSTANT = 0, /* tf.pad(mode='CONSTANT', constant_values=c) */
  TC_PAD_REFLECT,      /* tf.pad / tf.mirror_pad 'REFLECT': the edge is not repeated;
                          each pad < dim */
  TC_PAD_SYMMETRIC     /* 'SYMMETRIC': the edge is repeated; each pad <= dim */
} tc_pad_mode;

/* Parses "constant"/"zero", "reflect", "symmetric" (case-insensitive). */
tc_status tc_pad_mode_parse(const char *s, tc_pad_mode *out);
const char *tc_pad_mode_name(tc_pad_mode m);

/* tf.pad(x, paddings, mode, constant): paddings holds (before, after) for each of x's
 * axes, rank*2 numbers, each >= 0. The mirror modes' gradient folds the border back onto
 * the pixels it copied. */
tc_status tc_op_pad(tc_graph *g, tc_tensor *x, const int64_t *paddings, tc_pad_mode mode,
                    float constant, tc_tensor **out);

/* Keras Cropping2D(((top, bottom), (left, right)), data_format) on a rank-4 image:
 * channels_first 0 = NHWC, 1 = NCHW. Each crop >= 0 and at least one row and column
 * remain. Equals tf.slice with begin (0, top, left, 0) in NHWC. */
tc_status tc_op_crop2d(tc_graph *g, tc_tensor *x, int top, int bottom, int left, int right,
                       int channels_first, tc_tensor **out);

/* tf.transpose(x, perm): output axis d is input axis perm[d]; perm is a permutation of
 * 0..rank-1. */
tc_status tc_op_transpose(tc_graph *g, tc_tensor *x, const int *perm, tc_tensor **out);

/* Rank-4 layout changes: NHWC -> NCHW (perm 0 3 1 2) and NCHW -> NHWC (perm 0 2 3 1). */
tc_status tc_op_nhwc_to_nchw(tc_graph *g, tc_tensor *x, tc_tensor **out);
tc_status tc_op_nchw_to_nhwc(tc_graph *g, tc_tensor *x, tc_tensor **out);

#endif
