/* bw_pack.c — the packing and the packed GEMM that both pixel-chunk forms of backward
 * weights (tasks, slabs) share: per tap, dk[a][b] (F x C) = dy_tap^T (F x P) . x_tap
 * (P x C) over the pixels the tap maps inside the output, x's channels packed as 16-wide
 * panels and dy's filters as MR-wide groups, KP pixels at a time. */
#include <string.h>

#include "core/conv2dt/internal.h"

/* Pixel p0 of the task's grid (n, i in [i0, i1), j in [j0, j1)). */
static void task_pixel(const wtask *T, int64_t p0, int64_t *n, int *i, int *j) {
  int ni = T->i1 - T->i0, nj = T->j1 - T->j0;
  *n = p0 / ((int64_t)ni * nj);
  *i = T->i0 + (int)(p0 / nj % ni), *j = T->j0 + (int)(p0 % nj);
}

static inline void task_next(const wtask *T, int64_t *n, int *i, int *j) {
  if (++*j == T->j1) {
    *j = T->j0;
    if (++*i == T->i1)
      *i = T->i0, ++*n;
  }
}

/* x's channels of pixels [p0, p0+kp) as 16-wide panels (k, 16), zero-padded, KP apart. */
void tc_ct_pack_x(const fgeom *g, const wtask *T, const float *x, int64_t p0, int kp,
                   float *pb) {
  int npan = (int)ceil_div(T->cb, TC_GEMM_NR), i, j, pi, pj;
  int64_t n, pn;
  task_pixel(T, p0, &n, &i, &j);
  task_pixel(T, p0, &pn, &pi, &pj);
  for (int p = 0; p < PF_AHEAD && p < kp; p++)
    task_next(T, &pn, &pi, &pj);
  for (int p = 0; p < kp; p++, task_next(T, &n, &i, &j)) {
    if (p + PF_AHEAD < kp) {
      prefetch_row(x + ((pn * g->h + pi) * g->w + pj) * g->c + T->c0, T->cb);
      task_next(T, &pn, &pi, &pj);
    }
    const float *xv = x + ((n * g->h + i) * g->w + j) * g->c + T->c0;
    for (int jp = 0; jp < npan; jp++)
      copy_w(pb + ((int64_t)jp * KP + p) * TC_GEMM_NR, xv + jp * TC_GEMM_NR,
             T->cb - jp * TC_GEMM_NR, TC_GEMM_NR);
  }
}

/* dy's filters that tap (a, b) reaches from pixels [p0, p0+kp), as MR-wide groups. */
void tc_ct_pack_dy(const fgeom *g, const wtask *T, int a, int b, const float *dy, int64_t p0,
                    int kp, float *pa) {
  int ngr = (int)ceil_div(T->fb, TC_GEMM_MR), i, j, pi, pj;
  int64_t n, pn;
  task_pixel(T, p0, &n, &i, &j);
  task_pixel(T, p0, &pn, &pi, &pj);
  for (int p = 0; p < PF_AHEAD && p < kp; p++)
    task_next(T, &pn, &pi, &pj);
  for (int p = 0; p < kp; p++, task_next(T, &n, &i, &j)) {
    if (p + PF_AHEAD < kp) {
      int64_t qi = (int64_t)pi * g->sh + a - g->pt, qj = (int64_t)pj * g->sw + b - g->pl;
      if (qi >= 0 && qi < g->oh && qj >= 0 && qj < g->ow)
        prefetch_row(dy + ((pn * g->oh + qi) * g->ow + qj) * g->f + T->f0, T->fb);
      task_next(T, &pn, &pi, &pj);
    }
    int64_t oi = (int64_t)i * g->sh + a - g->pt, oj = (int64_t)j * g->sw + b - g->pl;
    if (oi < 0 || oi >= g->oh || oj < 0 || oj >= g->ow) { /* slabs: a tap outside the output */
      for (int gi = 0; gi < ngr; gi++)
        memset(pa + ((int64_t)gi * KP + p) * TC_GEMM_MR, 0, sizeof(float) * TC_GEMM_MR);
      continue;
    }
    const float *dyv = dy + ((n * g->oh + oi) * g->ow + oj) * g->f + T->f0;
    for (int gi = 0; gi < ngr; gi++)
      copy_w(pa + ((int64_t)gi * KP + p) * TC_GEMM_MR, dyv + gi * TC_GEMM_MR,
             T->fb - gi * TC_GEMM_MR, TC_GEMM_MR);
  }
}

/* Where the ISA has gemm64 (AVX-512), the whole 64-column groups: group outer, so a
 * group's A (6 x kp) stays in L1 while B's four panels (64 KiB at kp = 256, more than an
 * L1) stream from L2, as in igemm. Returns the panels done. Panel outer with 64 columns
 * measured 3-6 % slower than the 6x32 tile; group outer -1 to +9 % (docs/kernels.md). */
static int packed_gemm64(int kp, const float *pa, int64_t gs, int rows, const float *pb, int cols,
                         float *tile, int64_t ldc, tc_gemm64_ukr_fn gemm64) {
  int ngr = (int)ceil_div(rows, TC_GEMM_MR), whole = gemm64 ? cols / TC_WIDE_NW * 4 : 0;
  for (int gi = 0; whole > 0 && gi < ngr; gi++) {
    int m = imin(TC_GEMM_MR, rows - gi * TC_GEMM_MR);
    const float *a6[TC_GEMM_MR];
    float *c6[TC_GEMM_MR];
    for (int r = 0; r < TC_GEMM_MR; r++)
      a6[r] = pa + (int64_t)gi * gs * TC_GEMM_MR + r;
    for (int jp = 0; jp < whole; jp += 4) {
      for (int r = 0; r < TC_GEMM_MR; r++)
        c6[r] = tile + (int64_t)(gi * TC_GEMM_MR + (r < m ? r : 0)) * ldc + jp * TC_GEMM_NR;
      const float *bj = pb + (int64_t)jp * KP * TC_GEMM_NR;
      gemm64(1, kp, a6, TC_GEMM_MR, &bj, TC_GEMM_NR, KP * TC_GEMM_NR, c6, m, 1);
    }
  }
  return whole;
}

/* tile (rows x cols, row stride ldc) += pa^T . pb over kp pixels: pa holds the rows as
 * MR-wide groups (k, MR) gs pixels apart, pb the columns as 16-wide panels (k, 16) KP
 * apart. The columns gemm64 does not take: panel outer, one B panel pair (32 KiB) stays in
 * L1 while the A groups stream from L2. Each element is summed in one call either way. */
void tc_ct_packed_gemm(int kp, const float *pa, int64_t gs, int rows, const float *pb, int cols,
                        float *tile, int64_t ldc, const tc_ukr_table *ukr) {
  int ngr = (int)ceil_div(rows, TC_GEMM_MR), npan = (int)ceil_div(cols, TC_GEMM_NR);
  int done = packed_gemm64(kp, pa, gs, rows, pb, cols, tile, ldc, ukr->gemm64);
  for (int jp = done; jp < npan; jp += 2)
    for (int gi = 0; gi < ngr; gi++) {
      int m = imin(TC_GEMM_MR, rows - gi * TC_GEMM_MR);
      const float *a6[TC_GEMM_MR];
      float *c6[TC_GEMM_MR];
      for (int r = 0; r < TC_GEMM_MR; r++) {
        a6[r] = pa + (int64_t)gi * gs * TC_GEMM_MR + r;
        c6[r] = tile + (int64_t)(gi * TC_GEMM_MR + (r < m ? r : 0)) * ldc + jp * TC_GEMM_NR;
      }
      const float *bj = pb + (int64_t)jp * KP * TC_GEMM_NR;
      ukr->gemm(1, kp, a6, TC_GEMM_MR, &bj, TC_GEMM_NR, KP * TC_GEMM_NR, c6, m,
          imin(TC_GEMM_NC, cols - jp * TC_GEMM_NR), 1);
    }
}

/* The task's dk tiles: each its tap's sum over the shared pixels, KP at a time in pixel
 * order (the order depends on the tap's pixel range only, not on the task split). */
