/* idx_stream.h — the bytes of an IDX file in order, plain or gzip (told apart by the gzip
 * magic), with one rule for both: the file ends where its data ends. A gzip file may hold
 * several members (as gzip itself allows); anything after the last member that is not
 * another member is TC_ERR_FORMAT, as a plain file's trailing bytes are to the IDX reader.
 * Nothing here prints; one stream per thread. */
#ifndef TC_IDX_STREAM_H
#define TC_IDX_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct tc_idx_stream tc_idx_stream;

/* Opens a regular file. TC_ERR_NOT_FOUND when it does not exist (the caller may fall back),
 * TC_ERR_IO when it cannot be opened or is not a regular file, TC_ERR_NOMEM. */
tc_status tc_idx_stream_open(const char *path, tc_idx_stream **out);

/* Reads up to len bytes of content into buf; *got says how many came. A short count is
 * the end of the content (tc_idx_stream_end_note says why it ended). Errors: TC_ERR_IO (a
 * read failed), TC_ERR_FORMAT (broken gzip data, or bytes after the last gzip member that
 * are not gzip), each naming the file and the byte count. */
tc_status tc_idx_stream_read(tc_idx_stream *s, void *buf, size_t len, size_t *got);

/* Why the last short read ended: "the file ends" or "the gzip stream is cut short". */
const char *tc_idx_stream_end_note(const tc_idx_stream *s);

/* Back to the first byte of content (a second pass after measuring). */
tc_status tc_idx_stream_rewind(tc_idx_stream *s);

/* 1 for gzip, 0 for plain; the size of the file itself in bytes. */
int tc_idx_stream_is_gzip(const tc_idx_stream *s);
uint64_t tc_idx_stream_file_size(const tc_idx_stream *s);

/* Closes the file and frees s. NULL does nothing. */
void tc_idx_stream_close(tc_idx_stream *s);

#endif
