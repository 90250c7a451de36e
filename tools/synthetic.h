/* synthetic.h — a built-in image set for when no Fashion-MNIST is installed.
 *
 *   tc_dataset *d;
 *   if (tc_dataset_synthetic(&d, 10000, 28, 28, seed) != TC_OK) ...;
 *   ... d->labels[i] is the shape class of image i (tc_synthetic_class_name) ...
 *   tc_dataset_free(d);
 *
 * Ten classes of procedurally drawn, anti-aliased shapes (ring, disc, bars, crosses, square
 * outline, triangle, soft blob, two dots), each with a random centre, size, thickness and
 * brightness, plus mild noise: varied enough not to be memorised by index, structured
 * enough that a small autoencoder learns it. Image i is a pure function of (seed, i) and
 * its label is i % 10, so the set is deterministic and balanced; shuffle it for training. */
#ifndef TC_SYNTHETIC_H
#define TC_SYNTHETIC_H

#include <stdint.h>

#include "core/status.h"
#include "tools/dataset.h"

#define TC_SYNTHETIC_CLASSES 10

/* Makes n images of h x w (values in [0, 1]) with labels 0..9. Shapes scale with
 * min(h, w); 28 x 28 is the intended size. Errors as tc_dataset_create, plus
 * TC_ERR_SHAPE when h or w is below 8. The caller frees *out. */
tc_status tc_dataset_synthetic(tc_dataset **out, int64_t n, int h, int w, uint64_t seed);

/* "ring", "disc", ... for labels 0..9; "?" otherwise. */
const char *tc_synthetic_class_name(int label);

#endif
