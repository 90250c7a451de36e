/* npz.h — NumPy .npz archives (a zip of .npy arrays), the checkpoint container.
 *
 *   // Writing: entries borrow the caller's data; nothing is copied.
 *   int64_t kshape[4] = {3, 3, 8, 16};
 *   int64_t step = 1200;
 *   tc_npz_entry e[2] = {
 *     {"dec1/kernel", TC_NPZ_F32, 4, kshape, kernel_data},
 *     {"meta/step", TC_NPZ_I64, 0, NULL, &step},
 *   };
 *   tc_status s = tc_npz_write("run/ckpt.npz", e, 2);   // atomic: all or nothing
 *
 *   // Reading: the file owns every array; free it once.
 *   tc_npz_file *f = NULL;
 *   s = tc_npz_read("run/ckpt.npz", &f, NULL);           // NULL: default limits
 *   const tc_npz_array *k = NULL;
 *   if (s == TC_OK) s = tc_npz_get(f, "dec1/kernel", &k);
 *   if (s == TC_OK && k->dtype == TC_NPZ_F32) use((const float *)k->data, k->shape);
 *   if (s != TC_OK) fprintf(stderr, "%s: %s\n", tc_status_str(s), tc_last_error());
 *   tc_npz_file_free(f);
 *
 * Keys are stored as "<key>.npy" entries, exactly as numpy.savez names them, so
 * numpy.load(path)["dec1/kernel"] works. Arrays are C-order, little-endian. This layer
 * knows nothing about layers or optimizers; docs/checkpoints.md describes the format.
 *
 * Thread-safety: calls on different files may run in parallel; a tc_npz_file is read-only
 * after tc_npz_read and may be shared by threads until tc_npz_file_free. */
#ifndef TC_NPZ_H
#define TC_NPZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define TC_NPZ_MAX_RANK 8    /* same as TC_MAX_RANK */
#define TC_NPZ_MAX_KEY 1024  /* bytes in a key, without ".npy" */

typedef enum tc_npz_dtype {
  TC_NPZ_F32, /* '<f4': tensors */
  TC_NPZ_F64, /* '<f8': read only, converted to float32 on load */
  TC_NPZ_I64, /* '<i8': metadata such as meta/step */
  TC_NPZ_U64, /* '<u8': metadata such as RNG state */
  TC_NPZ_U8,  /* '|u1': text (a network description: bytes(a).decode()) */
} tc_npz_dtype;

/* The numpy descr string ("<f4") and the element size in bytes of a dtype. */
const char *tc_npz_dtype_str(tc_npz_dtype d);
size_t tc_npz_dtype_size(tc_npz_dtype d);

/* The rule for keys, the same for writing and reading: 1..TC_NPZ_MAX_KEY bytes of
 * '/'-separated components ("generator/conv2d_transpose/kernel"), none empty (so no
 * leading, trailing or doubled '/'), none "." or "..", no backslash, no control character
 * (bytes below 0x20, and 0x7f). TC_ERR_INVALID_ARG with a message naming the key
 * (escaped) and what is wrong; the caller prefixes where the key came from. */
tc_status tc_npz_key_check(const char *key);

/* Copies s into buf (cap >= 8 bytes) with every byte outside printable ASCII written as
 * \xNN and '\\' doubled, cut with "..." where it does not fit: safe to print to a
 * terminal and to put in a message. Returns buf. */
const char *tc_npz_escape(const char *s, char *buf, size_t cap);

/* One array to write. Everything is borrowed for the duration of tc_npz_write only. */
typedef struct tc_npz_entry {
  const char *key;      /* "dec1/kernel", "optimizer/dec1/kernel/m", "meta/step" */
  tc_npz_dtype dtype;   /* TC_NPZ_F32, TC_NPZ_I64 or TC_NPZ_U64 (float64 is read only) */
  int rank;             /* 0..TC_NPZ_MAX_RANK; 0 is a scalar */
  const int64_t *shape; /* rank dims, each >= 0; may be NULL when rank is 0 */
  const void *data;     /* product(shape) elements in host (little-endian) order */
} tc_npz_entry;

/* Writes the entries to `path` as a deflated .npz, atomically: the archive goes to a
 * temporary file "<path>.tmp.<pid>.<n>" in the same directory, is fsync'ed and renamed
 * over `path`, and the directory is fsync'ed. On any failure the temporary file is
 * removed and an existing `path` is left untouched; a crash (even SIGKILL) at any moment
 * leaves either the old or the new file under `path`, never a mix. A crash can leave its
 * temporary file behind; the next successful write to the same path removes temporary
 * files of that naming whose writing process no longer exists.
 * Returns TC_ERR_INVALID_ARG (NULL pointers, n < 1, a bad key or dtype: the message names
 * the entry), TC_ERR_EXISTS (two entries with one key), TC_ERR_SHAPE, TC_ERR_IO (the
 * message names the file and the system error) or TC_ERR_NOMEM. */
tc_status tc_npz_write(const char *path, const tc_npz_entry *entries, int n);

/* Bounds that protect a reader from hostile files. Zero fields take the default. */
typedef struct tc_npz_limits {
  uint64_t max_total_bytes; /* sum of uncompressed entry sizes; default 1 GiB */
  int max_entries;          /* default 65536 */
} tc_npz_limits;

#define TC_NPZ_DEFAULT_MAX_TOTAL_BYTES (UINT64_C(1) << 30)
#define TC_NPZ_DEFAULT_MAX_ENTRIES 65536

/* One array read from a file. Owned by its tc_npz_file. */
typedef struct tc_npz_array {
  const char *key;            /* entry name without ".npy" */
  tc_npz_dtype dtype;         /* in memory: F32, I64 or U64 (never F64) */
  tc_npz_dtype stored_dtype;  /* in the file: F64 when converted */
  int rank;
  int64_t shape[TC_NPZ_MAX_RANK];
  int64_t size;               /* element count; 1 for rank 0, 0 if a dim is 0 */
  void *data;                 /* size elements, 64-byte aligned, never NULL */
  int converted;              /* 1: stored as float64, narrowed to float32 */
  int64_t overflowed;         /* values of a converted array that became +-inf */
} tc_npz_array;

typedef struct tc_npz_file tc_npz_file;

/* Reads and validates a whole .npz (numpy.savez and numpy.savez_compressed files load).
 * On success *out owns every array; on failure *out is NULL and nothing leaks.
 * `limits` may be NULL for the defaults. Statuses, each with a message naming the file,
 * the key and the numbers:
 *   TC_ERR_NOT_FOUND   the file does not exist
 *   TC_ERR_IO          it cannot be opened or read
 *   TC_ERR_FORMAT      not a zip, truncated, an entry not named *.npy, a key that breaks
 *                      tc_npz_key_check's rule (named escaped), bad .npy magic or
 *                      version, a malformed header dict
 *   TC_ERR_CHECKSUM    data that does not match its zip header: CRC mismatch, an
 *                      undecodable deflate stream, or more/fewer bytes than declared
 *   TC_ERR_DTYPE       a dtype other than '<f4' '<f8' '<i8' '<u8' (big-endian named)
 *   TC_ERR_SHAPE       a shape whose byte size differs from the entry's data size, or
 *                      rank above TC_NPZ_MAX_RANK
 *   TC_ERR_EXISTS      two entries with the same key
 *   TC_ERR_UNSUPPORTED fortran_order True, encryption or an unknown compression method,
 *                      more bytes or entries than `limits` allow
 *   TC_ERR_NOMEM       an allocation failed */
tc_status tc_npz_read(const char *path, tc_npz_file **out, const tc_npz_limits *limits);

/* As tc_npz_read, from the `len` bytes at `buf` (borrowed during the call only).
 * Messages name the archive "<memory>". */
tc_status tc_npz_read_memory(const void *buf, size_t len, tc_npz_file **out,
                             const tc_npz_limits *limits);

/* Number of arrays, and the i-th in the archive's order (NULL when i is out of range). */
int tc_npz_count(const tc_npz_file *f);
const tc_npz_array *tc_npz_at(const tc_npz_file *f, int i);

/* The array with this key, or NULL. O(log n). */
const tc_npz_array *tc_npz_find(const tc_npz_file *f, const char *key);

/* As tc_npz_find, but a missing key is TC_ERR_NOT_FOUND with a message naming it. */
tc_status tc_npz_get(const tc_npz_file *f, const char *key, const tc_npz_array **out);

/* Conversions made while loading, one line per array, e.g.
 * "dec1/kernel: float64 converted to float32 (0 values overflowed to inf)\n";
 * "" when none. Borrowed from f. tc_npz_array.converted says the same per array. */
const char *tc_npz_notes(const tc_npz_file *f);

/* Frees the file and all its arrays. NULL does nothing. */
void tc_npz_file_free(tc_npz_file *f);

#endif
