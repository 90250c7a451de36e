/* cmd_train.c — `tconv train`: the main job (options in tools/train_opts.c, the loops in
 * tools/train_autoencoder.c and tools/train_dcgan.c). */
#include <omp.h>
#include <stdio.h>

#include "core/conv2dt.h"
#include "tools/commands.h"
#include "tools/omp_wait.h"
#include "tools/profile.h"
#include "tools/train_common.h"
#include "tools/train_dist.h"
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
  /* One rank or several (tools/train_dist.h): rank 0 alone makes files and prints. */
  tc_status s = tc_train_dist_start(argc, argv, &o);
  int usage = s == TC_ERR_INVALID_ARG; /* shards, rank count, options differing: exit 2 */
  if (s == TC_OK && o.profile && tc_train_root()) {
    s = tc_prof_start(o.profile_file);
    usage = s != TC_OK; /* a profile file that cannot be made: bad usage, before any work */
  }
  if (s == TC_OK) {
    double t = tc_prof_begin();
    tc_status loaded = tc_train_load_data(&o, &train, &test);
    tc_prof_end(TC_PROF_LOAD, t);
    s = tc_train_dist_check_data(loaded, train);
    usage = loaded == TC_OK && s == TC_ERR_INVALID_ARG; /* the ranks' images differ */
  }
  if (s == TC_OK)
    s = tc_train_dist_after_root(tc_train_root() ? tc_train_prepare_dirs(&o) : TC_OK);
  if (s == TC_OK) {
    if (tc_train_root())
      printf("tconv train: %s on %lld training images from %s, %d epochs, batch %ld, %d threads, "
             "%s kernels, %d rank%s, %ld shards; OpenMP wait: %s\n",
             o.net_file ? o.net_file : o.model == TC_MODEL_DCGAN ? "dcgan" : "autoencoder",
             (long long)train->n,
             train->source, o.epochs, o.batch, omp_get_max_threads(), tc_conv2dt_kernel_isa(),
             tc_dist_size(tc_train_dist()), tc_dist_size(tc_train_dist()) == 1 ? "" : "s",
             o.shards, tc_omp_wait_chosen());
    fflush(stdout); /* the progress reporter writes to stderr */
    tc_train_catch_signals();
    s = o.model == TC_MODEL_DCGAN ? tc_train_dcgan(&o, train, &stopped)
                                  : tc_train_autoencoder(&o, train, test, &stopped);
    if (s == TC_OK) /* the table ends the run's output, after the last progress line */
      s = tc_prof_finish(stdout);
  }
  if (s != TC_OK)
    (void)tc_prof_finish(NULL); /* closes the JSON file (with the failed run's partial profile) */
  tc_dataset_free(train);
  tc_dataset_free(test);
  tc_train_opts_free(&o);
  int rank = tc_train_dist() ? tc_dist_rank(tc_train_dist()) : 0;
  if (s != TC_OK && rank == 0)
    fprintf(stderr, "tconv train: %s\n", tc_last_error());
  else if (s != TC_OK)
    fprintf(stderr, "tconv train (rank %d): %s\n", rank, tc_last_error());
  tc_train_dist_end(); /* waits for every rank: none exits (and ends the job) before rank 0 said why */
  /* 2: the command line asked for something that cannot be (bad paths, an existing
   * checkpoint without --resume/--force, a resume with another --batch, ranks that differ);
   * 1: it failed. */
  if (s != TC_OK)
    return usage || s == TC_ERR_INVALID_ARG || s == TC_ERR_EXISTS ? 2 : 1;
  return stopped == 1 ? 130 : 0;
}
