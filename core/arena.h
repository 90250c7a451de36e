/* arena.h — a per-step bump allocator for activations, gradients and op state.
 *
 *   tc_arena *a; tc_arena_create(&a, 1 << 20);
 *   float *buf = tc_arena_alloc(a, 1000 * sizeof(float));   // 64-byte aligned
 *   tc_arena_reset(a);                                       // everything above is gone
 *
 * The arena grows by chunks when a step needs more than it has; a reset then folds the
 * chunks into one block of the high-water size, so a steady training loop stops
 * allocating after its first step. Not thread-safe: one arena per thread or per graph. */
#ifndef TC_ARENA_H
#define TC_ARENA_H

#include <stddef.h>

#include "core/status.h"

typedef struct tc_arena tc_arena;

tc_status tc_arena_create(tc_arena **out, size_t initial_bytes);
void tc_arena_free(tc_arena *a);

/* Returns uninitialised, TC_ALIGN-aligned memory, or NULL when the
 * system is out of memory. bytes == 0 returns a valid distinct pointer. */
void *tc_arena_alloc(tc_arena *a, size_t bytes);

/* Like tc_arena_alloc, but zero-filled. */
void *tc_arena_calloc(tc_arena *a, size_t bytes);

/* Releases everything allocated since creation or the last reset. */
void tc_arena_reset(tc_arena *a);

/* 1 if p lies in memory handed out since the last reset (compares addresses only, so a
 * pointer from before a reset is answered 0 without being read). */
int tc_arena_holds(const tc_arena *a, const void *p);

/* Bytes handed out since the last reset, and the most ever handed out between resets. */
size_t tc_arena_used(const tc_arena *a);
size_t tc_arena_high_water(const tc_arena *a);

#endif
