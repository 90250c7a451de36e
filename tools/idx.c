/* idx.c — IDX (MNIST format) reader over zlib's gz* calls, which read gzip and plain alike. */
#include "tools/idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_PATH_CAP 4096
/* A sanity bound on what a header may declare; the real data is far smaller. */
#define IDX_MAX_BYTES ((uint64_t)1 << 32)
#define IDX_MAX_SIDE (1 << 16)

/* Opens path for gz reading; a missing file is TC_ERR_NOT_FOUND, not a generic I/O error,
 * so the command can fall back to the synthetic set. */
static tc_status idx_open(const char *path, gzFile *out) {
  struct stat st;
  *out = NULL;
  if (stat(path, &st) != 0)
    return tc_set_error(errno == ENOENT ? TC_ERR_NOT_FOUND : TC_ERR_IO,
                        "file '%s': %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return tc_set_error(TC_ERR_IO, "file '%s': not a regular file", path);
  gzFile gz = gzopen(path, "rb");
  if (gz == NULL)
    return tc_set_error(errno == ENOMEM ? TC_ERR_NOMEM : TC_ERR_IO, "file '%s': cannot open: %s",
                        path, errno ? strerror(errno) : "zlib could not allocate");
  gzbuffer(gz, 1 << 17);
  *out = gz;
  return TC_OK;
}

/* zlib's reason for the last failure, without the "path: " it puts in front. */
static const char *idx_zlib_msg(gzFile gz, const char *path, int *zerr) {
  const char *msg = gzerror(gz, zerr);
  size_t n = strlen(path);
  if (msg != NULL && strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
    msg += n + 2;
  return msg != NULL ? msg : "";
}

/* Reads up to len bytes; *got says how many arrived. A broken gzip stream is a format error
 * (zlib's own words go into the message); a clean end of file just gives a short count. */
static tc_status idx_read(gzFile gz, const char *path, void *buf, size_t len, size_t *got) {
  *got = 0;
  while (*got < len) {
    size_t want = len - *got;
    unsigned chunk = want > (1u << 30) ? (1u << 30) : (unsigned)want;
    int r = gzread(gz, (unsigned char *)buf + *got, chunk);
    if (r < 0) {
      int zerr;
      const char *msg = idx_zlib_msg(gz, path, &zerr);
      return tc_set_error(zerr == Z_ERRNO ? TC_ERR_IO : TC_ERR_FORMAT,
                          "file '%s': read failed after %zu bytes: %s", path, *got,
                          zerr == Z_ERRNO ? strerror(errno) : msg);
    }
    if (r == 0)
      break;
    *got += (size_t)r;
  }
  return TC_OK;
}

/* Why a read stopped short: a cut gzip stream says "unexpected end of file". */
static const char *idx_short_note(gzFile gz, const char *path) {
  int zerr;
  const char *msg = idx_zlib_msg(gz, path, &zerr);
  return (zerr != Z_OK && msg[0] != '\0') ? msg : "the file ends early";
}

/* Reads the magic and ndim big-endian dims; checks the magic and that no dim is zero. */
static tc_status idx_header(gzFile gz, const char *path, uint32_t magic, int ndim,
                            uint32_t *dims) {
  unsigned char h[16];
  size_t need = 4 + 4 * (size_t)ndim, got;
  TC_TRY(idx_read(gz, path, h, need, &got));
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

/* Counts what follows the declared payload; anything at all means the header is wrong. */
static tc_status idx_expect_end(gzFile gz, const char *path, size_t declared) {
  unsigned char buf[4096];
  size_t extra = 0, got;
  do {
    TC_TRY(idx_read(gz, path, buf, sizeof buf, &got));
    extra += got;
  } while (got == sizeof buf);
  if (extra > 0)
    return tc_set_error(TC_ERR_FORMAT, "file '%s': %zu trailing bytes after the %zu-byte "
                        "payload the header declares", path, extra, declared);
  return TC_OK;
}

/* Reads exactly `declared` payload bytes into a new buffer and checks nothing follows. The
 * buffer grows with the bytes that actually arrive, so a corrupt header cannot make us
 * allocate (and zero) gigabytes before the short read is noticed. */
static tc_status idx_payload(gzFile gz, const char *path, size_t declared, const char *dims,
                             unsigned char **out) {
  size_t cap = declared < (1u << 20) ? declared : (1u << 20), have = 0, got;
  unsigned char *buf = malloc(cap);
  if (buf == NULL)
    return tc_set_error(TC_ERR_NOMEM, "file '%s': out of memory", path);
  for (;;) {
    tc_status s = idx_read(gz, path, buf + have, cap - have, &got);
    have += got;
    if (s != TC_OK || have < cap || cap == declared) {
      if (s == TC_OK && have < declared)
        s = tc_set_error(TC_ERR_FORMAT, "file '%s': payload is %zu bytes, header declares "
                         "%zu (%s); %s", path, have, declared, dims, idx_short_note(gz, path));
      if (s == TC_OK)
        s = idx_expect_end(gz, path, declared);
      if (s != TC_OK) {
        free(buf);
        return s;
      }
      *out = buf;
      return TC_OK;
    }
    size_t grown = cap * 2 < declared ? cap * 2 : declared;
    unsigned char *nb = realloc(buf, grown);
    if (nb == NULL) {
      free(buf);
      return tc_set_error(TC_ERR_NOMEM, "file '%s': out of memory at %zu bytes", path, grown);
    }
    buf = nb;
    cap = grown;
  }
}

static tc_status idx_images_body(gzFile gz, const char *path, tc_dataset **out) {
  uint32_t d[3];
  TC_TRY(idx_header(gz, path, TC_IDX_MAGIC_IMAGES, 3, d));
  uint64_t total = (uint64_t)d[0] * ((uint64_t)d[1] * d[2]);
  if (d[1] > IDX_MAX_SIDE || d[2] > IDX_MAX_SIDE || total > IDX_MAX_BYTES)
    return tc_set_error(TC_ERR_FORMAT, "file '%s': header declares %u images of %ux%u, "
                        "beyond the %u-pixel side or %llu-byte limit", path, (unsigned)d[0],
                        (unsigned)d[1], (unsigned)d[2], IDX_MAX_SIDE,
                        (unsigned long long)IDX_MAX_BYTES);
  char dims[96];
  snprintf(dims, sizeof dims, "%u images of %ux%u", (unsigned)d[0], (unsigned)d[1],
           (unsigned)d[2]);
  unsigned char *px = NULL;
  TC_TRY(idx_payload(gz, path, (size_t)total, dims, &px));
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
  gzFile gz;
  TC_TRY(idx_open(path, &gz));
  tc_status s = idx_images_body(gz, path, out);
  gzclose(gz);
  return s;
}

static tc_status idx_labels_body(gzFile gz, const char *path, uint8_t **labels, int64_t *n) {
  uint32_t d[1];
  TC_TRY(idx_header(gz, path, TC_IDX_MAGIC_LABELS, 1, d));
  char dims[64];
  snprintf(dims, sizeof dims, "%u labels", (unsigned)d[0]);
  TC_TRY(idx_payload(gz, path, d[0], dims, labels));
  *n = d[0];
  return TC_OK;
}

tc_status tc_idx_read_labels(const char *path, uint8_t **labels, int64_t *n) {
  if (path == NULL || labels == NULL || n == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "idx labels: path or out pointer is NULL");
  *labels = NULL;
  *n = 0;
  gzFile gz;
  TC_TRY(idx_open(path, &gz));
  tc_status s = idx_labels_body(gz, path, labels, n);
  gzclose(gz);
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
