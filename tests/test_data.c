/* test_data.c — the training command's toolkit: IDX loading, the synthetic set, shuffling
 * and batching, PNG grids and the progress reporter. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/status.h"
#include "tools/dataset.h"
#include "tools/idx.h"
#include "tools/png_grid.h"
#include "tools/progress.h"
#include "tools/synthetic.h"
#include "support/testutil.h"

/* ---- helpers: a scratch directory and hand-made IDX files ---- */

static char scratch[64];

static void scratch_make(void) {
  snprintf(scratch, sizeof scratch, "/tmp/tconv_data_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(scratch));
}

static void scratch_remove(void) {
  DIR *d = opendir(scratch);
  ck_assert_ptr_nonnull(d);
  char path[512];
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(scratch);
}

/* Returns "scratch/name" in a static buffer: one at a time, never two in one call. */
static const char *at(const char *name) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", scratch, name);
  return path;
}

static void write_bytes(const char *name, const unsigned char *buf, size_t len, int gz) {
  if (gz) {
    gzFile f = gzopen(at(name), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gzwrite(f, buf, (unsigned)len), (int)len);
    ck_assert_int_eq(gzclose(f), Z_OK);
  } else {
    FILE *f = fopen(at(name), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
  }
}

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* Pixel k of a test image file: a pattern that covers 0 and 255. */
static unsigned char pixel(size_t k) { return (unsigned char)((k * 37 + 11) % 256); }

/* Writes an IDX file of magic/dims whose payload is the declared size plus `delta` bytes. */
static void write_idx(const char *name, uint32_t magic, int ndim, const uint32_t *dims,
                      long delta, int gz) {
  size_t declared = 1;
  for (int i = 0; i < ndim; i++)
    declared *= dims[i];
  size_t head = 4 + 4 * (size_t)ndim, len = head + (size_t)((long)declared + delta);
  unsigned char *buf = malloc(len);
  put_u32(buf, magic);
  for (int i = 0; i < ndim; i++)
    put_u32(buf + 4 + 4 * i, dims[i]);
  for (size_t k = 0; k < len - head; k++)
    buf[head + k] = magic == TC_IDX_MAGIC_LABELS ? (unsigned char)(k % 7) : pixel(k);
  write_bytes(name, buf, len, gz);
  free(buf);
}

/* A good train split in scratch: 5 images of 4x3 and 5 labels (plain or .gz). */
static void write_split(const char *prefix, uint32_t n_images, uint32_t n_labels, int gz) {
  char name[128];
  uint32_t idims[3] = {n_images, 4, 3}, ldims[1] = {n_labels};
  snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gz ? ".gz" : "");
  write_idx(name, TC_IDX_MAGIC_IMAGES, 3, idims, 0, gz);
  snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gz ? ".gz" : "");
  write_idx(name, TC_IDX_MAGIC_LABELS, 1, ldims, 0, gz);
}

/* Loads the train split and expects failure s with every needle in the message. */
static void expect_train_fails(tc_status s, const char *needle1, const char *needle2) {
  tc_dataset *d = (tc_dataset *)0x1;
  ck_assert_int_eq(tc_dataset_load_idx(scratch, TC_SPLIT_TRAIN, &d), s);
  ck_assert_ptr_null(d);
  const char *msg = tc_last_error();
  ck_assert_msg(strstr(msg, needle1) != NULL, "'%s' not in: %s", needle1, msg);
  if (needle2)
    ck_assert_msg(strstr(msg, needle2) != NULL, "'%s' not in: %s", needle2, msg);
}

/* ---- IDX ---- */

static void check_split(tc_dataset_split split) {
  tc_dataset *d = NULL;
  ck_assert_int_eq(tc_dataset_load_idx(scratch, split, &d), TC_OK);
  ck_assert_int_eq(d->n, 5);
  ck_assert_int_eq(d->h, 4);
  ck_assert_int_eq(d->w, 3);
  for (size_t k = 0; k < 60; k++)
    ck_assert_float_eq(d->images[k], (float)pixel(k) * (1.0f / 255.0f));
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(d->labels[i], i % 7);
  ck_assert_int_eq(d->num_classes, 5);
  tc_dataset_free(d);
}

START_TEST(idx_round_trip_plain_and_gzip) {
  scratch_make();
  write_split("train", 5, 5, 0);
  write_split("t10k", 5, 5, 1);
  check_split(TC_SPLIT_TRAIN);
  check_split(TC_SPLIT_TEST);
  /* The readers on their own, and a gzip file whose name does not say so. */
  uint8_t *labels = NULL;
  int64_t n = 0;
  ck_assert_int_eq(tc_idx_read_labels(at("t10k-labels-idx1-ubyte.gz"), &labels, &n), TC_OK);
  ck_assert_int_eq(n, 5);
  ck_assert_int_eq(labels[4], 4);
  free(labels);
  char from[512];
  snprintf(from, sizeof from, "%s", at("t10k-images-idx3-ubyte.gz"));
  ck_assert_int_eq(rename(from, at("t10k-images-idx3-ubyte")), 0);
  check_split(TC_SPLIT_TEST);
  scratch_remove();
}
END_TEST

START_TEST(idx_bad_magic) {
  scratch_make();
  write_split("train", 5, 5, 1);
  uint32_t dims[3] = {5, 4, 3};
  write_idx("train-images-idx3-ubyte.gz", 0x00000903u, 3, dims, 0, 1);
  expect_train_fails(TC_ERR_FORMAT, "train-images-idx3-ubyte.gz", "magic 0x00000903");
  /* Labels in place of images: a right-looking file of the wrong kind. */
  write_idx("train-images-idx3-ubyte.gz", TC_IDX_MAGIC_LABELS, 1, dims, 0, 1);
  expect_train_fails(TC_ERR_FORMAT, "expected 0x00000803", NULL);
  scratch_remove();
}
END_TEST

START_TEST(idx_truncated_payload_and_header) {
  scratch_make();
  write_split("train", 5, 5, 0);
  uint32_t dims[3] = {5, 4, 3};
  write_idx("train-images-idx3-ubyte", TC_IDX_MAGIC_IMAGES, 3, dims, -1, 0);
  expect_train_fails(TC_ERR_FORMAT, "train-images-idx3-ubyte'", "payload is 59 bytes, header "
                     "declares 60");
  uint32_t ldims[1] = {5};
  write_idx("train-images-idx3-ubyte", TC_IDX_MAGIC_IMAGES, 3, dims, 0, 0);
  write_idx("train-labels-idx1-ubyte", TC_IDX_MAGIC_LABELS, 1, ldims, -5, 0);
  expect_train_fails(TC_ERR_FORMAT, "train-labels-idx1-ubyte", "payload is 0 bytes");
  /* A header cut inside the dims. */
  unsigned char head[6] = {0, 0, 8, 3, 0, 0};
  write_bytes("train-images-idx3-ubyte", head, sizeof head, 0);
  expect_train_fails(TC_ERR_FORMAT, "header is 6 bytes, expected 16", NULL);
  scratch_remove();
}
END_TEST

/* A gzip stream cut in the middle: zlib sees no end marker. */
START_TEST(idx_truncated_gzip_stream) {
  scratch_make();
  write_split("train", 5, 5, 0);
  uint32_t dims[3] = {200, 28, 28};
  write_idx("big.gz", TC_IDX_MAGIC_IMAGES, 3, dims, 0, 1);
  FILE *f = fopen(at("big.gz"), "rb");
  unsigned char buf[1 << 16];
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  ck_assert_uint_gt(len, 200);
  write_bytes("train-images-idx3-ubyte.gz", buf, len / 2, 0);
  unlink(at("train-images-idx3-ubyte"));
  expect_train_fails(TC_ERR_FORMAT, "train-images-idx3-ubyte.gz", "header declares 156800");
  scratch_remove();
}
END_TEST

START_TEST(idx_trailing_bytes) {
  scratch_make();
  write_split("train", 5, 5, 1);
  uint32_t dims[3] = {5, 4, 3};
  write_idx("train-images-idx3-ubyte.gz", TC_IDX_MAGIC_IMAGES, 3, dims, 3, 1);
  expect_train_fails(TC_ERR_FORMAT, "train-images-idx3-ubyte.gz", "3 trailing bytes after "
                     "the 60-byte payload");
  scratch_remove();
}
END_TEST

/* One rule for plain and gzip: a file ends where its data ends. Bytes after a gzip member
 * that are not another member are refused as a plain file's trailing bytes are; a second
 * member is gzip's own concatenation and loads. */
START_TEST(idx_gzip_trailing_garbage_and_members) {
  scratch_make();
  write_split("train", 5, 5, 1);
  uint32_t dims[3] = {5, 4, 3};
  write_idx("train-images-idx3-ubyte", TC_IDX_MAGIC_IMAGES, 3, dims, 2, 0);
  unlink(at("train-images-idx3-ubyte.gz"));
  expect_train_fails(TC_ERR_FORMAT, "train-images-idx3-ubyte'", "2 trailing bytes after the "
                     "60-byte payload");
  unlink(at("train-images-idx3-ubyte"));
  write_idx("train-images-idx3-ubyte.gz", TC_IDX_MAGIC_IMAGES, 3, dims, 0, 1);
  FILE *f = fopen(at("train-images-idx3-ubyte.gz"), "ab");
  ck_assert_ptr_nonnull(f);
  fputs("GARBAGE!", f);
  fclose(f);
  expect_train_fails(TC_ERR_FORMAT, "train-images-idx3-ubyte.gz", "8 bytes after the end of "
                     "the gzip data");
  /* The same payload split over two gzip members loads. */
  unsigned char buf[76];
  put_u32(buf, TC_IDX_MAGIC_IMAGES);
  for (int i = 0; i < 3; i++)
    put_u32(buf + 4 + 4 * i, dims[i]);
  for (size_t k = 0; k < 60; k++)
    buf[16 + k] = pixel(k);
  gzFile g = gzopen(at("train-images-idx3-ubyte.gz"), "wb");
  ck_assert_int_eq(gzwrite(g, buf, 30), 30);
  ck_assert_int_eq(gzclose(g), Z_OK);
  g = gzopen(at("train-images-idx3-ubyte.gz"), "ab");
  ck_assert_int_eq(gzwrite(g, buf + 30, 46), 46);
  ck_assert_int_eq(gzclose(g), Z_OK);
  check_split(TC_SPLIT_TRAIN);
  scratch_remove();
}
END_TEST

/* A header is checked against the stated limit before anything is read, and against what
 * the file really holds before the payload's buffer exists: 1 GiB declared over a few KB
 * of gzip (a bomb of zeros that inflates to 64 MiB) is refused as short, naming both. */
START_TEST(idx_declared_sizes_are_checked_first) {
  scratch_make();
  write_split("train", 5, 5, 0);
  uint32_t over[1] = {0xffffffffu};
  unsigned char head[8];
  put_u32(head, TC_IDX_MAGIC_LABELS);
  put_u32(head + 4, over[0]);
  write_bytes("train-labels-idx1-ubyte", head, 8, 0);
  expect_train_fails(TC_ERR_FORMAT, "4294967295 labels", "1073741824-byte limit");
  unsigned char ihead[16];
  put_u32(ihead, TC_IDX_MAGIC_IMAGES);
  put_u32(ihead + 4, 16384);
  put_u32(ihead + 8, 256);
  put_u32(ihead + 12, 256);
  gzFile g = gzopen(at("train-images-idx3-ubyte.gz"), "wb9");
  ck_assert_ptr_nonnull(g);
  ck_assert_int_eq(gzwrite(g, ihead, 16), 16);
  static unsigned char zeros[1 << 20];
  for (int i = 0; i < 64; i++)
    ck_assert_int_eq(gzwrite(g, zeros, sizeof zeros), (int)sizeof zeros);
  ck_assert_int_eq(gzclose(g), Z_OK);
  unlink(at("train-images-idx3-ubyte"));
  struct stat st;
  ck_assert_int_eq(stat(at("train-images-idx3-ubyte.gz"), &st), 0);
  ck_assert_int_lt(st.st_size, 1 << 20);
  expect_train_fails(TC_ERR_FORMAT, "payload is 67108864 bytes, header declares 1073741824",
                     "16384 images of 256x256");
  /* One image more than the limit allows is refused from the header alone. */
  put_u32(ihead + 4, 16385);
  write_bytes("train-images-idx3-ubyte", ihead, 16, 0);
  expect_train_fails(TC_ERR_FORMAT, "16385 images of 256x256", "1073741824-byte limit");
  scratch_remove();
}
END_TEST

START_TEST(idx_count_mismatch_and_zero_dim) {
  scratch_make();
  write_split("train", 5, 4, 0);
  expect_train_fails(TC_ERR_FORMAT, "train-images-idx3-ubyte' has 5 images",
                     "train-labels-idx1-ubyte' has 4 labels");
  uint32_t dims[3] = {5, 0, 3};
  write_idx("train-images-idx3-ubyte", TC_IDX_MAGIC_IMAGES, 3, dims, 0, 0);
  expect_train_fails(TC_ERR_FORMAT, "dimension 1 is 0", NULL);
  scratch_remove();
}
END_TEST

START_TEST(idx_missing_files) {
  scratch_make();
  expect_train_fails(TC_ERR_NOT_FOUND, "train-images-idx3-ubyte", "train-images-idx3-ubyte.gz");
  write_split("train", 5, 5, 1);
  unlink(at("train-labels-idx1-ubyte.gz"));
  expect_train_fails(TC_ERR_NOT_FOUND, "train-labels-idx1-ubyte", scratch);
  tc_dataset *d = NULL;
  TC_CK_ERROR(tc_dataset_load_idx(at("nope"), TC_SPLIT_TEST, &d), TC_ERR_NOT_FOUND, "nope");
  TC_CK_ERROR(tc_idx_read_images(at("none.gz"), &d), TC_ERR_NOT_FOUND, "none.gz");
  ck_assert_int_eq(tc_dataset_load_idx(NULL, TC_SPLIT_TEST, &d), TC_ERR_INVALID_ARG);
  scratch_remove();
}
END_TEST

/* The real thing when Debian's dataset-fashion-mnist is installed; otherwise the lookup must
 * say so and the command's loader must report the directory as missing. */
START_TEST(fashion_mnist_when_installed) {
  const char *dir = tc_dataset_default_dir();
  tc_dataset *d = NULL;
  if (dir == NULL) {
    ck_assert_int_eq(tc_dataset_load_idx(TC_FASHION_MNIST_DEBIAN_DIR, TC_SPLIT_TRAIN, &d),
                     TC_ERR_NOT_FOUND);
    ck_assert_ptr_null(d);
    ck_assert_ptr_nonnull(strstr(tc_last_error(), TC_FASHION_MNIST_DEBIAN_DIR));
    return;
  }
  ck_assert_str_eq(dir, TC_FASHION_MNIST_DEBIAN_DIR);
  const int64_t sizes[2] = {60000, 10000};
  for (int split = 0; split < 2; split++) {
    ck_assert_int_eq(tc_dataset_load_idx(dir, (tc_dataset_split)split, &d), TC_OK);
    ck_assert_int_eq(d->n, sizes[split]);
    ck_assert_int_eq(d->h, 28);
    ck_assert_int_eq(d->w, 28);
    ck_assert_int_eq(d->num_classes, 10);
    ck_assert_int_eq(d->labels[0], 9); /* both splits open with an ankle boot */
    int64_t per_class[10] = {0};
    for (int64_t i = 0; i < d->n; i++)
      per_class[d->labels[i]]++;
    for (int c = 0; c < 10; c++)
      ck_assert_int_eq(per_class[c], d->n / 10); /* Fashion-MNIST is balanced */
    float lo = 1, hi = 0;
    for (int64_t k = 0; k < d->n * 784; k++) {
      lo = d->images[k] < lo ? d->images[k] : lo;
      hi = d->images[k] > hi ? d->images[k] : hi;
    }
    ck_assert_float_eq(lo, 0.0f);
    ck_assert_float_eq(hi, 1.0f);
    tc_dataset_free(d);
  }
}
END_TEST

/* ---- synthetic set, shuffling, batches ---- */

START_TEST(synthetic_is_deterministic_per_seed) {
  tc_dataset *a = NULL, *b = NULL, *c = NULL;
  ck_assert_int_eq(tc_dataset_synthetic(&a, 200, 28, 28, 7), TC_OK);
  ck_assert_int_eq(tc_dataset_synthetic(&b, 200, 28, 28, 7), TC_OK);
  ck_assert_int_eq(tc_dataset_synthetic(&c, 200, 28, 28, 8), TC_OK);
  size_t bytes = 200 * 784 * sizeof(float);
  ck_assert_int_eq(memcmp(a->images, b->images, bytes), 0);
  ck_assert_int_ne(memcmp(a->images, c->images, bytes), 0);
  ck_assert_int_eq(a->num_classes, 10);
  for (int64_t i = 0; i < 200; i++) {
    ck_assert_int_eq(a->labels[i], i % 10);
    float lo = 1, hi = 0;
    for (int k = 0; k < 784; k++) {
      float v = a->images[i * 784 + k];
      ck_assert(v >= 0.0f && v <= 1.0f);
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    /* Every image has a visible shape on a dark background. */
    ck_assert_msg(hi > 0.6f && lo < 0.05f, "image %lld (%s): range %g..%g", (long long)i,
                  tc_synthetic_class_name(a->labels[i]), lo, hi);
  }
  /* Image i depends only on (seed, i): a smaller set is a prefix of a larger one. */
  tc_dataset *p = NULL;
  ck_assert_int_eq(tc_dataset_synthetic(&p, 30, 28, 28, 7), TC_OK);
  ck_assert_int_eq(memcmp(p->images, a->images, 30 * 784 * sizeof(float)), 0);
  tc_dataset_free(p);
  tc_dataset_free(a);
  tc_dataset_free(b);
  tc_dataset_free(c);
  ck_assert_int_eq(tc_dataset_synthetic(&a, 10, 4, 28, 7), TC_ERR_SHAPE);
  ck_assert_ptr_null(a);
}
END_TEST

/* Classes must be told apart even by the crudest learner, or an autoencoder's latent space
 * has nothing to find: a nearest-class-mean classifier, fitted on one seed and scored on
 * another, must do far better than the 10% of guessing. */
START_TEST(synthetic_classes_are_distinct) {
  tc_dataset *fit = NULL, *eval = NULL;
  ck_assert_int_eq(tc_dataset_synthetic(&fit, 1000, 28, 28, 3), TC_OK);
  ck_assert_int_eq(tc_dataset_synthetic(&eval, 500, 28, 28, 4), TC_OK);
  static double mean[10][784];
  for (int64_t i = 0; i < fit->n; i++)
    for (int k = 0; k < 784; k++)
      mean[fit->labels[i]][k] += fit->images[i * 784 + k] / 100.0;
  int right = 0;
  for (int64_t i = 0; i < eval->n; i++) {
    int best = -1;
    double best_d = 1e30;
    for (int c = 0; c < 10; c++) {
      double d = 0;
      for (int k = 0; k < 784; k++) {
        double e = eval->images[i * 784 + k] - mean[c][k];
        d += e * e;
      }
      if (d < best_d) {
        best_d = d;
        best = c;
      }
    }
    right += best == eval->labels[i];
  }
  ck_assert_msg(right >= 200, "nearest class mean got %d of 500", right);
  ck_assert_str_eq(tc_synthetic_class_name(0), "ring");
  ck_assert_str_eq(tc_synthetic_class_name(10), "?");
  tc_dataset_free(fit);
  tc_dataset_free(eval);
}
END_TEST

START_TEST(shuffle_is_a_deterministic_permutation) {
  enum { N = 1000 };
  static int64_t a[N], b[N], c[N];
  tc_shuffle_indices(a, N, 42, 1);
  tc_shuffle_indices(b, N, 42, 1);
  tc_shuffle_indices(c, N, 42, 2);
  ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
  ck_assert_int_ne(memcmp(a, c, sizeof a), 0);
  static char seen[N];
  int fixed = 0;
  for (int i = 0; i < N; i++) {
    ck_assert(a[i] >= 0 && a[i] < N && !seen[a[i]]);
    seen[a[i]] = 1;
    fixed += a[i] == i;
  }
  ck_assert_int_lt(fixed, 10); /* about 1 expected for a uniform permutation */
  tc_shuffle_indices(a, 0, 42, 1);
  tc_shuffle_indices(a, 1, 42, 1);
  ck_assert_int_eq(a[0], 0);
  ck_assert_uint_eq(tc_mix64(1, 2), tc_mix64(1, 2));
  ck_assert_uint_ne(tc_mix64(1, 2), tc_mix64(2, 1));
}
END_TEST

START_TEST(batches_gather_images_and_labels) {
  tc_dataset *d = NULL;
  ck_assert_int_eq(tc_dataset_create(&d, 6, 2, 3), TC_OK);
  for (int k = 0; k < 36; k++)
    d->images[k] = (float)k;
  for (int i = 0; i < 6; i++)
    d->labels[i] = (uint8_t)(10 + i);
  float x[3 * 6];
  uint8_t y[3];
  int64_t idx[3] = {5, 0, 3};
  ck_assert_int_eq(tc_dataset_batch(d, idx, 3, TC_CHANNELS_LAST, x, y), TC_OK);
  ck_assert_float_eq(x[0], 30.0f);
  ck_assert_float_eq(x[6], 0.0f);
  ck_assert_float_eq(x[17], 23.0f);
  ck_assert_int_eq(y[0], 15);
  ck_assert_int_eq(y[2], 13);
  ck_assert_int_eq(tc_dataset_batch(d, NULL, 2, TC_CHANNELS_FIRST, x, NULL), TC_OK);
  ck_assert_float_eq(x[11], 11.0f);
  idx[1] = 6;
  TC_CK_ERROR(tc_dataset_batch(d, idx, 3, TC_CHANNELS_LAST, x, y), TC_ERR_SHAPE, "index 6 (position 1)");
  ck_assert_int_eq(tc_dataset_batch(d, NULL, 7, TC_CHANNELS_LAST, x, y), TC_ERR_SHAPE);
  ck_assert_int_eq(tc_dataset_batch(d, NULL, 1, (tc_data_format)5, x, y), TC_ERR_INVALID_ARG);
  tc_dataset_free(d);
  tc_dataset_free(NULL);
  ck_assert_int_eq(tc_dataset_create(&d, 0, 2, 3), TC_ERR_SHAPE);
  ck_assert_str_eq(tc_dataset_split_name(TC_SPLIT_TEST), "test");
}
END_TEST

/* ---- PNG grids ---- */

START_TEST(png_grid_round_trip) {
  scratch_make();
  enum { H = 4, W = 5, N = 5 };
  float img[N * H * W], rec[N * H * W];
  for (int k = 0; k < N * H * W; k++) {
    img[k] = (float)(k % 11) / 10.0f; /* 0, 0.1, ..., 1 */
    rec[k] = 1.0f - img[k];
  }
  tc_png_grid g = {.images = img, .n = N, .h = H, .w = W, .rows = 2, .cols = 3};
  ck_assert_int_eq(tc_png_grid_write(at("grid.png"), &g), TC_OK);
  int h = 0, w = 0;
  uint8_t *px = NULL;
  ck_assert_int_eq(tc_png_read_gray(at("grid.png"), &h, &w, &px), TC_OK);
  ck_assert_int_eq(h, 2 * (H + 1) + 1);
  ck_assert_int_eq(w, 3 * (W + 1) + 1);
  ck_assert_int_eq(px[0], TC_PNG_GAP_VALUE);
  /* Image 4 is row 1, col 1: top-left at (1 + 5, 1 + 6). Its pixel (y, x) is k % 11. */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      int k = 4 * H * W + y * W + x;
      ck_assert_int_eq(px[(6 + y) * w + 7 + x], (int)lrintf((float)(k % 11) / 10.0f * 255.0f));
    }
  ck_assert_int_eq(px[(6 + 1) * w + 13 + 1], TC_PNG_GAP_VALUE); /* cell 6 is empty */
  free(px);
  /* Pairs, signed values, a near-square default grid. */
  for (int k = 0; k < N * H * W; k++)
    img[k] = 2.0f * img[k] - 1.0f;
  tc_png_grid p = {.images = img, .pairs = rec, .n = N, .h = H, .w = W, .signed_range = 1};
  ck_assert_int_eq(tc_png_grid_write(at("pairs.png"), &p), TC_OK);
  ck_assert_int_eq(tc_png_read_gray(at("pairs.png"), &h, &w, &px), TC_OK);
  ck_assert_int_eq(h, 2 * (H + 1) + 1);
  ck_assert_int_eq(w, 3 * (2 * W + 1) + 1);
  ck_assert_int_eq(px[1 * w + 1], 0);         /* img[0] = -1 */
  ck_assert_int_eq(px[1 * w + 1 + W], 255);   /* rec[0] = 1 */
  ck_assert_int_eq(px[1 * w + 1 + 2 * W], TC_PNG_GAP_VALUE);
  ck_assert_int_eq(px[1 * w + 2 + 2 * W + 1], 255); /* image 1, x = 1: k = 21 -> 1.0 */
  free(px);
  scratch_remove();
}
END_TEST

START_TEST(png_grid_errors_leave_no_file) {
  scratch_make();
  float img[4] = {0, 0.5f, 1, 2};
  tc_png_grid g = {.images = img, .n = 1, .h = 2, .w = 2};
  TC_CK_ERROR(tc_png_grid_write(at("no/such/dir/g.png"), &g), TC_ERR_IO, "no/such/dir/g.png");
  g.rows = 2;
  ck_assert_int_eq(tc_png_grid_write(at("g.png"), &g), TC_ERR_INVALID_ARG);
  g.cols = 100000;
  ck_assert_int_eq(tc_png_grid_write(at("g.png"), &g), TC_ERR_SHAPE);
  g.rows = g.cols = 1;
  g.images = NULL;
  ck_assert_int_eq(tc_png_grid_write(at("g.png"), &g), TC_ERR_INVALID_ARG);
  /* Nothing was left behind: no PNG, no temporary. */
  DIR *d = opendir(scratch);
  int entries = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    entries += e->d_name[0] != '.';
  closedir(d);
  ck_assert_int_eq(entries, 0);
  /* The reader refuses what is not an 8-bit gray PNG. */
  unsigned char junk[16] = "not a png file.";
  write_bytes("junk.png", junk, sizeof junk, 0);
  int h, w;
  uint8_t *px;
  TC_CK_ERROR(tc_png_read_gray(at("junk.png"), &h, &w, &px), TC_ERR_FORMAT, "junk.png");
  ck_assert_int_eq(tc_png_read_gray(at("none.png"), &h, &w, &px), TC_ERR_NOT_FOUND);
  scratch_remove();
}
END_TEST

/* A PNG cut short must fail with libpng's reason, not crash or print. */
START_TEST(png_reader_survives_truncation) {
  scratch_make();
  float img[64 * 64];
  for (int k = 0; k < 64 * 64; k++)
    img[k] = (float)((k * 7919) % 101) / 100.0f;
  tc_png_grid g = {.images = img, .n = 1, .h = 64, .w = 64};
  ck_assert_int_eq(tc_png_grid_write(at("full.png"), &g), TC_OK);
  FILE *f = fopen(at("full.png"), "rb");
  unsigned char buf[1 << 15];
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  write_bytes("cut.png", buf, len - 40, 0);
  int h, w;
  uint8_t *px = (uint8_t *)0x1;
  tc_status s = tc_png_read_gray(at("cut.png"), &h, &w, &px);
  ck_assert_int_eq(s, TC_ERR_FORMAT);
  ck_assert_ptr_null(px);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "cut.png"));
  scratch_remove();
}
END_TEST

/* ---- progress ---- */

static double fake_clock;
static double fake_now(void) { return fake_clock; }

/* Runs 2 epochs of 20 steps, one fake second each, and returns what was printed. */
static char *run_progress(tc_progress_mode mode, int64_t line_every, double line_seconds) {
  FILE *f = tmpfile();
  ck_assert_ptr_nonnull(f);
  tc_progress *p = NULL;
  tc_progress_config cfg = {.stream = f, .mode = mode, .epochs = 2, .steps = 20, .batch = 50,
                            .line_every = line_every, .line_seconds = line_seconds,
                            .now = fake_now};
  fake_clock = 100;
  ck_assert_int_eq(tc_progress_create(&p, &cfg), TC_OK);
  ck_assert_int_eq(tc_progress_mode_used(p), mode);
  for (int e = 1; e <= 2; e++)
    for (int64_t s = 1; s <= 20; s++) {
      fake_clock += 1.0;
      tc_progress_step(p, e, s, 0.5 * e);
      if (e == 2 && s == 10)
        tc_progress_note(p, "saved %s", "ckpt.npz");
    }
  tc_progress_finish(p);
  tc_progress_free(p);
  static char text[8192];
  rewind(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  return text;
}

static int count(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

START_TEST(progress_lines_for_logs) {
  char *text = run_progress(TC_PROGRESS_LINES, 5, -1);
  /* Steps 5, 10, 15, 20 of each epoch, plus the note. */
  ck_assert_int_eq(count(text, "\n"), 9);
  ck_assert_int_eq(count(text, "\r"), 0);
  ck_assert_ptr_nonnull(strstr(text, "epoch 1/2 step 5/20 loss 0.5 50 img/s ETA 0:35\n"));
  ck_assert_ptr_nonnull(strstr(text, "epoch 2/2 step 20/20 loss 1 50 img/s took 0:20\n"));
  ck_assert_ptr_nonnull(strstr(text, "saved ckpt.npz\n"));
  /* By time instead: every 7 fake seconds, and at each epoch's end. */
  text = run_progress(TC_PROGRESS_LINES, -1, 7);
  ck_assert_int_eq(count(text, "\n"), 7); /* 107 114 120(end) 127 134 140(end), the note */
  ck_assert_int_eq(count(text, "step 7/20"), 2);
  ck_assert_int_eq(count(text, "step 14/20"), 2);
  ck_assert_int_eq(count(text, "step 20/20"), 2);
  text = run_progress(TC_PROGRESS_QUIET, 0, 0);
  ck_assert_str_eq(text, "");
}
END_TEST

START_TEST(progress_bar_for_terminals) {
  char *text = run_progress(TC_PROGRESS_BAR, 0, 0);
  ck_assert_int_ge(count(text, "\r"), 40);
  /* One line per finished epoch, one for the note; the bar ends with a newline. */
  ck_assert_int_eq(count(text, "\n"), 3);
  ck_assert_ptr_nonnull(strstr(text, "epoch 1/2 [========================] 20/20 loss 0.5"));
  ck_assert_ptr_nonnull(strstr(text, "epoch 2/2 [============>           ] 10/20"));
  ck_assert_int_eq(text[strlen(text) - 1], '\n');
  tc_progress *p = NULL;
  tc_progress_config bad = {.epochs = 0, .steps = 1, .batch = 1};
  ck_assert_int_eq(tc_progress_create(&p, &bad), TC_ERR_INVALID_ARG);
  ck_assert_ptr_null(p);
}
END_TEST

int main(void) {
  Suite *s = suite_create("data");
  TCase *idx = tcase_create("idx");
  tcase_add_test(idx, idx_round_trip_plain_and_gzip);
  tcase_add_test(idx, idx_bad_magic);
  tcase_add_test(idx, idx_truncated_payload_and_header);
  tcase_add_test(idx, idx_truncated_gzip_stream);
  tcase_add_test(idx, idx_trailing_bytes);
  tcase_add_test(idx, idx_gzip_trailing_garbage_and_members);
  tcase_add_test(idx, idx_declared_sizes_are_checked_first);
  tcase_add_test(idx, idx_count_mismatch_and_zero_dim);
  tcase_add_test(idx, idx_missing_files);
  tcase_add_test(idx, fashion_mnist_when_installed);
  suite_add_tcase(s, idx);
  TCase *set = tcase_create("sets");
  tcase_add_test(set, synthetic_is_deterministic_per_seed);
  tcase_add_test(set, synthetic_classes_are_distinct);
  tcase_add_test(set, shuffle_is_a_deterministic_permutation);
  tcase_add_test(set, batches_gather_images_and_labels);
  suite_add_tcase(s, set);
  TCase *out = tcase_create("output");
  tcase_add_test(out, png_grid_round_trip);
  tcase_add_test(out, png_grid_errors_leave_no_file);
  tcase_add_test(out, png_reader_survives_truncation);
  tcase_add_test(out, progress_lines_for_logs);
  tcase_add_test(out, progress_bar_for_terminals);
  suite_add_tcase(s, out);
  return tc_test_run(s);
}
