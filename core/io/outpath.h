/* outpath.h — may tconv write a file at this path? Every writer (checkpoints, PNG grids)
 * replaces its target by renaming a finished temporary file over it, which would silently
 * turn a device, a FIFO or a symbolic link into a regular file (as root, `--checkpoint
 * /dev/null` replaced /dev/null). So only a regular file, or nothing, is replaced; a
 * symbolic link is refused rather than followed (pass the link's target instead).
 *
 *   TC_TRY(tc_output_path_check(path));            // before any byte is written
 *
 * Nothing here prints; thread-safe. */
#ifndef TC_OUTPATH_H
#define TC_OUTPATH_H

#include "core/status.h"

/* TC_OK when nothing is at path or a regular file is; TC_ERR_INVALID_ARG naming the path
 * and what is there ("a FIFO", "a character device", "a symbolic link", "a directory",
 * ...) otherwise, and for an empty path or one of PATH_MAX bytes or more (never cut). */
tc_status tc_output_path_check(const char *path);

/* TC_OK when a file can be created in the directory that holds path (its part before the
 * last '/', or "."): the directory exists and a probe file can be created and removed
 * there. TC_ERR_IO naming the directory and the system's reason otherwise (missing,
 * read-only, not a directory). Creates nothing that stays. */
tc_status tc_output_dir_check(const char *path);

#endif
