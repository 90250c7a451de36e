/* tensor.c — owned and arena tensors. */
#include "core/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

tc_status tc_shape_check(const char *what, int rank, const int64_t *shape, int64_t *size) {
  if (rank < 0 || rank > TC_MAX_RANK)
    return tc_set_error(TC_ERR_SHAPE, "%s: rank %d is outside 0..%d", what, rank, TC_MAX_RANK);
  if (rank > 0 && shape == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: shape is NULL for rank %d", what, rank);
  int64_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (shape[i] <= 0)
      return tc_set_error(TC_ERR_SHAPE, "%s: dimension %d is %lld, must be positive", what, i,
                          (long long)shape[i]);
    if (n > INT64_MAX / 4 / shape[i])
      return tc_set_error(TC_ERR_SHAPE, "%s: %d-d shape overflows the element count", what,
                          rank);
    n *= shape[i];
  }
  *size = n;
  return TC_OK;
}

static void tc_tensor_init(tc_tensor *t, int rank, const int64_t *shape, int64_t size) {
  memset(t, 0, sizeof *t);
  t->rank = rank;
  for (int i = 0; i < rank; i++)
    t->shape[i] = shape[i];
  t->size = size;
  t->node = -1;
}

tc_status tc_tensor_create(tc_tensor **out, int rank, const int64_t *shape) {
  if (out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_tensor_create: out is NULL");
  *out = NULL;
  int64_t size;
  TC_TRY(tc_shape_check("tc_tensor_create", rank, shape, &size));
  tc_tensor *t = malloc(sizeof *t);
  float *data = tc_aligned_alloc((size_t)size * sizeof(float));
  if (t == NULL || data == NULL) {
    free(t);
    tc_aligned_free(data);
    return tc_set_error(TC_ERR_NOMEM, "tc_tensor_create: cannot allocate %lld floats",
                        (long long)size);
  }
  tc_tensor_init(t, rank, shape, size);
  memset(data, 0, (size_t)size * sizeof(float));
  t->data = data;
  t->owns_data = 1;
  *out = t;
  return TC_OK;
}

void tc_tensor_free(tc_tensor *t) {
  if (t == NULL)
    return;
  if (t->owns_data) {
    tc_aligned_free(t->data);
    tc_aligned_free(t->grad);
  }
  free(t);
}

tc_status tc_tensor_require_grad(tc_tensor *t) {
  if (t == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_tensor_require_grad: tensor is NULL");
  if (!t->owns_data)
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "tc_tensor_require_grad: arena tensors get gradients from backward");
  if (t->grad == NULL) {
    t->grad = tc_aligned_alloc((size_t)t->size * sizeof(float));
    if (t->grad == NULL)
      return tc_set_error(TC_ERR_NOMEM, "tc_tensor_require_grad: cannot allocate %lld floats",
                          (long long)t->size);
    memset(t->grad, 0, (size_t)t->size * sizeof(float));
  }
  t->requires_grad = 1;
  return TC_OK;
}

tc_status tc_tensor_arena(tc_tensor **out, tc_arena *arena, int rank, const int64_t *shape) {
  if (out == NULL || arena == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_tensor_arena: NULL argument");
  *out = NULL;
  int64_t size;
  TC_TRY(tc_shape_check("tc_tensor_arena", rank, shape, &size));
  tc_tensor *t = tc_arena_alloc(arena, sizeof *t);
  float *data = tc_arena_alloc(arena, (size_t)size * sizeof(float));
  if (t == NULL || data == NULL)
    return tc_set_error(TC_ERR_NOMEM, "tc_tensor_arena: cannot allocate %lld floats",
                        (long long)size);
  tc_tensor_init(t, rank, shape, size);
  t->data = data;
  *out = t;
  return TC_OK;
}

int tc_tensor_same_shape(const tc_tensor *a, const tc_tensor *b) {
  if (a == NULL || b == NULL || a->rank != b->rank)
    return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->shape[i] != b->shape[i])
      return 0;
  return 1;
}

const char *tc_shape_str(const tc_tensor *t, char *buf, size_t cap) {
  size_t used = 0;
  if (buf == NULL || cap == 0)
    return "";
  buf[0] = '\0';
  if (t == NULL) {
    snprintf(buf, cap, "(no tensor)");
    return buf;
  }
  used += (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < t->rank && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, i ? ", %lld" : "%lld",
                             (long long)t->shape[i]);
  if (used < cap)
    snprintf(buf + used, cap - used, ")");
  return buf;
}

tc_status tc_tensor_copy(tc_tensor *dst, const tc_tensor *src) {
  if (dst == NULL || src == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_tensor_copy: NULL tensor");
  if (dst->size != src->size)
    return tc_set_error(TC_ERR_SHAPE, "tc_tensor_copy: sizes differ (%lld vs %lld)",
                        (long long)dst->size, (long long)src->size);
  memcpy(dst->data, src->data, (size_t)src->size * sizeof(float));
  return TC_OK;
}

void tc_tensor_fill(tc_tensor *t, float value) {
  if (t == NULL)
    return;
  for (int64_t i = 0; i < t->size; i++)
    t->data[i] = value;
}
