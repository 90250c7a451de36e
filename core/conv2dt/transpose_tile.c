/* transpose_tile.c — a block of a micro-kernel's products written transposed: the
 * few-filter forward's colT (few_fwd_col.c, 6-pixel tiles) and NCHW backward data's dx
 * planes (few_bd.c, blocks of pixels). Four columns of four rows at a time with SSE where
 * the compiler targets it, then rows in pairs (a scalar transpose cost as much as the
 * gather it fed), the rest one at a time; four columns of output rows are written side by
 * side, so each output row gets consecutive stores; streamed around the caches where
 * asked (the caller fences). Only copies: the bits are the tile's. */
#include <stdint.h>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "core/conv2dt/internal.h"

#if defined(__SSE2__)
/* Four floats at p: streamed around the caches where asked and p is 16-byte aligned. */
static inline void store4(float *p, __m128 v, int stream) {
  if (stream && ((uintptr_t)p & 15) == 0)
    _mm_stream_ps(p, v);
  else
    _mm_storeu_ps(p, v);
}

/* Columns [k, k+4) of rows [r0, rows). */
static inline __attribute__((always_inline)) void
four_columns(const float *in, int ldi, int r0, int rows, int k, float *out, int64_t ld,
             const int stream) {
  int r = r0;
  for (; r + 4 <= rows; r += 4) {
    __m128 t0 = _mm_loadu_ps(in + (int64_t)r * ldi + k);
    __m128 t1 = _mm_loadu_ps(in + (int64_t)(r + 1) * ldi + k);
    __m128 t2 = _mm_loadu_ps(in + (int64_t)(r + 2) * ldi + k);
    __m128 t3 = _mm_loadu_ps(in + (int64_t)(r + 3) * ldi + k);
    _MM_TRANSPOSE4_PS(t0, t1, t2, t3);
    store4(out + k * ld + r, t0, stream);
    store4(out + (k + 1) * ld + r, t1, stream);
    store4(out + (k + 2) * ld + r, t2, stream);
    store4(out + (k + 3) * ld + r, t3, stream);
  }
  for (; r + 2 <= rows; r += 2) {
    __m128 a = _mm_loadu_ps(in + (int64_t)r * ldi + k);
    __m128 b = _mm_loadu_ps(in + (int64_t)(r + 1) * ldi + k);
    __m128 lo = _mm_unpacklo_ps(a, b), hi = _mm_unpackhi_ps(a, b);
    _mm_storel_pi((__m64 *)(void *)(out + k * ld + r), lo);
    _mm_storeh_pi((__m64 *)(void *)(out + (k + 1) * ld + r), lo);
    _mm_storel_pi((__m64 *)(void *)(out + (k + 2) * ld + r), hi);
    _mm_storeh_pi((__m64 *)(void *)(out + (k + 3) * ld + r), hi);
  }
  for (; r < rows; r++)
    for (int i = 0; i < 4; i++)
      out[(k + i) * ld + r] = in[(int64_t)r * ldi + k + i];
}
#endif

void tc_ct_transpose(const float *in, int ldi, int rows, int cols, float *out, int64_t ld,
                     int stream) {
  int k = 0;
#if defined(__SSE2__)
  for (; k + 4 <= cols; k += 4)
    if (stream)
      four_columns(in, ldi, 0, rows, k, out, ld, 1);
    else
      four_columns(in, ldi, 0, rows, k, out, ld, 0);
#else
  (void)stream;
#endif
  for (; k < cols; k++)
    for (int r = 0; r < rows; r++)
      out[k * ld + r] = in[(int64_t)r * ldi + k];
}
