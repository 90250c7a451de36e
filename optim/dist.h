/* dist.h — data-parallel training over MPI, with sums that do not depend on the rank count.
 *
 *   tc_dist *d;
 *   tc_dist_init(&d);                             // joins mpirun's job, or a 1-rank group
 *   tc_dist_broadcast_model(d, model);            // rank 0's weights everywhere
 *   tc_dist_sum *gs;
 *   tc_dist_sum_create(&gs, d, shards, 1);        // shards: a power of two that size divides
 *   tc_dist_sum_add_optim(gs, opt);               // sum the gradients of opt's variables
 *   for (step...) {
 *     tc_dist_sum_begin(gs);
 *     for (k = first local shard; k < last; k++) {
 *       ...forward and backward on shard k (batch / shards images)...
 *       tc_dist_sum_push(gs, &loss);              // shard k's gradients into the tree
 *     }
 *     float mean_loss;
 *     if (tc_dist_sum_finish(gs, TC_OK, &mean_loss) != TC_OK) ...   // every rank fails alike
 *     tc_optim_step(opt, NULL);                   // the same numbers on every rank
 *   }
 *   tc_dist_sum_free(gs);
 *   tc_dist_free(d);
 *
 * The determinism rule (docs/distributed.md): a global batch is split into S shards; shard
 * k's numbers are leaf k of one balanced binary tree of additions over S leaves; rank r of
 * N owns the aligned subtree of leaves [r*S/N, (r+1)*S/N) and the top log2(N) levels are
 * added by the rank that owns each slice of the vector (a reduce-scatter by MPI_Alltoall,
 * then MPI_Allgather). Every element is therefore summed in the same order for any N that
 * divides S, and the result (times 1/S) is bitwise the same on 1, 2, 4 ... ranks.
 *
 * Without MPI (or when the process was not started by mpirun) a tc_dist is one rank and
 * every call works locally. The calls are collective: every rank makes them in the same
 * order. None prints; a rank that fails passes its status to finish/agree, and every rank
 * then returns an error that names the failed rank and its message. */
#ifndef TC_DIST_H
#define TC_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "layers/model.h"
#include "optim/optimizer.h"

#define TC_DIST_MAX_SHARDS 1024

typedef struct tc_dist tc_dist;

/* 1 when this build has MPI (CMake found it), else 0. */
int tc_dist_have_mpi(void);

/* Joins the MPI job when the process was started by mpirun (and the build has MPI), else
 * makes a group of one. MPI is initialised once per process, here; tc_dist_free waits for
 * every rank (a barrier: a rank that fails exits only after rank 0 said why) and finalises
 * it. Errors: TC_ERR_NOMEM, TC_ERR_IO when MPI_Init fails. */
tc_status tc_dist_init(tc_dist **out);
void tc_dist_free(tc_dist *d);

int tc_dist_rank(const tc_dist *d);
int tc_dist_size(const tc_dist *d);

/* Ends every rank of the job at once (MPI_Abort); for the command when a rank cannot take
 * part in the next collective call. Without MPI it returns and the caller exits. */
void tc_dist_abort(tc_dist *d, int code);

/* Collectives on raw bytes: rank 0's buf to every rank; every rank's `bytes` into
 * all[rank * bytes]. */
tc_status tc_dist_broadcast(tc_dist *d, void *buf, size_t bytes);
tc_status tc_dist_allgather(tc_dist *d, const void *mine, void *all, size_t bytes);

/* Every rank passes its own status (and tc_last_error() when it failed). Returns TC_OK on
 * every rank when all passed TC_OK; else on every rank the lowest failed rank's status,
 * with the message "rank R: <its message>" (a rank that failed keeps its own message).
 * Allocates nothing up to 16 ranks; beyond, a rank that cannot get the memory for every
 * rank's verdict ends the job (tc_dist_abort) rather than leave the others waiting. */
tc_status tc_dist_agree(tc_dist *d, tc_status local);

/* Fails on every rank (TC_ERR_INVALID_ARG "<what> differ between ranks: rank R ...") when
 * some rank's value differs from rank 0's. For option and data fingerprints. */
tc_status tc_dist_check_same(tc_dist *d, uint64_t value, const char *what);

/* A 64-bit fingerprint (FNV-1a over 8-byte words, then the tail) of n bytes, chained from
 * h (0 to start): for tc_dist_check_same, not a defence against anyone. */
uint64_t tc_dist_fingerprint(uint64_t h, const void *bytes, size_t n);

/* Rank 0's values of every variable of the model (weights and state) on every rank; the
 * variables' names and sizes are checked to match first. */
tc_status tc_dist_broadcast_model(tc_dist *d, tc_model *model);

/* Rank 0's optimizer state (every slot, created where missing; the step count; the
 * learning rate) on every rank. */
tc_status tc_dist_broadcast_optim(tc_dist *d, tc_optim *opt);

/* The shard sum: what one data-parallel step adds up across shards and ranks. */
typedef struct tc_dist_sum tc_dist_sum;

/* shards: S, a power of two in [1, TC_DIST_MAX_SHARDS] that the rank count divides.
 * n_extra: scalars each shard contributes besides the variables (its loss ...). */
tc_status tc_dist_sum_create(tc_dist_sum **out, tc_dist *d, int shards, int n_extra);
void tc_dist_sum_free(tc_dist_sum *s);

/* Registers the gradients of opt's variables (a frozen one contributes zeros). */
tc_status tc_dist_sum_add_optim(tc_dist_sum *s, const tc_optim *opt);
/* Registers the model's state variables (batch-norm moving statistics): each shard's
 * forward starts from the step's value (tc_dist_sum_restore) and the mean of the shards'
 * results becomes the new value. */
tc_status tc_dist_sum_add_state(tc_dist_sum *s, tc_model *model);

/* The shards this rank computes: [*first, *first + *count). */
void tc_dist_sum_local(const tc_dist_sum *s, int *first, int *count);

/* Starts a step: an empty tree, and a copy of the state variables' values. The buffers are
 * made on the first call, which is collective: every rank returns TC_ERR_NOMEM (the
 * failing rank's message, tc_dist_agree) when any rank could not make them, and finish
 * then only agrees on the error. */
tc_status tc_dist_sum_begin(tc_dist_sum *s);
/* Puts the state variables back to the copy begin took (before each shard's forward). */
void tc_dist_sum_restore(tc_dist_sum *s);
/* Adds this rank's next shard (its gradients/state as they are now, and n_extra scalars)
 * to the tree. At most the local count per step. */
tc_status tc_dist_sum_push(tc_dist_sum *s, const float *extra);

/* Replicas: models of the same variables (names and sizes) that compute some of this
 * rank's shards beside the registered one, one thread each (`tconv train` runs a
 * reconstruction's shards so: docs/training.md, "Shards and several processes"). A
 * replica's shard goes into the tree from its own gradients and state, in shard order like
 * any other, so the sums are those of one shard after another.
 * tc_dist_sum_check_twin: TC_ERR_STATE naming the first registered variable twin lacks.
 * tc_dist_sum_restore_into: tc_dist_sum_restore for twin's state variables (checked twin).
 * tc_dist_sum_push_from: tc_dist_sum_push with twin's gradients and state (checked here). */
tc_status tc_dist_sum_check_twin(const tc_dist_sum *s, const tc_model *twin);
void tc_dist_sum_restore_into(const tc_dist_sum *s, tc_model *twin);
tc_status tc_dist_sum_push_from(tc_dist_sum *s, const tc_model *twin, const float *extra);
/* Ends the step on every rank: the total over all shards times 1/S goes into the
 * registered gradients and state variables, and into extra_out (n_extra; may be NULL).
 * local is this rank's status for the step; when any rank failed nothing is written and
 * every rank returns the agreed error (tc_dist_agree). *any_flag (may be NULL) receives 1
 * when some rank passed flag = 1 (a stop request), so that all ranks stop at one step. */
tc_status tc_dist_sum_finish(tc_dist_sum *s, tc_status local, int flag, float *extra_out,
                             int *any_flag);

/* Elements summed per step, steps finished, seconds spent in the cross-rank part of finish
 * (waiting for the other ranks, the communication and the top of the tree), and seconds
 * from each begin to its finish (this rank's shards: forward, backward, local tree). */
typedef struct tc_dist_sum_stats {
  int64_t elements;
  int64_t steps;
  double seconds;
  double local_seconds;
} tc_dist_sum_stats;
tc_dist_sum_stats tc_dist_sum_stats_of(const tc_dist_sum *s);

#endif
