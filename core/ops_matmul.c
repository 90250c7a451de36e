/* ops_matmul.c — 2-D matrix product and its two gradients.
 *
 * Three loop nests, one per product the op needs, each parallel over the rows of the
 * matrix it writes and each with a contiguous innermost loop so it vectorizes:
 *   C  += A · B      (M×K)(K×N): i-k-j, row i of C streams rows of B
 *   dA += dC · Bᵀ    (M×N)(N×K): i-k-j with a dot product over j, both rows contiguous
 *   dB += Aᵀ · dC    (K×M)(M×N): k-i-j, row k of dB streams rows of dC
 * Every output element is summed by one thread in a fixed order: the same bits for any
 * thread count. The two streaming products work on panels of TC_MM_ROWS output rows and
 * TC_MM_BLOCK_J columns (8 KB, in L1) while the reduction index sweeps, so each loaded
 * segment of B (or dC) is used TC_MM_ROWS times. */
#include <string.h>

#include "core/ops_extra.h"
#include "core/ops_util.h"

#define TC_MM_BLOCK_J 256
#define TC_MM_ROWS 8
/* Below this many multiply-adds a team's wake-up costs more than it saves. */
#define TC_MM_PARALLEL 32768

/* c (m×n) += a (m×k) · b (k×n). A panel of TC_MM_ROWS rows of c is updated together, so
 * each segment of a row of b, once loaded, serves them all from L1. */
static void mm_nn(const float *a, const float *b, float *c, int64_t m, int64_t k, int64_t n) {
  int64_t panels = (m + TC_MM_ROWS - 1) / TC_MM_ROWS;
#pragma omp parallel for if (m * k * n > TC_MM_PARALLEL) schedule(static)
  for (int64_t pi = 0; pi < panels; pi++) {
    int64_t i0 = pi * TC_MM_ROWS, i1 = i0 + TC_MM_ROWS < m ? i0 + TC_MM_ROWS : m;
    for (int64_t j0 = 0; j0 < n; j0 += TC_MM_BLOCK_J) {
      int64_t j1 = j0 + TC_MM_BLOCK_J < n ? j0 + TC_MM_BLOCK_J : n;
      for (int64_t p = 0; p < k; p++) {
        const float *bp = b + p * n;
        for (int64_t i = i0; i < i1; i++) {
          float aip = a[i * k + p];
          float *ci = c + i * n;
          for (int64_t j = j0; j < j1; j++)
            ci[j] += aip * bp[j];
        }
      }
    }
  }
}

/* Σ x[j]·y[j] in 8 interleaved partial sums combined in a fixed order: vectorizable
 * without reassociating (no -ffast-math), and the same bits on every run. */
static float dot(const float *x, const float *y, int64_t n) {
  float lane[8] = {0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; l++)
      lane[l] += x[j + l] * y[j + l];
  float acc = ((lane[0] + lane[4]) + (lane[1] + lane[5])) +
              ((lane[2] + lane[6]) + (lane[3] + lane[7]));
  for (; j < n; j++)
    acc += x[j] * y[j];
  return acc;
}

/* da (m×k) += dc (m×n) · bᵀ, b (k×n): a dot product of two contiguous rows per element. */
static void mm_nt(const float *dc, const float *b, float *da, int64_t m, int64_t k,
                  int64_t n) {
#pragma omp parallel for if (m * k * n > TC_MM_PARALLEL) schedule(static)
  for (int64_t i = 0; i < m; i++)
    for (int64_t p = 0; p < k; p++)
      da[i * k + p] += dot(dc + i * n, b + p * n, n);
}

/* db (k×n) += aᵀ · dc, a (m×k), dc (m×n); panels of rows of db as in mm_nn. */
static void mm_tn(const float *a, const float *dc, float *db, int64_t m, int64_t k,
                  int64_t n) {
  int64_t panels = (k + TC_MM_ROWS - 1) / TC_MM_ROWS;
#pragma omp parallel for if (m * k * n > TC_MM_PARALLEL) schedule(static)
  for (int64_t pi = 0; pi < panels; pi++) {
    int64_t p0 = pi * TC_MM_ROWS, p1 = p0 + TC_MM_ROWS < k ? p0 + TC_MM_ROWS : k;
    for (int64_t j0 = 0; j0 < n; j0 += TC_MM_BLOCK_J) {
      int64_t j1 = j0 + TC_MM_BLOCK_J < n ? j0 + TC_MM_BLOCK_J : n;
      for (int64_t i = 0; i < m; i++) {
        const float *di = dc + i * n;
        for (int64_t p = p0; p < p1; p++) {
          float aip = a[i * k + p];
          float *dp = db + p * n;
          for (int64_t j = j0; j < j1; j++)
            dp[j] += aip * di[j];
        }
      }
    }
  }
}

static tc_status matmul_backward(tc_node *node) {
  tc_tensor *a = node->in[0], *b = node->in[1];
  int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
  if (a->requires_grad)
    mm_nt(node->out->grad, b->data, a->grad, m, k, n);
  if (b->requires_grad)
    mm_tn(a->data, node->out->grad, b->grad, m, k, n);
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
  int64_t ys[2] = {a->shape[0], b->shape[1]};
  tc_tensor *in[2] = {a, b}, *y;
  TC_TRY(tc_graph_new_output(g, &y, 2, ys, in, 2));
  memset(y->data, 0, (size_t)y->size * sizeof(float));
  mm_nn(a->data, b->data, y->data, a->shape[0], a->shape[1], b->shape[1]);
  TC_TRY(tc_graph_record(g, "matmul", matmul_backward, y, in, 2, NULL));
  *out = y;
  return TC_OK;
}
