/* fuzz_idx.c — libFuzzer target for the IDX reader (plain and gzip): any bytes must give a
 * status, never a crash, a leak or undefined behaviour; what loads must be consistent. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "tools/idx.h"

/* The reader takes a path: the bytes go to an in-memory file named through /proc. */
static int to_memfd(const uint8_t *data, size_t size, char *path, size_t cap) {
  int fd = memfd_create("idx", 0);
  if (fd < 0)
    abort();
  for (size_t off = 0; off < size;) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0)
      abort();
    off += (size_t)w;
  }
  snprintf(path, cap, "/proc/self/fd/%d", fd);
  return fd;
}

/* Gzips the bytes, so that mutations of an IDX payload reach the parser through zlib. */
static unsigned char *gzip_bytes(const uint8_t *data, size_t size, size_t *out_len) {
  z_stream z = {0};
  if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    abort();
  size_t cap = deflateBound(&z, (uLong)size) + 32;
  unsigned char *out = malloc(cap);
  z.next_in = (Bytef *)data;
  z.avail_in = (uInt)size;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  if (out == NULL || deflate(&z, Z_FINISH) != Z_STREAM_END)
    abort();
  *out_len = cap - z.avail_out;
  deflateEnd(&z);
  return out;
}

static void read_one(const uint8_t *data, size_t size, int labels) {
  char path[64];
  int fd = to_memfd(data, size, path, sizeof path);
  if (labels) {
    uint8_t *l = NULL;
    int64_t n = -1;
    tc_status s = tc_idx_read_labels(path, &l, &n);
    if (s == TC_OK) {
      volatile uint8_t sink = 0;
      for (int64_t i = 0; i < n; i++)
        sink ^= l[i];
      (void)sink;
    } else if (l != NULL || tc_last_error()[0] == '\0') {
      abort();
    }
    free(l);
  } else {
    tc_dataset *d = NULL;
    tc_status s = tc_idx_read_images(path, &d);
    if (s == TC_OK) {
      volatile float sink = 0.0f;
      for (int64_t i = 0; i < d->n * d->h * d->w; i++)
        sink += d->images[i];
      (void)sink;
    } else if (d != NULL || tc_last_error()[0] == '\0') {
      abort();
    }
    tc_dataset_free(d);
  }
  close(fd);
}

/* The first byte picks the mode: bit 0 labels or images, bit 1 the rest is gzipped here
 * first (else the rest is the file, which may itself be gzip). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  int labels = data[0] & 1;
  if (data[0] & 2) {
    size_t len = 0;
    unsigned char *gz = gzip_bytes(data + 1, size - 1, &len);
    read_one(gz, len, labels);
    free(gz);
  } else {
    read_one(data + 1, size - 1, labels);
  }
  return 0;
}
