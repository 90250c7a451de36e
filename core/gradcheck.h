/* gradcheck.h — checks the gradients of any graph computation (a user's network, a
 * custom op) against central finite differences in double.
 *
 *   static tc_status f(void *ctx, tc_graph *g, tc_tensor *const *in, tc_tensor **y) {
 *     return tc_op_layer_norm(g, in[0], in[1], in[2], 1, (int[]){-1}, 1e-3f, y);
 *   }
 *   tc_tensor *in[3] = {x, gamma, beta};             // owned, tc_tensor_require_grad'ed
 *   const char *names[3] = {"x", "gamma", "beta"};
 *   tc_gradcheck_opts o = tc_gradcheck_opts_default();
 *   tc_gradcheck_report r;
 *   tc_gradcheck(f, NULL, in, names, 3, &o, &r);     // r.passed, r.worst
 *
 * The check takes L = Σ y ⊙ w for a fixed random w in [-1, 1], gets dL/dinput from
 * tc_graph_backward, and compares each sampled coordinate with (L(v+h) - L(v-h)) / 2h,
 * L summed in double from the float32 forward. Tolerance |a - n| <= atol + rtol·max(|a|,|n|):
 * float32 rounding costs about 6e-8·|L|/h in the quotient and truncation h²·L'''/6, both
 * near 1e-4 for h = 1e-2 and values of order 1, while a wrong gradient is off by O(1).
 *
 * Kinks (relu, abs, hinge, max, clip): a coordinate that fails at h is retried at h/4 and
 * h/16, which resolves a kink that lies near but not at v. If it still fails and the
 * one-sided slopes (L(v) - L(v-h))/h and (L(v+h) - L(v))/h differ by more than the
 * tolerance (a slope jump inside the step) while the analytic value lies between them
 * (a subgradient, as TF's conventions pick), the coordinate counts as a kink, not a
 * failure. f must be deterministic (re-seed any dropout stream inside it); it is called
 * 1 + 2..7 times per coordinate with graph recording off for all but the first. */
#ifndef TC_GRADCHECK_PUBLIC_H
#define TC_GRADCHECK_PUBLIC_H

#include <stddef.h>
#include <stdint.h>

#include "core/graph.h"

/* Builds y from the inputs on g (y any shape, in g's arena). */
typedef tc_status (*tc_gradcheck_fn)(void *ctx, tc_graph *g, tc_tensor *const *inputs,
                                     tc_tensor **y);

typedef struct tc_gradcheck_opts {
  double step;    /* h, absolute (default 1e-2) */
  double atol;    /* default 2e-3 */
  double rtol;    /* default 1e-2 */
  int max_coords; /* coordinates per input: all when fewer, random ones beyond (48) */
  uint64_t seed;  /* the weights w and the sampled coordinates (1) */
} tc_gradcheck_opts;

tc_gradcheck_opts tc_gradcheck_opts_default(void);

typedef struct tc_gradcheck_report {
  int passed;          /* 1 when checked > 0 and worst_excess <= 1 */
  int checked;         /* coordinates that agreed or disagreed (kinks excluded) */
  int kinks;           /* coordinates at a slope jump, judged by the subgradient rule */
  double worst_excess; /* max |a - n| / (atol + rtol·max(|a|, |n|)) over checked ones */
  char worst[192];     /* the input, index and both values of the worst coordinate */
} tc_gradcheck_report;

/* Checks n inputs (owned tensors with requires_grad set; their data is perturbed and
 * restored, their grad overwritten). Returns TC_OK when the check ran, whatever it found
 * (read report->passed), or the status of a failing forward/backward, or
 * TC_ERR_INVALID_ARG for bad arguments. names may be NULL ("in0", "in1", ...). Not
 * thread-safe for shared inputs. */
tc_status tc_gradcheck(tc_gradcheck_fn f, void *ctx, tc_tensor *const *inputs,
                       const char *const *names, int n, const tc_gradcheck_opts *opts,
                       tc_gradcheck_report *report);

#endif
