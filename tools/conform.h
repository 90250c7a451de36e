/* conform.h — runs one conformance case (docs/conformance.md) through the public API. */
#ifndef TC_CONFORM_H
#define TC_CONFORM_H

#include "tools/casefile.h"

typedef enum tc_conform_verdict { TC_CONFORM_PASS, TC_CONFORM_FAIL, TC_CONFORM_SKIP } tc_conform_verdict;

typedef struct tc_conform_outcome {
  tc_conform_verdict verdict;
  char tensor[TC_CASE_NAME_MAX]; /* the worst tensor of a failing case */
  double max_abs, max_rel;       /* its largest errors */
  int failing_tensors;           /* how many tensors were out of tolerance */
  char note[512];                /* why a case failed to run or was skipped */
} tc_conform_outcome;

/* Runs c and fills *out. A case the library rejects (bad attrs, a failing call) is a
 * FAIL with the library's message in note; an unknown kind is a SKIP. */
void tc_conform_run(const tc_case *c, tc_conform_outcome *out);

#endif
