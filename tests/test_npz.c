/* test_npz.c — .npz checkpoints: round trips, interchange with numpy, atomic writes under
 * SIGKILL, and every kind of broken file. */
#define _DEFAULT_SOURCE /* mknod and makedev, for a device node made in the test's temp dir */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "core/io/npz.h"
#include "core/status.h"
#include "support/testutil.h"

#define PYTHON "/usr/bin/python3"

/* ---- helpers ------------------------------------------------------------------------- */

static char tmpdir[256];

static void make_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/tconv_npz_XXXXXX", base && *base ? base : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void) {
  DIR *d = opendir(tmpdir);
  if (d != NULL) {
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL)
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        if (unlink(p) != 0)
          rmdir(p); /* the directory a test made as a bad target */
      }
    closedir(d);
  }
  rmdir(tmpdir);
}

static const char *in_tmp(const char *name) {
  static char buf[4][512];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, 512, "%s/%s", tmpdir, name);
  return p;
}

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static void spit(const char *path, const void *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
}

/* Runs a Python script (fed on stdin) with Debian's numpy; returns its exit status. */
static int python(const char *script) {
  FILE *p = popen(PYTHON " -", "w");
  ck_assert_ptr_nonnull(p);
  fputs(script, p);
  int rc = pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Reads `path` expecting status `want` and a message containing `needle`. */
static void expect_fail(const char *path, const tc_npz_limits *lim, tc_status want,
                        const char *needle) {
  tc_npz_file *f = (tc_npz_file *)0x1;
  tc_status s = tc_npz_read(path, &f, lim);
  ck_assert_msg(s == want, "%s: got %s (%s), want %s", path, tc_status_str(s),
                tc_last_error(), tc_status_str(want));
  ck_assert_ptr_null(f);
  ck_assert_msg(strstr(tc_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                tc_last_error(), needle);
}

/* A .npy entry: v1.0 prefix, the dict padded to 64 bytes, then the data. */
static unsigned char *npy_bytes(const char *dict, const void *data, size_t dlen,
                                size_t *out_len) {
  size_t dict_len = (10 + strlen(dict) + 1 + 63) / 64 * 64 - 10;
  unsigned char *b = malloc(10 + dict_len + dlen);
  ck_assert_ptr_nonnull(b);
  memcpy(b, "\x93NUMPY\x01\x00", 8);
  b[8] = (unsigned char)(dict_len & 0xff);
  b[9] = (unsigned char)(dict_len >> 8);
  memset(b + 10, ' ', dict_len);
  memcpy(b + 10, dict, strlen(dict));
  b[10 + dict_len - 1] = '\n';
  if (dlen)
    memcpy(b + 10 + dict_len, data, dlen);
  *out_len = 10 + dict_len + dlen;
  return b;
}

/* Writes a zip with the given entry names and contents (deflated when `deflate`). */
static void make_zip(const char *path, int n, const char *const *names,
                     unsigned char *const *bufs, const size_t *lens, int deflate) {
  int err = 0;
  zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
  ck_assert_ptr_nonnull(za);
  for (int i = 0; i < n; i++) {
    zip_source_t *src = zip_source_buffer(za, bufs[i], lens[i], 0);
    ck_assert_ptr_nonnull(src);
    zip_int64_t idx = zip_file_add(za, names[i], src, 0);
    ck_assert_int_ge(idx, 0);
    zip_set_file_compression(za, (zip_uint64_t)idx, deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                             0);
  }
  ck_assert_int_eq(zip_close(za), 0);
}

/* One .npy entry named key + ".npy" from a dict and data. */
static void make_npz1(const char *path, const char *key, const char *dict, const void *data,
                      size_t dlen, int deflate) {
  char name[256];
  snprintf(name, sizeof name, "%s.npy", key);
  size_t len;
  unsigned char *b = npy_bytes(dict, data, dlen, &len);
  const char *names[1] = {name};
  make_zip(path, 1, names, &b, &len, deflate);
  free(b);
}

static uint32_t rd32(const unsigned char *p) {
  return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void wr32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

/* Offset of the central directory record of the first entry. */
static size_t central_record(const unsigned char *b, size_t len) {
  for (size_t i = 0; i + 4 <= len; i++)
    if (memcmp(b + i, "PK\x01\x02", 4) == 0)
      return i;
  ck_abort_msg("no central directory");
  return 0;
}

/* Sets the uncompressed size of the first entry in both its headers. */
static void patch_declared_size(unsigned char *b, size_t len, uint32_t size) {
  ck_assert_uint_eq(rd32(b), 0x04034b50u);
  wr32(b + 22, size);
  wr32(b + central_record(b, len) + 24, size);
}

/* ---- round trips --------------------------------------------------------------------- */

/* A small checkpoint: a kernel, a bias, a scalar, an empty array and metadata. */
typedef struct sample {
  float kernel[3 * 3 * 2 * 4], bias[2], scalar, empty[1];
  int64_t step;
  uint64_t rng[4];
  int64_t kshape[4], bshape[1], eshape[2], rshape[1];
  tc_npz_entry e[6];
} sample;

static void sample_init(sample *s, uint64_t seed) {
  tc_test_rng r;
  tc_test_rng_init(&r, seed);
  tc_test_fill(&r, s->kernel, 72, -1, 1);
  tc_test_fill(&r, s->bias, 2, -1, 1);
  s->scalar = -0.0f;
  s->step = -1234567890123LL;
  for (int i = 0; i < 4; i++)
    s->rng[i] = UINT64_MAX - (uint64_t)i;
  memcpy(s->kshape, (int64_t[]){3, 3, 2, 4}, sizeof s->kshape);
  s->bshape[0] = 2;
  memcpy(s->eshape, (int64_t[]){0, 5}, sizeof s->eshape);
  s->rshape[0] = 4;
  s->e[0] = (tc_npz_entry){"dec1/kernel", TC_NPZ_F32, 4, s->kshape, s->kernel};
  s->e[1] = (tc_npz_entry){"dec1/bias", TC_NPZ_F32, 1, s->bshape, s->bias};
  s->e[2] = (tc_npz_entry){"optimizer/scale", TC_NPZ_F32, 0, NULL, &s->scalar};
  s->e[3] = (tc_npz_entry){"empty", TC_NPZ_F32, 2, s->eshape, NULL};
  s->e[4] = (tc_npz_entry){"meta/step", TC_NPZ_I64, 0, NULL, &s->step};
  s->e[5] = (tc_npz_entry){"meta/rng", TC_NPZ_U64, 1, s->rshape, s->rng};
}

static void expect_sample(const tc_npz_file *f, const sample *s) {
  ck_assert_int_eq(tc_npz_count(f), 6);
  for (int i = 0; i < 6; i++) {
    const tc_npz_entry *e = &s->e[i];
    const tc_npz_array *a = tc_npz_at(f, i);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->key, e->key);
    ck_assert_ptr_eq(tc_npz_find(f, e->key), a);
    ck_assert_int_eq(a->dtype, e->dtype);
    ck_assert_int_eq(a->stored_dtype, e->dtype);
    ck_assert_int_eq(a->converted, 0);
    ck_assert_int_eq(a->rank, e->rank);
    int64_t size = 1;
    for (int d = 0; d < e->rank; d++) {
      ck_assert_int_eq(a->shape[d], e->shape[d]);
      size *= e->shape[d];
    }
    ck_assert_int_eq(a->size, size);
    ck_assert_ptr_nonnull(a->data);
    ck_assert_int_eq((uintptr_t)a->data % 64, 0);
    if (size > 0)
      ck_assert_int_eq(memcmp(a->data, e->data, (size_t)size * tc_npz_dtype_size(e->dtype)), 0);
  }
  ck_assert_str_eq(tc_npz_notes(f), "");
}

START_TEST(round_trip_file_and_memory) {
  make_tmpdir();
  sample s;
  sample_init(&s, 1);
  const char *path = in_tmp("ckpt.npz");
  ck_assert_int_eq(tc_npz_write(path, s.e, 6), TC_OK);
  tc_npz_file *f = NULL;
  ck_assert_int_eq(tc_npz_read(path, &f, NULL), TC_OK);
  expect_sample(f, &s);
  ck_assert_ptr_null(tc_npz_at(f, 6));
  ck_assert_ptr_null(tc_npz_at(f, -1));
  const tc_npz_array *a = (const tc_npz_array *)0x1;
  ck_assert_int_eq(tc_npz_get(f, "dec2/kernel", &a), TC_ERR_NOT_FOUND);
  ck_assert_ptr_null(a);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "dec2/kernel"));
  tc_npz_file_free(f);
  size_t len;
  unsigned char *bytes = slurp(path, &len);
  ck_assert_int_eq(tc_npz_read_memory(bytes, len, &f, NULL), TC_OK);
  expect_sample(f, &s);
  tc_npz_file_free(f);
  /* Equal contents give byte-identical files (fixed mtime, fixed level). */
  ck_assert_int_eq(tc_npz_write(path, s.e, 6), TC_OK);
  size_t len2;
  unsigned char *again = slurp(path, &len2);
  ck_assert_uint_eq(len, len2);
  ck_assert_int_eq(memcmp(bytes, again, len), 0);
  free(bytes);
  free(again);
  tc_npz_file_free(NULL);
  remove_tmpdir();
}
END_TEST

static int count_tmp_files(const char *base) {
  DIR *d = opendir(tmpdir);
  ck_assert_ptr_nonnull(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    n += strncmp(e->d_name, base, strlen(base)) == 0 && strstr(e->d_name, ".tmp.") != NULL;
  closedir(d);
  return n;
}

START_TEST(bad_writes_are_refused_and_leave_the_old_file) {
  make_tmpdir();
  sample s;
  sample_init(&s, 2);
  const char *path = in_tmp("ckpt.npz");
  ck_assert_int_eq(tc_npz_write(path, s.e, 6), TC_OK);
  tc_npz_entry e[2] = {s.e[0], s.e[1]};
  ck_assert_int_eq(tc_npz_write(path, e, 0), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_npz_write(NULL, e, 1), TC_ERR_INVALID_ARG);
  e[1].key = "dec1/kernel";
  TC_CK_ERROR(tc_npz_write(path, e, 2), TC_ERR_EXISTS, "'dec1/kernel'");
  e[1] = s.e[1];
  e[1].dtype = TC_NPZ_F64;
  TC_CK_ERROR(tc_npz_write(path, e, 2), TC_ERR_INVALID_ARG, "dec1/bias");
  e[1] = s.e[1];
  e[1].shape = (int64_t[]){-2};
  TC_CK_ERROR(tc_npz_write(path, e, 2), TC_ERR_SHAPE, "-2");
  e[1] = s.e[1];
  e[1].data = NULL;
  ck_assert_int_eq(tc_npz_write(path, e, 2), TC_ERR_INVALID_ARG);
  e[1] = s.e[1];
  e[1].key = "/abs";
  ck_assert_int_eq(tc_npz_write(path, e, 2), TC_ERR_INVALID_ARG);
  e[1].key = "";
  ck_assert_int_eq(tc_npz_write(path, e, 2), TC_ERR_INVALID_ARG);
  e[1] = s.e[1];
  e[1].rank = 9;
  ck_assert_int_eq(tc_npz_write(path, e, 2), TC_ERR_SHAPE);
  /* A directory that does not exist: an I/O error naming the path. */
  TC_CK_ERROR(tc_npz_write(in_tmp("missing/ckpt.npz"), s.e, 6), TC_ERR_IO, "missing/ckpt.npz");
  tc_npz_file *f = NULL;
  ck_assert_int_eq(tc_npz_read(path, &f, NULL), TC_OK);
  expect_sample(f, &s);
  tc_npz_file_free(f);
  ck_assert_int_eq(count_tmp_files("ckpt.npz"), 0);
  remove_tmpdir();
}
END_TEST

/* ---- interchange with numpy ---------------------------------------------------------- */

/* The writer renames over its target: only a regular file (or nothing) may be there. A FIFO,
 * a directory, a symbolic link and (where mknod is permitted) a character device, all made
 * in the test's own temp directory, are refused and left exactly as they were. */
START_TEST(non_regular_targets_are_refused) {
  make_tmpdir();
  sample s;
  sample_init(&s, 5);
  char path[512];
  snprintf(path, sizeof path, "%s", in_tmp("fifo.npz"));
  ck_assert_int_eq(mkfifo(path, 0600), 0);
  TC_CK_ERROR(tc_npz_write(path, s.e, 6), TC_ERR_INVALID_ARG, "is a FIFO");
  struct stat st;
  ck_assert_int_eq(lstat(path, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  snprintf(path, sizeof path, "%s", in_tmp("dir.npz"));
  ck_assert_int_eq(mkdir(path, 0700), 0);
  TC_CK_ERROR(tc_npz_write(path, s.e, 6), TC_ERR_INVALID_ARG, "is a directory");
  char target[512];
  snprintf(target, sizeof target, "%s", in_tmp("target.npz"));
  ck_assert_int_eq(tc_npz_write(target, s.e, 6), TC_OK);
  snprintf(path, sizeof path, "%s", in_tmp("link.npz"));
  ck_assert_int_eq(symlink(target, path), 0);
  TC_CK_ERROR(tc_npz_write(path, s.e, 3), TC_ERR_INVALID_ARG, "is a symbolic link");
  ck_assert_int_eq(lstat(path, &st), 0);
  ck_assert(S_ISLNK(st.st_mode));
  tc_npz_file *f = NULL;
  ck_assert_int_eq(tc_npz_read(target, &f, NULL), TC_OK);
  ck_assert_int_eq(tc_npz_count(f), 6);
  tc_npz_file_free(f);
  snprintf(path, sizeof path, "%s", in_tmp("null"));
  if (mknod(path, S_IFCHR | 0600, makedev(1, 3)) == 0) {
    TC_CK_ERROR(tc_npz_write(path, s.e, 6), TC_ERR_INVALID_ARG, "is a character device");
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISCHR(st.st_mode));
  }
  ck_assert_int_eq(count_tmp_files("fifo.npz") + count_tmp_files("link.npz"), 0);
  remove_tmpdir();
}
END_TEST

START_TEST(numpy_loads_our_files) {
  make_tmpdir();
  sample s;
  sample_init(&s, 3);
  for (int i = 0; i < 72; i++)
    s.kernel[i] = (float)i * 0.25f - 3.0f;
  s.bias[0] = 1.5f;
  s.bias[1] = -2.0f;
  s.scalar = 7.0f;
  const char *path = in_tmp("ours.npz");
  ck_assert_int_eq(tc_npz_write(path, s.e, 6), TC_OK);
  char script[2048];
  snprintf(script, sizeof script,
           "import numpy as np, sys\n"
           "d = np.load('%s')\n"
           "assert sorted(d.files) == sorted(['dec1/kernel', 'dec1/bias', 'optimizer/scale',"
           " 'empty', 'meta/step', 'meta/rng']), d.files\n"
           "k = d['dec1/kernel']\n"
           "assert k.dtype == np.float32 and k.shape == (3, 3, 2, 4), (k.dtype, k.shape)\n"
           "assert (k.ravel() == np.arange(72, dtype=np.float32) * 0.25 - 3).all()\n"
           "assert d['dec1/bias'].tolist() == [1.5, -2.0]\n"
           "o = d['optimizer/scale']\n"
           "assert o.shape == () and o.dtype == np.float32 and o == 7\n"
           "e = d['empty']\n"
           "assert e.shape == (0, 5) and e.dtype == np.float32\n"
           "st = d['meta/step']\n"
           "assert st.dtype == np.int64 and st.shape == () and st == -1234567890123\n"
           "r = d['meta/rng']\n"
           "assert r.dtype == np.uint64 and r.tolist() == [2**64 - 1 - i for i in range(4)]\n"
           "import zipfile\n"
           "z = zipfile.ZipFile('%s')\n"
           "assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())\n"
           "assert z.testzip() is None\n",
           path, path);
  ck_assert_int_eq(python(script), 0);
  remove_tmpdir();
}
END_TEST

static void expect_numpy_file(const char *path) {
  tc_npz_file *f = NULL;
  ck_assert_msg(tc_npz_read(path, &f, NULL) == TC_OK, "%s", tc_last_error());
  ck_assert_int_eq(tc_npz_count(f), 5);
  const tc_npz_array *a;
  ck_assert_int_eq(tc_npz_get(f, "dec1/kernel", &a), TC_OK);
  ck_assert_int_eq(a->dtype, TC_NPZ_F32);
  ck_assert_int_eq(a->rank, 3);
  ck_assert_int_eq(a->shape[0] * 100 + a->shape[1] * 10 + a->shape[2], 234);
  for (int i = 0; i < 24; i++)
    ck_assert_float_eq(((float *)a->data)[i], (float)i / 8);
  ck_assert_int_eq(tc_npz_get(f, "wide", &a), TC_OK);
  ck_assert_int_eq(a->dtype, TC_NPZ_F32);
  ck_assert_int_eq(a->stored_dtype, TC_NPZ_F64);
  ck_assert_int_eq(a->converted, 1);
  ck_assert_int_eq(a->overflowed, 1);
  const float *w = a->data;
  ck_assert_float_eq(w[0], (float)0.1);
  ck_assert(isinf(w[1]) && w[1] > 0);
  ck_assert(isnan(w[2]));
  ck_assert_float_eq(w[3], -3.5f);
  ck_assert_ptr_nonnull(strstr(tc_npz_notes(f), "wide: float64 converted to float32"));
  ck_assert_ptr_nonnull(strstr(tc_npz_notes(f), "1 values overflowed"));
  ck_assert_int_eq(tc_npz_get(f, "meta/step", &a), TC_OK);
  ck_assert_int_eq(a->dtype, TC_NPZ_I64);
  ck_assert_int_eq(a->rank, 0);
  ck_assert_int_eq(*(int64_t *)a->data, 42);
  ck_assert_int_eq(tc_npz_get(f, "meta/rng", &a), TC_OK);
  ck_assert_int_eq(a->dtype, TC_NPZ_U64);
  ck_assert_uint_eq(((uint64_t *)a->data)[1], UINT64_MAX);
  ck_assert_int_eq(tc_npz_get(f, "scalar", &a), TC_OK);
  ck_assert_int_eq(a->rank, 0);
  ck_assert_float_eq(*(float *)a->data, 2.5f);
  tc_npz_file_free(f);
}

START_TEST(we_load_numpy_files) {
  make_tmpdir();
  char script[2048];
  snprintf(script, sizeof script,
           "import numpy as np\n"
           "a = dict(wide=np.array([0.1, 1e300, np.nan, -3.5]),\n"
           "         scalar=np.float32(2.5),\n"
           "         **{'dec1/kernel': np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8,\n"
           "            'meta/step': np.int64(42),\n"
           "            'meta/rng': np.array([7, 2**64 - 1], dtype=np.uint64)})\n"
           "np.savez('%s/plain.npz', **a)\n"
           "np.savez_compressed('%s/packed.npz', **a)\n"
           "np.savez('%s/int32.npz', **{'dec1/kernel': np.zeros(3, np.float32),"
           " 'count': np.arange(3, dtype=np.int32)})\n"
           "np.savez('%s/big.npz', w=np.ones(3, dtype='>f4'))\n"
           "np.savez('%s/fortran.npz', w=np.asfortranarray(np.ones((2, 3), np.float32)))\n",
           tmpdir, tmpdir, tmpdir, tmpdir, tmpdir);
  ck_assert_int_eq(python(script), 0);
  expect_numpy_file(in_tmp("plain.npz"));
  expect_numpy_file(in_tmp("packed.npz"));
  expect_fail(in_tmp("int32.npz"), NULL, TC_ERR_DTYPE, "'count': dtype '<i4' is not supported");
  expect_fail(in_tmp("big.npz"), NULL, TC_ERR_DTYPE, "'w': dtype '>f4' is big-endian");
  expect_fail(in_tmp("fortran.npz"), NULL, TC_ERR_UNSUPPORTED, "'w': fortran_order True");
  remove_tmpdir();
}
END_TEST

/* ---- broken files -------------------------------------------------------------------- */

static const char *const F4_DICT = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }";

START_TEST(broken_headers_are_refused_by_name) {
  make_tmpdir();
  float v[4] = {1, 2, 3, 4};
  const char *p = in_tmp("bad.npz");
  make_npz1(p, "dec1/kernel", "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }",
            v, 16, 1);
  expect_fail(p, NULL, TC_ERR_DTYPE, "'dec1/kernel': dtype '>f4' is big-endian");
  make_npz1(p, "dec1/kernel", "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }",
            v, 16, 1);
  expect_fail(p, NULL, TC_ERR_DTYPE, "'dec1/kernel': dtype '<i4'");
  make_npz1(p, "dec1/kernel", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
            v, 16, 0);
  expect_fail(p, NULL, TC_ERR_UNSUPPORTED, "'dec1/kernel': fortran_order True");
  make_npz1(p, "dec1/kernel",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }", v, 16, 1);
  expect_fail(p, NULL, TC_ERR_SHAPE,
              "'dec1/kernel': shape (1000, 1000) of '<f4' needs 4000000 bytes, the entry "
              "holds 16 bytes");
  make_npz1(p, "dec1/kernel", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
            v, 16, 0);
  expect_fail(p, NULL, TC_ERR_SHAPE, "needs 12 bytes, the entry holds 16");
  make_npz1(p, "dec1/kernel", "{'descr': '<f4', 'fortran_order': False}", v, 16, 1);
  expect_fail(p, NULL, TC_ERR_FORMAT, "'dec1/kernel': .npy header lacks the key 'shape'");
  make_npz1(p, "dec1/kernel", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,) x", v,
            16, 1);
  expect_fail(p, NULL, TC_ERR_FORMAT, "'dec1/kernel': malformed .npy header");
  make_npz1(p, "dec1/kernel", "{'descr': '<f4', 'shape': (4,), 'shape': (4,)}", v, 16, 1);
  expect_fail(p, NULL, TC_ERR_FORMAT, "repeats the key 'shape'");
  make_npz1(p, "dec1/kernel",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,4), }", v, 16,
            1);
  expect_fail(p, NULL, TC_ERR_SHAPE, "'dec1/kernel': rank above 8");
  make_npz1(p, "dec1/kernel",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", v,
            16, 1);
  expect_fail(p, NULL, TC_ERR_SHAPE, "'dec1/kernel'");
  make_npz1(p, "dec1/kernel",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
            v, 16, 1);
  expect_fail(p, NULL, TC_ERR_SHAPE, "overflows");
  /* Bad magic and version: patch the first bytes of a stored entry. */
  size_t len;
  unsigned char *b = npy_bytes(F4_DICT, v, 16, &len);
  b[1] = 'X';
  const char *names[2] = {"dec1/kernel.npy", "dec1/bias.npy"};
  make_zip(p, 1, names, &b, &len, 1);
  expect_fail(p, NULL, TC_ERR_FORMAT, "'dec1/kernel': not a .npy array (magic bytes 93 58");
  b[1] = 'N';
  b[6] = 9;
  make_zip(p, 1, names, &b, &len, 1);
  expect_fail(p, NULL, TC_ERR_FORMAT, "'dec1/kernel': .npy version 9.0");
  b[6] = 1;
  b[8] = 0xff; /* dict length beyond the entry */
  make_zip(p, 1, names, &b, &len, 1);
  expect_fail(p, NULL, TC_ERR_FORMAT, "'dec1/kernel': .npy header of");
  free(b);
  make_zip(p, 1, names, (unsigned char *[]){(unsigned char *)"\x93NUMPY"},
           (size_t[]){6}, 0);
  expect_fail(p, NULL, TC_ERR_FORMAT, "too short");
  remove_tmpdir();
}
END_TEST

START_TEST(broken_archives_are_refused_by_name) {
  make_tmpdir();
  float v[4] = {1, 2, 3, 4};
  size_t len;
  unsigned char *b = npy_bytes(F4_DICT, v, 16, &len);
  const char *p = in_tmp("bad.npz");
  expect_fail(in_tmp("nothing.npz"), NULL, TC_ERR_NOT_FOUND, "nothing.npz");
  spit(p, "hello, not a zip\n", 17);
  expect_fail(p, NULL, TC_ERR_FORMAT, "not a valid .npz");
  spit(p, "", 0);
  expect_fail(p, NULL, TC_ERR_FORMAT, "bad.npz");
  const char *other[1] = {"notes.txt"};
  make_zip(p, 1, other, &b, &len, 1);
  expect_fail(p, NULL, TC_ERR_FORMAT, "'notes.txt' is not a .npy array");
  /* Duplicate keys: libzip refuses to add them, so rename one entry in the bytes. */
  const char *names[2] = {"dec1/kernel.npy", "dec1/kernxl.npy"};
  make_zip(p, 2, names, (unsigned char *[]){b, b}, (size_t[]){len, len}, 1);
  size_t zlen;
  unsigned char *z = slurp(p, &zlen);
  for (size_t i = 0; i + 15 <= zlen; i++)
    if (memcmp(z + i, "dec1/kernxl.npy", 15) == 0)
      z[i + 9] = 'e';
  spit(p, z, zlen);
  free(z);
  expect_fail(p, NULL, TC_ERR_EXISTS, "'dec1/kernel': key appears twice");
  /* Too many entries. */
  const char *four[4] = {"a.npy", "b.npy", "c.npy", "d.npy"};
  make_zip(p, 4, four, (unsigned char *[]){b, b, b, b}, (size_t[]){len, len, len, len}, 1);
  tc_npz_limits lim = {0, 3};
  expect_fail(p, &lim, TC_ERR_UNSUPPORTED, "4 entries exceed the limit of 3");
  tc_npz_file *f = NULL;
  ck_assert_int_eq(tc_npz_read(p, &f, NULL), TC_OK);
  ck_assert_int_eq(tc_npz_count(f), 4);
  tc_npz_file_free(f);
  free(b);
  remove_tmpdir();
}
END_TEST

/* The writer's key rule holds on read too: a key tconv would never write is refused, and
 * the message shows the member's name escaped (no raw control byte reaches a terminal). */
START_TEST(keys_the_writer_forbids_are_refused_on_read) {
  make_tmpdir();
  float v[4] = {1, 2, 3, 4};
  size_t len;
  unsigned char *b = npy_bytes(F4_DICT, v, 16, &len);
  const char *p = in_tmp("keys.npz");
  static const struct { const char *name, *shown, *why; } bad[] = {
      {"a\x1b[2Jb.npy", "a\\x1b[2Jb.npy", "control character"},
      {"/etc/passwd.npy", "/etc/passwd.npy", "empty component"},
      {"a\\b.npy", "a\\\\b.npy", "backslash"},
      {"../up.npy", "../up.npy", "'..'"},
      {"a/../b.npy", "a/../b.npy", "'..'"},
      {"a//b.npy", "a//b.npy", "empty component"},
      {"a/.npy", "a/.npy", "empty component"},
      {"tab\there.npy", "tab\\x09here.npy", "control character"},
      {"del\x7f.npy", "del\\x7f.npy", "control character"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    make_zip(p, 1, &bad[i].name, &b, &len, 1);
    char want[128];
    snprintf(want, sizeof want, "entry 0 '%s'", bad[i].shown);
    expect_fail(p, NULL, TC_ERR_FORMAT, want);
    expect_fail(p, NULL, TC_ERR_FORMAT, bad[i].why);
    for (const char *c = tc_last_error(); *c; c++)
      ck_assert_msg((unsigned char)*c >= 0x20 && *c != 0x7f, "raw control byte in message");
  }
  /* '/' scopes inside a key stay legal: generator/conv2d_transpose/kernel. */
  const char *ok[1] = {"generator/conv2d_transpose/kernel.npy"};
  make_zip(p, 1, ok, &b, &len, 1);
  tc_npz_file *f = NULL;
  ck_assert_int_eq(tc_npz_read(p, &f, NULL), TC_OK);
  ck_assert_ptr_nonnull(tc_npz_find(f, "generator/conv2d_transpose/kernel"));
  tc_npz_file_free(f);
  free(b);
  remove_tmpdir();
}
END_TEST

/* The writer refuses the same keys, before it creates any file. */
START_TEST(keys_with_bad_components_are_refused_on_write) {
  make_tmpdir();
  float v = 1.0f;
  const char *path = in_tmp("w.npz");
  static const char *const bad[] = {"/abs", "a//b", "a/", "..", "a/../b", "./a", "a\\b",
                                    "a\nb", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tc_npz_entry e = {bad[i], TC_NPZ_F32, 0, NULL, &v};
    ck_assert_msg(tc_npz_write(path, &e, 1) == TC_ERR_INVALID_ARG, "key %zu accepted", i);
    ck_assert_ptr_nonnull(strstr(tc_last_error(), "entry 0"));
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0);
  }
  tc_npz_entry e = {"generator/conv2d_transpose/kernel", TC_NPZ_F32, 0, NULL, &v};
  ck_assert_int_eq(tc_npz_write(path, &e, 1), TC_OK);
  remove_tmpdir();
}
END_TEST

START_TEST(truncated_files_are_format_errors) {
  make_tmpdir();
  sample s;
  sample_init(&s, 4);
  const char *path = in_tmp("ckpt.npz");
  ck_assert_int_eq(tc_npz_write(path, s.e, 6), TC_OK);
  size_t len;
  unsigned char *b = slurp(path, &len);
  for (size_t cut = 0; cut < len; cut += cut < 64 || len - cut < 64 ? 1 : 37) {
    tc_npz_file *f = NULL;
    tc_status st = tc_npz_read_memory(b, cut, &f, NULL);
    ck_assert_msg(st == TC_ERR_FORMAT, "cut at %zu of %zu: %s (%s)", cut, len,
                  tc_status_str(st), tc_last_error());
    ck_assert_ptr_null(f);
  }
  spit(path, b, len / 2);
  expect_fail(path, NULL, TC_ERR_FORMAT, "ckpt.npz");
  free(b);
  remove_tmpdir();
}
END_TEST

/* Offset and length of the first entry's compressed data. */
static void first_entry_data(const unsigned char *b, size_t *off, size_t *len) {
  ck_assert_uint_eq(rd32(b), 0x04034b50u);
  *off = 30 + (size_t)rd16(b + 26) + rd16(b + 28);
  *len = rd32(b + 18);
}

START_TEST(flipped_bits_are_checksum_errors) {
  make_tmpdir();
  enum { N = 4096 };
  static float v[N];
  for (int i = 0; i < N; i++) /* compressible but not trivial */
    v[i] = (float)(int)(8 * sinf((float)i * 0.05f)) / 8;
  int64_t shape[1] = {N};
  tc_npz_entry e = {"dec1/kernel", TC_NPZ_F32, 1, shape, v};
  const char *path = in_tmp("ckpt.npz");
  ck_assert_int_eq(tc_npz_write(path, &e, 1), TC_OK);
  size_t len, off, clen;
  unsigned char *b = slurp(path, &len);
  first_entry_data(b, &off, &clen);
  ck_assert_uint_lt(clen, N * 4 / 4); /* really deflated */
  /* Every flip is caught, except one that leaves the inflated bytes as they were (a match
   * distance pointing at equal bytes, a padding bit): that one loads the right data. */
  int caught = 0, harmless = 0;
  for (size_t byte = off; byte < off + clen; byte += 3)
    for (int bit = 0; bit < 8; bit++) {
      b[byte] ^= (unsigned char)(1u << bit);
      tc_npz_file *f = NULL;
      tc_clear_error();
      tc_status s = tc_npz_read_memory(b, len, &f, NULL);
      if (s == TC_OK) {
        ck_assert_int_eq(memcmp(tc_npz_at(f, 0)->data, v, sizeof v), 0);
        tc_npz_file_free(f);
        harmless++;
      } else {
        ck_assert_msg(s == TC_ERR_CHECKSUM, "bit %d of byte %zu: %s (%s)", bit, byte - off,
                      tc_status_str(s), tc_last_error());
        ck_assert_ptr_nonnull(strstr(tc_last_error(), "'dec1/kernel': data is corrupted"));
        caught++;
      }
      b[byte] ^= (unsigned char)(1u << bit);
    }
  ck_assert_int_gt(caught, 20 * harmless);
  /* The middle flip once more through a file, for the message with the path. */
  b[off + clen / 2] ^= 0x10;
  spit(path, b, len);
  expect_fail(path, NULL, TC_ERR_CHECKSUM, "ckpt.npz: 'dec1/kernel': data is corrupted");
  free(b);
  remove_tmpdir();
}
END_TEST

START_TEST(flipped_bits_in_stored_data_are_checksum_errors) {
  make_tmpdir();
  float v[4] = {1, 2, 3, 4};
  const char *p = in_tmp("stored.npz");
  make_npz1(p, "dec1/bias", F4_DICT, v, 16, 0);
  size_t len, off, clen;
  unsigned char *b = slurp(p, &len);
  first_entry_data(b, &off, &clen);
  for (size_t i = off; i < off + clen; i += 5) {
    b[i] ^= 4;
    tc_npz_file *f = NULL;
    TC_CK_ERROR(tc_npz_read_memory(b, len, &f, NULL), TC_ERR_CHECKSUM, "'dec1/bias'");
    b[i] ^= 4;
  }
  free(b);
  remove_tmpdir();
}
END_TEST

START_TEST(compression_bombs_are_stopped) {
  make_tmpdir();
  /* 64 MiB of zeros deflate to about 64 KiB; a 1 MiB limit refuses them unread. */
  int64_t shape[2] = {4096, 4096};
  float *zeros = calloc(4096 * 4096, sizeof(float));
  ck_assert_ptr_nonnull(zeros);
  tc_npz_entry e[2] = {{"meta/step", TC_NPZ_I64, 0, NULL, &(int64_t){1}},
                       {"dec1/kernel", TC_NPZ_F32, 2, shape, zeros}};
  const char *p = in_tmp("bomb.npz");
  ck_assert_int_eq(tc_npz_write(p, e, 2), TC_OK);
  free(zeros);
  struct stat st;
  ck_assert_int_eq(stat(p, &st), 0);
  ck_assert_int_lt(st.st_size, 1 << 20);
  tc_npz_limits lim = {1 << 20, 0};
  expect_fail(p, &lim, TC_ERR_UNSUPPORTED,
              "'dec1/kernel': declares 67108992 uncompressed bytes, which brings the archive "
              "above its limit of 1048576 bytes");
  /* A declared size above the default 1 GiB, with consistent zip headers. */
  float v[4] = {1, 2, 3, 4};
  make_npz1(p, "dec1/bias", F4_DICT, v, 16, 1);
  size_t len;
  unsigned char *b = slurp(p, &len);
  patch_declared_size(b, len, 0xF0000000u);
  spit(p, b, len);
  free(b);
  expect_fail(p, NULL, TC_ERR_UNSUPPORTED, "'dec1/bias': declares 4026531840 uncompressed");
  /* Under the limit, but more than deflate can make of the compressed bytes. */
  make_npz1(p, "dec1/bias", F4_DICT, v, 16, 1);
  b = slurp(p, &len);
  patch_declared_size(b, len, 50000000u);
  spit(p, b, len);
  free(b);
  expect_fail(p, NULL, TC_ERR_FORMAT, "'dec1/bias': declares 50000000 bytes, more than its");
  /* A stream that inflates to more than it declares is stopped after one extra byte. */
  enum { N = 100000 };
  static float big[N];
  make_npz1(p, "dec1/kernel",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }", big, sizeof big, 1);
  b = slurp(p, &len);
  patch_declared_size(b, len, 64 + 40);
  spit(p, b, len);
  free(b);
  tc_npz_file *f = NULL;
  tc_status s = tc_npz_read(p, &f, NULL);
  ck_assert_msg(s == TC_ERR_CHECKSUM || s == TC_ERR_FORMAT, "%s", tc_status_str(s));
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "dec1/kernel"));
  remove_tmpdir();
}
END_TEST

/* ---- atomicity ----------------------------------------------------------------------- */

enum { ATOM_N = 1 << 18, ATOM_KILLS = 30 };

typedef struct variant {
  float *w1, *w2;
  int64_t step;
  int64_t shape[2];
  tc_npz_entry e[3];
} variant;

static void variant_init(variant *v, uint64_t seed) {
  tc_test_rng r;
  tc_test_rng_init(&r, seed);
  v->w1 = malloc(ATOM_N * sizeof(float));
  v->w2 = malloc(ATOM_N * sizeof(float));
  ck_assert(v->w1 && v->w2);
  tc_test_fill(&r, v->w1, ATOM_N, -1, 1);
  tc_test_fill(&r, v->w2, ATOM_N, -1, 1);
  v->step = (int64_t)seed;
  v->shape[0] = 256;
  v->shape[1] = ATOM_N / 256;
  v->e[0] = (tc_npz_entry){"dec1/kernel", TC_NPZ_F32, 2, v->shape, v->w1};
  v->e[1] = (tc_npz_entry){"optimizer/dec1/kernel/m", TC_NPZ_F32, 2, v->shape, v->w2};
  v->e[2] = (tc_npz_entry){"meta/step", TC_NPZ_I64, 0, NULL, &v->step};
}

/* 1 if f holds exactly v. */
static int holds(const tc_npz_file *f, const variant *v) {
  if (tc_npz_count(f) != 3)
    return 0;
  for (int i = 0; i < 3; i++) {
    const tc_npz_array *a = tc_npz_find(f, v->e[i].key);
    size_t bytes = i < 2 ? ATOM_N * sizeof(float) : sizeof(int64_t);
    if (a == NULL || memcmp(a->data, v->e[i].data, bytes) != 0)
      return 0;
  }
  return 1;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Temporary files of ckpt.npz: how many belong to `pid`, and whether every one belongs to
 * one of the killed writers. */
static int tmp_files_of(pid_t pid, const pid_t *killed, int nkilled, int *foreign) {
  DIR *d = opendir(tmpdir);
  ck_assert_ptr_nonnull(d);
  int mine = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, "ckpt.npz.tmp.", 13) != 0)
      continue;
    long owner = strtol(e->d_name + 13, NULL, 10);
    int known = 0;
    for (int i = 0; i < nkilled; i++)
      known |= owner == (long)killed[i];
    *foreign += !known;
    mine += owner == (long)pid;
  }
  closedir(d);
  return mine;
}

START_TEST(sigkill_never_leaves_a_broken_checkpoint) {
  make_tmpdir();
  variant a, b;
  variant_init(&a, 10);
  variant_init(&b, 20);
  const char *path = in_tmp("ckpt.npz");
  double t0 = now_s();
  ck_assert_int_eq(tc_npz_write(path, b.e, 3), TC_OK);
  ck_assert_int_eq(tc_npz_write(path, a.e, 3), TC_OK);
  double write_s = (now_s() - t0) / 2;
  pid_t killed[ATOM_KILLS];
  int seen_b = 0, mid_write = 0;
  for (int k = 0; k < ATOM_KILLS; k++) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
      for (;;) { /* the writer: A, B, A, B, ... until killed */
        if (tc_npz_write(path, b.e, 3) != TC_OK || tc_npz_write(path, a.e, 3) != TC_OK)
          _exit(3);
      }
    double delay = write_s * (0.05 + 3.0 * k / ATOM_KILLS);
    struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status), "writer %d exited by itself: %d", k, status);
    killed[k] = pid;
    tc_npz_file *f = NULL;
    ck_assert_msg(tc_npz_read(path, &f, NULL) == TC_OK, "after kill %d: %s", k,
                  tc_last_error());
    int is_a = holds(f, &a), is_b = holds(f, &b);
    tc_npz_file_free(f);
    ck_assert_msg(is_a || is_b, "after kill %d the checkpoint is neither A nor B", k);
    seen_b += is_b;
    int foreign = 0;
    int mine = tmp_files_of(pid, killed, k + 1, &foreign);
    ck_assert_int_le(mine, 1);
    ck_assert_int_eq(foreign, 0);
    mid_write += mine;
  }
  ck_assert_int_gt(seen_b, 0);
  ck_assert_int_gt(mid_write, 0);
  /* The next successful write removes what the killed writers left. */
  ck_assert_int_eq(tc_npz_write(path, a.e, 3), TC_OK);
  int foreign = 0;
  ck_assert_int_eq(tmp_files_of(0, killed, 0, &foreign), 0);
  ck_assert_int_eq(foreign, 0);
  free(a.w1), free(a.w2), free(b.w1), free(b.w2);
  remove_tmpdir();
}
END_TEST

int main(void) {
  Suite *s = suite_create("npz");
  TCase *tc = tcase_create("npz");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, round_trip_file_and_memory);
  tcase_add_test(tc, bad_writes_are_refused_and_leave_the_old_file);
  tcase_add_test(tc, non_regular_targets_are_refused);
  tcase_add_test(tc, numpy_loads_our_files);
  tcase_add_test(tc, we_load_numpy_files);
  tcase_add_test(tc, broken_headers_are_refused_by_name);
  tcase_add_test(tc, broken_archives_are_refused_by_name);
  tcase_add_test(tc, keys_the_writer_forbids_are_refused_on_read);
  tcase_add_test(tc, keys_with_bad_components_are_refused_on_write);
  tcase_add_test(tc, truncated_files_are_format_errors);
  tcase_add_test(tc, flipped_bits_are_checksum_errors);
  tcase_add_test(tc, flipped_bits_in_stored_data_are_checksum_errors);
  tcase_add_test(tc, compression_bombs_are_stopped);
  tcase_add_test(tc, sigkill_never_leaves_a_broken_checkpoint);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
