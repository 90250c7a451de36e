/* test_tensor.c — tensors, the arena and error statuses. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/aligned.h"
#include "core/arena.h"
#include "core/status.h"
#include "core/tensor.h"
#include "support/testutil.h"

START_TEST(create_is_zeroed_and_aligned) {
  tc_tensor *t = NULL;
  int64_t shape[3] = {3, 5, 7};
  ck_assert_int_eq(tc_tensor_create(&t, 3, shape), TC_OK);
  ck_assert_int_eq(t->size, 105);
  ck_assert_int_eq((uintptr_t)t->data % TC_ALIGN, 0);
  for (int64_t i = 0; i < t->size; i++)
    ck_assert_float_eq(t->data[i], 0.0f);
  ck_assert_int_eq(t->node, -1);
  ck_assert_ptr_null(t->grad);
  ck_assert_int_eq(tc_tensor_require_grad(t), TC_OK);
  ck_assert_ptr_nonnull(t->grad);
  ck_assert_int_eq((uintptr_t)t->grad % TC_ALIGN, 0);
  tc_tensor_free(t);
  tc_tensor_free(NULL);
}
END_TEST

START_TEST(rank_zero_has_one_element) {
  tc_tensor *t = NULL;
  ck_assert_int_eq(tc_tensor_create(&t, 0, NULL), TC_OK);
  ck_assert_int_eq(t->size, 1);
  tc_tensor_free(t);
}
END_TEST

START_TEST(bad_shapes_are_refused_with_a_message) {
  tc_tensor *t = (tc_tensor *)0x1;
  int64_t zero[2] = {3, 0};
  ck_assert_int_eq(tc_tensor_create(&t, 2, zero), TC_ERR_SHAPE);
  ck_assert_ptr_null(t);
  ck_assert_ptr_nonnull(strstr(tc_last_error(), "dimension 1 is 0"));
  int64_t neg[1] = {-4};
  TC_CK_ERROR(tc_tensor_create(&t, 1, neg), TC_ERR_SHAPE, "-4");
  TC_CK_ERROR(tc_tensor_create(&t, TC_MAX_RANK + 1, neg), TC_ERR_SHAPE, "rank");
  ck_assert_int_eq(tc_tensor_create(NULL, 1, neg), TC_ERR_INVALID_ARG);
  ck_assert_int_eq(tc_tensor_create(&t, 2, NULL), TC_ERR_INVALID_ARG);
  int64_t huge[4] = {INT64_MAX / 2, 4, 4, 4};
  TC_CK_ERROR(tc_tensor_create(&t, 4, huge), TC_ERR_SHAPE, "overflow");
}
END_TEST

START_TEST(status_names_and_messages) {
  ck_assert_str_eq(tc_status_str(TC_OK), "TC_OK");
  ck_assert_str_eq(tc_status_str(TC_ERR_CHECKSUM), "TC_ERR_CHECKSUM");
  ck_assert_str_eq(tc_status_str((tc_status)999), "TC_UNKNOWN");
  ck_assert_int_eq(tc_set_error(TC_ERR_IO, "file '%s' missing", "a.npz"), TC_ERR_IO);
  ck_assert_str_eq(tc_last_error(), "file 'a.npz' missing");
  tc_error_prefix("load %d", 3);
  ck_assert_str_eq(tc_last_error(), "load 3: file 'a.npz' missing");
  tc_clear_error();
  ck_assert_str_eq(tc_last_error(), "");
}
END_TEST

/* Small blocks are 64-byte aligned; from TC_HUGE_FROM on 2 MiB aligned (huge pages), and
 * every byte asked for is usable either way. */
START_TEST(aligned_blocks_small_and_huge) {
  const size_t sizes[] = {0, 1, 100, TC_HUGE_FROM - 1, TC_HUGE_FROM, TC_HUGE_FROM + 12345};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char *p = tc_aligned_alloc(sizes[i]);
    ck_assert_ptr_nonnull(p);
    size_t align = sizes[i] >= TC_HUGE_FROM ? (size_t)2 << 20 : TC_ALIGN;
    ck_assert_msg((uintptr_t)p % align == 0, "%zu bytes at %p, want %zu-aligned", sizes[i],
                  (void *)p, align);
    if (sizes[i] > 0) {
      memset(p, 0xa5, sizes[i]);
      ck_assert_uint_eq(p[sizes[i] - 1], 0xa5);
    }
    tc_aligned_free(p);
  }
  tc_aligned_free(NULL);
}
END_TEST

START_TEST(arena_grows_then_compacts) {
  tc_arena *a = NULL;
  ck_assert_int_eq(tc_arena_create(&a, 4096), TC_OK);
  void *first = tc_arena_alloc(a, 100);
  ck_assert_int_eq((uintptr_t)first % TC_ALIGN, 0);
  /* Outgrow the first chunk several times. */
  for (int i = 0; i < 10; i++) {
    unsigned char *p = tc_arena_alloc(a, 10000);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq((uintptr_t)p % TC_ALIGN, 0);
    memset(p, i, 10000);
  }
  size_t high = tc_arena_high_water(a);
  ck_assert_uint_ge(high, 100000);
  tc_arena_reset(a);
  ck_assert_uint_eq(tc_arena_used(a), 0);
  /* After compaction one block holds the whole previous step. */
  unsigned char *big = tc_arena_alloc(a, high - 64);
  ck_assert_ptr_nonnull(big);
  memset(big, 1, high - 64);
  float *z = tc_arena_calloc(a, 0);
  ck_assert_ptr_nonnull(z);
  tc_arena_free(a);
  tc_arena_free(NULL);
}
END_TEST

START_TEST(arena_tensors_and_copy) {
  tc_arena *a = NULL;
  ck_assert_int_eq(tc_arena_create(&a, 0), TC_OK);
  tc_tensor *t = NULL, *u = NULL;
  int64_t shape[2] = {4, 6};
  ck_assert_int_eq(tc_tensor_arena(&t, a, 2, shape), TC_OK);
  ck_assert_int_eq(t->owns_data, 0);
  tc_tensor_fill(t, 2.5f);
  ck_assert_int_eq(tc_tensor_create(&u, 2, shape), TC_OK);
  ck_assert_int_eq(tc_tensor_copy(u, t), TC_OK);
  ck_assert_float_eq(u->data[23], 2.5f);
  ck_assert(tc_tensor_same_shape(t, u));
  char buf[64];
  ck_assert_str_eq(tc_shape_str(u, buf, sizeof buf), "(4, 6)");
  ck_assert_int_eq(tc_tensor_require_grad(t), TC_ERR_INVALID_ARG);
  int64_t other[1] = {5};
  tc_tensor *v = NULL;
  ck_assert_int_eq(tc_tensor_create(&v, 1, other), TC_OK);
  ck_assert_int_eq(tc_tensor_copy(v, t), TC_ERR_SHAPE);
  tc_tensor_free(u);
  tc_tensor_free(v);
  tc_arena_free(a);
}
END_TEST

int main(void) {
  Suite *s = suite_create("tensor");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, create_is_zeroed_and_aligned);
  tcase_add_test(tc, rank_zero_has_one_element);
  tcase_add_test(tc, bad_shapes_are_refused_with_a_message);
  tcase_add_test(tc, status_names_and_messages);
  tcase_add_test(tc, aligned_blocks_small_and_huge);
  tcase_add_test(tc, arena_grows_then_compacts);
  tcase_add_test(tc, arena_tensors_and_copy);
  suite_add_tcase(s, tc);
  return tc_test_run(s);
}
