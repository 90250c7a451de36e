/* netfile_load.c — a network description read from a file: checked to be a regular file
 * within TC_NET_MAX_BYTES, then parsed (netfile_parse.c). Apart from netfile_desc.c, whose
 * helpers the parser uses, so that no two files call each other. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "layers/netfile_internal.h"

tc_status tc_netdesc_load(tc_netdesc **out, const char *path, const tc_net_var *set, int n_set) {
  *out = NULL;
  struct stat st;
  if (path == NULL || stat(path, &st) != 0)
    return tc_set_error(TC_ERR_IO, "network file '%s': %s", path ? path : "(null)",
                        path ? strerror(errno) : "no path");
  if (!S_ISREG(st.st_mode))
    return tc_set_error(TC_ERR_IO, "network file '%s' is not a regular file", path);
  if (st.st_size > TC_NET_MAX_BYTES)
    return tc_set_error(TC_ERR_INVALID_ARG, "network file '%s' has %lld bytes, the limit is %d",
                        path, (long long)st.st_size, TC_NET_MAX_BYTES);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return tc_set_error(TC_ERR_IO, "network file '%s': %s", path, strerror(errno));
  char *buf = malloc((size_t)TC_NET_MAX_BYTES + 1);
  size_t n = buf ? fread(buf, 1, (size_t)TC_NET_MAX_BYTES + 1, f) : 0;
  int err = buf == NULL ? ENOMEM : ferror(f) ? EIO : 0;
  fclose(f);
  tc_status s = err ? tc_set_error(err == ENOMEM ? TC_ERR_NOMEM : TC_ERR_IO,
                                   "network file '%s': %s", path, strerror(err))
                    : tc_netdesc_parse(out, buf, n, path, set, n_set);
  free(buf);
  return s;
}
