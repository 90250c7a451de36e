/* png_list.h — the PNG files of a folder, sorted, and how they split into training and test
 * files (the rules of tools/dataset_png.h). Nothing prints. */
#ifndef TC_PNG_LIST_H
#define TC_PNG_LIST_H

#include <stddef.h>

#include "core/status.h"

typedef struct tc_png_list {
  char **names; /* file names (no folder), sorted by strcmp; owned */
  int n;
} tc_png_list;

/* The split of one folder: sub is "train"/"test" (sub-folders) or "" (one folder, the last
 * tenth the test set). */
typedef struct tc_png_split {
  int subfolders;    /* 1: DIR/train and DIR/test */
  tc_png_list train, test;
} tc_png_split;

/* The *.png of dir into *list (n may be 0). TC_ERR_INVALID_ARG naming dir when it is not a
 * readable folder; TC_ERR_NOMEM. */
tc_status tc_png_list_dir(const char *dir, tc_png_list *list);
void tc_png_list_free(tc_png_list *list);

/* The split of dir. TC_ERR_INVALID_ARG naming the folder when a split has no PNGs or the
 * folder has fewer than two. */
tc_status tc_png_split_dir(const char *dir, tc_png_split *split);
void tc_png_split_free(tc_png_split *split);

/* dir/sub/name (sub "" : dir/name) into buf; TC_ERR_INVALID_ARG when it does not fit. */
tc_status tc_png_path(char *buf, size_t cap, const char *dir, const char *sub,
                      const char *name);

#endif
