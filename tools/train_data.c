/* train_data.c — which image sets a run trains on, and the data options it keeps. */
#include "tools/train_data.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/dataset_png.h"
#include "tools/idx.h"
#include "tools/synthetic.h"

/* Fashion-MNIST, an IDX --data folder, or the synthetic set (as before PNG folders came). */
static tc_status tc_load_idx_or_synthetic(const tc_train_opts *o, tc_dataset **train,
                                          tc_dataset **test) {
  const char *dir = o->data_dir ? o->data_dir : (o->synthetic ? NULL : tc_dataset_default_dir());
  if (dir != NULL) {
    TC_TRY(tc_dataset_load_idx(dir, TC_SPLIT_TRAIN, train));
    return tc_dataset_load_idx(dir, TC_SPLIT_TEST, test);
  }
  if (!o->synthetic)
    fprintf(stderr, "tconv: Fashion-MNIST is not installed (apt-get install "
                    "dataset-fashion-mnist); using the built-in synthetic set\n");
  TC_TRY(tc_dataset_synthetic(train, 12000, 28, 28, (uint64_t)o->seed));
  return tc_dataset_synthetic(test, 2000, 28, 28, (uint64_t)o->seed + 1000003);
}

/* --image-size on a set loaded whole (IDX, synthetic): *d replaced by its centre crop. */
static tc_status tc_crop_in_place(tc_dataset **d, int h, int w) {
  tc_dataset *cropped;
  TC_TRY(tc_dataset_crop(*d, h, w, &cropped));
  tc_dataset_free(*d);
  *d = cropped;
  return TC_OK;
}

static int tc_is_png_dir(const char *dir) {
  struct stat st;
  return dir != NULL && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && !tc_dir_has_idx(dir);
}

static tc_status tc_load_sets(const tc_train_opts *o, tc_dataset **train, tc_dataset **test) {
  if (tc_is_png_dir(o->data_dir))
    return tc_dataset_load_png(o->data_dir, o->targets_dir, o->image_h, o->image_w, train,
                               test);
  if (o->targets_dir)
    return tc_set_error(TC_ERR_INVALID_ARG, "--targets pairs folders of PNG files, but --data "
                        "'%s' holds IDX files (or is missing)", o->data_dir);
  TC_TRY(tc_load_idx_or_synthetic(o, train, test));
  if (o->image_h > 0) {
    TC_TRY(tc_crop_in_place(train, o->image_h, o->image_w));
    TC_TRY(tc_crop_in_place(test, o->image_h, o->image_w));
  }
  return TC_OK;
}

tc_status tc_train_data_load(const tc_train_opts *o, tc_dataset **train, tc_dataset **test) {
  *train = *test = NULL;
  TC_TRY(tc_load_sets(o, train, test));
  if (o->model == TC_MODEL_DCGAN && (*train)->c != 1)
    return tc_set_error(TC_ERR_INVALID_ARG, "the images of %s are colour (3 channels); the "
                        "gan loop trains on grey images", (*train)->source);
  if (o->limit > 0 && o->limit < (*train)->n) {
    (*train)->n = o->limit;
    if ((*train)->targets)
      (*train)->targets->n = o->limit;
  }
  return TC_OK;
}

void tc_train_data_options_text(const tc_train_opts *o, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  if (o->pairs_text && len < cap)
    len += (size_t)snprintf(buf + len, cap - len, "pairs=%s\n", o->pairs_text);
  if (o->targets_dir && len < cap)
    len += (size_t)snprintf(buf + len, cap - len, "targets=%s\n", o->targets_dir);
  if (o->image_h > 0 && len < cap)
    snprintf(buf + len, cap - len, "image_size=%dx%d\n", o->image_h, o->image_w);
}
