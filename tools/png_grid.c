/* png_grid.c — image grids rendered to 8-bit gray and written with libpng, plus a reader. */
#include "tools/png_grid.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io/outpath.h"

#define GRID_MAX_SIDE 65535

typedef struct grid_layout {
  int rows, cols, cell_w, height, width;
} grid_layout;

static tc_status grid_plan(const tc_png_grid *g, grid_layout *L) {
  if (g == NULL || g->images == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "png grid: no images given");
  if (g->n < 0 || g->rows < 0 || g->cols < 0 || (g->rows == 0) != (g->cols == 0))
    return tc_set_error(TC_ERR_INVALID_ARG, "png grid: bad counts: %lld images, %d rows, "
                        "%d cols (rows and cols are both positive or both 0)",
                        (long long)g->n, g->rows, g->cols);
  if (g->channels != 0 && g->channels != 1 && g->channels != 3)
    return tc_set_error(TC_ERR_INVALID_ARG, "png grid: %d channels (1 grey or 3 RGB)",
                        g->channels);
  if (g->h < 1 || g->w < 1 || g->h > GRID_MAX_SIDE || g->w > GRID_MAX_SIDE)
    return tc_set_error(TC_ERR_SHAPE, "png grid: image size %dx%d", g->h, g->w);
  int64_t rows = g->rows, cols = g->cols;
  if (rows == 0) {
    /* Near-square: the smallest cols with cols*cols >= n, then as few rows as fit n. */
    cols = 1;
    while (cols * cols < g->n)
      cols++;
    rows = g->n > 0 ? (g->n + cols - 1) / cols : 1;
  }
  int64_t cell_w = g->pairs ? 2 * (int64_t)g->w : g->w;
  int64_t height = rows * (g->h + 1) + 1, width = cols * (cell_w + 1) + 1;
  if (height > GRID_MAX_SIDE || width > GRID_MAX_SIDE)
    return tc_set_error(TC_ERR_SHAPE, "png grid: %lldx%lld cells of %dx%lld make a %lldx%lld "
                        "image, over %d pixels a side", (long long)rows, (long long)cols,
                        g->h, (long long)cell_w, (long long)height, (long long)width,
                        GRID_MAX_SIDE);
  *L = (grid_layout){(int)rows, (int)cols, (int)cell_w, (int)height, (int)width};
  return TC_OK;
}

tc_status tc_png_grid_size(const tc_png_grid *g, int *height, int *width) {
  grid_layout L = {0};
  TC_TRY(grid_plan(g, &L));
  *height = L.height;
  *width = L.width;
  return TC_OK;
}

static uint8_t to_byte(float v, int signed_range) {
  if (signed_range)
    v = (v + 1.0f) * 0.5f;
  if (!(v > 0.0f)) /* also NaN */
    return 0;
  if (v >= 1.0f)
    return 255;
  return (uint8_t)lrintf(v * 255.0f);
}

static int grid_channels(const tc_png_grid *g) { return g->channels == 3 ? 3 : 1; }

/* Copies one h x w image into the canvas with its top-left corner at (y0, x0). */
static void blit(const tc_png_grid *g, const float *img, uint8_t *px, int stride, int y0,
                 int x0) {
  int c = grid_channels(g);
  for (int y = 0; y < g->h; y++)
    for (int x = 0; x < g->w * c; x++)
      px[(size_t)(y0 + y) * stride * c + (size_t)x0 * c + x] =
          to_byte(img[(size_t)y * g->w * c + x], g->signed_range);
}

tc_status tc_png_grid_render(const tc_png_grid *g, uint8_t *pixels) {
  grid_layout L = {0};
  TC_TRY(grid_plan(g, &L));
  if (pixels == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "png grid: pixel buffer is NULL");
  memset(pixels, TC_PNG_GAP_VALUE, (size_t)L.height * L.width * grid_channels(g));
  size_t image = (size_t)g->h * g->w * grid_channels(g);
  for (int64_t k = 0; k < g->n && k < (int64_t)L.rows * L.cols; k++) {
    int y0 = 1 + (int)(k / L.cols) * (g->h + 1), x0 = 1 + (int)(k % L.cols) * (L.cell_w + 1);
    blit(g, g->images + (size_t)k * image, pixels, L.width, y0, x0);
    if (g->pairs)
      blit(g, g->pairs + (size_t)k * image, pixels, L.width, y0, x0 + g->w);
  }
  return TC_OK;
}

/* libpng reports through these instead of printing; the error one must not return. */
typedef struct png_msg {
  char text[200];
} png_msg;

static void png_on_error(png_structp png, png_const_charp msg) {
  png_msg *m = png_get_error_ptr(png);
  snprintf(m->text, sizeof m->text, "%s", msg);
  png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

/* Encodes gray pixels to f. Nothing that this function changes after setjmp is read after
 * a longjmp, so no local needs to be volatile. */
static int png_encode(FILE *f, const uint8_t *px, int height, int width, int c, png_msg *m) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, m, png_on_error,
                                            png_on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (info == NULL) {
    png_destroy_write_struct(&png, NULL);
    snprintf(m->text, sizeof m->text, "libpng: out of memory");
    return -1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return -1;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
               c == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; y++)
    png_write_row(png, px + (size_t)y * width * c);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return 0;
}

/* Writes pixels to tmp (an open fd from mkstemp) and makes it durable; closes fd. */
static tc_status png_write_tmp(int fd, const char *tmp, const uint8_t *px, int height,
                               int width, int c) {
  FILE *f = fdopen(fd, "wb");
  if (f == NULL) {
    close(fd);
    return tc_set_error(TC_ERR_IO, "file '%s': %s", tmp, strerror(errno));
  }
  png_msg m = {""};
  int bad = png_encode(f, px, height, width, c, &m);
  if (bad == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
    bad = snprintf(m.text, sizeof m.text, "%s", strerror(errno));
  if (fclose(f) != 0 && bad == 0)
    bad = snprintf(m.text, sizeof m.text, "%s", strerror(errno));
  if (bad)
    return tc_set_error(TC_ERR_IO, "file '%s': writing PNG failed: %s", tmp, m.text);
  return TC_OK;
}

tc_status tc_png_grid_write(const char *path, const tc_png_grid *g) {
  int height, width;
  if (path == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "png grid: path is NULL");
  TC_TRY(tc_png_grid_size(g, &height, &width));
  TC_TRY(tc_output_path_check(path));
  size_t plen = strlen(path);
  uint8_t *px = malloc((size_t)height * width * grid_channels(g));
  char *tmp = malloc(plen + 16);
  tc_status s = TC_OK;
  int fd = -1;
  if (px == NULL || tmp == NULL) {
    s = tc_set_error(TC_ERR_NOMEM, "png grid '%s': out of memory for %dx%d", path, height, width);
    goto done;
  }
  tc_status rendered = tc_png_grid_render(g, px);
  TC_ASSERT(rendered == TC_OK); /* g was validated by tc_png_grid_size */
  /* Same directory as path, so rename is atomic (no cross-device move). */
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp-XXXXXX", 12);
  fd = mkstemp(tmp);
  if (fd < 0) {
    s = tc_set_error(TC_ERR_IO, "png grid '%s': cannot create a temporary file: %s", path,
                     strerror(errno));
    goto done;
  }
  fchmod(fd, 0644); /* mkstemp makes 0600; an image is for sharing, so best effort */
  s = png_write_tmp(fd, tmp, px, height, width, grid_channels(g));
  if (s == TC_OK && rename(tmp, path) != 0)
    s = tc_set_error(TC_ERR_IO, "png grid: cannot rename '%s' to '%s': %s", tmp, path,
                     strerror(errno));
  if (s != TC_OK)
    unlink(tmp);
done:
  free(px);
  free(tmp);
  return s;
}

/* The reader's state lives in the caller's frame, so it is well defined after a longjmp. */
typedef struct png_reader {
  png_structp png;
  png_infop info;
  uint8_t *px;
  png_bytep *rows;
  int height, width;
  png_msg msg;
  tc_status status;
} png_reader;

static int png_decode(FILE *f, png_reader *r) {
  if (setjmp(png_jmpbuf(r->png)))
    return -1;
  png_init_io(r->png, f);
  png_set_sig_bytes(r->png, 8);
  png_read_info(r->png, r->info);
  int depth = png_get_bit_depth(r->png, r->info), type = png_get_color_type(r->png, r->info);
  r->height = (int)png_get_image_height(r->png, r->info);
  r->width = (int)png_get_image_width(r->png, r->info);
  if (depth != 8 || type != PNG_COLOR_TYPE_GRAY ||
      png_get_interlace_type(r->png, r->info) != PNG_INTERLACE_NONE) {
    r->status = TC_ERR_UNSUPPORTED;
    snprintf(r->msg.text, sizeof r->msg.text, "%d-bit color type %d, only 8-bit gray "
             "non-interlaced is read", depth, type);
    return -1;
  }
  r->px = malloc((size_t)r->height * r->width);
  r->rows = malloc((size_t)r->height * sizeof *r->rows);
  if (r->px == NULL || r->rows == NULL) {
    r->status = TC_ERR_NOMEM;
    snprintf(r->msg.text, sizeof r->msg.text, "out of memory");
    return -1;
  }
  for (int y = 0; y < r->height; y++)
    r->rows[y] = r->px + (size_t)y * r->width;
  png_read_image(r->png, r->rows);
  png_read_end(r->png, NULL);
  return 0;
}

static tc_status png_read_file(FILE *f, const char *path, int *height, int *width,
                               uint8_t **pixels) {
  unsigned char sig[8];
  if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8) != 0)
    return tc_set_error(TC_ERR_FORMAT, "file '%s': not a PNG (bad signature)", path);
  png_reader r = {0};
  r.status = TC_ERR_FORMAT;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r.msg, png_on_error, png_on_warning);
  r.info = r.png ? png_create_info_struct(r.png) : NULL;
  tc_status s = TC_OK;
  if (r.info == NULL)
    s = tc_set_error(TC_ERR_NOMEM, "file '%s': libpng out of memory", path);
  else if (png_decode(f, &r) != 0)
    s = tc_set_error(r.status, "file '%s': %s", path, r.msg.text);
  png_destroy_read_struct(&r.png, r.info ? &r.info : NULL, NULL);
  free(r.rows);
  if (s != TC_OK) {
    free(r.px);
    return s;
  }
  *height = r.height;
  *width = r.width;
  *pixels = r.px;
  return TC_OK;
}

tc_status tc_png_read_gray(const char *path, int *height, int *width, uint8_t **pixels) {
  if (path == NULL || height == NULL || width == NULL || pixels == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "png read: NULL argument");
  *pixels = NULL;
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return tc_set_error(errno == ENOENT ? TC_ERR_NOT_FOUND : TC_ERR_IO, "file '%s': %s", path,
                        strerror(errno));
  tc_status s = png_read_file(f, path, height, width, pixels);
  fclose(f);
  return s;
}
