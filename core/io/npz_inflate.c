/* npz_inflate.c — read one zip entry's bytes and prove them intact.
 *
 * libzip parses the container; the entry's raw (compressed) bytes are inflated here with
 * zlib so that every way data can be damaged is caught and named: an undecodable deflate
 * stream, a stream that ends early or carries on past its end, more or fewer bytes than
 * the header declares (output never goes beyond the declared size: a compression bomb
 * stops there), and the CRC-32 of what comes out. A flipped bit that goes unseen is one
 * that leaves the inflated bytes unchanged (padding bits, a match distance that points
 * at equal bytes): no reader can see it, and it does no harm. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include <zlib.h>

#include "core/io/npy.h"

#define TC_NPZ_CHUNK 65536

static tc_status tc_npz_corrupt(const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static tc_status tc_npz_corrupt(const char *key, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return tc_set_error(TC_ERR_CHECKSUM, "'%s': data is corrupted (%s)", key, what);
}

static tc_status tc_npz_zip_read_error(zip_file_t *zf, const char *key) {
  zip_error_t *ze = zip_file_get_error(zf);
  int code = zip_error_code_zip(ze);
  if (code == ZIP_ER_CRC) /* libzip checks stored entries even when read raw */
    return tc_npz_corrupt(key, "CRC mismatch found by libzip");
  tc_status s = code == ZIP_ER_MEMORY                       ? TC_ERR_NOMEM
                : code == ZIP_ER_READ || code == ZIP_ER_SEEK ? TC_ERR_IO
                                                             : TC_ERR_FORMAT;
  return tc_set_error(s, "'%s': cannot read its zip entry: %s", key, zip_error_strerror(ze));
}

/* Stored entries: exactly `declared` bytes, then the end. */
static tc_status tc_npz_copy_stored(zip_file_t *zf, const char *key, unsigned char *out,
                                    uint64_t declared) {
  uint64_t got = 0;
  unsigned char probe;
  while (got <= declared) {
    uint64_t want = got < declared ? declared - got : 1;
    zip_int64_t k = zip_fread(zf, got < declared ? out + got : &probe, want);
    if (k < 0)
      return tc_npz_zip_read_error(zf, key);
    if (k == 0)
      break;
    got += (uint64_t)k;
  }
  if (got != declared)
    return tc_npz_corrupt(key, "holds %s%llu bytes, %llu declared", got > declared ? "over " : "",
                          (unsigned long long)(got > declared ? declared : got),
                          (unsigned long long)declared);
  return TC_OK;
}

typedef struct tc_inflater {
  z_stream zs;
  zip_file_t *zf;
  const char *key;
  unsigned char *in;       /* TC_NPZ_CHUNK bytes of compressed input */
  unsigned char *out;      /* declared bytes */
  uint64_t declared, produced;
} tc_inflater;

/* One inflate call; output past the declared size would go to a
 * spare byte and sets *extra. */
static int tc_inflater_step(tc_inflater *f, int *extra) {
  unsigned char spare;
  uint64_t room = f->declared - f->produced;
  f->zs.next_out = room ? f->out + f->produced : &spare;
  f->zs.avail_out = room ? (uInt)(room < (1u << 30) ? room : (1u << 30)) : 1;
  uInt before = f->zs.avail_out;
  int ret = inflate(&f->zs, Z_NO_FLUSH);
  uInt made = before - f->zs.avail_out;
  if (room)
    f->produced += made;
  else
    *extra = made > 0;
  f->zs.next_out = NULL; /* never leave a pointer to `spare` behind */
  return ret;
}

static tc_status tc_inflater_run(tc_inflater *f) {
  for (;;) {
    if (f->zs.avail_in == 0) {
      zip_int64_t k = zip_fread(f->zf, f->in, TC_NPZ_CHUNK);
      if (k < 0)
        return tc_npz_zip_read_error(f->zf, f->key);
      f->zs.next_in = f->in;
      f->zs.avail_in = (uInt)k;
    }
    /* With no input left, one more call may still finish the stream (the last call ran
     * out of output room); anything else means it ends early. */
    int ended = f->zs.avail_in == 0;
    int extra = 0;
    int ret = tc_inflater_step(f, &extra);
    if (ended && ret != Z_STREAM_END)
      return tc_npz_corrupt(f->key, "deflate stream ends after %llu of %llu bytes",
                            (unsigned long long)f->produced,
                            (unsigned long long)f->declared);
    if (extra)
      return tc_npz_corrupt(f->key, "inflates to more than its declared %llu bytes",
                            (unsigned long long)f->declared);
    if (ret == Z_STREAM_END)
      return TC_OK;
    if (ret == Z_MEM_ERROR)
      return tc_set_error(TC_ERR_NOMEM, "'%s': zlib is out of memory", f->key);
    if (ret != Z_OK)
      return tc_npz_corrupt(f->key, "invalid deflate data after %llu bytes: %s",
                            (unsigned long long)f->produced,
                            f->zs.msg ? f->zs.msg : "no progress");
  }
}

/* The stream has ended: the length must be the declared one and nothing may follow. */
static tc_status tc_inflater_finish(tc_inflater *f) {
  if (f->produced != f->declared)
    return tc_npz_corrupt(f->key, "inflates to %llu bytes, %llu declared",
                          (unsigned long long)f->produced, (unsigned long long)f->declared);
  unsigned char probe;
  zip_int64_t k = f->zs.avail_in > 0 ? 1 : zip_fread(f->zf, &probe, 1);
  if (k < 0)
    return tc_npz_zip_read_error(f->zf, f->key);
  if (k > 0)
    return tc_npz_corrupt(f->key, "bytes follow the end of the deflate stream");
  return TC_OK;
}

static tc_status tc_npz_inflate(zip_file_t *zf, const char *key, unsigned char *out,
                                uint64_t declared) {
  tc_inflater f;
  memset(&f, 0, sizeof f);
  f.zf = zf;
  f.key = key;
  f.out = out;
  f.declared = declared;
  f.in = malloc(TC_NPZ_CHUNK);
  if (f.in == NULL || inflateInit2(&f.zs, -MAX_WBITS) != Z_OK) {
    free(f.in);
    return tc_set_error(TC_ERR_NOMEM, "'%s': cannot set up zlib", key);
  }
  tc_status s = tc_inflater_run(&f);
  if (s == TC_OK)
    s = tc_inflater_finish(&f);
  inflateEnd(&f.zs);
  free(f.in);
  return s;
}

static tc_status tc_npz_check_crc(const char *key, const unsigned char *data, uint64_t n,
                                  uint32_t want) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (uint64_t done = 0; done < n;) {
    uInt k = (uInt)(n - done < (1u << 30) ? n - done : (1u << 30));
    crc = crc32(crc, data + done, k);
    done += k;
  }
  if ((uint32_t)crc != want)
    return tc_npz_corrupt(key, "CRC-32 of the %llu bytes is %08x, the zip header says %08x",
                          (unsigned long long)n, (unsigned)crc, (unsigned)want);
  return TC_OK;
}

tc_status tc_npz_entry_bytes(zip_t *za, uint64_t index, const char *key, unsigned char *out,
                             uint64_t declared) {
  zip_stat_t st;
  zip_stat_init(&st);
  const zip_uint64_t need = ZIP_STAT_COMP_METHOD | ZIP_STAT_CRC | ZIP_STAT_ENCRYPTION_METHOD;
  if (zip_stat_index(za, index, 0, &st) != 0 || (st.valid & need) != need)
    return tc_set_error(TC_ERR_FORMAT, "'%s': cannot read its zip header: %s", key,
                        zip_strerror(za));
  if (st.encryption_method != ZIP_EM_NONE)
    return tc_set_error(TC_ERR_UNSUPPORTED, "'%s': encrypted entries are not supported", key);
  if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
    return tc_set_error(TC_ERR_UNSUPPORTED, "'%s': compression method %d is not supported "
                        "(numpy writes stored or deflated entries)", key, (int)st.comp_method);
  zip_file_t *zf = zip_fopen_index(za, index, ZIP_FL_COMPRESSED);
  if (zf == NULL)
    return tc_set_error(TC_ERR_FORMAT, "'%s': cannot open its zip entry: %s", key,
                        zip_strerror(za));
  tc_status s = st.comp_method == ZIP_CM_STORE ? tc_npz_copy_stored(zf, key, out, declared)
                                               : tc_npz_inflate(zf, key, out, declared);
  zip_fclose(zf);
  if (s == TC_OK)
    s = tc_npz_check_crc(key, out, declared, st.crc);
  return s;
}
