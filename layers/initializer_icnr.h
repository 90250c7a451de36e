/* initializer_icnr.h (@internal) — the ICNR wrapper of initializer.h, used by
 * tc_initializer_check / tc_initializer_apply when in->icnr is set. */
#ifndef TC_INITIALIZER_ICNR_H
#define TC_INITIALIZER_ICNR_H

#include "layers/initializer.h"

tc_status tc_icnr_check(const tc_initializer *in, int rank, const int64_t *shape);
tc_status tc_icnr_apply(const tc_initializer *in, tc_tensor *t, uint64_t seed, uint64_t stream);

#endif
