/* gradcheck.h — analytic gradients of the conv2d_transpose op (+ activation) against
 * central finite differences, on random configurations. */
#ifndef TC_GRADCHECK_H
#define TC_GRADCHECK_H

#include <stdint.h>

#include "core/activation.h"
#include "core/conv2dt.h"

typedef struct tc_gradcheck_config {
  tc_conv2dt_params params;
  int64_t n;
  int h, w, c;
  tc_activation act;
  int use_bias;
} tc_gradcheck_config;

typedef struct tc_gradcheck_result {
  int checked;         /* coordinates compared */
  int skipped_kinks;   /* coordinates whose ±h step crossed an activation kink */
  double worst_excess; /* max over coordinates of |a-n| / (atol + rtol*max(|a|,|n|)); <= 1 passes */
  char worst[160];     /* which tensor and coordinate, with both values */
} tc_gradcheck_result;

/* Draws configuration number `index` of the stream `seed` (every activation, padding,
 * layout, stride, dilation, output_padding and groups appear). */
void tc_gradcheck_draw(uint64_t seed, int index, tc_gradcheck_config *cfg);

/* Describes cfg in one line. */
void tc_gradcheck_describe(const tc_gradcheck_config *cfg, char *buf, size_t cap);

/* Runs one check with random data from (seed, index). */
tc_status tc_gradcheck_run(const tc_gradcheck_config *cfg, uint64_t seed, int index,
                           tc_gradcheck_result *out);

#endif
