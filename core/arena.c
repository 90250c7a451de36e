/* arena.c — chunked bump allocator, compacted to one block on reset. */
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/aligned.h"

typedef struct tc_chunk {
  struct tc_chunk *next;
  size_t cap;
  size_t used;
  unsigned char *mem;
} tc_chunk;

struct tc_arena {
  tc_chunk *head; /* current chunk; older ones follow */
  size_t used;    /* bytes handed out since reset */
  size_t high_water;
};

static tc_chunk *tc_chunk_new(size_t cap) {
  tc_chunk *c = malloc(sizeof *c);
  if (c == NULL)
    return NULL;
  c->mem = tc_aligned_alloc(cap);
  if (c->mem == NULL) {
    free(c);
    return NULL;
  }
  c->cap = cap;
  c->used = 0;
  c->next = NULL;
  return c;
}

static void tc_chunks_free(tc_chunk *c) {
  while (c != NULL) {
    tc_chunk *next = c->next;
    tc_aligned_free(c->mem);
    free(c);
    c = next;
  }
}

tc_status tc_arena_create(tc_arena **out, size_t initial_bytes) {
  if (out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_arena_create: out is NULL");
  *out = NULL;
  tc_arena *a = calloc(1, sizeof *a);
  if (a == NULL)
    return tc_set_error(TC_ERR_NOMEM, "tc_arena_create: out of memory");
  a->head = tc_chunk_new(initial_bytes < 4096 ? 4096 : initial_bytes);
  if (a->head == NULL) {
    free(a);
    return tc_set_error(TC_ERR_NOMEM, "tc_arena_create: cannot allocate %zu bytes",
                        initial_bytes);
  }
  *out = a;
  return TC_OK;
}

void tc_arena_free(tc_arena *a) {
  if (a == NULL)
    return;
  tc_chunks_free(a->head);
  free(a);
}

void *tc_arena_alloc(tc_arena *a, size_t bytes) {
  if (a == NULL)
    return NULL;
  size_t need = (bytes + TC_ALIGN - 1) / TC_ALIGN * TC_ALIGN;
  if (need == 0)
    need = TC_ALIGN;
  if (a->head->cap - a->head->used < need) {
    size_t cap = a->head->cap * 2;
    if (cap < need)
      cap = need;
    tc_chunk *c = tc_chunk_new(cap);
    if (c == NULL)
      return NULL;
    c->next = a->head;
    a->head = c;
  }
  void *p = a->head->mem + a->head->used;
  a->head->used += need;
  a->used += need;
  if (a->used > a->high_water)
    a->high_water = a->used;
  return p;
}

void *tc_arena_calloc(tc_arena *a, size_t bytes) {
  void *p = tc_arena_alloc(a, bytes);
  if (p != NULL)
    memset(p, 0, bytes);
  return p;
}

void tc_arena_reset(tc_arena *a) {
  if (a == NULL)
    return;
  if (a->head->next != NULL) {
    /* Several chunks mean the last step outgrew the arena: replace them by one block
     * big enough for the whole high-water mark. If that fails, keep the largest. */
    tc_chunk *merged = tc_chunk_new(a->high_water);
    if (merged != NULL) {
      tc_chunks_free(a->head);
      a->head = merged;
    } else {
      tc_chunks_free(a->head->next);
      a->head->next = NULL;
    }
  }
  a->head->used = 0;
  a->used = 0;
}

int tc_arena_holds(const tc_arena *a, const void *p) {
  uintptr_t q = (uintptr_t)p;
  for (const tc_chunk *c = a ? a->head : NULL; c != NULL; c = c->next)
    if (q >= (uintptr_t)c->mem && q < (uintptr_t)c->mem + c->used)
      return 1;
  return 0;
}

size_t tc_arena_used(const tc_arena *a) { return a ? a->used : 0; }
size_t tc_arena_high_water(const tc_arena *a) { return a ? a->high_water : 0; }
