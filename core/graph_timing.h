/* graph_timing.h — the graph's table of op timings (internal to core/graph.c): rows keyed
 * by (tag, op name), summed across steps while profiling is on. */
#ifndef TC_GRAPH_TIMING_H
#define TC_GRAPH_TIMING_H

#include <stdint.h>

#define TC_TIMING_TAG_MAX 64

typedef struct tc_timing_row {
  char tag[TC_TIMING_TAG_MAX];
  int has_tag;
  const char *op;
  double forward_s, backward_s;
  int64_t forward_calls, backward_calls;
} tc_timing_row;

typedef struct tc_timing_table {
  tc_timing_row *rows;
  int n, cap;
  int last;       /* the row found last: ops repeat, so it is tried first */
  double mark;    /* when the current op's forward began (0: none pending) */
} tc_timing_table;

/* Seconds on a monotonic clock. */
double tc_timing_now(void);

/* The row for (tag, op), added if new (tag NULL: untagged; cut at 63 bytes); -1 when the
 * table cannot grow (profiling then skips the op rather than failing it). */
int tc_timing_row_for(tc_timing_table *t, const char *tag, const char *op);

void tc_timing_clear(tc_timing_table *t);
void tc_timing_free(tc_timing_table *t);

#endif
