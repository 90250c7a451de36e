/* test_dist.c — tc_dist on one rank (the process is not started by mpirun): the shard sum
 * adds shards in the fixed balanced tree (not left to right), takes the mean, averages
 * state variables from one starting value, carries a failure to every caller, and refuses
 * shard counts the rule cannot serve. tests/cli/dist_cli.sh runs 2 ranks under mpirun. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "optim/dist.h"
#include "support/testutil.h"

typedef struct fixture {
  tc_dist *d;
  tc_model *m;
  tc_param *w, *stat;
  tc_optim *opt;
} fixture;

/* A model with a 2-element weight "l/w" and a 1-element state "l/stat"; sgd on the weight. */
static void setup(fixture *f) {
  ck_assert_int_eq(tc_dist_init(&f->d), TC_OK);
  ck_assert_int_eq(tc_dist_size(f->d), 1);
  ck_assert_int_eq(tc_dist_rank(f->d), 0);
  ck_assert_int_eq(tc_model_create(&f->m, 1), TC_OK);
  int64_t two[1] = {2}, one[1] = {1};
  ck_assert_int_eq(tc_model_add_param(f->m, "l", "w", TC_PARAM_WEIGHT, 1, two, &f->w), TC_OK);
  ck_assert_int_eq(tc_model_add_param(f->m, "l", "stat", TC_PARAM_STATE, 1, one, &f->stat), TC_OK);
  tc_optim_config c = tc_optim_config_default(TC_OPTIM_SGD);
  ck_assert_int_eq(tc_optim_create(&f->opt, &c, f->m, NULL), TC_OK);
}

static void teardown(fixture *f) {
  tc_optim_free(f->opt);
  tc_model_free(f->m);
  tc_dist_free(f->d);
}

/* One step of 4 shards: shard k's gradient is g[k] (both elements), its loss loss[k]. */
static tc_status four_shards(fixture *f, tc_dist_sum *s, const float *g, const float *loss,
                             float *mean_loss) {
  int first, count;
  tc_dist_sum_local(s, &first, &count);
  ck_assert_int_eq(first, 0);
  ck_assert_int_eq(count, 4);
  ck_assert_int_eq(tc_dist_sum_begin(s), TC_OK);
  for (int k = 0; k < 4; k++) {
    f->w->value->grad[0] = f->w->value->grad[1] = g[k];
    ck_assert_int_eq(tc_dist_sum_push(s, &loss[k]), TC_OK);
  }
  return tc_dist_sum_finish(s, TC_OK, 0, mean_loss, NULL);
}

START_TEST(shards_add_in_the_balanced_tree) {
  fixture f;
  setup(&f);
  tc_dist_sum *s;
  ck_assert_int_eq(tc_dist_sum_create(&s, f.d, 4, 1), TC_OK);
  ck_assert_int_eq(tc_dist_sum_add_optim(s, f.opt), TC_OK);
  /* (1e8 + 1) + (-1e8 + 1) = 1e8 - 1e8 = 0 in float; left to right it would be
   * ((1e8 + 1) - 1e8) + 1 = 1. The tree is what 2 and 4 ranks compute too. */
  const float g[4] = {1e8f, 1.0f, -1e8f, 1.0f}, loss[4] = {1.0f, 2.0f, 3.0f, 6.0f};
  float mean;
  ck_assert_int_eq(four_shards(&f, s, g, loss, &mean), TC_OK);
  ck_assert_float_eq(f.w->value->grad[0], 0.0f);
  ck_assert_float_eq(f.w->value->grad[1], 0.0f);
  ck_assert_float_eq(mean, 3.0f); /* (1+2)+(3+6) = 12, times 1/4 */
  /* the pairing is (0,1)(2,3): (1e8 - 1e8) + (1 + 1) = 2; pairs (0,2)(1,3) would give
   * (1e8 + 1) + (-1e8 + 1) = 0 */
  const float h[4] = {1e8f, -1e8f, 1.0f, 1.0f};
  ck_assert_int_eq(four_shards(&f, s, h, loss, &mean), TC_OK);
  ck_assert_float_eq(f.w->value->grad[0], 0.5f);
  tc_dist_sum_stats st = tc_dist_sum_stats_of(s);
  ck_assert_int_eq(st.steps, 2);
  ck_assert_int_eq(st.elements, 3);
  tc_dist_sum_free(s);
  teardown(&f);
}
END_TEST

START_TEST(state_is_the_mean_of_shards_from_one_start) {
  fixture f;
  setup(&f);
  tc_dist_sum *s;
  ck_assert_int_eq(tc_dist_sum_create(&s, f.d, 2, 0), TC_OK);
  ck_assert_int_eq(tc_dist_sum_add_state(s, f.m), TC_OK);
  f.stat->value->data[0] = 10.0f;
  ck_assert_int_eq(tc_dist_sum_begin(s), TC_OK);
  for (int k = 0; k < 2; k++) {
    tc_dist_sum_restore(s);
    ck_assert_float_eq(f.stat->value->data[0], 10.0f); /* each shard starts from the step's value */
    f.stat->value->data[0] += k == 0 ? 1.0f : 3.0f;    /* what a forward pass would update */
    ck_assert_int_eq(tc_dist_sum_push(s, NULL), TC_OK);
  }
  ck_assert_int_eq(tc_dist_sum_finish(s, TC_OK, 0, NULL, NULL), TC_OK);
  ck_assert_float_eq(f.stat->value->data[0], 12.0f);
  tc_dist_sum_free(s);
  teardown(&f);
}
END_TEST

START_TEST(a_failed_step_writes_nothing) {
  fixture f;
  setup(&f);
  tc_dist_sum *s;
  ck_assert_int_eq(tc_dist_sum_create(&s, f.d, 2, 0), TC_OK);
  ck_assert_int_eq(tc_dist_sum_add_optim(s, f.opt), TC_OK);
  ck_assert_int_eq(tc_dist_sum_begin(s), TC_OK);
  f.w->value->grad[0] = 5.0f;
  ck_assert_int_eq(tc_dist_sum_push(s, NULL), TC_OK);
  f.w->value->grad[0] = 7.0f;
  tc_status bad = tc_set_error(TC_ERR_IO, "cannot read shard 1");
  int stop = -1;
  ck_assert_int_eq(tc_dist_sum_finish(s, bad, 1, NULL, &stop), TC_ERR_IO);
  ck_assert_str_eq(tc_last_error(), "cannot read shard 1");
  ck_assert_float_eq(f.w->value->grad[0], 7.0f);
  ck_assert_int_eq(stop, -1);
  /* a step whose shards were not all pushed is refused the same way */
  ck_assert_int_eq(tc_dist_sum_begin(s), TC_OK);
  ck_assert_int_eq(tc_dist_sum_push(s, NULL), TC_OK);
  TC_CK_ERROR(tc_dist_sum_finish(s, TC_OK, 0, NULL, NULL), TC_ERR_STATE, "1 of this rank's 2 shards");
  /* a third push in a 2-shard step, and a stop request that comes back */
  ck_assert_int_eq(tc_dist_sum_begin(s), TC_OK);
  ck_assert_int_eq(tc_dist_sum_push(s, NULL), TC_OK);
  ck_assert_int_eq(tc_dist_sum_push(s, NULL), TC_OK);
  ck_assert_int_eq(tc_dist_sum_push(s, NULL), TC_ERR_STATE);
  ck_assert_int_eq(tc_dist_sum_finish(s, TC_OK, 1, NULL, &stop), TC_OK);
  ck_assert_int_eq(stop, 1);
  ck_assert_int_eq(tc_dist_sum_add_optim(s, f.opt), TC_ERR_STATE); /* too late to register */
  tc_dist_sum_free(s);
  teardown(&f);
}
END_TEST

START_TEST(frozen_variables_contribute_zeros) {
  fixture f;
  setup(&f);
  tc_dist_sum *s;
  ck_assert_int_eq(tc_dist_sum_create(&s, f.d, 1, 0), TC_OK);
  ck_assert_int_eq(tc_dist_sum_add_optim(s, f.opt), TC_OK);
  f.w->trainable = 0;
  f.w->value->grad[0] = 4.0f;
  ck_assert_int_eq(tc_dist_sum_begin(s), TC_OK);
  ck_assert_int_eq(tc_dist_sum_push(s, NULL), TC_OK);
  ck_assert_int_eq(tc_dist_sum_finish(s, TC_OK, 0, NULL, NULL), TC_OK);
  ck_assert_float_eq(f.w->value->grad[0], 0.0f);
  tc_dist_sum_free(s);
  teardown(&f);
}
END_TEST

START_TEST(shard_counts_the_rule_cannot_serve) {
  fixture f;
  setup(&f);
  tc_dist_sum *s = NULL;
  TC_CK_ERROR(tc_dist_sum_create(&s, f.d, 3, 0), TC_ERR_INVALID_ARG, "power of two");
  ck_assert_int_eq(tc_dist_sum_create(&s, f.d, 0, 0), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_dist_sum_create(&s, f.d, 2048, 0), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_dist_sum_create(&s, f.d, 4, 65), TC_ERR_INVALID_ARG);
  ck_assert_ptr_null(s);
  tc_dist_sum_free(NULL);
  teardown(&f);
}
END_TEST

START_TEST(one_rank_collectives) {
  fixture f;
  setup(&f);
  ck_assert_int_eq(tc_dist_agree(f.d, TC_OK), TC_OK);
  ck_assert_int_eq(tc_dist_agree(f.d, tc_set_error(TC_ERR_IO, "x")), TC_ERR_IO);
  ck_assert_int_eq(tc_dist_check_same(f.d, 42, "the options"), TC_OK);
  f.w->value->data[0] = 3.5f;
  ck_assert_int_eq(tc_dist_broadcast_model(f.d, f.m), TC_OK);
  ck_assert_float_eq(f.w->value->data[0], 3.5f);
  ck_assert_int_eq(tc_dist_broadcast_optim(f.d, f.opt), TC_OK);
  int v[2] = {7, 0};
  ck_assert_int_eq(tc_dist_allgather(f.d, &v[0], &v[1], sizeof v[0]), TC_OK);
  ck_assert_int_eq(v[1], 7);
  /* fingerprints: chained, word and tail bytes both count */
  const char a[11] = "0123456789", b[11] = "0123456788";
  ck_assert_uint_ne(tc_dist_fingerprint(0, a, 10), tc_dist_fingerprint(0, b, 10));
  ck_assert_uint_eq(tc_dist_fingerprint(0, a, 10), tc_dist_fingerprint(0, a, 10));
  ck_assert_uint_ne(tc_dist_fingerprint(0, a, 3), tc_dist_fingerprint(0, a + 1, 3));
  teardown(&f);
}
END_TEST

int main(void) {
  Suite *s = suite_create("dist");
  TCase *tc = tcase_create("one rank");
  tcase_add_test(tc, shards_add_in_the_balanced_tree);
  tcase_add_test(tc, state_is_the_mean_of_shards_from_one_start);
  tcase_add_test(tc, a_failed_step_writes_nothing);
  tcase_add_test(tc, frozen_variables_contribute_zeros);
  tcase_add_test(tc, shard_counts_the_rule_cannot_serve);
  tcase_add_test(tc, one_rank_collectives);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
