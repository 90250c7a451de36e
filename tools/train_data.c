/* train_data.c — which image sets a run trains on, and the data options it keeps. */
#include "tools/train_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "optim/checkpoint.h"
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

/* The checkpoint's values of the data options, pointing into its text (cut into lines). */
typedef struct tc_saved_data {
  const char *pairs, *targets, *image_size;
} tc_saved_data;

static void tc_saved_parse(char *text, tc_saved_data *v) {
  memset(v, 0, sizeof *v);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, "pairs=", 6) == 0)
      v->pairs = line + 6;
    else if (strncmp(line, "targets=", 8) == 0)
      v->targets = line + 8;
    else if (strncmp(line, "image_size=", 11) == 0)
      v->image_size = line + 11;
  }
}

static int tc_same_pairs(const char *a, const char *b) {
  tc_pairs pa, pb;
  if (tc_pairs_parse(a, &pa) != TC_OK || tc_pairs_parse(b, &pb) != TC_OK)
    return strcmp(a, b) == 0;
  return pa.kind == pb.kind && pa.scale == pb.scale && pa.sigma == pb.sigma;
}

/* One option: taken from the checkpoint when not given, else it must agree. */
static int tc_resume_one(const char *flag, const char *given, const char *saved, int same,
                         const char *ckpt) {
  if (given == NULL || (saved != NULL && same))
    return 0;
  if (saved == NULL)
    fprintf(stderr, "tconv train: %s %s contradicts checkpoint '%s', which was trained "
                    "without %s: leave it out, or start afresh with --force\n", flag, given,
            ckpt, flag);
  else
    fprintf(stderr, "tconv train: %s %s contradicts checkpoint '%s', which was trained with "
                    "%s %s: leave it out (the checkpoint keeps its data options)\n", flag,
            given, ckpt, flag, saved);
  return 2;
}

static int tc_resume_adopt(tc_train_opts *o, const tc_saved_data *v) {
  if (o->pairs_text == NULL && v->pairs != NULL) {
    if (tc_pairs_parse(v->pairs, &o->pairs) != TC_OK) {
      fprintf(stderr, "tconv train: the checkpoint's %s\n", tc_last_error());
      return 2;
    }
    o->pairs_text = v->pairs;
  }
  if (o->targets_dir == NULL)
    o->targets_dir = v->targets;
  if (o->image_h == 0 && v->image_size != NULL &&
      sscanf(v->image_size, "%dx%d", &o->image_h, &o->image_w) != 2)
    o->image_h = o->image_w = 0;
  return 0;
}

int tc_train_data_resume(tc_train_opts *o) {
  char ckpt[TC_TRAIN_PATH_CAP];
  if (!o->resume || tc_train_checkpoint_path(o, ckpt, sizeof ckpt) != TC_OK ||
      tc_ckpt_read_text(ckpt, "meta/train_options", &o->data_saved) != TC_OK)
    return 0; /* no checkpoint (yet): the resume itself says what is wrong */
  tc_saved_data v;
  tc_saved_parse(o->data_saved, &v);
  char size[32] = "";
  if (o->image_h > 0)
    snprintf(size, sizeof size, "%dx%d", o->image_h, o->image_w);
  int rc = tc_resume_one("--pairs", o->pairs_text, v.pairs,
                         v.pairs && o->pairs_text && tc_same_pairs(o->pairs_text, v.pairs), ckpt);
  if (rc == 0)
    rc = tc_resume_one("--targets", o->targets_dir, v.targets,
                       v.targets && o->targets_dir && strcmp(o->targets_dir, v.targets) == 0, ckpt);
  if (rc == 0)
    rc = tc_resume_one("--image-size", size[0] ? size : NULL, v.image_size,
                       v.image_size && strcmp(size, v.image_size) == 0, ckpt);
  return rc ? rc : tc_resume_adopt(o, &v);
}
