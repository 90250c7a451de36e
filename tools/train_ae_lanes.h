/* train_ae_lanes.h — a reconstruction step's shards side by side: lane 0 is the run's own
 * network, every other lane a replica of it (its own variables, graph and input), each lane
 * one thread. The replicas take the run's values at every step, and their shards go into
 * the shard sum in shard order (tc_dist_sum_push_from), so the sums, hence every bit, are
 * those of one shard after another.
 *
 * Why: a shard of the default step (16 images) is too small for the kernels to use a
 * second thread well; on a 2-vCPU Zen 5 VM the autoencoder trained at 9200 images/s on 1
 * thread and 9600 on 2, while two single-thread convolutions ran side by side at the speed
 * of one alone (docs/benchmarks.md, "Shards side by side").
 *
 *   tc_ae_lanes L;
 *   tc_ae_lanes_create(&L, o, &run_net, run_graph, run_x, run_t, in, tgt, train);
 *   per step: tc_ae_lanes_sync(&L); then rounds of L.n shards, one per lane (OpenMP). */
#ifndef TC_TOOLS_TRAIN_AE_LANES_H
#define TC_TOOLS_TRAIN_AE_LANES_H

#include "core/graph.h"
#include "optim/dist.h"
#include "tools/dataset.h"
#include "tools/net_autoencoder.h"
#include "tools/train_opts.h"

#define TC_AE_MAX_LANES 8

typedef struct tc_ae_lane {
  tc_autoencoder *net; /* lane 0: the run's; else &own */
  tc_graph *g;
  tc_tensor *x, *t;    /* one shard's inputs and targets (t == x without pairs) */
  tc_autoencoder own;
  float data_loss;     /* the lane's last shard */
  tc_status st;
  char msg[1024];      /* its error, copied out of the lane's thread */
} tc_ae_lane;

typedef struct tc_ae_lanes {
  int n; /* lanes in use: 1 runs the shards one after another on lane 0 */
  tc_ae_lane lane[TC_AE_MAX_LANES];
} tc_ae_lanes;

/* How many lanes a run takes: the threads OpenMP offers, at most the rank's shards per step
 * and a power of two dividing them; 1 under --profile (its clocks are not per thread) or
 * where nested parallel regions would be active (each lane must run its kernels alone). */
int tc_ae_lanes_count(int local_shards);

/* Lane 0 from the run's pieces; lanes 1..n-1 as replicas: the same network built from the
 * same options (in/tgt: per-image input and target shapes), a graph, shard tensors like x
 * and t; checked against the shard sum's variables. On failure every lane made is freed. */
tc_status tc_ae_lanes_create(tc_ae_lanes *L, int n, const tc_train_opts *o, tc_autoencoder *net,
                             tc_graph *g, tc_tensor *x, tc_tensor *t, const int in[3],
                             const int tgt[3], const tc_dataset *train, const tc_dist_sum *sum);
void tc_ae_lanes_free(tc_ae_lanes *L);

/* Every replica's variables take lane 0's values (weights and state): once per step, after
 * the optimizer. */
void tc_ae_lanes_sync(tc_ae_lanes *L);

#endif
