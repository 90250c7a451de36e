/* initializer_icnr.c — ICNR for Conv2DTranspose kernels (initializer.h): the base draws one
 * sub-kernel, which nearest-neighbour resizing copies to every output phase. */
#include <string.h>

#include "layers/initializer_icnr.h"

tc_status tc_icnr_check(const tc_initializer *in, int rank, const int64_t *shape) {
  if (in->icnr_stride[0] < 1 || in->icnr_stride[1] < 1)
    return tc_set_error(TC_ERR_INVALID_ARG, "icnr applies only to the kernel of a "
                        "conv2d_transpose layer (it needs the strides)");
  if (rank != 4)
    return tc_set_error(TC_ERR_SHAPE, "icnr: the kernel must be 4-d, got rank %d", rank);
  if (shape[0] % in->icnr_stride[0] != 0 || shape[1] % in->icnr_stride[1] != 0)
    return tc_set_error(TC_ERR_SHAPE, "icnr: kernel %lldx%lld is not divisible by the strides "
                        "%dx%d (each output phase needs kernel/stride taps)",
                        (long long)shape[0], (long long)shape[1], in->icnr_stride[0],
                        in->icnr_stride[1]);
  tc_initializer base = *in;
  base.icnr = 0;
  int64_t small[4] = {shape[0] / in->icnr_stride[0], shape[1] / in->icnr_stride[1], shape[2],
                      shape[3]};
  return tc_initializer_check(&base, 4, small);
}

tc_status tc_icnr_apply(const tc_initializer *in, tc_tensor *t, uint64_t seed,
                        uint64_t stream) {
  TC_TRY(tc_icnr_check(in, t->rank, t->shape));
  int sh = in->icnr_stride[0], sw = in->icnr_stride[1];
  int64_t small[4] = {t->shape[0] / sh, t->shape[1] / sw, t->shape[2], t->shape[3]};
  tc_tensor *w;
  TC_TRY(tc_tensor_create(&w, 4, small));
  tc_initializer base = *in;
  base.icnr = 0;
  tc_status s = tc_initializer_apply(&base, w, seed, stream);
  int64_t inner = small[2] * small[3]; /* F*C contiguous per tap */
  for (int64_t i = 0; s == TC_OK && i < t->shape[0]; i++)
    for (int64_t j = 0; j < t->shape[1]; j++)
      memcpy(t->data + (i * t->shape[1] + j) * inner,
             w->data + ((i / sh) * small[1] + j / sw) * inner, (size_t)inner * sizeof(float));
  tc_tensor_free(w);
  return s;
}
