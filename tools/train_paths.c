/* train_paths.c — what a parsed tc_train_opts owns and where it writes: freeing the network
 * text it holds, and the output and checkpoint paths (never cut: too long is an error). Apart
 * from train_opts.c so that the parsing, the network loading it calls (train_net_ckpt.c) and
 * these helpers form no circle of calls. */
#include <stdio.h>
#include <stdlib.h>

#include "layers/netfile.h"
#include "tools/train_opts.h"

void tc_train_opts_free(tc_train_opts *o) {
  tc_netdesc_free(o->net);
  free(o->net_text);
  free(o->net_source);
  free(o->net_vars);
  free(o->options_text);
  free(o->layers_text);
  free(o->data_saved);
  o->data_saved = NULL;
  o->net = NULL;
  o->net_text = o->net_source = o->net_vars = o->options_text = o->layers_text = NULL;
}

tc_status tc_train_out_path(const tc_train_opts *o, const char *name, char *buf, size_t cap) {
  int n = snprintf(buf, cap, "%s/%s", o->out_dir, name);
  if (n < 0 || (size_t)n >= cap)
    return tc_set_error(TC_ERR_INVALID_ARG, "--out '%.60s...': the path of %s would be %d "
                        "bytes, the limit is %zu", o->out_dir, name, n, cap - 1);
  return TC_OK;
}

tc_status tc_train_checkpoint_path(const tc_train_opts *o, char *buf, size_t cap) {
  if (o->checkpoint == NULL)
    return tc_train_out_path(o, "checkpoint.npz", buf, cap);
  int n = snprintf(buf, cap, "%s", o->checkpoint);
  if (n < 0 || (size_t)n >= cap)
    return tc_set_error(TC_ERR_INVALID_ARG, "--checkpoint '%.60s...' is %d bytes, the limit "
                        "is %zu", o->checkpoint, n, cap - 1);
  return TC_OK;
}
