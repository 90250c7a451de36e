/* onednn_layouts.h — oneDNN's deconvolution in its three layouts, set up for one shape, for
 * `tconv-paired` (tools/paired/): each direction a primitive ready to execute, its inputs
 * filled from tconv's (plain NHWC tensors, (kh, kw, F, C) weights), its output readable
 * in tconv's layout where the layout is the plain one.
 *
 *   onednn_shape g = {...};
 *   onednn_layout L;
 *   if (onednn_layout_create(&L, &g, ONEDNN_NHWC, &inputs) != 0) ...;
 *   onednn_layout_run(&L, 1);   // backward data
 *   onednn_layout_destroy(&L);
 *
 * Layouts (as in the anchors of /work/shared/bench): any (oneDNN picks blocked layouts for
 * everything), nhwc (NHWC activations, weights as oneDNN likes), plain (NHWC and the
 * weights as tconv holds them, nothing blocked). Reorders into a layout happen at
 * creation, never in a timed call. */
#ifndef TC_TOOLS_ONEDNN_LAYOUTS_H
#define TC_TOOLS_ONEDNN_LAYOUTS_H

#include <stdint.h>

#include <oneapi/dnnl/dnnl.h>

enum { ONEDNN_ANY, ONEDNN_NHWC, ONEDNN_PLAIN, ONEDNN_LAYOUTS };

/* The geometry, with oneDNN's padding: pad_r = (H-1)*s + k - pad_l - OH (may be < 0). */
typedef struct onednn_shape {
  int64_t n;
  int h, w, c, f, kh, kw, sh, sw, oh, ow, pad_top, pad_left;
} onednn_shape;

/* tconv's tensors: x (N,H,W,C), kernel (kh,kw,F,C), bias (F), dy (N,OH,OW,F). */
typedef struct onednn_inputs {
  const float *x, *kernel, *bias, *dy;
} onednn_inputs;

typedef struct onednn_layout {
  dnnl_primitive_desc_t pd[3];
  dnnl_primitive_t prim[3];
  dnnl_exec_arg_t args[3][4];
  int nargs[3];
  dnnl_memory_t mem[16];
  int nmem;
} onednn_layout;

const char *onednn_layout_name(int layout);

/* "2.6.3": the oneDNN this program runs on. */
const char *onednn_version(void);

/* 0 on success; else -1 with a message in err (oneDNN refused the shape or memory ran out). */
int onednn_layout_create(onednn_layout *L, const onednn_shape *g, int layout,
                         const onednn_inputs *in, char *err, size_t cap);

/* Direction d (0 forward, 1 backward data, 2 backward weights), waited for; 0, or -1 when
 * oneDNN reports a failure. */
int onednn_layout_run(onednn_layout *L, int d);

/* The output of direction d in tconv's layout (y, dx or the kernel's gradient); only for
 * ONEDNN_PLAIN, whose outputs are already so. NULL for the others. */
const float *onednn_layout_output(const onednn_layout *L, int layout, int d);

/* oneDNN's name for the implementation it chose for direction d ("jit:avx2", ...). */
const char *onednn_layout_impl(const onednn_layout *L, int d);

void onednn_layout_destroy(onednn_layout *L);

#endif
