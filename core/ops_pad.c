/* ops_pad.c — slice, crop and pad (constant, reflect, symmetric) as per-axis index maps
 * on the gather kernel (core/ops_gather.h). */
#include <stdlib.h>
#include <strings.h>

#include "core/ops_gather.h"
#include "core/ops_layout.h"
#include "core/ops_util.h"

tc_status tc_pad_mode_parse(const char *s, tc_pad_mode *out) {
  if (s == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "pad mode: NULL argument");
  if (strcasecmp(s, "constant") == 0 || strcasecmp(s, "zero") == 0)
    *out = TC_PAD_CONSTANT;
  else if (strcasecmp(s, "reflect") == 0)
    *out = TC_PAD_REFLECT;
  else if (strcasecmp(s, "symmetric") == 0)
    *out = TC_PAD_SYMMETRIC;
  else
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "pad mode '%s' is unknown (constant, zero, reflect or symmetric)", s);
  return TC_OK;
}

const char *tc_pad_mode_name(tc_pad_mode m) {
  switch (m) {
  case TC_PAD_CONSTANT:
    return "constant";
  case TC_PAD_REFLECT:
    return "reflect";
  case TC_PAD_SYMMETRIC:
    return "symmetric";
  }
  return "unknown";
}

/* Arena array of n int64. */
static tc_status tc_map_alloc(tc_graph *g, const char *op, int64_t n, int64_t **out) {
  *out = tc_arena_alloc(tc_graph_arena(g), (size_t)n * sizeof(int64_t));
  return *out ? TC_OK : tc_set_error(TC_ERR_NOMEM, "%s: out of memory", op);
}

tc_status tc_op_slice(tc_graph *g, tc_tensor *x, const int64_t *begin, const int64_t *size,
                      tc_tensor **out) {
  TC_TRY(tc_op_check_args("slice", g, out, x, x));
  if (begin == NULL || size == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "slice: begin or size is NULL");
  int64_t shape[TC_MAX_RANK];
  int64_t *maps[TC_MAX_RANK];
  for (int d = 0; d < x->rank; d++) {
    int64_t n = x->shape[d], b = begin[d], s = size[d] == -1 ? n - begin[d] : size[d];
    if (b < 0 || s < 1 || b + s > n)
      return tc_set_error(TC_ERR_SHAPE,
                          "slice: axis %d: begin %lld, size %lld does not fit in %lld (begin >= 0, "
                          "size >= 1 or -1, begin + size <= dim)",
                          d, (long long)b, (long long)size[d], (long long)n);
    shape[d] = s;
    TC_TRY(tc_map_alloc(g, "slice", s, &maps[d]));
    for (int64_t i = 0; i < s; i++)
      maps[d][i] = b + i;
  }
  return tc_op_gather_axes(g, "slice", x, NULL, shape, (const int64_t *const *)maps, 0.0f, out);
}

tc_status tc_op_crop2d(tc_graph *g, tc_tensor *x, int top, int bottom, int left, int right,
                       int channels_first, tc_tensor **out) {
  TC_TRY(tc_op_check_args("crop2d", g, out, x, x));
  if (x->rank != 4)
    return tc_set_error(TC_ERR_SHAPE, "crop2d: input must be rank 4 (an image batch), got rank %d",
                        x->rank);
  int ah = channels_first ? 2 : 1, aw = ah + 1;
  int64_t h = x->shape[ah], w = x->shape[aw];
  if (top < 0 || bottom < 0 || left < 0 || right < 0)
    return tc_set_error(TC_ERR_SHAPE, "crop2d: croppings must be >= 0, got %d %d %d %d", top,
                        bottom, left, right);
  if (top + bottom >= h || left + right >= w)
    return tc_set_error(TC_ERR_SHAPE,
                        "crop2d: cropping %d+%d rows of %lld or %d+%d columns of %lld leaves "
                        "nothing",
                        top, bottom, (long long)h, left, right, (long long)w);
  int64_t begin[4] = {0, 0, 0, 0}, size[4] = {-1, -1, -1, -1};
  begin[ah] = top;
  begin[aw] = left;
  size[ah] = h - top - bottom;
  size[aw] = w - left - right;
  return tc_op_slice(g, x, begin, size, out);
}

/* Source index of output position i of an axis of n elements padded by `before`: -1 for
 * the constant, else the mirror image (reflect skips the edge, symmetric repeats it). */
static int64_t tc_pad_source(int64_t i, int64_t n, int64_t before, tc_pad_mode mode) {
  int64_t j = i - before;
  if (j >= 0 && j < n)
    return j;
  if (mode == TC_PAD_CONSTANT)
    return -1;
  int sym = mode == TC_PAD_SYMMETRIC;
  return j < 0 ? -j - sym : 2 * n - 2 + sym - j;
}

static tc_status tc_pad_check(const tc_tensor *x, const int64_t *p, tc_pad_mode mode) {
  if (mode != TC_PAD_CONSTANT && mode != TC_PAD_REFLECT && mode != TC_PAD_SYMMETRIC)
    return tc_set_error(TC_ERR_INVALID_ARG, "pad: mode %d is unknown", (int)mode);
  for (int d = 0; d < x->rank; d++) {
    int64_t n = x->shape[d], lim = mode == TC_PAD_REFLECT ? n - 1 : n;
    for (int k = 0; k < 2; k++) {
      if (p[2 * d + k] < 0)
        return tc_set_error(TC_ERR_SHAPE, "pad: axis %d: padding %lld is negative", d,
                            (long long)p[2 * d + k]);
      if (mode != TC_PAD_CONSTANT && p[2 * d + k] > lim)
        return tc_set_error(TC_ERR_SHAPE,
                            "pad: axis %d: %s padding %lld is too large for a dim of %lld "
                            "(at most %lld)",
                            d, tc_pad_mode_name(mode), (long long)p[2 * d + k], (long long)n,
                            (long long)lim);
    }
  }
  return TC_OK;
}

tc_status tc_op_pad(tc_graph *g, tc_tensor *x, const int64_t *paddings, tc_pad_mode mode,
                    float constant, tc_tensor **out) {
  TC_TRY(tc_op_check_args("pad", g, out, x, x));
  if (paddings == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "pad: paddings is NULL");
  TC_TRY(tc_pad_check(x, paddings, mode));
  int64_t shape[TC_MAX_RANK];
  int64_t *maps[TC_MAX_RANK];
  for (int d = 0; d < x->rank; d++) {
    shape[d] = x->shape[d] + paddings[2 * d] + paddings[2 * d + 1];
    TC_TRY(tc_map_alloc(g, "pad", shape[d], &maps[d]));
    for (int64_t i = 0; i < shape[d]; i++)
      maps[d][i] = tc_pad_source(i, x->shape[d], paddings[2 * d], mode);
  }
  return tc_op_gather_axes(g, "pad", x, NULL, shape, (const int64_t *const *)maps, constant, out);
}
