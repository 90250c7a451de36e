/* fuzz_npz.c — libFuzzer target for the .npz reader: any bytes must give a status, never a
 * crash, a leak or undefined behaviour; what loads must be self-consistent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "core/io/npz.h"

/* Touches every loaded byte so that ASan sees any wrong size, and checks the invariants
 * the header promises. */
static void check_file(const tc_npz_file *f) {
  volatile unsigned char sink = 0;
  for (int i = 0; i < tc_npz_count(f); i++) {
    const tc_npz_array *a = tc_npz_at(f, i);
    if (a == NULL || a->data == NULL || a->dtype == TC_NPZ_F64 || tc_npz_find(f, a->key) != a)
      abort();
    int64_t size = 1;
    for (int d = 0; d < a->rank; d++)
      size *= a->shape[d];
    if (size != a->size)
      abort();
    const unsigned char *p = a->data;
    size_t bytes = (size_t)a->size * tc_npz_dtype_size(a->dtype);
    for (size_t b = 0; b < bytes; b++)
      sink ^= p[b];
  }
  (void)tc_npz_notes(f);
  (void)sink;
}

/* Wraps bytes as the stored member "k.npy" of an in-memory zip with a correct CRC, so
 * that mutations reach the .npy parser instead of stopping at the checksum. Returns a
 * malloc'ed archive, or NULL. */
static unsigned char *wrap_as_member(const uint8_t *data, size_t size, size_t *out_len) {
  zip_source_t *mem = zip_source_buffer_create(NULL, 0, 0, NULL);
  zip_t *za = mem ? zip_open_from_source(mem, ZIP_TRUNCATE, NULL) : NULL;
  if (za == NULL) {
    zip_source_free(mem);
    return NULL;
  }
  zip_source_keep(mem);
  zip_source_t *src = zip_source_buffer(za, size ? data : (const void *)"", size, 0);
  zip_int64_t idx = src ? zip_file_add(za, "k.npy", src, 0) : -1;
  if (idx < 0)
    zip_source_free(src);
  else
    zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
  int closed = idx >= 0 && zip_close(za) == 0;
  if (!closed)
    zip_discard(za);
  unsigned char *buf = NULL;
  zip_stat_t st;
  if (closed && zip_source_stat(mem, &st) == 0 && zip_source_open(mem) == 0) {
    buf = malloc(st.size ? st.size : 1);
    if (buf && zip_source_read(mem, buf, st.size) != (zip_int64_t)st.size) {
      free(buf);
      buf = NULL;
    }
    zip_source_close(mem);
    *out_len = st.size;
  }
  zip_source_free(mem);
  return buf;
}

static void read_one(const uint8_t *data, size_t size) {
  /* Small limits keep each run fast; the checks are the same as with the defaults. */
  tc_npz_limits lim = {64u << 20, 1024};
  tc_npz_file *f = NULL;
  tc_status s = tc_npz_read_memory(data, size, &f, &lim);
  if (s == TC_OK)
    check_file(f);
  else if (f != NULL || tc_last_error()[0] == '\0')
    abort(); /* a failure must leave *out NULL and say why */
  tc_npz_file_free(f);
}

/* The first byte picks the mode: odd = the rest is one .npy member, even = the rest is
 * the archive itself. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  if (data[0] & 1) {
    size_t len = 0;
    unsigned char *zip = wrap_as_member(data + 1, size - 1, &len);
    if (zip != NULL)
      read_one(zip, len);
    free(zip);
  } else {
    read_one(data + 1, size - 1);
  }
  return 0;
}
