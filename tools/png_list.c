/* png_list.c — listing, sorting and splitting the PNG files of a folder. */
#include "tools/png_list.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

tc_status tc_png_path(char *buf, size_t cap, const char *dir, const char *sub,
                      const char *name) {
  int n = sub[0] ? snprintf(buf, cap, "%s/%s/%s", dir, sub, name)
                 : snprintf(buf, cap, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= cap)
    return tc_set_error(TC_ERR_INVALID_ARG, "path '%s/%s/%s' is too long", dir, sub, name);
  return TC_OK;
}

static int tc_is_png_name(const char *name) {
  size_t len = strlen(name);
  return name[0] != '.' && len > 4 && strcasecmp(name + len - 4, ".png") == 0;
}

static int tc_is_regular(const char *dir, const char *name) {
  char path[8192];
  struct stat st;
  return tc_png_path(path, sizeof path, dir, "", name) == TC_OK && stat(path, &st) == 0 &&
         S_ISREG(st.st_mode);
}

static int tc_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int tc_name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static tc_status tc_list_add(tc_png_list *list, int *cap, const char *name) {
  if (list->n == *cap) {
    int grown = *cap ? 2 * *cap : 64;
    char **names = realloc(list->names, (size_t)grown * sizeof *names);
    if (names == NULL)
      return tc_set_error(TC_ERR_NOMEM, "out of memory listing PNG files");
    list->names = names;
    *cap = grown;
  }
  if ((list->names[list->n] = strdup(name)) == NULL)
    return tc_set_error(TC_ERR_NOMEM, "out of memory listing PNG files");
  list->n++;
  return TC_OK;
}

tc_status tc_png_list_dir(const char *dir, tc_png_list *list) {
  list->names = NULL;
  list->n = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "--data/--targets folder '%s': %s", dir,
                        strerror(errno));
  tc_status s = TC_OK;
  int cap = 0;
  for (struct dirent *e = readdir(d); s == TC_OK && e != NULL; e = readdir(d))
    if (tc_is_png_name(e->d_name) && tc_is_regular(dir, e->d_name))
      s = tc_list_add(list, &cap, e->d_name);
  closedir(d);
  if (s != TC_OK) {
    tc_png_list_free(list);
    return s;
  }
  if (list->n > 1)
    qsort(list->names, (size_t)list->n, sizeof *list->names, tc_name_cmp);
  return TC_OK;
}

void tc_png_list_free(tc_png_list *list) {
  for (int i = 0; list->names && i < list->n; i++)
    free(list->names[i]);
  free(list->names);
  list->names = NULL;
  list->n = 0;
}

/* DIR/train and DIR/test: each needs a PNG. */
static tc_status tc_split_sub(const char *dir, tc_png_split *split) {
  char path[8192];
  const char *subs[2] = {"train", "test"};
  tc_png_list *lists[2] = {&split->train, &split->test};
  split->subfolders = 1;
  for (int k = 0; k < 2; k++) {
    TC_TRY(tc_png_path(path, sizeof path, dir, "", subs[k]));
    TC_TRY(tc_png_list_dir(path, lists[k]));
    if (lists[k]->n == 0)
      return tc_set_error(TC_ERR_INVALID_ARG, "folder '%s' has no *.png files", path);
  }
  return TC_OK;
}

/* One folder: the last n/10 names (at least one) are the test set. */
static tc_status tc_split_holdout(const char *dir, tc_png_split *split) {
  tc_png_list all;
  TC_TRY(tc_png_list_dir(dir, &all));
  if (all.n < 2) {
    int n = all.n;
    tc_png_list_free(&all);
    return tc_set_error(TC_ERR_INVALID_ARG, "folder '%s' has %d *.png file%s and no IDX files: "
                        "a PNG folder needs at least two images (the last tenth of the "
                        "sorted names is the test set), or train/ and test/ sub-folders",
                        dir, n, n == 1 ? "" : "s");
  }
  int n_test = all.n / 10 > 0 ? all.n / 10 : 1;
  split->train.names = all.names;
  split->train.n = all.n - n_test;
  split->test.names = malloc((size_t)n_test * sizeof *split->test.names);
  if (split->test.names == NULL) {
    tc_png_list_free(&all);
    split->train.names = NULL;
    return tc_set_error(TC_ERR_NOMEM, "out of memory listing PNG files");
  }
  memcpy(split->test.names, all.names + split->train.n, (size_t)n_test * sizeof(char *));
  split->test.n = n_test;
  return TC_OK;
}

tc_status tc_png_split_dir(const char *dir, tc_png_split *split) {
  memset(split, 0, sizeof *split);
  char train[8192], test[8192];
  TC_TRY(tc_png_path(train, sizeof train, dir, "", "train"));
  TC_TRY(tc_png_path(test, sizeof test, dir, "", "test"));
  tc_status s = tc_is_dir(train) && tc_is_dir(test) ? tc_split_sub(dir, split)
                                                    : tc_split_holdout(dir, split);
  if (s != TC_OK)
    tc_png_split_free(split);
  return s;
}

void tc_png_split_free(tc_png_split *split) {
  tc_png_list_free(&split->train); /* holdout: the test names are its own array's */
  tc_png_list_free(&split->test);
  memset(split, 0, sizeof *split);
}
