/* casefile.h — reader for conformance case files (docs/conformance.md).
 *
 *   tc_casefile *f; tc_casefile_open(&f, "layer.case");
 *   tc_case *c;
 *   while ((s = tc_casefile_next(f, &c)) == TC_OK && c != NULL) {
 *     const tc_case_tensor *x = tc_case_tensor_find(c, "x");
 *     ...
 *   }                                  // c is valid until the next call
 *   tc_casefile_close(f);
 *
 * A malformed file gets TC_ERR_FORMAT with "FILE:LINE: what was wrong"; an attr or a tensor
 * given twice in one case is malformed (naming both lines). A directory or other
 * non-regular file is TC_ERR_IO at open. */
#ifndef TC_CASEFILE_H
#define TC_CASEFILE_H

#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"

#define TC_CASE_NAME_MAX 128
#define TC_CASE_MAX_ITEMS 128

typedef struct tc_case_attr {
  char key[TC_CASE_NAME_MAX];
  char *values[16]; /* whitespace-separated value tokens */
  int n_values;
  int line;         /* where it stood in the file */
} tc_case_attr;

typedef struct tc_case_tensor {
  char name[TC_CASE_NAME_MAX];
  int rank;
  int64_t shape[TC_MAX_RANK];
  int64_t size;
  float *data;
  int line;
} tc_case_tensor;

typedef struct tc_case {
  char name[TC_CASE_NAME_MAX];
  int line; /* where `case` stood */
  tc_case_attr attrs[TC_CASE_MAX_ITEMS];
  int n_attrs;
  tc_case_tensor tensors[TC_CASE_MAX_ITEMS];
  int n_tensors;
} tc_case;

typedef struct tc_casefile tc_casefile;

tc_status tc_casefile_open(tc_casefile **out, const char *path);
void tc_casefile_close(tc_casefile *f);
const char *tc_casefile_path(const tc_casefile *f);

/* Reads the next case; *out is NULL at the end of the file. */
tc_status tc_casefile_next(tc_casefile *f, tc_case **out);

const tc_case_attr *tc_case_attr_find(const tc_case *c, const char *key);
const tc_case_tensor *tc_case_tensor_find(const tc_case *c, const char *name);
/* The attr's value tokens joined by `sep` (e.g. "l1_l2 0.1 0.2" -> "l1_l2:0.1:0.2"). */
void tc_case_attr_join(const tc_case_attr *a, char sep, char *buf, size_t cap);

/* Typed attr lookups: TC_ERR_FORMAT naming the case and key when missing or malformed. */
tc_status tc_case_int(const tc_case *c, const char *key, int index, int *out);
tc_status tc_case_str(const tc_case *c, const char *key, const char **out);

#endif
