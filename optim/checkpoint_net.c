/* checkpoint_net.c — description, model and weights from one checkpoint. */
#include "optim/checkpoint_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/npz.h"

/* meta/rng[0], the run's seed (0 when absent). */
static uint64_t tc_ckpt_seed(const char *path) {
  tc_npz_file *f;
  uint64_t seed = 0;
  if (tc_npz_read(path, &f, NULL) != TC_OK)
    return 0;
  const tc_npz_array *r = tc_npz_find(f, "meta/rng");
  if (r != NULL && r->dtype == TC_NPZ_U64 && r->size >= 1)
    seed = ((const uint64_t *)r->data)[0];
  tc_npz_file_free(f);
  return seed;
}

tc_status tc_ckpt_load_net(const char *path, tc_netdesc **desc, tc_model **model,
                           tc_net **net) {
  *desc = NULL;
  *model = NULL;
  *net = NULL;
  char *text = NULL, source[200];
  TC_TRY(tc_ckpt_read_text(path, "meta/net", &text));
  snprintf(source, sizeof source, "%s:meta/net", path);
  tc_status s = tc_netdesc_parse(desc, text, strlen(text), source, NULL, 0);
  free(text);
  if (s == TC_OK)
    s = tc_model_create(model, tc_ckpt_seed(path));
  if (s == TC_OK)
    s = tc_net_create(net, *model, *desc);
  if (s == TC_OK)
    s = tc_ckpt_load(path, *model, NULL, 0, NULL, 1);
  if (s != TC_OK) {
    tc_net_free(*net);
    tc_model_free(*model);
    tc_netdesc_free(*desc);
    *desc = NULL;
    *model = NULL;
    *net = NULL;
  }
  return s;
}
