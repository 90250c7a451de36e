/* png_read.c — PNG files to float pixels: libpng expands palettes and small bit depths, we
 * scale 8- or 16-bit samples to [0, 1] and drop an alpha channel only when it is opaque. */
#include "tools/png_read.h"

#include <errno.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TC_PNG_MAX_SIDE 65535
#define TC_PNG_MAX_PIXELS (1ull << 28)

/* The reader's state lives in the caller's frame, so it is well defined after a longjmp. */
typedef struct tc_png_state {
  png_structp png;
  png_infop info;
  uint8_t *raw;     /* the decoded rows, rowbytes each */
  png_bytep *rows;
  int h, w, channels, depth;
  tc_status status; /* why decode stopped, with msg */
  char msg[200];
} tc_png_state;

static void tc_png_error(png_structp png, png_const_charp msg) {
  tc_png_state *st = png_get_error_ptr(png);
  snprintf(st->msg, sizeof st->msg, "%s", msg);
  png_longjmp(png, 1);
}

static void tc_png_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

/* Palette -> RGB, grey below 8 bits -> 8, tRNS -> alpha; 16-bit samples are kept. */
static void tc_png_transforms(tc_png_state *st) {
  int type = png_get_color_type(st->png, st->info);
  if (type == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(st->png);
  if (type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(st->png, st->info) < 8)
    png_set_expand_gray_1_2_4_to_8(st->png);
  if (png_get_valid(st->png, st->info, PNG_INFO_tRNS))
    png_set_tRNS_to_alpha(st->png);
  png_set_interlace_handling(st->png);
  png_read_update_info(st->png, st->info);
}

static int tc_png_decode(FILE *f, tc_png_state *st) {
  if (setjmp(png_jmpbuf(st->png)))
    return -1;
  png_init_io(st->png, f);
  png_set_sig_bytes(st->png, 8);
  png_set_user_limits(st->png, TC_PNG_MAX_SIDE, TC_PNG_MAX_SIDE);
  png_read_info(st->png, st->info);
  st->h = (int)png_get_image_height(st->png, st->info);
  st->w = (int)png_get_image_width(st->png, st->info);
  if ((uint64_t)st->h * (uint64_t)st->w > TC_PNG_MAX_PIXELS) {
    st->status = TC_ERR_UNSUPPORTED;
    snprintf(st->msg, sizeof st->msg, "%dx%d is over the %llu pixels read", st->h, st->w,
             (unsigned long long)TC_PNG_MAX_PIXELS);
    return -1;
  }
  tc_png_transforms(st);
  st->channels = png_get_channels(st->png, st->info);
  st->depth = png_get_bit_depth(st->png, st->info);
  size_t rowbytes = png_get_rowbytes(st->png, st->info);
  st->raw = malloc((size_t)st->h * rowbytes);
  st->rows = malloc((size_t)st->h * sizeof *st->rows);
  if (st->raw == NULL || st->rows == NULL) {
    st->status = TC_ERR_NOMEM;
    snprintf(st->msg, sizeof st->msg, "out of memory for %dx%d pixels", st->h, st->w);
    return -1;
  }
  for (int y = 0; y < st->h; y++)
    st->rows[y] = st->raw + (size_t)y * rowbytes;
  png_read_image(st->png, st->rows);
  png_read_end(st->png, NULL);
  return 0;
}

/* Sample k of row y, scaled to [0, 1]. */
static float tc_png_sample(const tc_png_state *st, int y, size_t k) {
  const uint8_t *row = st->rows[y];
  if (st->depth == 16)
    return (float)(((unsigned)row[2 * k] << 8) | row[2 * k + 1]) / 65535.0f;
  return (float)row[k] / 255.0f;
}

/* The decoded samples into img: colour channels kept, an opaque alpha dropped. */
static tc_status tc_png_convert(const tc_png_state *st, const char *path, tc_png_image *img) {
  int in_c = st->channels, alpha = in_c == 2 || in_c == 4, c = alpha ? in_c - 1 : in_c;
  img->data = malloc((size_t)st->h * st->w * c * sizeof *img->data);
  if (img->data == NULL)
    return tc_set_error(TC_ERR_NOMEM, "file '%s': out of memory for %dx%d pixels", path,
                        st->h, st->w);
  for (int y = 0; y < st->h; y++)
    for (int x = 0; x < st->w; x++) {
      size_t k = (size_t)x * in_c;
      if (alpha && tc_png_sample(st, y, k + (size_t)c) < 1.0f) {
        tc_png_image_free(img);
        return tc_set_error(TC_ERR_UNSUPPORTED, "file '%s': pixel (row %d, column %d) is "
                            "transparent; tconv reads opaque images only (flatten it onto "
                            "a background first)", path, y, x);
      }
      for (int ch = 0; ch < c; ch++)
        img->data[((size_t)y * st->w + x) * c + ch] = tc_png_sample(st, y, k + (size_t)ch);
    }
  img->h = st->h;
  img->w = st->w;
  img->c = c;
  return TC_OK;
}

static tc_status tc_png_read_open(FILE *f, const char *path, tc_png_image *img) {
  unsigned char sig[8];
  size_t got = fread(sig, 1, 8, f);
  if (got != 8 || png_sig_cmp(sig, 0, 8) != 0)
    return tc_set_error(TC_ERR_FORMAT, "file '%s': not a PNG (%s)", path,
                        got != 8 ? "shorter than the 8-byte signature" : "bad signature");
  tc_png_state st;
  memset(&st, 0, sizeof st);
  st.status = TC_ERR_FORMAT;
  st.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st, tc_png_error, tc_png_warning);
  st.info = st.png ? png_create_info_struct(st.png) : NULL;
  tc_status s = TC_OK;
  if (st.info == NULL)
    s = tc_set_error(TC_ERR_NOMEM, "file '%s': libpng out of memory", path);
  else if (tc_png_decode(f, &st) != 0)
    s = tc_set_error(st.status, "file '%s': %s%s", path,
                     st.status == TC_ERR_FORMAT ? "bad or truncated PNG: " : "", st.msg);
  else
    s = tc_png_convert(&st, path, img);
  png_destroy_read_struct(&st.png, st.info ? &st.info : NULL, NULL);
  free(st.rows);
  free(st.raw);
  return s;
}

tc_status tc_png_read_image(const char *path, tc_png_image *img) {
  if (path == NULL || img == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "png read: NULL argument");
  memset(img, 0, sizeof *img);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return tc_set_error(errno == ENOENT ? TC_ERR_NOT_FOUND : TC_ERR_IO, "file '%s': %s", path,
                        strerror(errno));
  tc_status s = tc_png_read_open(f, path, img);
  fclose(f);
  return s;
}

void tc_png_image_free(tc_png_image *img) {
  if (img == NULL)
    return;
  free(img->data);
  memset(img, 0, sizeof *img);
}
