/* fdcheck.h — finite-difference gradient checks of any graph computation, for the tests.
 *
 * The computation is a callback that builds y from its inputs on a graph; the check takes
 * L = Σ y ⊙ w for a fixed random w, gets dL/dinput from tc_graph_backward, and compares
 * it with central differences (L(v+h) - L(v-h)) / 2h, L summed in double from the float
 * forward. Inputs must be owned tensors with requires_grad set.
 *
 * Tolerance: the float forward carries rounding of about 6e-8·|y|·√size per evaluation,
 * which the quotient divides by 2h; with h = 1e-2 and values of order 1 that stays below
 * 1e-4, as does the truncation error h²·L'''/6 for smooth ops. The step is absolute, not
 * scaled by |v|: batch norm's L''' is large enough that a step of 5e-2 on inputs near 5
 * already costs 3%. A wrong gradient is off by O(1), so atol 2e-3 + rtol 1e-2 separates
 * the two. */
#ifndef TC_FDCHECK_H
#define TC_FDCHECK_H

#include <stdint.h>

#include "core/graph.h"

typedef tc_status (*tc_fd_forward)(void *ctx, tc_graph *g, tc_tensor **y);

/* Checks up to max_coords coordinates (all when the tensor is smaller, random ones
 * otherwise) of each of the n inputs; fails the running Check test with the name, the
 * index and both values when one is off. Returns the worst |a-n|/(atol+rtol·max). */
double tc_fd_check(tc_fd_forward f, void *ctx, tc_tensor *const *inputs,
                   const char *const *names, int n, int max_coords, uint64_t seed);

#endif
