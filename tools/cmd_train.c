/* cmd_train.c — `tconv train`: the main job (options in tools/train_opts.c, the loops in
 * tools/train_autoencoder.c and tools/train_dcgan.c). */
#include <omp.h>
#include <stdio.h>

#include "core/conv2dt.h"
#include "tools/commands.h"
#include "tools/train_common.h"
#include "tools/train_runs.h"

int tc_cmd_train(int argc, char **argv) {
  tc_train_opts o;
  int rc = tc_train_opts_parse(argc, argv, &o);
  if (rc != 0)
    return rc == 1 ? 0 : rc;
  if (o.threads > 0)
    omp_set_num_threads((int)o.threads);
  tc_dataset *train = NULL, *test = NULL;
  int stopped = 0;
  tc_status s = tc_train_prepare_dirs(&o); /* before the data: a bad path fails at once */
  if (s != TC_OK) {
    fprintf(stderr, "tconv train: %s\n", tc_last_error());
    tc_train_opts_free(&o);
    return 2;
  }
  s = tc_train_load_data(&o, &train, &test);
  if (s == TC_OK) {
    printf("tconv train: %s on %lld training images from %s, %d epochs, batch %ld, %d threads, "
           "%s kernels\n",
           o.net_file ? o.net_file : o.model == TC_MODEL_DCGAN ? "dcgan" : "autoencoder",
           (long long)train->n,
           train->source, o.epochs, o.batch, omp_get_max_threads(), tc_conv2dt_kernel_isa());
    fflush(stdout); /* the progress reporter writes to stderr */
    tc_train_catch_signals();
    s = o.model == TC_MODEL_DCGAN ? tc_train_dcgan(&o, train, &stopped)
                                  : tc_train_autoencoder(&o, train, test, &stopped);
  }
  tc_dataset_free(train);
  tc_dataset_free(test);
  tc_train_opts_free(&o);
  if (s != TC_OK) {
    fprintf(stderr, "tconv train: %s\n", tc_last_error());
    /* 2: the command line asked for something that cannot be (bad paths, an existing
     * checkpoint without --resume/--force, a resume with another --batch); 1: it failed. */
    return s == TC_ERR_INVALID_ARG || s == TC_ERR_EXISTS ? 2 : 1;
  }
  return stopped == 1 ? 130 : 0;
}
