/* png_grid.h — a grid of grayscale (or RGB) images written to one 8-bit PNG, atomically.
 *
 *   tc_png_grid g = {.images = x, .n = 64, .h = 28, .w = 28, .rows = 8, .cols = 8};
 *   g.pairs = recon;                         // optional: reconstructions beside originals
 *   if (tc_png_grid_write("samples/epoch_3.png", &g) != TC_OK) ... tc_last_error() ...;
 *
 * Layout: rows x cols cells separated (and framed) by a 1-pixel gap of mid-gray
 * (TC_PNG_GAP_VALUE). A cell is one h x w image, or with `pairs` an image and its
 * reconstruction side by side (2w wide, no gap between the two). Cells past n stay gap-gray.
 * With channels 3 the images are (n, h, w, 3) RGB and the PNG is RGB. Values map linearly to 0..255 from [0, 1], or from [-1, 1] with signed_range; values
 * outside are clamped, NaN shows as 0. The file is written to a temporary in the same
 * directory, flushed, fsync'd and renamed over path, so a crash never leaves half a PNG.
 * Nothing prints: libpng's errors and warnings are caught and become statuses. */
#ifndef TC_PNG_GRID_H
#define TC_PNG_GRID_H

#include <stdint.h>

#include "core/status.h"

#define TC_PNG_GAP_VALUE 128

typedef struct tc_png_grid {
  const float *images; /* (n, h, w) */
  const float *pairs;  /* NULL, or (n, h, w) drawn to the right of each image */
  int64_t n;           /* images available (cells beyond n are left blank) */
  int h, w;            /* one image's size */
  int rows, cols;      /* grid size; 0 and 0: a near-square grid that holds n cells */
  int signed_range;    /* 0: values in [0,1]; 1: values in [-1,1] */
  int channels;        /* 0 or 1: grey; 3: RGB, channels last */
} tc_png_grid;

/* The pixel size of the grid image (rows/cols defaults filled in). Errors:
 * TC_ERR_INVALID_ARG (NULL, no images, n < 0, a negative or only one zero rows/cols),
 * TC_ERR_SHAPE (h or w < 1, a grid over 65535 pixels a side). */
tc_status tc_png_grid_size(const tc_png_grid *g, int *height, int *width);

/* Renders the grid into pixels (height*width*channels bytes, from tc_png_grid_size); errors
 * as tc_png_grid_size, and TC_ERR_INVALID_ARG for channels other than 0, 1 or 3. */
tc_status tc_png_grid_render(const tc_png_grid *g, uint8_t *pixels);

/* Renders and writes the grid to path (see above). Errors: those of render, TC_ERR_NOMEM,
 * TC_ERR_IO (naming the path and the system's reason; the temporary is removed). */
tc_status tc_png_grid_write(const char *path, const tc_png_grid *g);

/* Reads an 8-bit grayscale PNG (for the tests): *pixels is malloc'd height*width bytes,
 * freed by the caller. Errors: TC_ERR_NOT_FOUND, TC_ERR_IO, TC_ERR_FORMAT (not a PNG, or
 * libpng's reason), TC_ERR_UNSUPPORTED (not 8-bit gray), TC_ERR_NOMEM. */
tc_status tc_png_read_gray(const char *path, int *height, int *width, uint8_t **pixels);

#endif
