/* conform_compare.h — tolerance checks shared by the case runners (internal to tools/). */
#ifndef TC_CONFORM_COMPARE_H
#define TC_CONFORM_COMPARE_H

#include "tools/conform.h"

/* Compares got (a result of the given rank and shape; rank 0 for a scalar, shape may then
 * be NULL) against the golden tensor `name` of c per element with |a-b| <= atol + rtol*|b|,
 * recording the worst failure in out. A golden that is missing or of another shape (not
 * only another size) is a failure too, with both shapes in the note. */
void tc_conform_compare(const tc_case *c, const char *name, const float *got, int rank,
                        const int64_t *shape, double atol, double rtol,
                        tc_conform_outcome *out);

/* Records a failure to run (the library's message) and returns it. */
void tc_conform_fail_run(tc_conform_outcome *out, const char *what);

/* Converts case-file attr syntax to the library's strings:
 * "max_norm 2 axis 0 1 2" -> "max_norm:2:axis=0,1,2";  "l1_l2 A B" -> "l1_l2:A:B";
 * "adam lr 0.1 beta1 0.9" -> "adam:lr=0.1:beta1=0.9". */
void tc_conform_spec(const tc_case_attr *a, char *buf, size_t cap);
void tc_conform_optimizer_spec(const tc_case_attr *a, char *buf, size_t cap);

#endif
