/* npz_read.c — load and validate a .npz archive with libzip.
 *
 * Order of checks, so that nothing is allocated from an unchecked number: entry count,
 * then every entry's name and declared size (their sum bounded by the limits), duplicate
 * keys, then per entry: its bytes, read into a buffer of exactly the declared size and
 * proven intact (npz_inflate.c), then the .npy prefix, the dict, and the shape's byte size
 * against the declared size. Interpreting only checked bytes means a flipped bit is a
 * checksum error, never a misleading header error. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "core/io/npy.h"
#include "core/io/npz.h"
#include "core/tensor.h"

struct tc_npz_file {
  int n;
  tc_npz_array *arrays;   /* archive order */
  tc_npz_array **sorted;  /* by key, for lookup */
  char *notes;            /* "" or lines */
  size_t notes_len;
};

typedef struct tc_npz_reader {
  zip_t *za;
  tc_npz_limits lim;
  tc_npz_file *f;
  uint64_t *sizes; /* declared uncompressed size of each entry */
} tc_npz_reader;

/* ---- errors -------------------------------------------------------------------------- */

/* Maps a libzip error met while opening the archive. */
static tc_status tc_npz_open_error(zip_error_t *ze) {
  int code = zip_error_code_zip(ze);
  tc_status s = TC_ERR_FORMAT;
  if (code == ZIP_ER_NOENT)
    s = TC_ERR_NOT_FOUND;
  else if (code == ZIP_ER_OPEN || code == ZIP_ER_READ || code == ZIP_ER_SEEK)
    s = TC_ERR_IO;
  else if (code == ZIP_ER_MEMORY)
    s = TC_ERR_NOMEM;
  if (s == TC_ERR_FORMAT)
    return tc_set_error(s, "not a valid .npz (zip) archive: %s", zip_error_strerror(ze));
  return tc_set_error(s, "%s", zip_error_strerror(ze));
}

/* ---- the file object ----------------------------------------------------------------- */

void tc_npz_file_free(tc_npz_file *f) {
  if (f == NULL)
    return;
  for (int i = 0; i < f->n; i++) {
    free((char *)f->arrays[i].key);
    tc_aligned_free(f->arrays[i].data);
  }
  free(f->arrays);
  free(f->sorted);
  free(f->notes);
  free(f);
}

static tc_status tc_npz_note(tc_npz_file *f, const tc_npz_array *a) {
  char line[TC_NPZ_MAX_KEY + 128];
  int len = snprintf(line, sizeof line, "%s: float64 converted to float32 (%lld values "
                     "overflowed to inf)\n", a->key, (long long)a->overflowed);
  if (len < 0)
    return tc_set_error(TC_ERR_FORMAT, "'%s': cannot format a note", a->key);
  size_t add = strnlen(line, sizeof line);
  char *grown = realloc(f->notes, f->notes_len + add + 1);
  if (grown == NULL)
    return tc_set_error(TC_ERR_NOMEM, "'%s': cannot allocate a note", a->key);
  memcpy(grown + f->notes_len, line, add + 1);
  f->notes = grown;
  f->notes_len += add;
  return TC_OK;
}

int tc_npz_count(const tc_npz_file *f) { return f ? f->n : 0; }

const tc_npz_array *tc_npz_at(const tc_npz_file *f, int i) {
  if (f == NULL || i < 0 || i >= f->n)
    return NULL;
  return &f->arrays[i];
}

const tc_npz_array *tc_npz_find(const tc_npz_file *f, const char *key) {
  if (f == NULL || key == NULL)
    return NULL;
  int lo = 0, hi = f->n - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    int c = strcmp(f->sorted[mid]->key, key);
    if (c == 0)
      return f->sorted[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return NULL;
}

tc_status tc_npz_get(const tc_npz_file *f, const char *key, const tc_npz_array **out) {
  if (f == NULL || key == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_npz_get: NULL argument");
  *out = tc_npz_find(f, key);
  if (*out == NULL)
    return tc_set_error(TC_ERR_NOT_FOUND, "no array '%s' among the %d in the archive", key,
                        f->n);
  return TC_OK;
}

const char *tc_npz_notes(const tc_npz_file *f) {
  return f && f->notes ? f->notes : "";
}

/* ---- pass 1: names, sizes, duplicates ------------------------------------------------ */

/* A declared size that the compressed bytes cannot produce is refused before a buffer of
 * that size is allocated: stored data is as long as declared, and deflate expands by at
 * most 1032:1. */
static tc_status tc_npz_check_ratio(const char *key, const zip_stat_t *st) {
  if (!(st->valid & ZIP_STAT_COMP_SIZE) || !(st->valid & ZIP_STAT_COMP_METHOD))
    return tc_set_error(TC_ERR_FORMAT, "'%s': zip header lacks sizes", key);
  uint64_t most = st->comp_method == ZIP_CM_STORE ? st->comp_size
                  : st->comp_size > UINT64_MAX / 1032 ? UINT64_MAX
                                                      : st->comp_size * 1032 + 64;
  if (st->size > most)
    return tc_set_error(TC_ERR_FORMAT, "'%s': declares %llu bytes, more than its %llu "
                        "compressed bytes can hold", key, (unsigned long long)st->size,
                        (unsigned long long)st->comp_size);
  return TC_OK;
}

static tc_status tc_npz_entry_name(tc_npz_reader *r, zip_uint64_t i, tc_npz_array *a,
                                   uint64_t *total) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(r->za, i, ZIP_FL_ENC_RAW, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
      !(st.valid & ZIP_STAT_SIZE))
    return tc_set_error(TC_ERR_FORMAT, "entry %llu: %s", (unsigned long long)i,
                        zip_strerror(r->za));
  size_t len = strlen(st.name);
  char shown[240];
  if (len <= 4 || strcmp(st.name + len - 4, ".npy") != 0)
    return tc_set_error(TC_ERR_FORMAT, "entry %llu '%s' is not a .npy array",
                        (unsigned long long)i, tc_npz_escape(st.name, shown, sizeof shown));
  if (len - 4 > TC_NPZ_MAX_KEY)
    return tc_set_error(TC_ERR_FORMAT, "entry %llu: key of %zu bytes exceeds %d",
                        (unsigned long long)i, len - 4, TC_NPZ_MAX_KEY);
  char *key = malloc(len - 3);
  if (key == NULL)
    return tc_set_error(TC_ERR_NOMEM, "entry %llu: cannot allocate its key",
                        (unsigned long long)i);
  memcpy(key, st.name, len - 4);
  key[len - 4] = '\0';
  a->key = key;
  /* The writer's rule: a key that tconv would never write is not read either. */
  if (tc_npz_key_check(key) != TC_OK) {
    char why[400];
    snprintf(why, sizeof why, "%s", tc_last_error());
    return tc_set_error(TC_ERR_FORMAT, "entry %llu '%s': %s", (unsigned long long)i,
                        tc_npz_escape(st.name, shown, sizeof shown), why);
  }
  r->sizes[i] = st.size;
  if (st.size > r->lim.max_total_bytes - *total)
    return tc_set_error(TC_ERR_UNSUPPORTED,
                        "'%s': declares %llu uncompressed bytes, which brings the archive "
                        "above its limit of %llu bytes (tc_npz_limits.max_total_bytes)",
                        key, (unsigned long long)st.size,
                        (unsigned long long)r->lim.max_total_bytes);
  *total += st.size;
  return tc_npz_check_ratio(key, &st);
}

static int tc_npz_cmp_key(const void *a, const void *b) {
  const tc_npz_array *x = *(const tc_npz_array *const *)a;
  const tc_npz_array *y = *(const tc_npz_array *const *)b;
  return strcmp(x->key, y->key);
}

static tc_status tc_npz_index(tc_npz_file *f) {
  f->sorted = malloc(sizeof *f->sorted * (size_t)(f->n > 0 ? f->n : 1));
  if (f->sorted == NULL)
    return tc_set_error(TC_ERR_NOMEM, "cannot allocate the index of %d arrays", f->n);
  for (int i = 0; i < f->n; i++)
    f->sorted[i] = &f->arrays[i];
  if (f->n > 1)
    qsort(f->sorted, (size_t)f->n, sizeof *f->sorted, tc_npz_cmp_key);
  for (int i = 1; i < f->n; i++)
    if (strcmp(f->sorted[i - 1]->key, f->sorted[i]->key) == 0)
      return tc_set_error(TC_ERR_EXISTS, "'%s': key appears twice (entries %d and %d)",
                          f->sorted[i]->key, (int)(f->sorted[i - 1] - f->arrays),
                          (int)(f->sorted[i] - f->arrays));
  return TC_OK;
}

/* ---- pass 2: one entry's header and data --------------------------------------------- */

/* Parses the header at the start of the entry's `declared` bytes; *used is its length. */
static tc_status tc_npz_header(const unsigned char *raw, uint64_t declared, const char *key,
                               tc_npy_header *h, uint64_t *used) {
  int len_bytes;
  TC_TRY(tc_npy_check_prefix(raw, key, &len_bytes));
  uint64_t dict_len = raw[8] | (uint64_t)raw[9] << 8;
  if (len_bytes == 4)
    dict_len |= (uint64_t)raw[10] << 16 | (uint64_t)raw[11] << 24;
  *used = TC_NPY_PREFIX_LEN + (uint64_t)len_bytes + dict_len;
  if (dict_len > TC_NPY_MAX_DICT || *used > declared)
    return tc_set_error(TC_ERR_FORMAT, "'%s': .npy header of %llu bytes does not fit (entry "
                        "of %llu bytes, at most %d header bytes)", key,
                        (unsigned long long)dict_len, (unsigned long long)declared,
                        TC_NPY_MAX_DICT);
  return tc_npy_parse_dict((const char *)raw + *used - dict_len, (size_t)dict_len, key, h);
}

static void tc_npz_shape_str(const tc_npy_header *h, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  len += (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < h->rank && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%lld%s", (long long)h->shape[i],
                            h->rank == 1 ? "," : i + 1 < h->rank ? ", " : "");
  if (len < cap)
    snprintf(buf + len, cap - len, ")");
}

/* Narrows n float64 values (raw bytes) to float32 with round-to-nearest, as numpy's
 * astype(float32) does; counts finite values that become +-inf. */
static int64_t tc_npz_narrow(float *dst, const unsigned char *src, int64_t n) {
  /* Below FLT_MAX + half an ulp a value rounds to a finite float; at or above, to inf. */
  const double lim = (double)FLT_MAX + 0x1p103;
  int64_t overflowed = 0;
  for (int64_t i = 0; i < n; i++) {
    double d;
    memcpy(&d, src + 8 * i, sizeof d);
    if (isnan(d) || (d < lim && d > -lim)) {
      dst[i] = (float)d;
    } else {
      dst[i] = d > 0 ? HUGE_VALF : -HUGE_VALF;
      overflowed += !isinf(d);
    }
  }
  return overflowed;
}

/* Moves the data after the header to a->data (taking over raw), narrowing float64. */
static tc_status tc_npz_take_data(tc_npz_array *a, unsigned char *raw, uint64_t used,
                                  const tc_npy_header *h) {
  if (!a->converted) {
    memmove(raw, raw + used, (size_t)h->data_bytes);
    a->data = raw;
    return TC_OK;
  }
  size_t out_bytes = (size_t)h->size * sizeof(float);
  a->data = tc_aligned_alloc(out_bytes);
  if (a->data == NULL) {
    tc_aligned_free(raw);
    return tc_set_error(TC_ERR_NOMEM, "'%s': cannot allocate %zu bytes", a->key, out_bytes);
  }
  a->overflowed = tc_npz_narrow(a->data, raw + used, h->size);
  tc_aligned_free(raw);
  return TC_OK;
}

static tc_status tc_npz_check_size(const tc_npz_array *a, const tc_npy_header *h,
                                   uint64_t data_bytes) {
  if (h->data_bytes == data_bytes)
    return TC_OK;
  char shape[TC_NPZ_MAX_RANK * 22 + 4];
  tc_npz_shape_str(h, shape, sizeof shape);
  return tc_set_error(TC_ERR_SHAPE, "'%s': shape %s of '%s' needs %llu bytes, the entry "
                      "holds %llu bytes of data", a->key, shape, tc_npz_dtype_str(h->dtype),
                      (unsigned long long)h->data_bytes, (unsigned long long)data_bytes);
}

/* The whole entry is read and its CRC checked before any of it is interpreted, so that a
 * flipped bit anywhere is TC_ERR_CHECKSUM rather than a confusing header error. */
static tc_status tc_npz_read_entry(tc_npz_reader *r, zip_uint64_t i) {
  tc_npz_array *a = &r->f->arrays[i];
  uint64_t declared = r->sizes[i];
  if (declared < TC_NPY_PREFIX_LEN + 4)
    return tc_set_error(TC_ERR_FORMAT, "'%s': entry of %llu bytes is too short for a .npy "
                        "header", a->key, (unsigned long long)declared);
  unsigned char *raw = tc_aligned_alloc((size_t)declared);
  if (raw == NULL)
    return tc_set_error(TC_ERR_NOMEM, "'%s': cannot allocate %llu bytes", a->key,
                        (unsigned long long)declared);
  tc_npy_header h;
  uint64_t used = 0;
  tc_status s = tc_npz_entry_bytes(r->za, i, a->key, raw, declared);
  if (s == TC_OK)
    s = tc_npz_header(raw, declared, a->key, &h, &used);
  if (s == TC_OK)
    s = tc_npz_check_size(a, &h, declared - used);
  if (s != TC_OK) {
    tc_aligned_free(raw);
    return s;
  }
  a->stored_dtype = h.dtype;
  a->converted = h.dtype == TC_NPZ_F64;
  a->dtype = a->converted ? TC_NPZ_F32 : h.dtype;
  a->rank = h.rank;
  memcpy(a->shape, h.shape, sizeof a->shape);
  a->size = h.size;
  TC_TRY(tc_npz_take_data(a, raw, used, &h));
  return a->converted ? tc_npz_note(r->f, a) : TC_OK;
}

/* ---- the archive --------------------------------------------------------------------- */

static tc_status tc_npz_load_all(tc_npz_reader *r) {
  zip_int64_t n = zip_get_num_entries(r->za, 0);
  if (n < 0)
    return tc_set_error(TC_ERR_FORMAT, "cannot count entries: %s", zip_strerror(r->za));
  if (n > r->lim.max_entries)
    return tc_set_error(TC_ERR_UNSUPPORTED, "%lld entries exceed the limit of %d "
                        "(tc_npz_limits.max_entries)", (long long)n, r->lim.max_entries);
  tc_npz_file *f = r->f;
  size_t cap = n > 0 ? (size_t)n : 1;
  f->arrays = calloc(cap, sizeof *f->arrays);
  r->sizes = calloc(cap, sizeof *r->sizes);
  if (f->arrays == NULL || r->sizes == NULL)
    return tc_set_error(TC_ERR_NOMEM, "cannot allocate %lld entries", (long long)n);
  uint64_t total = 0;
  for (zip_int64_t i = 0; i < n; i++) {
    f->n = (int)i + 1; /* so that free releases what this entry allocated */
    TC_TRY(tc_npz_entry_name(r, (zip_uint64_t)i, &f->arrays[i], &total));
  }
  TC_TRY(tc_npz_index(f));
  for (zip_int64_t i = 0; i < n; i++)
    TC_TRY(tc_npz_read_entry(r, (zip_uint64_t)i));
  return TC_OK;
}

static void tc_npz_limits_fill(tc_npz_limits *dst, const tc_npz_limits *src) {
  dst->max_total_bytes = src && src->max_total_bytes ? src->max_total_bytes
                                                     : TC_NPZ_DEFAULT_MAX_TOTAL_BYTES;
  dst->max_entries = src && src->max_entries > 0 ? src->max_entries
                                                 : TC_NPZ_DEFAULT_MAX_ENTRIES;
}

/* Loads from an open archive, which it discards; the message is prefixed with `name`. */
static tc_status tc_npz_load(zip_t *za, const char *name, tc_npz_file **out,
                             const tc_npz_limits *limits) {
  tc_npz_reader r = {za, {0, 0}, calloc(1, sizeof(tc_npz_file)), NULL};
  tc_npz_limits_fill(&r.lim, limits);
  tc_status s = r.f ? tc_npz_load_all(&r)
                    : tc_set_error(TC_ERR_NOMEM, "cannot allocate the file object");
  free(r.sizes);
  zip_discard(za);
  if (s != TC_OK) {
    tc_npz_file_free(r.f);
    tc_error_prefix("%s", name);
    return s;
  }
  *out = r.f;
  return TC_OK;
}

/* Opens `path`, or the buffer when path is NULL, read-only. */
static zip_t *tc_npz_open(const char *path, const void *buf, size_t len, int flags,
                          zip_error_t *ze) {
  if (path != NULL) {
    int code = 0;
    zip_t *za = zip_open(path, flags, &code);
    if (za == NULL)
      zip_error_init_with_code(ze, code);
    return za;
  }
  zip_source_t *src = zip_source_buffer_create(buf, len, 0, ze);
  zip_t *za = src ? zip_open_from_source(src, flags, ze) : NULL;
  if (za == NULL)
    zip_source_free(src); /* NULL-safe; the archive did not take it */
  return za;
}

static tc_status tc_npz_read_any(const char *path, const void *buf, size_t len,
                                 tc_npz_file **out, const tc_npz_limits *limits) {
  const char *name = path ? path : "<memory>";
  *out = NULL;
  if (path == NULL && len < 22) /* libzip takes an empty buffer for a new archive */
    return tc_set_error(TC_ERR_FORMAT, "%s: not a valid .npz (zip) archive: %zu bytes, "
                        "fewer than a zip end record (22)", name, len);
  zip_error_t ze;
  zip_error_init(&ze);
  zip_t *za = tc_npz_open(path, buf, len, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
  /* The consistency check refuses duplicate names without saying which: open again
   * without it, and the key index below names the duplicate. */
  int dup = za == NULL && zip_error_code_zip(&ze) == ZIP_ER_EXISTS;
  if (dup) {
    zip_error_fini(&ze);
    zip_error_init(&ze);
    za = tc_npz_open(path, buf, len, ZIP_RDONLY, &ze);
  }
  if (za == NULL) {
    tc_status s = tc_npz_open_error(&ze);
    zip_error_fini(&ze);
    tc_error_prefix("%s", name);
    return s;
  }
  zip_error_fini(&ze);
  tc_status s = tc_npz_load(za, name, out, limits);
  if (s == TC_OK && dup) {
    tc_npz_file_free(*out);
    *out = NULL;
    s = tc_set_error(TC_ERR_EXISTS, "%s: two zip entries share a name", name);
  }
  return s;
}

tc_status tc_npz_read(const char *path, tc_npz_file **out, const tc_npz_limits *limits) {
  if (out == NULL || path == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_npz_read: NULL %s", out ? "path" : "out");
  return tc_npz_read_any(path, NULL, 0, out, limits);
}

tc_status tc_npz_read_memory(const void *buf, size_t len, tc_npz_file **out,
                             const tc_npz_limits *limits) {
  if (out == NULL || (buf == NULL && len > 0))
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_npz_read_memory: NULL %s",
                        out ? "buf" : "out");
  return tc_npz_read_any(NULL, buf, len, out, limits);
}
