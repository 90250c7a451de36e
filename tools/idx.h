/* idx.h — reading (Fashion-)MNIST IDX files, gzip-compressed or plain.
 *
 *   const char *dir = tc_dataset_default_dir();      // NULL when not installed
 *   tc_dataset *train;
 *   tc_status s = tc_dataset_load_idx(dir, TC_SPLIT_TRAIN, &train);
 *   if (s != TC_OK) fprintf(stderr, "%s\n", tc_last_error());
 *
 * The IDX format: a big-endian u32 magic (0x00000803 for a u8 array of 3 dims, images;
 * 0x00000801 for 1 dim, labels), one big-endian u32 per dim, then exactly the product of
 * the dims in bytes, then the end of the file. A file that breaks any of that is
 * TC_ERR_FORMAT with a message that names the file and the numbers; the rule is the same for
 * plain and gzip files (a .gz whose data is followed by bytes that are not gzip is refused
 * like a plain file with trailing bytes). Nothing here prints; calls are reentrant. */
#ifndef TC_IDX_H
#define TC_IDX_H

#include <stdint.h>

#include "core/status.h"
#include "tools/dataset.h"

#define TC_IDX_MAGIC_IMAGES 0x00000803u
#define TC_IDX_MAGIC_LABELS 0x00000801u

/* The most payload bytes a header may declare: 1 GiB of u8 (4 GiB as float32 in memory),
 * twenty times Fashion-MNIST's training set. Above it the file is refused unread. */
#define TC_IDX_MAX_BYTES ((uint64_t)1 << 30)

/* Where Debian's dataset-fashion-mnist package installs its four .gz files. */
#define TC_FASHION_MNIST_DEBIAN_DIR "/usr/share/datasets/fashion-mnist"

/* Reads an images file (magic 0x803, dims n, h, w) into a new data set with pixels scaled
 * to [0, 1] and zero labels. gzip or plain (zlib tells them apart). Errors: TC_ERR_NOT_FOUND
 * (no such file), TC_ERR_IO, TC_ERR_FORMAT (magic, a zero dim, a payload that is short or
 * has trailing bytes, a broken gzip stream), TC_ERR_NOMEM. The caller frees *out. */
tc_status tc_idx_read_images(const char *path, tc_dataset **out);

/* Reads a labels file (magic 0x801, dim n) into a new malloc'd array of *n bytes; errors as
 * above. The caller frees *labels with free(). */
tc_status tc_idx_read_labels(const char *path, uint8_t **labels, int64_t *n);

/* Loads one split from dir: {train,t10k}-images-idx3-ubyte and {train,t10k}-labels-idx1-ubyte,
 * each tried plain first, then with ".gz". Image and label counts must agree (TC_ERR_FORMAT
 * naming both files). A missing dir or file is TC_ERR_NOT_FOUND naming the path looked for.
 * The caller frees *out with tc_dataset_free. */
tc_status tc_dataset_load_idx(const char *dir, tc_dataset_split split, tc_dataset **out);

/* The directory of an installed Fashion-MNIST (TC_FASHION_MNIST_DEBIAN_DIR when its training
 * images are there), or NULL. The string is static; do not free it. */
const char *tc_dataset_default_dir(void);

#endif
