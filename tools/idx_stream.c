/* idx_stream.c — plain or gzip bytes of an IDX file, over stdio and zlib's inflate. zlib's
 * gz* calls are not used: gzread silently skips whatever follows a gzip member, so a .gz
 * with trailing garbage loaded while a plain file with trailing bytes was refused. */
#include "tools/idx_stream.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_IN_CAP (1 << 16)

struct tc_idx_stream {
  FILE *f;
  char *path;
  uint64_t file_size;
  int gz;
  int z_ready;     /* inflateInit2 done */
  int member_done; /* the current gzip member reached its end */
  int raw_eof;     /* fread found the end of the file */
  const char *note;
  z_stream z;
  unsigned char in[IDX_IN_CAP];
};

static tc_status idx_fill(tc_idx_stream *s) {
  if (s->z.avail_in > 0 || s->raw_eof)
    return TC_OK;
  size_t n = fread(s->in, 1, IDX_IN_CAP, s->f);
  if (n == 0 && ferror(s->f))
    return tc_set_error(TC_ERR_IO, "file '%s': read failed: %s", s->path, strerror(errno));
  s->raw_eof = n == 0;
  s->z.next_in = s->in;
  s->z.avail_in = (uInt)n;
  return TC_OK;
}

/* After a member's end: another member follows, or the file ends, or it is garbage. */
static tc_status idx_next_member(tc_idx_stream *s) {
  TC_TRY(idx_fill(s));
  if (s->z.avail_in == 1 && !s->raw_eof) { /* the magic may straddle two reads */
    s->in[0] = s->z.next_in[0];
    size_t n = fread(s->in + 1, 1, IDX_IN_CAP - 1, s->f);
    s->raw_eof = n == 0;
    s->z.next_in = s->in;
    s->z.avail_in = (uInt)(1 + n);
  }
  if (s->z.avail_in == 0)
    return TC_OK; /* a clean end: member_done stays set */
  if (s->z.avail_in >= 2 && s->z.next_in[0] == 0x1f && s->z.next_in[1] == 0x8b) {
    inflateReset(&s->z);
    s->member_done = 0;
    return TC_OK;
  }
  long pos = ftell(s->f);
  uint64_t at = pos < 0 ? 0 : (uint64_t)pos - s->z.avail_in;
  return tc_set_error(TC_ERR_FORMAT, "file '%s': %llu bytes after the end of the gzip data "
                      "(at byte %llu) are not gzip; a file must end where its data ends",
                      s->path, (unsigned long long)(s->file_size - at), (unsigned long long)at);
}

static tc_status idx_inflate(tc_idx_stream *s, unsigned char *out, size_t len, size_t *got) {
  uInt room = len > UINT_MAX / 2 ? UINT_MAX / 2 : (uInt)len;
  s->z.next_out = out;
  s->z.avail_out = room;
  int r = inflate(&s->z, Z_NO_FLUSH);
  *got = room - s->z.avail_out;
  if (r == Z_STREAM_END)
    s->member_done = 1;
  else if (r == Z_MEM_ERROR)
    return tc_set_error(TC_ERR_NOMEM, "file '%s': zlib is out of memory", s->path);
  else if (r != Z_OK && r != Z_BUF_ERROR)
    return tc_set_error(TC_ERR_FORMAT, "file '%s': broken gzip data after %lu bytes: %s",
                        s->path, (unsigned long)s->z.total_out,
                        s->z.msg ? s->z.msg : "inflate failed");
  return TC_OK;
}

static tc_status idx_read_gz(tc_idx_stream *s, unsigned char *buf, size_t len, size_t *got) {
  while (*got < len) {
    if (s->member_done) {
      TC_TRY(idx_next_member(s));
      if (s->member_done) {
        s->note = "the file ends";
        return TC_OK;
      }
    }
    TC_TRY(idx_fill(s));
    if (s->z.avail_in == 0) {
      s->note = "the gzip stream is cut short";
      return TC_OK;
    }
    size_t n;
    TC_TRY(idx_inflate(s, buf + *got, len - *got, &n));
    *got += n;
  }
  return TC_OK;
}

tc_status tc_idx_stream_read(tc_idx_stream *s, void *buf, size_t len, size_t *got) {
  *got = 0;
  if (s->gz)
    return idx_read_gz(s, buf, len, got);
  *got = fread(buf, 1, len, s->f);
  if (*got < len && ferror(s->f))
    return tc_set_error(TC_ERR_IO, "file '%s': read failed after %zu bytes: %s", s->path,
                        *got, strerror(errno));
  s->note = "the file ends";
  return TC_OK;
}

const char *tc_idx_stream_end_note(const tc_idx_stream *s) { return s->note; }

tc_status tc_idx_stream_rewind(tc_idx_stream *s) {
  if (fseek(s->f, 0, SEEK_SET) != 0)
    return tc_set_error(TC_ERR_IO, "file '%s': cannot seek: %s", s->path, strerror(errno));
  clearerr(s->f);
  s->raw_eof = 0;
  s->member_done = 0;
  s->z.avail_in = 0;
  if (s->gz)
    inflateReset(&s->z);
  return TC_OK;
}

int tc_idx_stream_is_gzip(const tc_idx_stream *s) { return s->gz; }
uint64_t tc_idx_stream_file_size(const tc_idx_stream *s) { return s->file_size; }

void tc_idx_stream_close(tc_idx_stream *s) {
  if (s == NULL)
    return;
  if (s->z_ready)
    inflateEnd(&s->z);
  if (s->f)
    fclose(s->f);
  free(s->path);
  free(s);
}

/* Tells gzip from plain by the first two bytes, then starts inflate if needed. */
static tc_status idx_start(tc_idx_stream *s) {
  unsigned char m[2];
  size_t n = fread(m, 1, 2, s->f);
  s->gz = n == 2 && m[0] == 0x1f && m[1] == 0x8b;
  TC_TRY(tc_idx_stream_rewind(s));
  if (s->gz) {
    if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
      return tc_set_error(TC_ERR_NOMEM, "file '%s': zlib could not start", s->path);
    s->z_ready = 1;
  }
  return TC_OK;
}

tc_status tc_idx_stream_open(const char *path, tc_idx_stream **out) {
  struct stat st;
  *out = NULL;
  if (stat(path, &st) != 0)
    return tc_set_error(errno == ENOENT ? TC_ERR_NOT_FOUND : TC_ERR_IO, "file '%s': %s", path,
                        strerror(errno));
  if (!S_ISREG(st.st_mode))
    return tc_set_error(TC_ERR_IO, "file '%s': not a regular file", path);
  tc_idx_stream *s = calloc(1, sizeof *s);
  if (s == NULL || (s->path = strdup(path)) == NULL) {
    free(s);
    return tc_set_error(TC_ERR_NOMEM, "file '%s': out of memory", path);
  }
  s->file_size = (uint64_t)st.st_size;
  s->f = fopen(path, "rb");
  tc_status r = s->f ? idx_start(s)
                     : tc_set_error(TC_ERR_IO, "file '%s': cannot open: %s", path, strerror(errno));
  if (r != TC_OK) {
    tc_idx_stream_close(s);
    return r;
  }
  *out = s;
  return TC_OK;
}
