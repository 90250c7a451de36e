/* train_data.h — the image sets of a `tconv train` run (docs/data.md): IDX (Fashion-MNIST
 * or --data DIR holding IDX files), PNG folders, paired folders (--targets), the synthetic
 * set; --image-size and --limit applied; and the data options a checkpoint keeps. */
#ifndef TC_TRAIN_DATA_H
#define TC_TRAIN_DATA_H

#include <stddef.h>

#include "tools/dataset.h"
#include "tools/train_opts.h"

/* --data DIR holding train-images-idx3-ubyte[.gz] (or missing: its error names the IDX
 * files, as always) is IDX; another folder is read as PNG (tools/dataset_png.h). Bad
 * input is TC_ERR_INVALID_ARG (exit 2) naming the file; a gan on colour images too. */
tc_status tc_train_data_load(const tc_train_opts *o, tc_dataset **train, tc_dataset **test);

/* The data options' lines of meta/train_options ("pairs=sr:2", "targets=DIR",
 * "image_size=HxW"), only those set, so runs without them keep their text; appended at buf. */
void tc_train_data_options_text(const tc_train_opts *o, char *buf, size_t cap);

/* On --resume: the data options the checkpoint was trained with (its meta/train_options)
 * are this run's; ones given again must agree. Returns 0, or 2 with one line on stderr
 * naming the option, both values and the checkpoint. */
int tc_train_data_resume(tc_train_opts *o);

#endif
