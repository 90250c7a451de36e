/* dataset_png.c — PNG folders (and paired folders) into training and test sets. */
#include "tools/dataset_png.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/png_list.h"
#include "tools/png_read.h"

#define TC_PNG_PATH_CAP 8192

int tc_dir_has_idx(const char *dir) {
  static const char *const names[2] = {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"};
  char path[TC_PNG_PATH_CAP];
  struct stat st;
  for (int k = 0; k < 2; k++)
    if (tc_png_path(path, sizeof path, dir, "", names[k]) == TC_OK && stat(path, &st) == 0)
      return 1;
  return 0;
}

/* Bad input (exit 2) keeps its message; only running out of memory stays itself. */
static tc_status tc_bad_input(tc_status s) {
  if (s == TC_OK || s == TC_ERR_NOMEM || s == TC_ERR_INVALID_ARG)
    return s;
  char why[1024];
  snprintf(why, sizeof why, "%s", tc_last_error());
  return tc_set_error(TC_ERR_INVALID_ARG, "%s", why);
}

/* The images of one folder (or one side of paired folders), train then test. */
typedef struct tc_png_side {
  const char *dir;
  const tc_png_split *split;
  tc_png_image *imgs;
  int n;
  int h, w, c; /* the set's size and channels */
} tc_png_side;

static const char *tc_side_sub(const tc_png_side *s, int i) {
  if (!s->split->subfolders)
    return "";
  return i < s->split->train.n ? "train" : "test";
}

static const char *tc_side_name(const tc_png_side *s, int i) {
  int nt = s->split->train.n;
  return i < nt ? s->split->train.names[i] : s->split->test.names[i - nt];
}

/* Image i must be h x w (no crop) or at least the crop. */
static tc_status tc_check_size(const tc_png_side *s, int i, const char *path, int crop_h,
                               int crop_w) {
  const tc_png_image *im = &s->imgs[i];
  if (crop_h > 0 && (im->h < crop_h || im->w < crop_w))
    return tc_set_error(TC_ERR_INVALID_ARG, "file '%s' is %dx%d, smaller than --image-size "
                        "%dx%d (images are centre-cropped, never enlarged)", path, im->h,
                        im->w, crop_h, crop_w);
  if (crop_h == 0 && (im->h != s->h || im->w != s->w)) {
    char first[TC_PNG_PATH_CAP];
    TC_TRY(tc_png_path(first, sizeof first, s->dir, tc_side_sub(s, 0), tc_side_name(s, 0)));
    return tc_set_error(TC_ERR_INVALID_ARG, "file '%s' is %dx%d but '%s' is %dx%d: the "
                        "images of a set must have one size (--image-size HxW centre-crops "
                        "them to one)", path, im->h, im->w, first, s->h, s->w);
  }
  return TC_OK;
}

/* Reads every file of the side, checks its size, and finds the set's channels. */
static tc_status tc_side_read(tc_png_side *s, int crop_h, int crop_w) {
  s->n = s->split->train.n + s->split->test.n;
  s->imgs = calloc((size_t)s->n, sizeof *s->imgs);
  if (s->imgs == NULL)
    return tc_set_error(TC_ERR_NOMEM, "out of memory for %d images", s->n);
  s->c = 1;
  for (int i = 0; i < s->n; i++) {
    char path[TC_PNG_PATH_CAP];
    TC_TRY(tc_png_path(path, sizeof path, s->dir, tc_side_sub(s, i), tc_side_name(s, i)));
    TC_TRY(tc_bad_input(tc_png_read_image(path, &s->imgs[i])));
    if (i == 0) {
      s->h = crop_h > 0 ? crop_h : s->imgs[0].h;
      s->w = crop_h > 0 ? crop_w : s->imgs[0].w;
    }
    TC_TRY(tc_check_size(s, i, path, crop_h, crop_w));
    if (s->imgs[i].c == 3)
      s->c = 3;
  }
  return TC_OK;
}

/* Image im centre-cropped to h x w into dst (h x w x c), grey repeated into c channels. */
static void tc_place(const tc_png_image *im, int h, int w, int c, float *dst) {
  int top = (im->h - h) / 2, left = (im->w - w) / 2;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int ch = 0; ch < c; ch++)
        dst[((size_t)y * w + x) * c + ch] =
            im->data[((size_t)(y + top) * im->w + (size_t)(x + left)) * im->c +
                     (ch < im->c ? ch : 0)];
}

/* Images first..first+n of the side as one data set. */
static tc_status tc_side_set(const tc_png_side *s, int first, int n, const char *sub,
                             tc_dataset **out) {
  TC_TRY(tc_dataset_create_c(out, n, s->h, s->w, s->c));
  size_t image = (size_t)s->h * s->w * s->c;
  for (int i = 0; i < n; i++)
    tc_place(&s->imgs[first + i], s->h, s->w, s->c, (*out)->images + (size_t)i * image);
  if (sub[0])
    snprintf((*out)->source, sizeof (*out)->source, "%.4000s/%s", s->dir, sub);
  else
    snprintf((*out)->source, sizeof (*out)->source, "%.4000s (%s)", s->dir,
             first == 0 ? "all but the last tenth" : "the last tenth");
  return TC_OK;
}

static void tc_side_free(tc_png_side *s) {
  for (int i = 0; s->imgs && i < s->n; i++)
    tc_png_image_free(&s->imgs[i]);
  free(s->imgs);
  s->imgs = NULL;
}

/* One side into a training and a test set. */
static tc_status tc_side_load(const char *dir, const tc_png_split *split, int crop_h,
                              int crop_w, tc_dataset **train, tc_dataset **test) {
  tc_png_side s = {.dir = dir, .split = split};
  int sub = split->subfolders, nt = split->train.n;
  tc_status st = tc_side_read(&s, crop_h, crop_w);
  if (st == TC_OK)
    st = tc_side_set(&s, 0, nt, sub ? "train" : "", train);
  if (st == TC_OK)
    st = tc_side_set(&s, nt, split->test.n, sub ? "test" : "", test);
  tc_side_free(&s);
  return st;
}

/* Every input has its target file, checked before any image is read. */
static tc_status tc_check_partners(const char *dir, const char *tdir, const tc_png_split *sp) {
  const tc_png_list *lists[2] = {&sp->train, &sp->test};
  const char *subs[2] = {sp->subfolders ? "train" : "", sp->subfolders ? "test" : ""};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < lists[k]->n; i++) {
      char in[TC_PNG_PATH_CAP], tg[TC_PNG_PATH_CAP];
      struct stat st;
      TC_TRY(tc_png_path(in, sizeof in, dir, subs[k], lists[k]->names[i]));
      TC_TRY(tc_png_path(tg, sizeof tg, tdir, subs[k], lists[k]->names[i]));
      if (stat(tg, &st) != 0 || !S_ISREG(st.st_mode))
        return tc_set_error(TC_ERR_INVALID_ARG, "input '%s' has no partner: --targets needs "
                            "'%s' (the same name)", in, tg);
    }
  return TC_OK;
}

tc_status tc_dataset_load_png(const char *dir, const char *targets_dir, int crop_h,
                              int crop_w, tc_dataset **train, tc_dataset **test) {
  *train = *test = NULL;
  tc_png_split split;
  TC_TRY(tc_png_split_dir(dir, &split));
  tc_status s = targets_dir ? tc_check_partners(dir, targets_dir, &split) : TC_OK;
  if (s == TC_OK)
    s = tc_side_load(dir, &split, crop_h, crop_w, train, test);
  if (s == TC_OK && targets_dir)
    s = tc_side_load(targets_dir, &split, crop_h, crop_w, &(*train)->targets,
                     &(*test)->targets);
  tc_png_split_free(&split);
  if (s != TC_OK) {
    tc_dataset_free(*train);
    tc_dataset_free(*test);
    *train = *test = NULL;
  }
  return s;
}

tc_status tc_dataset_crop(const tc_dataset *d, int h, int w, tc_dataset **out) {
  *out = NULL;
  if (d->h < h || d->w < w)
    return tc_set_error(TC_ERR_INVALID_ARG, "the images of %s are %dx%d, smaller than "
                        "--image-size %dx%d (images are centre-cropped, never enlarged)",
                        d->source, d->h, d->w, h, w);
  TC_TRY(tc_dataset_create_c(out, d->n, h, w, d->c));
  tc_png_image im = {.h = d->h, .w = d->w, .c = d->c};
  size_t in = (size_t)d->h * d->w * d->c, image = (size_t)h * w * d->c;
  for (int64_t i = 0; i < d->n; i++) {
    im.data = d->images + (size_t)i * in;
    tc_place(&im, h, w, d->c, (*out)->images + (size_t)i * image);
  }
  memcpy((*out)->labels, d->labels, (size_t)d->n);
  (*out)->num_classes = d->num_classes;
  snprintf((*out)->source, sizeof (*out)->source, "%s", d->source);
  return TC_OK;
}
