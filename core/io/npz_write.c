/* npz_write.c — write a deflated .npz atomically.
 *
 * Each entry is a libzip source that streams its .npy header and then the caller's data,
 * so nothing is copied. libzip writes the archive to "<tmp>.XXXXXX" and renames it to
 * <tmp> on zip_close; we then fsync <tmp>, rename it over the target and fsync the
 * directory. Both temporary names start with "<target>.tmp.<pid>.", which is what the
 * clean-up of stale files after a crash looks for. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "core/io/npy.h"
#include "core/io/npz.h"
#include "core/io/outpath.h"

/* Level 1: float data barely compresses at any level, and level 1 is several times
 * faster than zlib's default 6 on it. */
#define TC_NPZ_DEFLATE_LEVEL 1
/* A fixed modification time (2000-01-01) makes equal checkpoints byte-identical. */
#define TC_NPZ_MTIME ((time_t)946684800)

typedef struct tc_npy_source {
  unsigned char header[TC_NPY_MAX_HEADER];
  uint64_t header_len;
  const unsigned char *data;
  uint64_t data_len;
  uint64_t pos;
  zip_error_t error;
} tc_npy_source;

/* The header, then the data, as one stream. */
static zip_int64_t tc_npy_source_read(tc_npy_source *s, unsigned char *out, uint64_t len) {
  uint64_t total = s->header_len + s->data_len, n = 0;
  while (n < len && s->pos < total) {
    const unsigned char *from = s->pos < s->header_len ? s->header + s->pos
                                                       : s->data + (s->pos - s->header_len);
    uint64_t avail = s->pos < s->header_len ? s->header_len - s->pos : total - s->pos;
    uint64_t k = avail < len - n ? avail : len - n;
    memcpy(out + n, from, (size_t)k);
    n += k;
    s->pos += k;
  }
  return (zip_int64_t)n;
}

static zip_int64_t tc_npy_source_cb(void *ud, void *data, zip_uint64_t len,
                                    zip_source_cmd_t cmd) {
  tc_npy_source *s = ud;
  switch (cmd) {
  case ZIP_SOURCE_OPEN:
    s->pos = 0;
    return 0;
  case ZIP_SOURCE_READ:
    return tc_npy_source_read(s, data, len);
  case ZIP_SOURCE_CLOSE:
    return 0;
  case ZIP_SOURCE_STAT: {
    zip_stat_t *st = ZIP_SOURCE_GET_ARGS(zip_stat_t, data, len, &s->error);
    if (st == NULL)
      return -1;
    zip_stat_init(st);
    st->size = s->header_len + s->data_len;
    st->mtime = TC_NPZ_MTIME;
    st->valid |= ZIP_STAT_SIZE | ZIP_STAT_MTIME;
    return sizeof *st;
  }
  case ZIP_SOURCE_ERROR:
    return zip_error_to_data(&s->error, data, len);
  case ZIP_SOURCE_FREE:
    zip_error_fini(&s->error);
    free(s);
    return 0;
  case ZIP_SOURCE_SUPPORTS:
    return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                          ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                          -1);
  default:
    zip_error_set(&s->error, ZIP_ER_OPNOTSUPP, 0);
    return -1;
  }
}

/* ---- validation ---------------------------------------------------------------------- */

static tc_status tc_npz_check_key(const char *key, int i) {
  tc_status s = tc_npz_key_check(key);
  if (s != TC_OK)
    tc_error_prefix("entry %d", i);
  return s;
}

static tc_status tc_npz_check_entry(const tc_npz_entry *e, int i) {
  TC_TRY(tc_npz_check_key(e->key, i));
  if (e->dtype != TC_NPZ_F32 && e->dtype != TC_NPZ_I64 && e->dtype != TC_NPZ_U64 &&
      e->dtype != TC_NPZ_U8)
    return tc_set_error(TC_ERR_INVALID_ARG, "'%s': dtype %d cannot be written (float32, "
                        "int64, uint64 and uint8 can)", e->key, (int)e->dtype);
  if (e->rank > 0 && e->shape == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "'%s': shape is NULL for rank %d", e->key,
                        e->rank);
  int64_t size;
  uint64_t bytes;
  TC_TRY(tc_npy_shape_bytes(e->key, e->dtype, e->rank, e->shape, &size, &bytes));
  if (size > 0 && e->data == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "'%s': data is NULL for %lld elements", e->key,
                        (long long)size);
  return TC_OK;
}

static int tc_npz_cmp_entry(const void *a, const void *b) {
  const tc_npz_entry *x = *(const tc_npz_entry *const *)a;
  const tc_npz_entry *y = *(const tc_npz_entry *const *)b;
  return strcmp(x->key, y->key);
}

static tc_status tc_npz_check_entries(const tc_npz_entry *entries, int n) {
  for (int i = 0; i < n; i++)
    TC_TRY(tc_npz_check_entry(&entries[i], i));
  const tc_npz_entry **sorted = malloc(sizeof *sorted * (size_t)n);
  if (sorted == NULL)
    return tc_set_error(TC_ERR_NOMEM, "cannot allocate an index of %d entries", n);
  for (int i = 0; i < n; i++)
    sorted[i] = &entries[i];
  qsort(sorted, (size_t)n, sizeof *sorted, tc_npz_cmp_entry);
  tc_status s = TC_OK;
  for (int i = 1; i < n && s == TC_OK; i++)
    if (strcmp(sorted[i - 1]->key, sorted[i]->key) == 0)
      s = tc_set_error(TC_ERR_EXISTS, "'%s': key given twice (entries %d and %d)",
                       sorted[i]->key, (int)(sorted[i - 1] - entries),
                       (int)(sorted[i] - entries));
  free(sorted);
  return s;
}

/* ---- the archive --------------------------------------------------------------------- */

static tc_status tc_npz_add(zip_t *za, const tc_npz_entry *e) {
  tc_npy_source *s = calloc(1, sizeof *s);
  char *name = malloc(strlen(e->key) + 5);
  if (s == NULL || name == NULL) {
    free(s);
    free(name);
    return tc_set_error(TC_ERR_NOMEM, "'%s': cannot allocate its zip entry", e->key);
  }
  zip_error_init(&s->error);
  s->header_len = tc_npy_header_encode(s->header, sizeof s->header, e->dtype, e->rank,
                                       e->shape);
  TC_ASSERT(s->header_len > 0); /* rank <= 8 dims of <= 19 digits always fit */
  int64_t size;
  TC_ASSERT(tc_npy_shape_bytes(e->key, e->dtype, e->rank, e->shape, &size, &s->data_len) ==
            TC_OK);
  s->data = e->data;
  sprintf(name, "%s.npy", e->key);
  zip_source_t *src = zip_source_function(za, tc_npy_source_cb, s);
  if (src == NULL) {
    zip_error_fini(&s->error);
    free(s);
  }
  zip_int64_t idx = src ? zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8) : -1;
  free(name);
  if (idx < 0) {
    zip_source_free(src); /* frees s; NULL-safe */
    return tc_set_error(TC_ERR_NOMEM, "'%s': cannot add the zip entry: %s", e->key,
                        zip_strerror(za));
  }
  if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE,
                               TC_NPZ_DEFLATE_LEVEL) != 0)
    return tc_set_error(TC_ERR_UNSUPPORTED, "'%s': cannot deflate: %s", e->key,
                        zip_strerror(za));
  return TC_OK;
}

/* Writes the archive to `tmp`, which must not exist. */
static tc_status tc_npz_write_zip(const char *tmp, const tc_npz_entry *entries, int n) {
  int code = 0;
  zip_t *za = zip_open(tmp, ZIP_CREATE | ZIP_EXCL, &code);
  if (za == NULL) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    tc_status s = tc_set_error(code == ZIP_ER_EXISTS ? TC_ERR_EXISTS : TC_ERR_IO,
                               "cannot create '%s': %s", tmp, zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return s;
  }
  for (int i = 0; i < n; i++) {
    tc_status s = tc_npz_add(za, &entries[i]);
    if (s != TC_OK) {
      zip_discard(za);
      return s;
    }
  }
  if (zip_close(za) != 0) {
    tc_status s = tc_set_error(TC_ERR_IO, "cannot write '%s': %s", tmp, zip_strerror(za));
    zip_discard(za);
    return s;
  }
  return TC_OK;
}

/* fsync of a file or directory; filesystems that cannot sync a directory are accepted. */
static tc_status tc_npz_fsync(const char *path, int directory) {
  int fd = open(path, O_RDONLY | (directory ? O_DIRECTORY : 0));
  if (fd < 0)
    return tc_set_error(TC_ERR_IO, "cannot open '%s' to sync it: %s", path, strerror(errno));
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0 && !(directory && (err == EINVAL || err == ENOTSUP)))
    return tc_set_error(TC_ERR_IO, "cannot fsync '%s': %s", path, strerror(err));
  return TC_OK;
}

/* ---- atomic replacement -------------------------------------------------------------- */

typedef struct tc_npz_paths {
  char *dir;  /* "." when the path has no '/' */
  char *base; /* the file name */
  char *tmp;  /* "<path>.tmp.<pid>.<n>" */
} tc_npz_paths;

static void tc_npz_paths_free(tc_npz_paths *p) {
  free(p->dir);
  free(p->base);
  free(p->tmp);
}

static tc_status tc_npz_paths_make(tc_npz_paths *p, const char *path, unsigned serial) {
  const char *slash = strrchr(path, '/');
  size_t dir_len = slash ? (size_t)(slash - path) : 1;
  size_t tmp_cap = strlen(path) + 48;
  p->dir = malloc(dir_len + 1);
  p->base = malloc(strlen(slash ? slash + 1 : path) + 1);
  p->tmp = malloc(tmp_cap);
  if (p->dir == NULL || p->base == NULL || p->tmp == NULL)
    return tc_set_error(TC_ERR_NOMEM, "cannot allocate paths for '%s'", path);
  if (slash == NULL)
    strcpy(p->dir, ".");
  else if (dir_len == 0)
    strcpy(p->dir, "/");
  else {
    memcpy(p->dir, path, dir_len);
    p->dir[dir_len] = '\0';
  }
  strcpy(p->base, slash ? slash + 1 : path);
  snprintf(p->tmp, tmp_cap, "%s.tmp.%ld.%u", path, (long)getpid(), serial);
  if (p->base[0] == '\0')
    return tc_set_error(TC_ERR_INVALID_ARG, "'%s' names a directory, not a file", path);
  return TC_OK;
}

/* Removes "<base>.tmp.<pid>.*" files left by processes that no longer exist. Best effort:
 * a failure here does not fail the write that has already succeeded. */
static void tc_npz_clean_stale(const tc_npz_paths *p) {
  DIR *d = opendir(p->dir);
  if (d == NULL)
    return;
  size_t blen = strlen(p->base);
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    const char *name = ent->d_name;
    if (strncmp(name, p->base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0)
      continue;
    char *end;
    long pid = strtol(name + blen + 5, &end, 10);
    if (end == name + blen + 5 || *end != '.' || pid <= 0 || pid == (long)getpid())
      continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue; /* alive, or not ours to judge */
    size_t cap = strlen(p->dir) + strlen(name) + 2;
    char *full = malloc(cap);
    if (full != NULL) {
      snprintf(full, cap, "%s/%s", p->dir, name);
      unlink(full);
      free(full);
    }
  }
  closedir(d);
}

static tc_status tc_npz_replace(const char *path, const tc_npz_paths *p,
                                const tc_npz_entry *entries, int n) {
  TC_TRY(tc_npz_write_zip(p->tmp, entries, n));
  tc_status s = tc_npz_fsync(p->tmp, 0);
  if (s == TC_OK && rename(p->tmp, path) != 0)
    s = tc_set_error(TC_ERR_IO, "cannot rename '%s' to '%s': %s", p->tmp, path,
                     strerror(errno));
  if (s != TC_OK) {
    unlink(p->tmp);
    return s;
  }
  return tc_npz_fsync(p->dir, 1);
}

tc_status tc_npz_write(const char *path, const tc_npz_entry *entries, int n) {
  static atomic_uint serial;
  if (path == NULL || entries == NULL || n < 1)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_npz_write: %s", path == NULL ? "path is NULL"
                        : entries == NULL ? "entries is NULL" : "no entries to write");
  TC_TRY(tc_npz_check_entries(entries, n));
  tc_status s = tc_output_path_check(path);
  if (s != TC_OK)
    return s;
  s = TC_ERR_EXISTS;
  for (int attempt = 0; attempt < 16 && s == TC_ERR_EXISTS; attempt++) {
    tc_npz_paths p = {NULL, NULL, NULL};
    s = tc_npz_paths_make(&p, path, atomic_fetch_add(&serial, 1u));
    if (s == TC_OK)
      s = tc_npz_replace(path, &p, entries, n);
    if (s == TC_OK)
      tc_npz_clean_stale(&p);
    tc_npz_paths_free(&p);
  }
  if (s != TC_OK)
    tc_error_prefix("writing '%s'", path);
  return s;
}
