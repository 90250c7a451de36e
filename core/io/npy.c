/* npy.c — encode and parse .npy headers. The parser accepts exactly what numpy writes
 * (a dict with the keys descr, fortran_order and shape) and nothing it cannot check. */
#include "core/io/npy.h"

#include <stdio.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tconv's .npz layer assumes a little-endian host"
#endif

static const char tc_npy_magic[TC_NPY_MAGIC_LEN] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

static const char *const tc_npz_dtype_strs[] = {"<f4", "<f8", "<i8", "<u8", "|u1"};

const char *tc_npz_dtype_str(tc_npz_dtype d) {
  if ((unsigned)d > TC_NPZ_U8)
    return "?";
  return tc_npz_dtype_strs[d];
}

size_t tc_npz_dtype_size(tc_npz_dtype d) { return d == TC_NPZ_F32 ? 4 : d == TC_NPZ_U8 ? 1 : 8; }

tc_status tc_npy_shape_bytes(const char *key, tc_npz_dtype dtype, int rank,
                             const int64_t *shape, int64_t *size, uint64_t *bytes) {
  if (rank < 0 || rank > TC_NPZ_MAX_RANK)
    return tc_set_error(TC_ERR_SHAPE, "'%s': rank %d is outside 0..%d", key, rank,
                        TC_NPZ_MAX_RANK);
  int64_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (shape[i] < 0)
      return tc_set_error(TC_ERR_SHAPE, "'%s': dimension %d is %lld", key, i,
                          (long long)shape[i]);
    if (shape[i] != 0 && n > INT64_MAX / 8 / shape[i])
      return tc_set_error(TC_ERR_SHAPE, "'%s': %d-d shape overflows the byte size", key,
                          rank);
    n *= shape[i];
  }
  *size = n;
  *bytes = (uint64_t)n * tc_npz_dtype_size(dtype);
  return TC_OK;
}

/* ---- encoding ------------------------------------------------------------------------ */

size_t tc_npy_header_encode(unsigned char *buf, size_t cap, tc_npz_dtype dtype, int rank,
                            const int64_t *shape) {
  char dict[TC_NPY_MAX_HEADER];
  int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     tc_npz_dtype_str(dtype));
  for (int i = 0; i < rank && len > 0 && (size_t)len < sizeof dict; i++)
    len += snprintf(dict + len, sizeof dict - (size_t)len, "%lld,%s", (long long)shape[i],
                    i + 1 < rank ? " " : "");
  if (len > 0 && (size_t)len < sizeof dict)
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
  if (len <= 0 || (size_t)len >= sizeof dict)
    return 0;
  /* numpy pads with spaces so that data starts on a 64-byte boundary, then '\n'. */
  size_t total = (TC_NPY_PREFIX_LEN + 2 + (size_t)len + 1 + 63) / 64 * 64;
  if (total > cap)
    return 0;
  size_t dict_len = total - TC_NPY_PREFIX_LEN - 2;
  memcpy(buf, tc_npy_magic, TC_NPY_MAGIC_LEN);
  buf[6] = 1;
  buf[7] = 0;
  buf[8] = (unsigned char)(dict_len & 0xff);
  buf[9] = (unsigned char)(dict_len >> 8);
  memcpy(buf + 10, dict, (size_t)len);
  memset(buf + 10 + len, ' ', dict_len - (size_t)len - 1);
  buf[total - 1] = '\n';
  return total;
}

/* ---- parsing ------------------------------------------------------------------------- */

tc_status tc_npy_check_prefix(const unsigned char *p, const char *key, int *len_bytes) {
  if (memcmp(p, tc_npy_magic, TC_NPY_MAGIC_LEN) != 0)
    return tc_set_error(TC_ERR_FORMAT,
                        "'%s': not a .npy array (magic bytes %02x %02x %02x %02x %02x %02x)",
                        key, p[0], p[1], p[2], p[3], p[4], p[5]);
  if (p[6] < 1 || p[6] > 3 || p[7] != 0)
    return tc_set_error(TC_ERR_FORMAT, "'%s': .npy version %d.%d, expected 1.0, 2.0 or 3.0",
                        key, p[6], p[7]);
  *len_bytes = p[6] == 1 ? 2 : 4;
  return TC_OK;
}

typedef struct tc_npy_parser {
  const char *s;
  size_t len, pos;
  const char *key; /* the array's key, for messages */
} tc_npy_parser;

static void tc_npy_skip_ws(tc_npy_parser *p) {
  while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                             p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
    p->pos++;
}

static tc_status tc_npy_bad(tc_npy_parser *p, const char *what) {
  return tc_set_error(TC_ERR_FORMAT, "'%s': malformed .npy header: %s at byte %zu of %zu",
                      p->key, what, p->pos, p->len);
}

/* Skips whitespace, then consumes c if it is next. */
static int tc_npy_accept(tc_npy_parser *p, char c) {
  tc_npy_skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == c) {
    p->pos++;
    return 1;
  }
  return 0;
}

/* A quoted string without escapes into out (NUL-terminated). */
static tc_status tc_npy_string(tc_npy_parser *p, char *out, size_t cap) {
  tc_npy_skip_ws(p);
  if (p->pos >= p->len || (p->s[p->pos] != '\'' && p->s[p->pos] != '"'))
    return tc_npy_bad(p, "expected a quoted string");
  char quote = p->s[p->pos++];
  size_t n = 0;
  while (p->pos < p->len && p->s[p->pos] != quote) {
    char c = p->s[p->pos];
    if (c == '\\' || (unsigned char)c < 0x20 || n + 1 >= cap)
      return tc_npy_bad(p, "unexpected string content");
    out[n++] = c;
    p->pos++;
  }
  if (p->pos >= p->len)
    return tc_npy_bad(p, "unterminated string");
  p->pos++;
  out[n] = '\0';
  return TC_OK;
}

static tc_status tc_npy_bool(tc_npy_parser *p, int *out) {
  tc_npy_skip_ws(p);
  const char *rest = p->s + p->pos;
  size_t left = p->len - p->pos;
  if (left >= 4 && memcmp(rest, "True", 4) == 0) {
    p->pos += 4;
    *out = 1;
  } else if (left >= 5 && memcmp(rest, "False", 5) == 0) {
    p->pos += 5;
    *out = 0;
  } else {
    return tc_npy_bad(p, "fortran_order is neither True nor False");
  }
  return TC_OK;
}

static tc_status tc_npy_int(tc_npy_parser *p, int64_t *out) {
  tc_npy_skip_ws(p);
  size_t start = p->pos;
  int64_t v = 0;
  while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
    int d = p->s[p->pos] - '0';
    if (v > (INT64_MAX - d) / 10)
      return tc_set_error(TC_ERR_SHAPE, "'%s': a dimension in the .npy header overflows",
                          p->key);
    v = v * 10 + d;
    p->pos++;
  }
  if (p->pos == start)
    return tc_npy_bad(p, "expected a non-negative integer");
  if (p->pos < p->len && p->s[p->pos] == 'L') /* Python 2 long */
    p->pos++;
  *out = v;
  return TC_OK;
}

static tc_status tc_npy_tuple(tc_npy_parser *p, tc_npy_header *h) {
  if (!tc_npy_accept(p, '('))
    return tc_npy_bad(p, "shape is not a tuple");
  h->rank = 0;
  while (!tc_npy_accept(p, ')')) {
    int64_t dim = 0;
    TC_TRY(tc_npy_int(p, &dim));
    if (h->rank == TC_NPZ_MAX_RANK)
      return tc_set_error(TC_ERR_SHAPE, "'%s': rank above %d is not supported", p->key,
                          TC_NPZ_MAX_RANK);
    h->shape[h->rank++] = dim;
    if (!tc_npy_accept(p, ',')) {
      if (!tc_npy_accept(p, ')'))
        return tc_npy_bad(p, "expected ',' or ')' in shape");
      break;
    }
  }
  return TC_OK;
}

static tc_status tc_npy_dtype(const char *key, const char *descr, tc_npz_dtype *out) {
  for (int d = TC_NPZ_F32; d <= TC_NPZ_U8; d++)
    if (strcmp(descr, tc_npz_dtype_strs[d]) == 0) {
      *out = (tc_npz_dtype)d;
      return TC_OK;
    }
  if (descr[0] == '>')
    return tc_set_error(TC_ERR_DTYPE,
                        "'%s': dtype '%s' is big-endian; tconv reads only little-endian "
                        "'<f4', '<f8', '<i8', '<u8'",
                        key, descr);
  return tc_set_error(TC_ERR_DTYPE,
                      "'%s': dtype '%s' is not supported; tconv reads '<f4', '<f8' (as "
                      "float32), '<i8', '<u8', '|u1'",
                      key, descr);
}

/* One "'name': value" pair; seen[] marks descr, fortran_order, shape. */
static tc_status tc_npy_pair(tc_npy_parser *p, tc_npy_header *h, int seen[3], char *descr,
                             int *fortran) {
  char name[32];
  TC_TRY(tc_npy_string(p, name, sizeof name));
  if (!tc_npy_accept(p, ':'))
    return tc_npy_bad(p, "expected ':'");
  int which = strcmp(name, "descr") == 0           ? 0
              : strcmp(name, "fortran_order") == 0 ? 1
              : strcmp(name, "shape") == 0         ? 2
                                                   : -1;
  if (which < 0)
    return tc_set_error(TC_ERR_FORMAT, "'%s': .npy header has an unknown key '%s'", p->key,
                        name);
  if (seen[which])
    return tc_set_error(TC_ERR_FORMAT, "'%s': .npy header repeats the key '%s'", p->key,
                        name);
  seen[which] = 1;
  if (which == 1)
    return tc_npy_bool(p, fortran);
  if (which == 2)
    return tc_npy_tuple(p, h);
  if (tc_npy_accept(p, '['))
    return tc_set_error(TC_ERR_DTYPE, "'%s': structured dtypes are not supported", p->key);
  return tc_npy_string(p, descr, 32);
}

static tc_status tc_npy_dict(tc_npy_parser *p, tc_npy_header *h, char *descr, int *fortran) {
  int seen[3] = {0, 0, 0};
  if (!tc_npy_accept(p, '{'))
    return tc_npy_bad(p, "expected '{'");
  while (!tc_npy_accept(p, '}')) {
    TC_TRY(tc_npy_pair(p, h, seen, descr, fortran));
    if (!tc_npy_accept(p, ',')) {
      if (!tc_npy_accept(p, '}'))
        return tc_npy_bad(p, "expected ',' or '}'");
      break;
    }
  }
  tc_npy_skip_ws(p);
  if (p->pos != p->len)
    return tc_npy_bad(p, "trailing characters after the dict");
  static const char *const names[3] = {"descr", "fortran_order", "shape"};
  for (int i = 0; i < 3; i++)
    if (!seen[i])
      return tc_set_error(TC_ERR_FORMAT, "'%s': .npy header lacks the key '%s'", p->key,
                          names[i]);
  return TC_OK;
}

tc_status tc_npy_parse_dict(const char *dict, size_t dict_len, const char *key,
                            tc_npy_header *h) {
  tc_npy_parser p = {dict, dict_len, 0, key};
  char descr[32] = "";
  int fortran = 0;
  memset(h, 0, sizeof *h);
  TC_TRY(tc_npy_dict(&p, h, descr, &fortran));
  TC_TRY(tc_npy_dtype(key, descr, &h->dtype));
  if (fortran)
    return tc_set_error(TC_ERR_UNSUPPORTED,
                        "'%s': fortran_order True is not supported; save C-order arrays "
                        "(numpy.ascontiguousarray)",
                        key);
  return tc_npy_shape_bytes(key, h->dtype, h->rank, h->shape, &h->size, &h->data_bytes);
}
