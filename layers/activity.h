/* activity.h — the activity regularizer as a graph op, shared by every layer.
 * Adds regularizer(y) / N (N = y->shape[0], tf.keras behaviour) to the graph's extra
 * losses; its gradient flows back into y. `layer` names the layer in messages. */
#ifndef TC_ACTIVITY_H
#define TC_ACTIVITY_H

#include "core/graph.h"
#include "layers/regularizer.h"

tc_status tc_activity_penalty(tc_graph *g, tc_tensor *y, const tc_regularizer *reg,
                              const char *layer);

#endif
