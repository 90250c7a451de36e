/* train_common.c — data, directories, signals and batches for the training loops. */
#include "tools/train_common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/idx.h"
#include "tools/synthetic.h"

tc_status tc_train_load_data(const tc_train_opts *o, tc_dataset **train, tc_dataset **test) {
  *train = *test = NULL;
  const char *dir = o->data_dir ? o->data_dir : (o->synthetic ? NULL : tc_dataset_default_dir());
  if (dir != NULL) {
    TC_TRY(tc_dataset_load_idx(dir, TC_SPLIT_TRAIN, train));
    TC_TRY(tc_dataset_load_idx(dir, TC_SPLIT_TEST, test));
  } else {
    if (!o->synthetic)
      fprintf(stderr, "tconv: Fashion-MNIST is not installed (apt-get install "
                      "dataset-fashion-mnist); using the built-in synthetic set\n");
    TC_TRY(tc_dataset_synthetic(train, 12000, 28, 28, (uint64_t)o->seed));
    TC_TRY(tc_dataset_synthetic(test, 2000, 28, 28, (uint64_t)o->seed + 1000003));
  }
  if (o->limit > 0 && o->limit < (*train)->n)
    (*train)->n = o->limit;
  return TC_OK;
}

static tc_status tc_mkdir_p(const char *path) {
  char buf[1024];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return tc_set_error(TC_ERR_INVALID_ARG, "path '%.60s...' is too long", path);
  for (char *p = buf + 1;; p++) {
    char saved = *p;
    if (saved != '/' && saved != '\0')
      continue;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return tc_set_error(TC_ERR_IO, "cannot create directory '%s': %s", buf, strerror(errno));
    *p = saved;
    if (saved == '\0')
      return TC_OK;
  }
}

tc_status tc_train_prepare_dirs(const tc_train_opts *o) {
  TC_TRY(tc_mkdir_p(o->out_dir));
  char ckpt[1024];
  tc_train_checkpoint_path(o, ckpt, sizeof ckpt);
  char *slash = strrchr(ckpt, '/');
  if (slash == NULL || slash == ckpt)
    return TC_OK;
  *slash = '\0';
  return tc_mkdir_p(ckpt);
}

static volatile sig_atomic_t tc_stop_requested;

static void tc_on_signal(int sig) {
  if (tc_stop_requested)
    signal(sig, SIG_DFL), raise(sig);
  tc_stop_requested = 1;
}

void tc_train_catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = tc_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int tc_train_interrupted(void) { return tc_stop_requested != 0; }

/* Several MPI ranks: a stop request counts from the step that all ranks agreed on it
 * (tools/train_dist.c), so that every rank stops after the same step. -1: one process. */
static int tc_stop_agreed = -1;
void tc_train_agree_stop(int any) { tc_stop_agreed = any; }

int tc_train_stop_reason(const tc_train_opts *o, const tc_train_position *p) {
  if (tc_stop_agreed >= 0 ? tc_stop_agreed : tc_stop_requested)
    return 1;
  return (o->max_steps > 0 && p->step >= o->max_steps) ? 2 : 0;
}

tc_status tc_train_batch(const tc_dataset *d, const int64_t *idx, tc_tensor *x, float lo,
                         float hi) {
  TC_TRY(tc_dataset_batch(d, idx, x->shape[0], TC_CHANNELS_LAST, x->data, NULL));
  if (lo != 0.0f || hi != 1.0f)
    for (int64_t i = 0; i < x->size; i++)
      x->data[i] = lo + (hi - lo) * x->data[i];
  return TC_OK;
}
