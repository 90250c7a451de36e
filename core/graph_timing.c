/* graph_timing.c — the rows of a graph's op timings. */
#include "core/graph_timing.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

double tc_timing_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int tc_timing_match(const tc_timing_row *r, const char *tag, const char *op) {
  if (r->op != op && strcmp(r->op, op) != 0)
    return 0;
  if (tag == NULL)
    return !r->has_tag;
  return r->has_tag && strncmp(r->tag, tag, TC_TIMING_TAG_MAX - 1) == 0;
}

int tc_timing_row_for(tc_timing_table *t, const char *tag, const char *op) {
  if (t->last < t->n && tc_timing_match(&t->rows[t->last], tag, op))
    return t->last;
  for (int i = 0; i < t->n; i++)
    if (tc_timing_match(&t->rows[i], tag, op))
      return t->last = i;
  if (t->n == t->cap) {
    int cap = t->cap ? 2 * t->cap : 32;
    tc_timing_row *p = realloc(t->rows, (size_t)cap * sizeof *p);
    if (p == NULL)
      return -1;
    t->rows = p;
    t->cap = cap;
  }
  tc_timing_row *r = &t->rows[t->n];
  memset(r, 0, sizeof *r);
  r->op = op;
  if (tag != NULL) {
    r->has_tag = 1;
    strncpy(r->tag, tag, TC_TIMING_TAG_MAX - 1);
  }
  return t->last = t->n++;
}

void tc_timing_clear(tc_timing_table *t) {
  t->n = 0;
  t->last = 0;
  t->mark = 0.0;
}

void tc_timing_free(tc_timing_table *t) {
  free(t->rows);
  memset(t, 0, sizeof *t);
}
