/* model.h — the variables of a network, their names, and the seed they are drawn from.
 *
 *   tc_model *m; tc_model_create(&m, 42);
 *   tc_conv2d_transpose *dec1; tc_conv2d_transpose_create(&dec1, m, &cfg, 8);   // adds dec1/kernel, dec1/bias
 *   for (int i = 0; i < tc_model_param_count(m); i++) {
 *     tc_param *p = tc_model_param_at(m, i);  // p->name, p->value, p->value->grad
 *   }
 *   tc_conv2d_transpose_free(dec1);
 *   tc_model_free(m);                        // frees every variable
 *
 * The model owns the variables; layers borrow them, so the model must outlive its layers.
 * Layer names are unique per model: automatic ones are "<base>", "<base>_1", ...;
 * explicit ones must match [A-Za-z0-9_.-]+ with '/' between scopes ("generator/dense", as
 * TF1's variable scopes; at most TC_NAME_MAX-16 bytes), be unused, and not be the scope of
 * another layer's name or inside one ("gen" and "gen/up1" cannot both exist).
 * Variables are kept in creation order, which is the order of the optimizer's updates. */
#ifndef TC_MODEL_H
#define TC_MODEL_H

#include <stdint.h>

#include "core/tensor.h"
#include "layers/constraint.h"
#include "layers/regularizer.h"

#define TC_NAME_MAX 128

typedef enum tc_param_role {
  TC_PARAM_WEIGHT = 0, /* trained by gradient descent when trainable */
  TC_PARAM_STATE       /* updated by the layer itself (batch-norm statistics); no gradient */
} tc_param_role;

typedef struct tc_param {
  char name[TC_NAME_MAX];     /* "<layer>/kernel" */
  tc_tensor *value;           /* owned by the model; weights have value->grad */
  tc_param_role role;
  int trainable;              /* 0: no update, no optimizer slots; gradient still flows */
  tc_regularizer regularizer; /* folded in by the optimizer step */
  tc_constraint constraint;   /* applied after each update */
} tc_param;

typedef struct tc_model tc_model;

tc_status tc_model_create(tc_model **out, uint64_t seed);
void tc_model_free(tc_model *m);

uint64_t tc_model_seed(const tc_model *m);

/* Hands out the next stream id for this model's Philox generator; layers use one per
 * variable, so initialization depends only on the seed and the order of creation. */
uint64_t tc_model_next_stream(tc_model *m);

/* Chooses a layer name: `requested` (checked) or, when NULL/"", base, base_1, base_2 ...
 * Writes it to out (TC_NAME_MAX bytes). Errors: TC_ERR_INVALID_ARG for a bad character
 * or length, TC_ERR_EXISTS for a name in use; both quote the name. */
tc_status tc_model_claim_name(tc_model *m, const char *base, const char *requested,
                              char out[TC_NAME_MAX]);

/* Creates the variable "<layer>/<var>" (zero-filled; weights get a grad buffer). */
tc_status tc_model_add_param(tc_model *m, const char *layer, const char *var, tc_param_role role,
                             int rank, const int64_t *shape, tc_param **out);

int tc_model_param_count(const tc_model *m);
tc_param *tc_model_param_at(const tc_model *m, int i);
/* NULL (and TC_ERR_NOT_FOUND in tc_last_error) when there is no such variable. */
tc_param *tc_model_find_param(const tc_model *m, const char *name);

/* A point in the model's history that a failed layer create rolls back to: the variables,
 * the claimed names and the Philox stream counter as they were (docs/layers.md, "A failed
 * create changes nothing"). */
typedef struct tc_model_mark {
  int n_params, n_names;
  uint64_t next_stream;
} tc_model_mark;

tc_model_mark tc_model_mark_now(const tc_model *m);
/* Frees every variable created since mark and releases the names claimed since then, so
 * that the model is as it was (the optimizer and checkpoints never see them, the name can
 * be claimed again, and the next layer draws the same numbers as without the failure). */
void tc_model_rollback(tc_model *m, tc_model_mark mark);

/* Sets trainable on every variable whose name starts with "<layer>/". */
tc_status tc_model_set_trainable(tc_model *m, const char *layer, int trainable);

#endif
