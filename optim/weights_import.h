/* weights_import.h — weights made elsewhere into a model: a plain .npz of arrays by name
 * (no tconv metadata needed; partial; a name map for keys that differ), and PyTorch's
 * ConvTranspose2d kernel layout converted to TF's.
 *
 *   tc_name_map map[1] = {{"dec1/kernel", "generator/conv2d_transpose/kernel"}};
 *   int n;
 *   tc_model_import_npz(model, "tf_weights.npz", map, 1, &n);   // n variables set
 *
 *   // torch: w = layer.weight.detach().numpy()   (Cin, Cout/groups, kh, kw)
 *   tc_torch_conv2d_transpose_to_tf(w, cin, cout_per_group, kh, kw, kernel->data);
 */
#ifndef TC_WEIGHTS_IMPORT_H
#define TC_WEIGHTS_IMPORT_H

#include "layers/model.h"

typedef struct tc_name_map {
  const char *variable; /* the model's name, "dec1/kernel" */
  const char *key;      /* the file's key */
} tc_name_map;

/* Sets the model's variables from the float32 (or float64) arrays of a .npz: a variable in
 * map takes the array map names; any other variable takes the array of its own name when
 * the file has one; the rest keep their values (a partial load). Everything is checked
 * before anything is copied (shapes, NaN/inf, map entries naming a variable the model
 * lacks or a key the file lacks, two entries for one variable): on error the model is
 * unchanged. Arrays the model does not use are ignored. *n_loaded (may be NULL): the
 * number of variables set. */
tc_status tc_model_import_npz(tc_model *m, const char *path, const tc_name_map *map, int n_map,
                              int *n_loaded);

/* PyTorch ConvTranspose2d weight (cin, cout, kh, kw) -> TF Conv2DTranspose kernel (kh, kw,
 * cout, cin), with cout the output channels per group (torch's weight.shape[1]). Both
 * frameworks apply the kernel unflipped, so this is a transpose of axes (2, 3, 1, 0). */
void tc_torch_conv2d_transpose_to_tf(const float *src, int cin, int cout, int kh, int kw,
                                     float *dst);

#endif
