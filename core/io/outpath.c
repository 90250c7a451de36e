/* outpath.c — the checks every writer makes before it writes (see outpath.h). */
#include "core/io/outpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *tc_file_kind(mode_t m) {
  return S_ISLNK(m)    ? "a symbolic link (tconv does not write through links; give the "
                         "link's target)"
         : S_ISDIR(m)  ? "a directory"
         : S_ISCHR(m)  ? "a character device"
         : S_ISBLK(m)  ? "a block device"
         : S_ISFIFO(m) ? "a FIFO"
         : S_ISSOCK(m) ? "a socket"
                       : "not a regular file";
}

static tc_status tc_path_length_check(const char *path) {
  if (path == NULL || path[0] == '\0')
    return tc_set_error(TC_ERR_INVALID_ARG, "output path is empty");
  size_t len = strnlen(path, PATH_MAX);
  if (len >= PATH_MAX)
    return tc_set_error(TC_ERR_INVALID_ARG, "output path '%.60s...' is %zu bytes or more, "
                        "the limit is %d", path, len, PATH_MAX - 1);
  return TC_OK;
}

tc_status tc_output_path_check(const char *path) {
  TC_TRY(tc_path_length_check(path));
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT ? TC_OK
                           : tc_set_error(TC_ERR_IO, "output '%s': %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return tc_set_error(TC_ERR_INVALID_ARG, "output '%s' is %s; tconv replaces only a "
                        "regular file", path, tc_file_kind(st.st_mode));
  return TC_OK;
}

tc_status tc_output_dir_check(const char *path) {
  TC_TRY(tc_path_length_check(path));
  char dir[PATH_MAX], probe[PATH_MAX + 32];
  const char *slash = strrchr(path, '/');
  if (slash == NULL)
    snprintf(dir, sizeof dir, ".");
  else if (slash == path)
    snprintf(dir, sizeof dir, "/");
  else
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  snprintf(probe, sizeof probe, "%s/.tconv-probe-%ld", dir, (long)getpid());
  int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0 && errno != EEXIST)
    return tc_set_error(TC_ERR_IO, "cannot write in directory '%s' (for '%s'): %s", dir, path,
                        strerror(errno));
  if (fd >= 0) {
    close(fd);
    unlink(probe);
  }
  return TC_OK;
}
