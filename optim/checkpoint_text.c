/* checkpoint_text.c — the text arrays of a checkpoint (meta/net, ...): uint8, NumPy-readable. */
#include <stdlib.h>
#include <string.h>

#include "core/io/npz.h"
#include "optim/checkpoint.h"

tc_status tc_ckpt_read_text(const char *path, const char *key, char **text) {
  *text = NULL;
  tc_npz_file *f;
  TC_TRY(tc_npz_read(path, &f, NULL));
  const tc_npz_array *a = tc_npz_find(f, key);
  tc_status s = TC_OK;
  if (a == NULL)
    s = tc_set_error(TC_ERR_NOT_FOUND, "checkpoint '%s' has no array '%s' (written before "
                     "checkpoints described their network)", path, key);
  else if (a->dtype != TC_NPZ_U8 || a->rank != 1 || memchr(a->data, '\0', (size_t)a->size))
    s = tc_set_error(TC_ERR_FORMAT, "checkpoint '%s': '%s' is not text (a 1-D uint8 array "
                     "without NUL bytes)", path, key);
  else if ((*text = malloc((size_t)a->size + 1)) == NULL)
    s = tc_set_error(TC_ERR_NOMEM, "checkpoint '%s': out of memory", path);
  else {
    memcpy(*text, a->data, (size_t)a->size);
    (*text)[a->size] = '\0';
  }
  tc_npz_file_free(f);
  return s;
}
