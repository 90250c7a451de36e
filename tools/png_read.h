/* png_read.h — one PNG file read as float pixels for training (docs/data.md).
 *
 *   tc_png_image im;
 *   if (tc_png_read_image("cat.png", &im) != TC_OK) ... tc_last_error() names the file ...;
 *   ... im.data[(y * im.w + x) * im.c + ch] in [0, 1] ...
 *   tc_png_image_free(&im);
 *
 * What is read, and how it becomes 1 (grey) or 3 (RGB) channels:
 *   grey 1/2/4/8/16-bit -> 1 channel; RGB 8/16-bit -> 3; palette -> RGB (3);
 *   8-bit values v -> v / 255, 16-bit values v -> v / 65535 (no gamma is applied);
 *   an alpha channel (grey+alpha, RGBA, or a tRNS chunk) is dropped when every pixel is
 *   opaque, and refused (TC_ERR_UNSUPPORTED, naming the file and the first transparent
 *   pixel) otherwise: tconv does not guess a background;
 *   interlaced files are read as well.
 * Nothing prints: libpng's errors and warnings become statuses. */
#ifndef TC_PNG_READ_H
#define TC_PNG_READ_H

#include "core/status.h"

typedef struct tc_png_image {
  int h, w, c;  /* height, width, channels (1 or 3) */
  float *data;  /* h*w*c floats, channels last, in [0, 1]; malloc'd */
} tc_png_image;

/* Reads path into *img. Errors name the file: TC_ERR_NOT_FOUND, TC_ERR_IO, TC_ERR_FORMAT
 * (not a PNG, truncated or corrupt: libpng's reason), TC_ERR_UNSUPPORTED (transparency, a
 * side over 65535 or over 2^28 pixels), TC_ERR_NOMEM. */
tc_status tc_png_read_image(const char *path, tc_png_image *img);

/* Frees img->data (NULL-safe) and zeroes img. */
void tc_png_image_free(tc_png_image *img);

#endif
