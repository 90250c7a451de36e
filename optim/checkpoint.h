/* checkpoint.h — a model's variables, its optimizers' slots and the run's metadata in one
 * NumPy .npz file, written atomically and loaded all-or-nothing.
 *
 *   tc_ckpt_optim opts[1] = {{"optimizer", opt}};
 *   tc_ckpt_meta meta = {.step = step, .epoch = epoch, .rng = rng};
 *   if (tc_ckpt_save("run/ckpt.npz", model, opts, 1, &meta) != TC_OK) ...
 *   ...
 *   if (tc_ckpt_load("run/ckpt.npz", model, opts, 1, &meta, 0) != TC_OK)   // new process
 *     fprintf(stderr, "%s\n", tc_last_error());    // the model is unchanged on failure
 *
 * Keys (numpy.load(path)[key]):
 *   <layer>/<var>                    every variable of the model, float32, its shape
 *   optimizer/<layer>/<var>/<slot>   every optimizer slot (m, v, momentum, rms, ...)
 *   meta/format_version              int64, TC_CKPT_FORMAT_VERSION
 *   meta/step, meta/epoch            int64, >= 0 (epoch <= step)
 *   meta/batch                       int64 >= 1, images per step (only when meta.batch > 0)
 *   meta/shards                      int64 >= 1, the shards each batch was split into and
 *                                    summed in a fixed tree (only when meta.shards > 0)
 *   ema/<layer>/<var>                the EMA shadows (optim/checkpoint_ema.h), when saved
 *   meta/rng                         uint64 [seed, stream, block, pos, buf0..buf3]
 *   meta/optimizer/<name>/steps      int64 >= 0, the optimizer's t
 *   meta/optimizer/<name>/lr         float32, finite and >= 0
 *   meta/net, meta/net_source,       uint8 text (bytes(a).decode()), when meta.net is set:
 *   meta/net_vars, meta/train_options  the network description as built, the text it was
 *   meta/layers                      parsed from, the variables set from outside
 *                                    ("name=value" lines), the run's options and every
 *                                    layer's full config (tc_netdesc_write_config)
 *   meta/optimizer/<name>/lr_schedule int64[n], the bytes of the schedule string (only
 *                                    when one is set; loading sets the optimizer's
 *                                    schedule from it, or the constant one without it)
 * docs/checkpoints.md describes the format and its guarantees. */
#ifndef TC_CHECKPOINT_H
#define TC_CHECKPOINT_H

#include <stdint.h>

#include "core/rng.h"
#include "layers/model.h"
#include "optim/optimizer.h"

#define TC_CKPT_FORMAT_VERSION 1

typedef struct tc_ckpt_optim {
  const char *name; /* [A-Za-z0-9_.-]+, e.g. "optimizer", "generator" */
  tc_optim *optim;
} tc_ckpt_optim;

typedef struct tc_ckpt_meta {
  int64_t step;
  int64_t epoch;
  tc_rng rng; /* the run's generator (latent draws, dropout ...), restored exactly */
  int64_t batch; /* images per step of the run; 0: not recorded (meta/batch not written,
                    and 0 after loading a file without it) */
  int64_t shards; /* the run's --shards; 0: not recorded (as batch) */
  /* Texts saved as uint8 arrays when net is not NULL (tc_ckpt_read_text reads them back;
   * tc_ckpt_load leaves these NULL): */
  const char *net, *net_source, *net_vars, *train_options, *layers;
  const struct tc_ema *ema; /* save: shadows written as ema/<variable> (NULL: none);
                               load: set to NULL, read them with tc_ckpt_load_ema */
} tc_ckpt_meta;

/* Writes everything to path (atomic: a crash leaves the old file or the new one). Every
 * optimizer slot is written: slots no step has made yet are made first, at their initial
 * values (tc_optim_ensure_slots), so a checkpoint saved before the first step loads like
 * any other. A variable, slot or learning rate that is NaN or inf is not saved:
 * TC_ERR_STATE naming the array and element, and the file at path is left as it was.
 * TC_ERR_NOMEM if a slot cannot be made; errors of tc_npz_write otherwise (a path that is
 * not a regular file, I/O). */
tc_status tc_ckpt_save(const char *path, const tc_model *model, const tc_ckpt_optim *optims,
                       int n_optims, const tc_ckpt_meta *meta);

/* Loads path into the model, the optimizers (their slots are created if needed) and *meta
 * (may be NULL). Everything is validated before anything is copied: on any error the
 * model, the optimizers and *meta are unchanged. Besides names, dtypes and shapes, every
 * value is range-checked (TC_ERR_FORMAT naming the key and the value): the ranges above
 * for meta/..., no NaN or inf in any float array, and the slots that are sums of squares
 * (Adam's v and vhat, RMSProp's rms, Adagrad's accumulator) >= 0. A key the model does
 * not have is refused (TC_ERR_FORMAT naming it) unless allow_extra is 1 (e.g. loading a generator's weights
 * from a full GAN checkpoint, or weights without their optimizer). */
tc_status tc_ckpt_load(const char *path, tc_model *model, const tc_ckpt_optim *optims,
                       int n_optims, tc_ckpt_meta *meta, int allow_extra);

/* The text array `key` (e.g. "meta/net") of a checkpoint, NUL-terminated, malloc'd into
 * *text. TC_ERR_NOT_FOUND when the file has no such array (checkpoints of older writers),
 * TC_ERR_FORMAT when it is not a 1-D uint8 array or holds a NUL byte. */
tc_status tc_ckpt_read_text(const char *path, const char *key, char **text);

#endif
