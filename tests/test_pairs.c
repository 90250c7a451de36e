/* test_pairs.c — image-to-image data (docs/data.md): the PNG reader, PNG folders and paired
 * folders, the area downscale, the counter-based noise, --pairs parsing, and bicubic
 * upscaling against numbers PyTorch computed. PNGs are written here with libpng. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"
#include "tools/bicubic.h"
#include "tools/dataset.h"
#include "tools/dataset_png.h"
#include "tools/pairs.h"
#include "tools/png_grid.h"
#include "tools/png_read.h"
#include "support/testutil.h"

/* ---- a scratch folder (two levels: sub-folders for splits and pairs) ---- */

static char scratch[64];

static void scratch_make(void) {
  snprintf(scratch, sizeof scratch, "/tmp/tconv_pairs_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(scratch));
}

static void remove_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return;
  for (struct dirent *e = readdir(d); e; e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
      remove_tree(path);
    else
      unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

static void scratch_remove(void) { remove_tree(scratch); }

/* "scratch/name" in one of four rotating buffers (a call may use several). */
static const char *at(const char *name) {
  static char paths[4][512];
  static int next;
  char *p = paths[next++ % 4];
  snprintf(p, 512, "%s/%s", scratch, name);
  return p;
}

static void make_dir(const char *name) { ck_assert_int_eq(mkdir(at(name), 0777), 0); }

/* A PNG of any colour type and depth from raw rows (rowbytes each); palette and tRNS may
 * be NULL. */
typedef struct png_spec {
  int w, h, type, depth;
  const uint8_t *raw;
  const png_color *palette;
  int n_palette;
  const uint8_t *trns;
  int n_trns;
} png_spec;

static void write_png(const char *path, const png_spec *p) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  ck_assert_int_eq(setjmp(png_jmpbuf(png)), 0);
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)p->w, (png_uint_32)p->h, p->depth, p->type,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (p->palette)
    png_set_PLTE(png, info, p->palette, p->n_palette);
  if (p->trns)
    png_set_tRNS(png, info, p->trns, p->n_trns, NULL);
  png_write_info(png, info);
  size_t rowbytes = png_get_rowbytes(png, info);
  for (int y = 0; y < p->h; y++)
    png_write_row(png, p->raw + (size_t)y * rowbytes);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  fclose(f);
}

/* An 8-bit grey w x h PNG whose pixel k is (base + k) & 255. */
static void write_grey(const char *path, int w, int h, int base) {
  uint8_t raw[64 * 64];
  ck_assert_int_le(w * h, 64 * 64);
  for (int k = 0; k < w * h; k++)
    raw[k] = (uint8_t)((base + k) & 255);
  png_spec p = {.w = w, .h = h, .type = PNG_COLOR_TYPE_GRAY, .depth = 8, .raw = raw};
  write_png(path, &p);
}

static void read_ok(const char *path, tc_png_image *im, int h, int w, int c) {
  tc_status s = tc_png_read_image(path, im);
  ck_assert_msg(s == TC_OK, "%s: %s", path, tc_last_error());
  ck_assert_int_eq(im->h, h);
  ck_assert_int_eq(im->w, w);
  ck_assert_int_eq(im->c, c);
}

/* ---- the PNG reader ---- */

START_TEST(png_grey_rgb_and_sixteen_bit) {
  scratch_make();
  tc_png_image im;
  write_grey(at("g.png"), 3, 2, 250); /* 250..255 */
  read_ok(at("g.png"), &im, 2, 3, 1);
  for (int k = 0; k < 6; k++)
    ck_assert_float_eq(im.data[k], (float)(250 + k) / 255.0f);
  tc_png_image_free(&im);
  const uint8_t rgb[6] = {0, 51, 255, 255, 102, 0}; /* 2x1 */
  png_spec p = {.w = 2, .h = 1, .type = PNG_COLOR_TYPE_RGB, .depth = 8, .raw = rgb};
  write_png(at("rgb.png"), &p);
  read_ok(at("rgb.png"), &im, 1, 2, 3);
  for (int k = 0; k < 6; k++)
    ck_assert_float_eq(im.data[k], (float)rgb[k] / 255.0f);
  tc_png_image_free(&im);
  const uint8_t g16[4] = {0x12, 0x34, 0xff, 0xff}; /* big-endian samples 0x1234, 0xffff */
  p = (png_spec){.w = 2, .h = 1, .type = PNG_COLOR_TYPE_GRAY, .depth = 16, .raw = g16};
  write_png(at("g16.png"), &p);
  read_ok(at("g16.png"), &im, 1, 2, 1);
  ck_assert_float_eq(im.data[0], (float)0x1234 / 65535.0f);
  ck_assert_float_eq(im.data[1], 1.0f);
  tc_png_image_free(&im);
  const uint8_t bits[1] = {0xA0}; /* 1-bit grey: 1 0 1 0 */
  p = (png_spec){.w = 4, .h = 1, .type = PNG_COLOR_TYPE_GRAY, .depth = 1, .raw = bits};
  write_png(at("g1.png"), &p);
  read_ok(at("g1.png"), &im, 1, 4, 1);
  ck_assert(im.data[0] == 1.0f && im.data[1] == 0.0f && im.data[2] == 1.0f && im.data[3] == 0.0f);
  tc_png_image_free(&im);
  scratch_remove();
}
END_TEST

START_TEST(png_palette_and_alpha) {
  scratch_make();
  tc_png_image im;
  const png_color pal[2] = {{10, 20, 30}, {200, 100, 0}};
  const uint8_t idx[2] = {1, 0};
  png_spec p = {.w = 2, .h = 1, .type = PNG_COLOR_TYPE_PALETTE, .depth = 8, .raw = idx,
                .palette = pal, .n_palette = 2};
  write_png(at("pal.png"), &p);
  read_ok(at("pal.png"), &im, 1, 2, 3);
  const float want[6] = {200, 100, 0, 10, 20, 30};
  for (int k = 0; k < 6; k++)
    ck_assert_float_eq(im.data[k], want[k] / 255.0f);
  tc_png_image_free(&im);
  /* an opaque alpha is dropped */
  const uint8_t rgba[8] = {1, 2, 3, 255, 4, 5, 6, 255};
  p = (png_spec){.w = 2, .h = 1, .type = PNG_COLOR_TYPE_RGB_ALPHA, .depth = 8, .raw = rgba};
  write_png(at("opaque.png"), &p);
  read_ok(at("opaque.png"), &im, 1, 2, 3);
  ck_assert_float_eq(im.data[5], 6.0f / 255.0f);
  tc_png_image_free(&im);
  const uint8_t ga[4] = {7, 255, 9, 255};
  p = (png_spec){.w = 2, .h = 1, .type = PNG_COLOR_TYPE_GRAY_ALPHA, .depth = 8, .raw = ga};
  write_png(at("ga.png"), &p);
  read_ok(at("ga.png"), &im, 1, 2, 1);
  ck_assert_float_eq(im.data[1], 9.0f / 255.0f);
  tc_png_image_free(&im);
  /* transparency is refused, naming the file and the pixel */
  const uint8_t see[8] = {1, 2, 3, 255, 4, 5, 6, 128};
  p = (png_spec){.w = 2, .h = 1, .type = PNG_COLOR_TYPE_RGB_ALPHA, .depth = 8, .raw = see};
  write_png(at("see.png"), &p);
  TC_CK_ERROR(tc_png_read_image(at("see.png"), &im), TC_ERR_UNSUPPORTED, "see.png': pixel "
              "(row 0, column 1) is transparent");
  ck_assert_ptr_null(im.data);
  const uint8_t trns[1] = {0}; /* palette entry 0 fully transparent */
  p = (png_spec){.w = 2, .h = 1, .type = PNG_COLOR_TYPE_PALETTE, .depth = 8, .raw = idx,
                 .palette = pal, .n_palette = 2, .trns = trns, .n_trns = 1};
  write_png(at("paltrns.png"), &p);
  TC_CK_ERROR(tc_png_read_image(at("paltrns.png"), &im), TC_ERR_UNSUPPORTED, "transparent");
  scratch_remove();
}
END_TEST

static void write_raw(const char *path, const void *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
  fclose(f);
}

START_TEST(png_bad_files_name_the_file) {
  scratch_make();
  tc_png_image im;
  write_grey(at("full.png"), 40, 40, 3);
  FILE *f = fopen(at("full.png"), "rb");
  unsigned char buf[8192];
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  write_raw(at("cut.png"), buf, len - 30);
  TC_CK_ERROR(tc_png_read_image(at("cut.png"), &im), TC_ERR_FORMAT, "cut.png': bad or truncated");
  ck_assert_ptr_null(im.data);
  write_raw(at("text.png"), "hello, not an image", 19);
  TC_CK_ERROR(tc_png_read_image(at("text.png"), &im), TC_ERR_FORMAT, "text.png': not a PNG");
  write_raw(at("empty.png"), "", 0);
  TC_CK_ERROR(tc_png_read_image(at("empty.png"), &im), TC_ERR_FORMAT, "empty.png': not a PNG");
  TC_CK_ERROR(tc_png_read_image(at("none.png"), &im), TC_ERR_NOT_FOUND, "none.png");
  scratch_remove();
}
END_TEST

/* The reader and the colour grid writer agree: an RGB grid reads back as written. */
START_TEST(png_colour_grid_round_trip) {
  scratch_make();
  float img[2 * 2 * 3];
  for (int k = 0; k < 12; k++)
    img[k] = (float)(k * 20) / 255.0f;
  tc_png_grid g = {.images = img, .n = 1, .h = 2, .w = 2, .rows = 1, .cols = 1, .channels = 3};
  ck_assert_int_eq(tc_png_grid_write(at("c.png"), &g), TC_OK);
  tc_png_image im;
  read_ok(at("c.png"), &im, 4, 4, 3); /* a 1-pixel frame */
  ck_assert_float_eq(im.data[0], 128.0f / 255.0f);
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 2; x++)
      for (int c = 0; c < 3; c++)
        ck_assert_float_eq(im.data[((y + 1) * 4 + x + 1) * 3 + c], img[(y * 2 + x) * 3 + c]);
  tc_png_image_free(&im);
  scratch_remove();
}
END_TEST

/* ---- folders ---- */

START_TEST(folder_sorted_holdout_and_subfolders) {
  scratch_make();
  make_dir("set");
  const char *names[10] = {"b.png", "a.png", "j.PNG", "c.png", "d.png",
                           "e.png", "f.png", "g.png", "h.png", "i.png"};
  for (int k = 0; k < 10; k++) {
    char rel[64];
    snprintf(rel, sizeof rel, "set/%s", names[k]);
    write_grey(at(rel), 4, 3, (names[k][0] - 'a') * 10); /* pixel 0 tells the name */
  }
  write_raw(at("set/notes.txt"), "x", 1);
  write_grey(at("set/.hidden.png"), 1, 1, 0);
  tc_dataset *train, *test;
  ck_assert_int_eq(tc_dataset_load_png(at("set"), NULL, 0, 0, &train, &test), TC_OK);
  ck_assert_int_eq(train->n, 9);
  ck_assert_int_eq(test->n, 1);
  ck_assert(train->h == 3 && train->w == 4 && train->c == 1);
  for (int k = 0; k < 9; k++) /* a..i in order */
    ck_assert_float_eq(train->images[k * 12], (float)(k * 10) / 255.0f);
  ck_assert_float_eq(test->images[0], 90.0f / 255.0f); /* j.PNG, the last name */
  tc_dataset_free(train);
  tc_dataset_free(test);
  /* train/ and test/ sub-folders take precedence */
  make_dir("set/train");
  make_dir("set/test");
  write_grey(at("set/train/x.png"), 2, 2, 1);
  write_grey(at("set/train/y.png"), 2, 2, 2);
  write_grey(at("set/test/z.png"), 2, 2, 3);
  ck_assert_int_eq(tc_dataset_load_png(at("set"), NULL, 0, 0, &train, &test), TC_OK);
  ck_assert(train->n == 2 && test->n == 1 && train->h == 2);
  ck_assert_float_eq(test->images[0], 3.0f / 255.0f);
  ck_assert_ptr_nonnull(strstr(train->source, "set/train"));
  tc_dataset_free(train);
  tc_dataset_free(test);
  scratch_remove();
}
END_TEST

START_TEST(folder_sizes_channels_and_crop) {
  scratch_make();
  make_dir("s");
  write_grey(at("s/a.png"), 6, 4, 0);
  write_grey(at("s/b.png"), 6, 4, 0);
  write_grey(at("s/c.png"), 5, 4, 0);
  tc_dataset *train, *test;
  TC_CK_ERROR(tc_dataset_load_png(at("s"), NULL, 0, 0, &train, &test), TC_ERR_INVALID_ARG,
              "s/c.png' is 4x5 but");
  ck_assert_ptr_null(train);
  /* --image-size 2x3: centre crop, top (4-2)/2 = 1, left (5-3)/2 = 1 or (6-3)/2 = 1 */
  ck_assert_int_eq(tc_dataset_load_png(at("s"), NULL, 2, 3, &train, &test), TC_OK);
  ck_assert(train->h == 2 && train->w == 3 && test->n == 1);
  ck_assert_float_eq(train->images[0], 7.0f / 255.0f);  /* a: row 1, col 1 of 6 wide */
  ck_assert_float_eq(test->images[0], 6.0f / 255.0f);   /* c: row 1, col 1 of 5 wide */
  tc_dataset_free(train);
  tc_dataset_free(test);
  TC_CK_ERROR(tc_dataset_load_png(at("s"), NULL, 5, 5, &train, &test), TC_ERR_INVALID_ARG,
              "smaller than --image-size 5x5");
  /* one RGB image makes the set RGB; grey ones repeat into the channels */
  unlink(at("s/c.png"));
  const uint8_t rgb[6 * 4 * 3] = {9, 8, 7};
  png_spec p = {.w = 6, .h = 4, .type = PNG_COLOR_TYPE_RGB, .depth = 8, .raw = rgb};
  write_png(at("s/b.png"), &p);
  ck_assert_int_eq(tc_dataset_load_png(at("s"), NULL, 0, 0, &train, &test), TC_OK);
  ck_assert_int_eq(train->c, 3);
  ck_assert_int_eq(test->c, 3);
  ck_assert(train->images[3] == 1.0f / 255.0f && train->images[4] == 1.0f / 255.0f &&
            train->images[5] == 1.0f / 255.0f); /* a.png pixel 1 = 1, three times */
  ck_assert_float_eq(test->images[0], 9.0f / 255.0f);
  tc_dataset_free(train);
  tc_dataset_free(test);
  /* a bad file in a folder is named */
  write_raw(at("s/b.png"), "PNG?", 4);
  TC_CK_ERROR(tc_dataset_load_png(at("s"), NULL, 0, 0, &train, &test), TC_ERR_INVALID_ARG,
              "s/b.png': not a PNG");
  unlink(at("s/b.png"));
  TC_CK_ERROR(tc_dataset_load_png(at("s"), NULL, 0, 0, &train, &test), TC_ERR_INVALID_ARG,
              "has 1 *.png file and no IDX files");
  TC_CK_ERROR(tc_dataset_load_png(at("nope"), NULL, 0, 0, &train, &test), TC_ERR_INVALID_ARG,
              "nope");
  scratch_remove();
}
END_TEST

START_TEST(paired_folders) {
  scratch_make();
  make_dir("lo");
  make_dir("hi");
  for (int k = 0; k < 3; k++) {
    char a[32], b[32];
    snprintf(a, sizeof a, "lo/%d.png", k);
    snprintf(b, sizeof b, "hi/%d.png", k);
    write_grey(at(a), 2, 2, k);
    write_grey(at(b), 4, 4, 100 + k);
  }
  write_grey(at("hi/extra.png"), 4, 4, 0); /* no input: not used */
  tc_dataset *train, *test;
  ck_assert_int_eq(tc_dataset_load_png(at("lo"), at("hi"), 0, 0, &train, &test), TC_OK);
  ck_assert(train->n == 2 && test->n == 1 && train->h == 2);
  ck_assert(train->targets->n == 2 && train->targets->h == 4 && test->targets->n == 1);
  ck_assert_float_eq(train->targets->images[16], 101.0f / 255.0f);
  tc_pairs p = {.kind = TC_PAIRS_FILES};
  int in[3], tg[3];
  ck_assert_int_eq(tc_pairs_shapes(&p, train, in, tg), TC_OK);
  ck_assert(in[0] == 2 && tg[0] == 4 && tg[2] == 1);
  float x[4], t[16];
  int64_t one = 1;
  ck_assert_int_eq(tc_pairs_batch(&p, 1, train, &one, 1, 0, x, t), TC_OK);
  ck_assert_float_eq(x[0], 1.0f / 255.0f);
  ck_assert_float_eq(t[0], 101.0f / 255.0f);
  tc_dataset_free(train);
  tc_dataset_free(test);
  unlink(at("hi/1.png"));
  TC_CK_ERROR(tc_dataset_load_png(at("lo"), at("hi"), 0, 0, &train, &test), TC_ERR_INVALID_ARG,
              "lo/1.png' has no partner");
  scratch_remove();
}
END_TEST

/* ---- pairs made on the fly ---- */

START_TEST(pairs_parse_accepts_and_refuses) {
  tc_pairs p;
  ck_assert_int_eq(tc_pairs_parse("sr:2", &p), TC_OK);
  ck_assert(p.kind == TC_PAIRS_SR && p.scale == 2);
  ck_assert_int_eq(tc_pairs_parse("sr:3", &p), TC_OK);
  ck_assert_int_eq(p.scale, 3);
  ck_assert_int_eq(tc_pairs_parse("noise:0.2", &p), TC_OK);
  ck_assert(p.kind == TC_PAIRS_NOISE && p.sigma == 0.2);
  TC_CK_ERROR(tc_pairs_parse("sr:4", &p), TC_ERR_INVALID_ARG, "must be 2 or 3");
  TC_CK_ERROR(tc_pairs_parse("sr:", &p), TC_ERR_INVALID_ARG, "must be 2 or 3");
  const char *bad[] = {"noise:-1", "noise:nan", "noise:inf", "noise:0", "noise:", "noise:0.2x",
                       "noise:11"};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
    TC_CK_ERROR(tc_pairs_parse(bad[k], &p), TC_ERR_INVALID_ARG, "in (0, 10]");
  TC_CK_ERROR(tc_pairs_parse("blur:2", &p), TC_ERR_INVALID_ARG, "expected sr:2, sr:3 or noise");
}
END_TEST

START_TEST(area_downscale_means_blocks) {
  /* 4x4, 2 channels: channel 0 = k, channel 1 = 100 - k */
  float src[32], dst[8];
  for (int k = 0; k < 16; k++)
    src[2 * k] = (float)k, src[2 * k + 1] = 100.0f - (float)k;
  tc_area_downscale(src, 4, 4, 2, 2, dst);
  const float want0[4] = {(0 + 1 + 4 + 5) / 4.0f, (2 + 3 + 6 + 7) / 4.0f,
                          (8 + 9 + 12 + 13) / 4.0f, (10 + 11 + 14 + 15) / 4.0f};
  for (int k = 0; k < 4; k++) {
    ck_assert_float_eq(dst[2 * k], want0[k]);
    ck_assert_float_eq(dst[2 * k + 1], 100.0f - want0[k]);
  }
  float s3[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, d3;
  tc_area_downscale(s3, 3, 3, 1, 3, &d3);
  ck_assert_float_eq(d3, 5.0f);
  /* sizes not divisible by the scale are refused with the way out */
  tc_dataset *d;
  ck_assert_int_eq(tc_dataset_create(&d, 2, 28, 28), TC_OK);
  tc_pairs p = {.kind = TC_PAIRS_SR, .scale = 3};
  int in[3], tg[3];
  TC_CK_ERROR(tc_pairs_shapes(&p, d, in, tg), TC_ERR_INVALID_ARG, "--image-size 27x27");
  p.scale = 2;
  ck_assert_int_eq(tc_pairs_shapes(&p, d, in, tg), TC_OK);
  ck_assert(in[0] == 14 && in[1] == 14 && tg[0] == 28 && in[2] == 1);
  tc_dataset_free(d);
}
END_TEST

START_TEST(noise_is_a_function_of_seed_epoch_and_index) {
  enum { N = 200000 };
  float *zero = calloc(N, sizeof *zero), *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
  tc_noise_add(zero, N, 1.0, tc_noise_key(7, 3, 11), a);
  tc_noise_add(zero, N, 1.0, tc_noise_key(7, 3, 11), b);
  ck_assert_int_eq(memcmp(a, b, N * sizeof *a), 0);
  double sum = 0, sq = 0;
  for (int k = 0; k < N; k++)
    sum += a[k], sq += (double)a[k] * a[k];
  double mean = sum / N, sd = sqrt(sq / N - mean * mean);
  ck_assert_msg(fabs(mean) < 0.01 && fabs(sd - 1.0) < 0.01, "mean %g sd %g", mean, sd);
  /* other epoch, other index, other seed, the test slot: other draws */
  const uint64_t keys[4] = {tc_noise_key(7, 4, 11), tc_noise_key(7, 3, 12), tc_noise_key(8, 3, 11),
                            tc_noise_key(7, TC_PAIRS_TEST_EPOCH, 11)};
  for (int k = 0; k < 4; k++) {
    tc_noise_add(zero, 64, 1.0, keys[k], b);
    ck_assert_int_ne(memcmp(a, b, 64 * sizeof *a), 0);
  }
  /* sigma scales, and values are not clipped to [0, 1] */
  float one[64], out[64];
  for (int k = 0; k < 64; k++)
    one[k] = 1.0f;
  tc_noise_add(one, 64, 0.5, tc_noise_key(7, 3, 11), out);
  int above = 0;
  for (int k = 0; k < 64; k++) {
    ck_assert_float_eq_tol(out[k], (float)(1.0 + 0.5 * (double)a[k]), 1e-6f);
    above += out[k] > 1.0f;
  }
  ck_assert_int_gt(above, 10);
  free(zero), free(a), free(b);
}
END_TEST

/* Batches of a set: test inputs are the same whatever the order they are asked in. */
START_TEST(pairs_batch_noise_test_set_is_fixed) {
  tc_dataset *d;
  ck_assert_int_eq(tc_dataset_create(&d, 3, 2, 2), TC_OK);
  for (int k = 0; k < 12; k++)
    d->images[k] = (float)k / 12.0f;
  tc_pairs p = {.kind = TC_PAIRS_NOISE, .sigma = 0.1};
  float x1[12], t1[12], x2[4], t2[4];
  ck_assert_int_eq(tc_pairs_batch(&p, 5, d, NULL, 3, TC_PAIRS_TEST_EPOCH, x1, t1), TC_OK);
  int64_t two = 2;
  ck_assert_int_eq(tc_pairs_batch(&p, 5, d, &two, 1, TC_PAIRS_TEST_EPOCH, x2, t2), TC_OK);
  ck_assert_int_eq(memcmp(x1 + 8, x2, sizeof x2), 0);
  ck_assert_int_eq(memcmp(t1, d->images, sizeof t1), 0);
  ck_assert_int_eq(tc_pairs_batch(&p, 5, d, &two, 1, 0, x2, t2), TC_OK); /* epoch 0 differs */
  ck_assert_int_ne(memcmp(x1 + 8, x2, sizeof x2), 0);
  tc_dataset_free(d);
}
END_TEST

/* F.interpolate(x, size=..., mode='bicubic', align_corners=False) on x[i] = ((37 i) % 17) / 16,
 * a 3x4 image, by /usr/bin/python3 with torch (Debian's python3-torch), printed with %.9g. */
static const float torch_6x8[48] = {
    -0.0988769531f, -0.0471525192f, 0.0343236923f, 0.189451218f, 0.326906204f, 0.48203373f,
    0.563509941f, 0.615234375f, 0.161132812f, 0.22657299f, 0.33548069f, 0.361070633f,
    0.285169601f, 0.310759544f, 0.419667244f, 0.485107422f, 0.593261719f, 0.68175602f,
    0.836771965f, 0.644628525f, 0.210107803f, 0.0179643631f, 0.172980309f, 0.261474609f,
    0.738525391f, 0.827019691f, 0.982035637f, 0.789892197f, 0.355371475f, 0.163228035f,
    0.31824398f, 0.406738281f, 0.514892578f, 0.580332756f, 0.689240456f, 0.714830399f,
    0.638929367f, 0.66451931f, 0.77342701f, 0.838867188f, 0.384765625f, 0.436490059f,
    0.51796627f, 0.673093796f, 0.810548782f, 0.965676308f, 1.04715252f, 1.09887695f};
static const float torch_7x5[35] = {
    -0.0933875591f, 0.0197119322f, 0.257334262f, 0.494956821f, 0.608056188f, 0.0834529325f,
    0.225069135f, 0.30484733f, 0.384625733f, 0.526241899f, 0.456539512f, 0.662702382f,
    0.385204077f, 0.107705839f, 0.313868761f, 0.738609493f, 0.981656253f, 0.5f,
    0.0183438212f, 0.261390686f, 0.686131179f, 0.892294109f, 0.614795804f, 0.337297648f,
    0.543460548f, 0.473758787f, 0.615374982f, 0.695153058f, 0.77493149f, 0.916547537f,
    0.391944021f, 0.505043507f, 0.742665887f, 0.980288684f, 1.09338796f};

START_TEST(bicubic_matches_pytorch) {
  float x[12], y[48], z[35];
  for (int i = 0; i < 12; i++)
    x[i] = (float)((i * 37) % 17) / 16.0f;
  tc_bicubic_resize(x, 3, 4, 1, y, 6, 8);
  ck_assert_double_le(tc_test_excess_f(y, torch_6x8, 48, 1e-6, 0, NULL), 0);
  tc_bicubic_resize(x, 3, 4, 1, z, 7, 5);
  ck_assert_double_le(tc_test_excess_f(z, torch_7x5, 35, 3e-6, 0, NULL), 0); /* rounding order */
  /* channels are independent: the same image in channel 1 of two */
  float x2[24], y2[96];
  for (int i = 0; i < 12; i++)
    x2[2 * i] = 0.0f, x2[2 * i + 1] = x[i];
  tc_bicubic_resize(x2, 3, 4, 2, y2, 6, 8);
  for (int i = 0; i < 48; i++) {
    ck_assert_float_eq(y2[2 * i], 0.0f);
    ck_assert_float_eq(y2[2 * i + 1], y[i]);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("pairs");
  TCase *png = tcase_create("png");
  tcase_add_test(png, png_grey_rgb_and_sixteen_bit);
  tcase_add_test(png, png_palette_and_alpha);
  tcase_add_test(png, png_bad_files_name_the_file);
  tcase_add_test(png, png_colour_grid_round_trip);
  suite_add_tcase(s, png);
  TCase *dirs = tcase_create("folders");
  tcase_add_test(dirs, folder_sorted_holdout_and_subfolders);
  tcase_add_test(dirs, folder_sizes_channels_and_crop);
  tcase_add_test(dirs, paired_folders);
  suite_add_tcase(s, dirs);
  TCase *pairs = tcase_create("pairs");
  tcase_add_test(pairs, pairs_parse_accepts_and_refuses);
  tcase_add_test(pairs, area_downscale_means_blocks);
  tcase_add_test(pairs, noise_is_a_function_of_seed_epoch_and_index);
  tcase_add_test(pairs, pairs_batch_noise_test_set_is_fixed);
  tcase_add_test(pairs, bicubic_matches_pytorch);
  suite_add_tcase(s, pairs);
  return tc_test_run(s);
}
