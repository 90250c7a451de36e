/* npy.h — internals of the npz layer (not API): the .npy header format and the reading
 * of one zip entry. @internal: not installed (docs/api.md).
 *
 * A .npy entry is: "\x93NUMPY", major, minor, a little-endian header length (2 bytes for
 * version 1.0, 4 for 2.0 and 3.0), a Python dict literal
 * "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }" padded with spaces and
 * a newline, then the raw C-order data. */
#ifndef TC_NPY_H
#define TC_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "core/io/npz.h"

#define TC_NPY_MAGIC_LEN 6
#define TC_NPY_PREFIX_LEN 8        /* magic + major + minor */
#define TC_NPY_MAX_DICT 65536      /* longest header dict we parse */
#define TC_NPY_MAX_HEADER 512      /* longest header we write (rank 8, 20-digit dims) */

typedef struct tc_npy_header {
  tc_npz_dtype dtype;
  int rank;
  int64_t shape[TC_NPZ_MAX_RANK];
  int64_t size;        /* element count */
  uint64_t data_bytes; /* size * element size */
} tc_npy_header;

/* Writes a version 1.0 header (magic to the padded dict) into buf, its total length a
 * multiple of 64 as numpy writes it. Returns the length; 0 when cap is too small. */
size_t tc_npy_header_encode(unsigned char *buf, size_t cap, tc_npz_dtype dtype, int rank,
                            const int64_t *shape);

/* Checks magic and version of the first TC_NPY_PREFIX_LEN bytes and says how many bytes
 * hold the dict length that follows (2 or 4). TC_ERR_FORMAT names `key`. */
tc_status tc_npy_check_prefix(const unsigned char *p, const char *key, int *len_bytes);

/* Parses the dict text (dict_len bytes, not NUL-terminated) into h. TC_ERR_FORMAT for a
 * malformed dict, TC_ERR_DTYPE, TC_ERR_UNSUPPORTED for fortran_order True, TC_ERR_SHAPE
 * for rank or size overflow; every message names `key`. */
tc_status tc_npy_parse_dict(const char *dict, size_t dict_len, const char *key,
                            tc_npy_header *h);

/* Element count and byte size of a shape, refusing negative dims and overflow. */
tc_status tc_npy_shape_bytes(const char *key, tc_npz_dtype dtype, int rank,
                             const int64_t *shape, int64_t *size, uint64_t *bytes);

/* Reads entry `index` of the archive (declared uncompressed bytes) into out and proves it
 * intact: stored or deflated only, the exact declared length, a well-formed deflate
 * stream, the CRC-32. Damage is TC_ERR_CHECKSUM with a message naming `key`. */
typedef struct zip zip_t;
tc_status tc_npz_entry_bytes(zip_t *za, uint64_t index, const char *key, unsigned char *out,
                             uint64_t declared);

#endif
