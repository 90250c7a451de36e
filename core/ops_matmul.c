/* ops_matmul.c — 2-D matrix product and its two gradients.
 *
 * Three products, one per need of the op, each parallel over the rows of the matrix it
 * writes, each row panel computed by the kernels of the ISA in use (core/ukr/mm.h):
 *   C  += A . B      (MxK)(KxN): panels of TC_MM_ROWS rows of C
 *   dA += dC . B^T   (MxN)(NxK): panels of rows of dA, dot products of contiguous rows
 *   dB += A^T . dC   (KxM)(MxN): panels of TC_MM_ROWS rows of dB
 * Every output element is summed by one thread in a fixed order that every ISA keeps: the
 * same bits for any thread count and any ISA. */
#include <omp.h>
#include <string.h>

#include "core/ops_extra.h"
#include "core/ops_util.h"
#include "core/ukr/ukr.h"

/* Below this many multiply-adds a team's wake-up costs more than it saves. */
#define TC_MM_PARALLEL 32768

static void mm_nn(const tc_mm_kernels *mm, const float *a, const float *b, float *c,
                  int64_t m, int64_t k, int64_t n) {
  int64_t panels = (m + TC_MM_ROWS - 1) / TC_MM_ROWS;
#pragma omp parallel for if (m * k * n > TC_MM_PARALLEL) schedule(static)
  for (int64_t pi = 0; pi < panels; pi++) {
    int64_t i0 = pi * TC_MM_ROWS;
    mm->nn(a, b, c, i0, i0 + TC_MM_ROWS < m ? i0 + TC_MM_ROWS : m, k, n);
  }
}

/* da (m x k) += dc (m x n) . b^T, b (k x n): panels of TC_MM_ROWS rows of da, which read b
 * once per panel; a row per call where there are fewer panels than threads (a batch of 8
 * would leave one thread idle). Each element sums in the same order either way. */
static void mm_nt(const tc_mm_kernels *mm, const float *dc, const float *b, float *da,
                  int64_t m, int64_t k, int64_t n) {
  int64_t rows = (m + TC_MM_ROWS - 1) / TC_MM_ROWS >= omp_get_max_threads() ? TC_MM_ROWS : 1;
  int64_t panels = (m + rows - 1) / rows;
#pragma omp parallel for if (m * k * n > TC_MM_PARALLEL) schedule(static)
  for (int64_t pi = 0; pi < panels; pi++) {
    int64_t i0 = pi * rows;
    mm->nt(dc, b, da, i0, i0 + rows < m ? i0 + rows : m, k, n);
  }
}

/* db (k x n) += a^T . dc, a (m x k), dc (m x n). */
static void mm_tn(const tc_mm_kernels *mm, const float *a, const float *dc, float *db,
                  int64_t m, int64_t k, int64_t n) {
  int64_t panels = (k + TC_MM_ROWS - 1) / TC_MM_ROWS;
#pragma omp parallel for if (m * k * n > TC_MM_PARALLEL) schedule(static)
  for (int64_t pi = 0; pi < panels; pi++) {
    int64_t p0 = pi * TC_MM_ROWS;
    mm->tn(a, dc, db, p0, p0 + TC_MM_ROWS < k ? p0 + TC_MM_ROWS : k, m, k, n);
  }
}

static tc_status matmul_backward(tc_node *node) {
  tc_tensor *a = node->in[0], *b = node->in[1];
  int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
  const tc_ukr_table *t;
  TC_TRY(tc_ukr_default(&t));
  if (a->requires_grad)
    mm_nt(t->mm, node->out->grad, b->data, a->grad, m, k, n);
  if (b->requires_grad)
    mm_tn(t->mm, a->data, node->out->grad, b->grad, m, k, n);
  return TC_OK;
}

tc_status tc_op_matmul(tc_graph *g, tc_tensor *a, tc_tensor *b, tc_tensor **out) {
  TC_TRY(tc_op_check_args("matmul", g, out, a, b));
  char sa[96], sb[96];
  if (a->rank != 2 || b->rank != 2)
    return tc_set_error(TC_ERR_SHAPE, "matmul: operands must be rank 2, got %s and %s",
                        tc_shape_str(a, sa, sizeof sa), tc_shape_str(b, sb, sizeof sb));
  if (a->shape[1] != b->shape[0])
    return tc_set_error(TC_ERR_SHAPE,
                        "matmul: %s · %s: inner dimensions %lld and %lld differ",
                        tc_shape_str(a, sa, sizeof sa), tc_shape_str(b, sb, sizeof sb),
                        (long long)a->shape[1], (long long)b->shape[0]);
  const tc_ukr_table *t;
  TC_TRY(tc_ukr_default(&t));
  int64_t ys[2] = {a->shape[0], b->shape[1]};
  tc_tensor *in[2] = {a, b}, *y;
  TC_TRY(tc_graph_new_output(g, &y, 2, ys, in, 2));
  memset(y->data, 0, (size_t)y->size * sizeof(float));
  mm_nn(t->mm, a->data, b->data, y->data, a->shape[0], a->shape[1], b->shape[1]);
  TC_TRY(tc_graph_record(g, "matmul", matmul_backward, y, in, 2, NULL));
  *out = y;
  return TC_OK;
}
