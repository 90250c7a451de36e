/* bw_slabs.c — backward weights over pixel slabs, where dk is small (F <= 192, C <= 256):
 * a fixed number of slabs (plan->slabs, a function of the shape only) each sum every tap
 * into their own partial dk, x packed once per chunk for all taps, and the partials are
 * added in slab order. With stride 1 the chunk's dy region is packed once and every tap
 * reads it shifted; with stride > 1 one packing serves a kernel-row class, and small
 * images go several to a chunk as the wide kernel's pairs. */
#include <omp.h>
#include <string.h>

#include "core/conv2dt/internal.h"

/* Slab chunks of whole input rows: rows per chunk such that the chunk has at most KP
 * pixels and the dy region its taps reach, ((rows-1)*sh + kh) x ((W-1)*sw + kw) pixels of
 * F (rounded up to MR) filters, fits REGION_FLOATS. 0 (pack per tap instead) unless the
 * stride is 1, where every dy pixel serves all kh*kw taps (measured: with stride 2 the
 * shorter micro-kernel calls cost more than the packing saves), or when W > KP. */
static int region_rows(const fgeom *g) {
  if (g->w > KP || g->sh != 1 || g->sw != 1)
    return 0;
  int64_t pw = (int64_t)(g->w - 1) * g->sw + g->kw, fpad = ceil_div(g->f, TC_GEMM_MR) * TC_GEMM_MR;
  int rows = KP / g->w;
  while (rows > 0 && ((int64_t)(rows - 1) * g->sh + g->kh) * pw * fpad > REGION_FLOATS)
    rows--;
  return rows;
}

/* dy of image n at rows oi0 + q*di (q < nr) and columns oj0 + c*dj (c < nc), as MR-wide
 * filter groups gs pixels apart: pixel (q, c) of group gi at pa + (gi*gs + q*nc + c)*MR,
 * zero outside the output. */
static void pack_dy_grid(const fgeom *g, const float *dy, int64_t n, int64_t oi0, int di,
                         int nr, int64_t oj0, int dj, int nc, int64_t gs, float *pa) {
  const int ngr = (int)ceil_div(g->f, TC_GEMM_MR);
  for (int q = 0; q < nr; q++) {
    int64_t oi = oi0 + (int64_t)q * di;
    for (int c = 0; c < nc; c++) {
      int64_t oj = oj0 + (int64_t)c * dj, p = (int64_t)q * nc + c;
      if (oi < 0 || oi >= g->oh || oj < 0 || oj >= g->ow) {
        for (int gi = 0; gi < ngr; gi++)
          memset(pa + (gi * gs + p) * TC_GEMM_MR, 0, sizeof(float) * TC_GEMM_MR);
        continue;
      }
      const float *v = dy + ((n * g->oh + oi) * g->ow + oj) * g->f;
      if (oj + PF_AHEAD * dj < g->ow) /* the row's pixel ahead: the copy stalls without */
        prefetch_row(v + (int64_t)PF_AHEAD * dj * g->f, g->f);
      for (int gi = 0; gi < ngr; gi++)
        copy_w(pa + (gi * gs + p) * TC_GEMM_MR, v + gi * TC_GEMM_MR, g->f - gi * TC_GEMM_MR,
               TC_GEMM_MR);
    }
  }
}

/* The dy region of input rows [i0, i0+rows) of image n (stride 1): region pixel (q, c) is
 * dy pixel (i0 - pt + q, c - pl), rsz = ph*pw pixels per filter group. */
static void pack_dy_region(const fgeom *g, const float *dy, int64_t n, int i0, int rows,
                           float *pa) {
  const int pw = (g->w - 1) * g->sw + g->kw, ph = (rows - 1) * g->sh + g->kh;
  pack_dy_grid(g, dy, n, (int64_t)i0 * g->sh - g->pt, 1, ph, -g->pl, 1, pw, (int64_t)ph * pw,
               pa);
}

/* One chunk: every tap's dk[a][b] += its shifted dy region rows (step sw*MR along a row,
 * one pair per input row) times the chunk's packed x rows, 64 columns per wide-kernel
 * call. Column block outer, so the block's x panels stay in cache while the taps and
 * filter groups run. */
static void region_gemm(const fgeom *g, int rows, const float *pa, const float *pb,
                        float *part, tc_wide_ukr_fn wide) {
  const int pw = (g->w - 1) * g->sw + g->kw, ph = (rows - 1) * g->sh + g->kh;
  const int64_t rsz = (int64_t)ph * pw;
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int jp = 0; jp * TC_GEMM_NR < g->c; jp += TC_WIDE_NV)
    for (int a = 0; a < g->kh; a++)
      for (int b = 0; b < g->kw; b++)
        for (int f0 = 0; f0 < g->f; f0 += TC_GEMM_MR) {
          int m = imin(TC_GEMM_MR, g->f - f0);
          const float *grp = pa + (int64_t)(f0 / TC_GEMM_MR) * rsz * TC_GEMM_MR;
          for (int r = 0; r < TC_GEMM_MR; r++) {
            a6[r] = grp + ((int64_t)a * pw + b) * TC_GEMM_MR + r;
            c6[r] = part + (((int64_t)a * g->kw + b) * g->f + f0 + imin(r, m - 1)) * g->c +
                    jp * TC_GEMM_NR;
          }
          /* pair t: input row t of the chunk, its dy rows sh*t further on */
          tc_wide_steps st = {rows, g->w, (ptrdiff_t)g->sh * pw * TC_GEMM_MR,
                              (ptrdiff_t)g->sw * TC_GEMM_MR, pb + (int64_t)jp * KP * TC_GEMM_NR,
                              (ptrdiff_t)g->w * TC_GEMM_NR, TC_GEMM_NR, KP * TC_GEMM_NR};
          wide(&st, a6, c6, m, imin(TC_WIDE_NW, g->c - jp * TC_GEMM_NR), 1);
        }
}

/* Stride > 1, whole-row chunks: tap a0 + t*sh reads at input row i what tap a0 reads at
 * row i + t, so one packing of dy for (a0, b) over th - 1 extra rows serves every tap of
 * that kernel-row class, shifted by t rows (k stays contiguous: the chunk is whole rows).
 * Rows per chunk: at most KP pixels, the packed rows within REGION_FLOATS; 0 (one packing
 * per tap instead) for stride 1, which has the region form, for kh <= sh, or W > KP. */
static int shift_rows(const fgeom *g) {
  int64_t th = ceil_div(g->kh, g->sh), fpad = ceil_div(g->f, TC_GEMM_MR) * TC_GEMM_MR;
  if (g->w > KP || (g->sh == 1 && g->sw == 1) || th < 2) /* th 1: nothing to share */
    return 0;
  int rows = KP / g->w;
  while (rows > 0 && (rows + th - 1) * g->w * fpad > REGION_FLOATS)
    rows--;
  return rows;
}

/* Small images (stride > 1): m whole images per chunk, each image's dy grid for a virtual
 * tap (H + th - 1 rows of W pixels) one after another, and one wide-kernel call per
 * tap, filter group and 64 columns takes the m images as its pairs (H*W pixels each, A
 * and B in the packed buffers), so the k of a call is the chunk's, not one image's: 7 x 7
 * images (fmnist1) called the micro-kernel with k = 49 and ran 10 % slower (Zen 3). */
/* dk (F x C) += the m images' products: A from pa (filter groups gs pixels apart, image
 * e's pixels img after image e-1's), B the chunk's packed x, each image one pair. */
static void images_gemm(const fgeom *g, const float *pa, int64_t gs, int64_t img, int m,
                        const float *pb, float *dk, tc_wide_ukr_fn wide) {
  const int hw = g->h * g->w;
  const float *a6[TC_GEMM_MR];
  float *c6[TC_GEMM_MR];
  for (int f0 = 0; f0 < g->f; f0 += TC_GEMM_MR) {
    int fm = imin(TC_GEMM_MR, g->f - f0);
    for (int r = 0; r < TC_GEMM_MR; r++)
      a6[r] = pa + (int64_t)f0 * gs + r;
    for (int j = 0; j < g->c; j += TC_WIDE_NW) {
      for (int r = 0; r < TC_GEMM_MR; r++)
        c6[r] = dk + (int64_t)(f0 + imin(r, fm - 1)) * g->c + j;
      tc_wide_steps st = {m, hw, img * TC_GEMM_MR, TC_GEMM_MR, pb + (int64_t)j * KP,
                          (ptrdiff_t)hw * TC_GEMM_NR, TC_GEMM_NR, KP * TC_GEMM_NR};
      wide(&st, a6, c6, fm, imin(TC_WIDE_NW, g->c - j), 1);
    }
  }
}

static void shift_images(const fgeom *g, const float *dy, int64_t n0, int m, const float *pb,
                         float *pa, float *part, tc_wide_ukr_fn wide) {
  const int th = (int)ceil_div(g->kh, g->sh);
  const int64_t img = (int64_t)(g->h + th - 1) * g->w, gs = img * m;
  for (int a0 = 0; a0 < g->sh && a0 < g->kh; a0++)
    for (int b = 0; b < g->kw; b++) {
      int ta = (int)ceil_div(g->kh - a0, g->sh);
      for (int e = 0; e < m; e++)
        pack_dy_grid(g, dy, n0 + e, a0 - g->pt, g->sh, g->h + ta - 1, b - g->pl, g->sw, g->w,
                     gs, pa + e * img * TC_GEMM_MR);
      for (int t = 0; t < ta; t++) /* tap a0 + t*sh: the grids t rows further on */
        images_gemm(g, pa + (int64_t)t * g->w * TC_GEMM_MR, gs, img, m, pb,
                    part + ((int64_t)(a0 + t * g->sh) * g->kw + b) * g->f * g->c, wide);
    }
}

/* Whole images per chunk of the shift form: as many as its rows take, at most one wide
 * call's pairs, where their dy grids fit REGION_FLOATS; 0 (chunks within one image) unless
 * that is at least two. */
static int images_per_chunk(const fgeom *g) {
  const int64_t th = ceil_div(g->kh, g->sh), fpad = ceil_div(g->f, TC_GEMM_MR) * TC_GEMM_MR;
  int m = imin(shift_rows(g) / g->h, TC_WIDE_MAXNT);
  while (m >= 2 && m * (g->h + th - 1) * g->w * fpad > REGION_FLOATS)
    m--;
  return m >= 2 ? m : 0;
}

/* One chunk of the shift form within image n: input rows [i0, i0 + rows). */
static void shift_chunk(const fgeom *g, const float *dy, int64_t n, int i0, int rows,
                        const float *pb, float *pa, float *part, const tc_ukr_table *ukr) {
  const int64_t gs = (int64_t)(rows + ceil_div(g->kh, g->sh) - 1) * g->w;
  for (int a0 = 0; a0 < g->sh && a0 < g->kh; a0++)
    for (int b = 0; b < g->kw; b++) {
      int ta = (int)ceil_div(g->kh - a0, g->sh); /* taps a0 + t*sh */
      /* what the virtual tap (a0, b) reaches from rows [i0, i0 + rows + ta - 1): rows
       * past the image included, their dy rows may still exist */
      pack_dy_grid(g, dy, n, (int64_t)i0 * g->sh + a0 - g->pt, g->sh, rows + ta - 1,
                   b - g->pl, g->sw, g->w, gs, pa);
      for (int t = 0; t < ta; t++) {
        int a = a0 + t * g->sh;
        tc_ct_packed_gemm(rows * g->w, pa + (int64_t)t * g->w * TC_GEMM_MR, gs, g->f, pb, g->c,
                          part + ((int64_t)a * g->kw + b) * g->f * g->c, g->c, ukr);
      }
    }
}

/* The shift form over input rows [r0s, r1s) (all images' rows in a row): whole images
 * several at a time where they are small (shift_images), else chunks within one image. */
static void shift_slab(const fgeom *g, const float *x, const float *dy, int64_t r0s, int64_t r1s,
                       float *part, float *pa, float *pb, const tc_ukr_table *ukr) {
  const wtask T = {0, g->kh, 0, g->kw, 0, g->kh * g->kw, 0, g->f, 0, g->c, 0, g->h, 0, g->w};
  const int sr = shift_rows(g), mi = images_per_chunk(g);
  for (int64_t r0 = r0s; r0 < r1s;) {
    int64_t n = r0 / g->h;
    int64_t left = (r1s - r0) / g->h; /* whole images left in the slab */
    int i0 = (int)(r0 % g->h), m = left < mi ? (int)left : mi;
    if (i0 == 0 && m >= 2) {
      tc_ct_pack_x(g, &T, x, r0 * g->w, m * g->h * g->w, pb);
      shift_images(g, dy, n, m, pb, pa, part, ukr->wide);
      r0 += (int64_t)m * g->h;
      continue;
    }
    int rows = (int)imin(sr, g->h - i0);
    rows = (int)(r1s - r0 < rows ? r1s - r0 : rows);
    tc_ct_pack_x(g, &T, x, r0 * g->w, rows * g->w, pb);
    shift_chunk(g, dy, n, i0, rows, pb, pa, part, ukr);
    r0 += rows;
  }
}

/* dk = the S partials (count floats each) added in slab order; worksharing inside, called
 * by every thread of the team. */
void tc_ct_add_slabs(const float *part, int S, int64_t count, float *dk) {
  enum { BLOCK = 2048 }; /* slab by slab over a block: contiguous, vectorised adds */
#pragma omp for schedule(static)
  for (int64_t e0 = 0; e0 < count; e0 += BLOCK) {
    int64_t e1 = e0 + BLOCK < count ? e0 + BLOCK : count;
    memcpy(dk + e0, part + e0, sizeof(float) * (size_t)(e1 - e0));
    for (int s = 1; s < S; s++) {
      const float *ps = part + (int64_t)s * count;
      for (int64_t e = e0; e < e1; e++)
        dk[e] += ps[e];
    }
  }
}

/* Slab s of S of every input pixel (the whole grid; a tap that leaves the output reads
 * zeros) into part: x packed once per chunk for every tap. With whole-row chunks the dy
 * region of the chunk is packed once too and every tap reads it shifted; else each tap's
 * dy is packed in turn (its rows then come from L2). */
static void slab_weights(const fgeom *g, const float *x, const float *dy, int s, int S,
                         float *part, float *pa, float *pb, const tc_ukr_table *ukr) {
  wtask T = {0, g->kh, 0, g->kw, 0, g->kh * g->kw, 0, g->f, 0, g->c, 0, g->h, 0, g->w};
  memset(part, 0, sizeof(float) * (size_t)g->kh * (size_t)g->kw * (size_t)g->f * (size_t)g->c);
  const int rr = region_rows(g);
  if (rr > 0) {
    const int64_t nrows = g->n * g->h, r0s = nrows * s / S, r1s = nrows * (s + 1) / S;
    for (int64_t r0 = r0s; r0 < r1s;) {
      int64_t n = r0 / g->h;
      int i0 = (int)(r0 % g->h);
      int rows = (int)imin(rr, g->h - i0);
      rows = (int)(r1s - r0 < rows ? r1s - r0 : rows);
      tc_ct_pack_x(g, &T, x, r0 * g->w, rows * g->w, pb);
      pack_dy_region(g, dy, n, i0, rows, pa);
      region_gemm(g, rows, pa, pb, part, ukr->wide);
      r0 += rows;
    }
    return;
  }
  if (shift_rows(g) > 0) {
    const int64_t nrows = g->n * g->h;
    shift_slab(g, x, dy, nrows * s / S, nrows * (s + 1) / S, part, pa, pb, ukr);
    return;
  }
  const int64_t npix = g->n * g->h * g->w, p0s = npix * s / S, p1s = npix * (s + 1) / S;
  for (int64_t p0 = p0s; p0 < p1s; p0 += KP) {
    int kp = (int)(p1s - p0 < KP ? p1s - p0 : KP);
    tc_ct_pack_x(g, &T, x, p0, kp, pb);
    for (int a = 0; a < g->kh; a++)
      for (int b = 0; b < g->kw; b++) {
        tc_ct_pack_dy(g, &T, a, b, dy, p0, kp, pa);
        tc_ct_packed_gemm(kp, pa, KP, g->f, pb, g->c, part + ((int64_t)a * g->kw + b) * g->f * g->c,
                    g->c, ukr);
      }
  }
}

/* Backward weights over S pixel slabs: each into its own partial dk, added in slab order. */
void tc_ct_slabs_backward_weights(const tc_conv2dt_plan *plan, const float *x, const float *dy,
                                  float *dk, void *ws) {
  const fgeom gg = fgeom_of(plan), *g = &gg;
  const int S = plan->slabs;
  const int64_t dkf = (int64_t)g->kh * g->kw * g->f * g->c;
  float *part = (float *)ws;
  const tc_ukr_table *ukr = plan->ukr;
#pragma omp parallel num_threads(tc_ct_team(plan))
  {
    float *pa = (float *)(void *)tc_ct_thread_ws(plan, ws), *pb = pa + (size_t)REGION_FLOATS;
#pragma omp for schedule(dynamic, 1)
    for (int s = 0; s < S; s++)
      slab_weights(g, x, dy, s, S, part + s * dkf, pa, pb, ukr);
    tc_ct_add_slabs(part, S, dkf, dk);
  }
}

