/* ops_resize.h — image resizing with TensorFlow's exact sampling: Keras UpSampling2D and
 * tf.image.resize (half-pixel centres, the default), and TF1's resize_bilinear /
 * resize_nearest_neighbor with align_corners false or true.
 *
 *   tc_tensor *up;
 *   tc_op_upsample2d(g, x, 2, 2, TC_RESIZE_BILINEAR, 0, &up);     // NHWC, Keras default
 *   tc_op_resize(g, x, 7, 11, TC_RESIZE_BILINEAR, TC_RESIZE_ALIGN_CORNERS, 0, &up);
 *
 * The gradient is the exact transpose of the forward (each output gradient spread back
 * with the forward's weights), as TF's ResizeBilinearGrad / ResizeNearestNeighborGrad. */
#ifndef TC_OPS_RESIZE_H
#define TC_OPS_RESIZE_H

#include "core/graph.h"

typedef enum tc_resize_method {
  TC_RESIZE_NEAREST = 0,
  TC_RESIZE_BILINEAR
} tc_resize_method;

/* Where output pixel i samples the input (scale = in/out, float32 as in TF's kernels):
 *   HALF_PIXEL     TF2 tf.image.resize and Keras UpSampling2D: bilinear (i+0.5)·scale-0.5,
 *                  nearest floor((i+0.5)·scale);
 *   LEGACY         TF1's default (align_corners=False, half_pixel_centers=False): i·scale,
 *                  nearest floor(i·scale);
 *   ALIGN_CORNERS  TF1 align_corners=True: scale = (in-1)/(out-1) (in/out when out = 1),
 *                  i·scale, nearest round(i·scale) (halves away from zero).
 * Bilinear: lower = max(floor(s), 0), upper = min(ceil(s), in-1), weight s - floor(s).
 * Nearest indices are clamped to [0, in-1]. */
typedef enum tc_resize_mode {
  TC_RESIZE_HALF_PIXEL = 0,
  TC_RESIZE_LEGACY,
  TC_RESIZE_ALIGN_CORNERS
} tc_resize_mode;

/* Parse "nearest"/"bilinear" and "half_pixel"/"legacy"/"align_corners" (case-insensitive). */
tc_status tc_resize_method_parse(const char *s, tc_resize_method *out);
tc_status tc_resize_mode_parse(const char *s, tc_resize_mode *out);
const char *tc_resize_method_name(tc_resize_method m);
const char *tc_resize_mode_name(tc_resize_mode m);

/* Resizes the H and W axes of a rank-4 image batch (channels_first 0 = NHWC, 1 = NCHW)
 * to out_h x out_w (each 1..65536; any size, up or down). */
tc_status tc_op_resize(tc_graph *g, tc_tensor *x, int64_t out_h, int64_t out_w,
                       tc_resize_method method, tc_resize_mode mode, int channels_first,
                       tc_tensor **out);

/* Keras UpSampling2D(size=(fh, fw), interpolation): tf.image.resize to (H·fh, W·fw) with
 * half-pixel centres. Factors are integers 1..4096. Nearest equals repeating each pixel
 * fh x fw times. */
tc_status tc_op_upsample2d(tc_graph *g, tc_tensor *x, int fh, int fw, tc_resize_method method,
                           int channels_first, tc_tensor **out);

#endif
