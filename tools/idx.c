/* idx.c — IDX (MNIST format) reader over tools/idx_stream.c, which reads gzip and plain
 * alike. A header's declared size is checked against TC_IDX_MAX_BYTES, then against what
 * the file really holds (for gzip: what really inflates, counted in a first pass without
 * keeping it), and only then is the payload's buffer allocated. */
#include "tools/idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/idx_stream.h"

#define IDX_PATH_CAP 4096
#define IDX_MAX_SIDE (1 << 16)
/* Bytes counted past the declared payload before giving up: enough to report a small
 * excess exactly, small enough that a bomb costs nothing. */
#define IDX_TRAILING_PROBE (1 << 16)

/* Reads the magic and ndim big-endian dims; checks the magic and that no dim is zero. */
static tc_status idx_header(tc_idx_stream *in, const char *path, uint32_t magic, int ndim,
                            uint32_t *dims) {
  unsigned char h[16];
  size_t need = 4 + 4 * (size_t)ndim, got;
  TC_TRY(tc_idx_stream_read(in, h, need, &got));
  if (got < 4)
    return tc_set_error(TC_ERR_FORMAT, "file '%s': %zu bytes, too short for an IDX magic",
                        path, got);
  uint32_t m = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
  if (m != magic)
    return tc_set_error(TC_ERR_FORMAT, "file '%s': magic 0x%08x, expected 0x%08x (%s)",
                        path, (unsigned)m, (unsigned)magic,
                        magic == TC_IDX_MAGIC_IMAGES ? "u8 images, 3 dims" : "u8 labels, 1 dim");
  if (got < need)
    return tc_set_error(TC_ERR_FORMAT, "file '%s': header is %zu bytes, expected %zu",
                        path, got, need);
  for (int i = 0; i < ndim; i++) {
    const unsigned char *p = h + 4 + 4 * i;
    dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (dims[i] == 0)
      return tc_set_error(TC_ERR_FORMAT, "file '%s': dimension %d is 0", path, i);
  }
  return TC_OK;
}

static tc_status idx_short(const char *path, uint64_t have, uint64_t declared,
                           const char *dims, const char *why) {
  return tc_set_error(TC_ERR_FORMAT, "file '%s': payload is %llu bytes, header declares %llu "
                      "(%s); %s", path, (unsigned long long)have, (unsigned long long)declared,
                      dims, why);
}

static tc_status idx_trailing(const char *path, uint64_t extra, int capped, uint64_t declared) {
  return tc_set_error(TC_ERR_FORMAT, "file '%s': %s%llu trailing bytes after the %llu-byte "
                      "payload the header declares", path, capped ? "at least " : "",
                      (unsigned long long)extra, (unsigned long long)declared);
}

/* Counts the content after the header without keeping it, stopping a little past the
 * declared size: what the file really holds is known before the payload's buffer is
 * allocated. A plain file's size says it at once. */
static tc_status idx_measure(tc_idx_stream *s, const char *path, size_t head, uint64_t declared,
                             const char *dims) {
  uint64_t have;
  if (!tc_idx_stream_is_gzip(s)) {
    uint64_t size = tc_idx_stream_file_size(s);
    have = size > head ? size - head : 0;
    if (have < declared)
      return idx_short(path, have, declared, dims, "the file ends");
    if (have > declared)
      return idx_trailing(path, have - declared, 0, declared);
    return TC_OK;
  }
  unsigned char *scratch = malloc(IDX_TRAILING_PROBE);
  if (scratch == NULL)
    return tc_set_error(TC_ERR_NOMEM, "file '%s': out of memory", path);
  size_t got;
  tc_status st = TC_OK;
  have = 0;
  do {
    st = tc_idx_stream_read(s, scratch, IDX_TRAILING_PROBE, &got);
    have += got;
  } while (st == TC_OK && got == IDX_TRAILING_PROBE && have <= declared + IDX_TRAILING_PROBE);
  free(scratch);
  TC_TRY(st);
  if (have < declared)
    return idx_short(path, have, declared, dims, tc_idx_stream_end_note(s));
  if (have > declared)
    return idx_trailing(path, have - declared, got == IDX_TRAILING_PROBE, declared);
  TC_TRY(tc_idx_stream_rewind(s));
  unsigned char skip[16];
  return tc_idx_stream_read(s, skip, head, &got);
}

/* Reads exactly `declared` payload bytes (the file was measured to hold that many) into a
 * new buffer and checks that nothing follows. */
static tc_status idx_payload(tc_idx_stream *s, const char *path, size_t head, size_t declared,
                             const char *dims, unsigned char **out) {
  TC_TRY(idx_measure(s, path, head, declared, dims));
  unsigned char *buf = malloc(declared), extra[64];
  if (buf == NULL)
    return tc_set_error(TC_ERR_NOMEM, "file '%s': out of memory for %zu bytes", path, declared);
  size_t got = 0, more = 0;
  tc_status st = tc_idx_stream_read(s, buf, declared, &got);
  if (st == TC_OK && got < declared) /* the file changed under us */
    st = idx_short(path, got, declared, dims, tc_idx_stream_end_note(s));
  if (st == TC_OK)
    st = tc_idx_stream_read(s, extra, sizeof extra, &more);
  if (st == TC_OK && more > 0)
    st = idx_trailing(path, more, more == sizeof extra, declared);
  if (st != TC_OK) {
    free(buf);
    return st;
  }
  *out = buf;
  return TC_OK;
}

static tc_status idx_images_body(tc_idx_stream *in, const char *path, tc_dataset **out) {
  uint32_t d[3];
  TC_TRY(idx_header(in, path, TC_IDX_MAGIC_IMAGES, 3, d));
  uint64_t total = (uint64_t)d[0] * ((uint64_t)d[1] * d[2]);
  if (d[1] > IDX_MAX_SIDE || d[2] > IDX_MAX_SIDE || total > TC_IDX_MAX_BYTES)
    return tc_set_error(TC_ERR_FORMAT, "file '%s': header declares %u images of %ux%u, "
                        "beyond the %u-pixel side or %llu-byte limit", path, (unsigned)d[0],
                        (unsigned)d[1], (unsigned)d[2], IDX_MAX_SIDE,
                        (unsigned long long)TC_IDX_MAX_BYTES);
  char dims[96];
  snprintf(dims, sizeof dims, "%u images of %ux%u", (unsigned)d[0], (unsigned)d[1],
           (unsigned)d[2]);
  unsigned char *px = NULL;
  TC_TRY(idx_payload(in, path, 16, (size_t)total, dims, &px));
  tc_status s = tc_dataset_create(out, d[0], (int)d[1], (int)d[2]);
  if (s == TC_OK) {
    for (size_t i = 0; i < (size_t)total; i++)
      (*out)->images[i] = (float)px[i] * (1.0f / 255.0f);
    snprintf((*out)->source, sizeof (*out)->source, "%s", path);
  }
  free(px);
  return s;
}

tc_status tc_idx_read_images(const char *path, tc_dataset **out) {
  if (path == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "idx images: path or out pointer is NULL");
  *out = NULL;
  tc_idx_stream *in;
  TC_TRY(tc_idx_stream_open(path, &in));
  tc_status s = idx_images_body(in, path, out);
  tc_idx_stream_close(in);
  return s;
}

static tc_status idx_labels_body(tc_idx_stream *in, const char *path, uint8_t **labels,
                                 int64_t *n) {
  uint32_t d[1];
  TC_TRY(idx_header(in, path, TC_IDX_MAGIC_LABELS, 1, d));
  if (d[0] > TC_IDX_MAX_BYTES)
    return tc_set_error(TC_ERR_FORMAT, "file '%s': header declares %u labels, beyond the "
                        "%llu-byte limit", path, (unsigned)d[0],
                        (unsigned long long)TC_IDX_MAX_BYTES);
  char dims[64];
  snprintf(dims, sizeof dims, "%u labels", (unsigned)d[0]);
  TC_TRY(idx_payload(in, path, 8, d[0], dims, labels));
  *n = d[0];
  return TC_OK;
}

tc_status tc_idx_read_labels(const char *path, uint8_t **labels, int64_t *n) {
  if (path == NULL || labels == NULL || n == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "idx labels: path or out pointer is NULL");
  *labels = NULL;
  *n = 0;
  tc_idx_stream *in;
  TC_TRY(tc_idx_stream_open(path, &in));
  tc_status s = idx_labels_body(in, path, labels, n);
  tc_idx_stream_close(in);
  return s;
}

/* Finds dir/base or dir/base.gz (the plain name first: an unpacked copy wins). */
static tc_status idx_find(const char *dir, const char *base, char *path) {
  struct stat st;
  const char *ext[2] = {"", ".gz"};
  for (int i = 0; i < 2; i++) {
    int len = snprintf(path, IDX_PATH_CAP, "%s/%s%s", dir, base, ext[i]);
    if (len < 0 || len >= IDX_PATH_CAP)
      return tc_set_error(TC_ERR_INVALID_ARG, "data directory '%.200s...': path too long", dir);
    if (stat(path, &st) == 0)
      return TC_OK;
  }
  return tc_set_error(TC_ERR_NOT_FOUND, "data directory '%s': neither '%s' nor '%s.gz' exists",
                      dir, base, base);
}

static tc_status idx_attach_labels(tc_dataset *d, const char *lpath) {
  uint8_t *labels = NULL;
  int64_t n = 0;
  TC_TRY(tc_idx_read_labels(lpath, &labels, &n));
  if (n != d->n) {
    free(labels);
    return tc_set_error(TC_ERR_FORMAT, "'%s' has %lld images but '%s' has %lld labels",
                        d->source, (long long)d->n, lpath, (long long)n);
  }
  free(d->labels);
  d->labels = labels;
  int top = 0;
  for (int64_t i = 0; i < n; i++)
    top = labels[i] > top ? labels[i] : top;
  d->num_classes = top + 1;
  return TC_OK;
}

tc_status tc_dataset_load_idx(const char *dir, tc_dataset_split split, tc_dataset **out) {
  if (dir == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "dataset: directory or out pointer is NULL");
  *out = NULL;
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return tc_set_error(TC_ERR_NOT_FOUND, "data directory '%s' does not exist", dir);
  const char *prefix = split == TC_SPLIT_TEST ? "t10k" : "train";
  char ipath[IDX_PATH_CAP], lpath[IDX_PATH_CAP], base[64];
  snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
  TC_TRY(idx_find(dir, base, ipath));
  snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
  TC_TRY(idx_find(dir, base, lpath));
  tc_dataset *d = NULL;
  TC_TRY(tc_idx_read_images(ipath, &d));
  tc_status s = idx_attach_labels(d, lpath);
  if (s != TC_OK) {
    tc_dataset_free(d);
    return s;
  }
  *out = d;
  return TC_OK;
}

const char *tc_dataset_default_dir(void) {
  static const char *const names[2] = {TC_FASHION_MNIST_DEBIAN_DIR "/train-images-idx3-ubyte",
                                       TC_FASHION_MNIST_DEBIAN_DIR "/train-images-idx3-ubyte.gz"};
  struct stat st;
  for (int i = 0; i < 2; i++)
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
      return TC_FASHION_MNIST_DEBIAN_DIR;
  return NULL;
}
