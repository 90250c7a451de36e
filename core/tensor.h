/* tensor.h — float32 tensors with a shape, 64-byte aligned data and an optional gradient.
 *
 *   tc_tensor *w;
 *   int64_t shape[4] = {3, 3, 8, 16};
 *   if (tc_tensor_create(&w, 4, shape) != TC_OK) ...;   // zero-filled
 *   w->data[0] = 1.0f;
 *   tc_tensor_free(w);
 *
 * A tensor made by tc_tensor_create owns its data (and its grad, once requested) and is
 * released by tc_tensor_free. A tensor made in an arena (tc_tensor_arena) belongs to the
 * arena and dies with its next reset; never pass it to tc_tensor_free. */
#ifndef TC_TENSOR_H
#define TC_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/aligned.h" /* TC_ALIGN, tc_aligned_alloc: tensors own aligned blocks */
#include "core/status.h"

#define TC_MAX_RANK 8

typedef struct tc_arena tc_arena;

typedef struct tc_tensor {
  int rank;
  int64_t shape[TC_MAX_RANK];
  int64_t size;        /* product of shape; 1 for rank 0 */
  float *data;         /* size floats, TC_ALIGN-aligned */
  float *grad;         /* NULL until a gradient is needed; same size as data */
  int requires_grad;   /* 1: backward computes a gradient for this tensor */
  int owns_data;       /* 1: tc_tensor_free releases data and grad */
  int node;            /* index of the graph node that produced it; -1 for a leaf */
  uint64_t grad_gen;   /* leaves: number of the backward pass that last reached this tensor
                          (tc_graph_backward numbers them 1, 2, ... process-wide); 0: none.
                          The optimizer applies only the newest (docs/semantics.md). */
} tc_tensor;

/* Creates an owned, zero-filled tensor. rank 0..TC_MAX_RANK, every dim >= 1. */
tc_status tc_tensor_create(tc_tensor **out, int rank, const int64_t *shape);

/* Frees an owned tensor, its data and grad. NULL does nothing. */
void tc_tensor_free(tc_tensor *t);

/* Makes t require a gradient and allocates its (zeroed) grad buffer if missing. Owned
 * tensors only; arena tensors get their grad during backward. */
tc_status tc_tensor_require_grad(tc_tensor *t);

/* A tensor whose struct and data live in the arena (uninitialised data). */
tc_status tc_tensor_arena(tc_tensor **out, tc_arena *arena, int rank, const int64_t *shape);

/* Checks rank and dims for a create call and computes the element count. The message
 * names `what`. */
tc_status tc_shape_check(const char *what, int rank, const int64_t *shape, int64_t *size);

/* 1 if the two tensors have the same rank and dims. */
int tc_tensor_same_shape(const tc_tensor *a, const tc_tensor *b);

/* Writes "(2, 3, 4)" into buf (always NUL-terminated). */
const char *tc_shape_str(const tc_tensor *t, char *buf, size_t cap);

/* Copies values (not grads) between tensors of the same size. */
tc_status tc_tensor_copy(tc_tensor *dst, const tc_tensor *src);

void tc_tensor_fill(tc_tensor *t, float value);

#endif
