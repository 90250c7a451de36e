/* dataset_png.h — training and test sets from folders of PNG files (docs/data.md).
 *
 *   tc_dataset *train, *test;
 *   TC_TRY(tc_dataset_load_png("photos", NULL, 0, 0, &train, &test));
 *   TC_TRY(tc_dataset_load_png("low", "high", 0, 0, &train, &test)); // train->targets: high
 *
 * The rules:
 * - Files: the regular files (symbolic links followed) whose names end in ".png" (any
 *   case) and do not start with '.', sorted by name bytewise (strcmp): the order is the
 *   same on every machine. Other files are ignored.
 * - Splits: DIR/train and DIR/test when both are folders; otherwise the files of DIR, the
 *   last tenth of them (at least one; integer division: n/10) the test set and the rest the
 *   training set. A folder needs at least two images.
 * - Channels (tools/png_read.h): the set is RGB when any of its images is; a grey image of
 *   an RGB set is repeated into the three channels.
 * - Size: every image has the size of the set's first file (train, then test), or with
 *   crop_h x crop_w (--image-size) is centre-cropped to it: top = (h - crop_h) / 2, left =
 *   (w - crop_w) / 2, rounded down; an image smaller than the crop is refused.
 * - Paired folders (targets_dir): target i is targets_dir/<the same sub-folder>/<the same
 *   name> as input i; the targets form their own set (own size and channels, same rules,
 *   the crop applied too) in train->targets and test->targets. Files of targets_dir with no
 *   input are not used.
 * Errors (TC_ERR_INVALID_ARG: bad input, for exit 2; TC_ERR_NOMEM) name the file: a
 * missing folder, a folder without PNGs, a bad or truncated PNG, a transparent one, a size
 * that differs, a missing partner. Nothing prints. */
#ifndef TC_DATASET_PNG_H
#define TC_DATASET_PNG_H

#include "core/status.h"
#include "tools/dataset.h"

/* 1 when dir holds IDX files (train-images-idx3-ubyte, with or without .gz): `--data`
 * reads it as IDX, as before; 0 otherwise. */
int tc_dir_has_idx(const char *dir);

/* Loads dir (and targets_dir, may be NULL) by the rules above; crop 0 x 0: no crop. */
tc_status tc_dataset_load_png(const char *dir, const char *targets_dir, int crop_h,
                              int crop_w, tc_dataset **train, tc_dataset **test);

/* A copy of d centre-cropped to h x w (the rule above), source and labels kept; the
 * targets are not copied. TC_ERR_INVALID_ARG when d is smaller. */
tc_status tc_dataset_crop(const tc_dataset *d, int h, int w, tc_dataset **out);

#endif
