/* ops_extra.h — kept so that existing callers build: every op is declared in core/ops.h. */
#ifndef TC_OPS_EXTRA_H
#define TC_OPS_EXTRA_H

#include "core/ops.h"

#endif
