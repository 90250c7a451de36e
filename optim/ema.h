/* ema.h — an exponential moving average of a model's weights (a shadow copy), updated after
 * each optimizer step and used for sampling (docs/training.md, --ema).
 *
 *   tc_ema *ema;
 *   TC_TRY(tc_ema_create(&ema, model, NULL, 0.999f));  // shadows = the weights as they are now
 *   for (step...) { ...; tc_optim_step(opt, NULL); tc_ema_update(ema); }
 *   tc_ema_swap(ema); ... sample ...; tc_ema_swap(ema);  // the shadows in the model, and back
 *
 * The update is TF's tf.train.ExponentialMovingAverage without num_updates:
 *   shadow <- shadow - (1 - decay) * (shadow - variable)      (float32, element by element)
 * with a fixed decay (num_updates, which caps the decay at (1 + n) / (10 + n) early on, is
 * not used: a pure function of the shadow and the weights keeps a resumed run bit-exact with
 * nothing more to save). The shadows start at the weights' values when created, as TF's
 * initialize them; every weight variable (role TC_PARAM_WEIGHT) gets one, frozen or not
 * (a frozen one just stays equal to its variable); batch-norm statistics are not averaged. */
#ifndef TC_EMA_H
#define TC_EMA_H

#include "layers/model.h"

typedef struct tc_ema tc_ema;

/* Shadows the weights whose names start with prefix (NULL: all). decay in [0, 1):
 * TC_ERR_INVALID_ARG naming it otherwise. */
tc_status tc_ema_create(tc_ema **out, tc_model *model, const char *prefix, float decay);
void tc_ema_free(tc_ema *ema);
float tc_ema_decay(const tc_ema *ema);

/* One update of every shadow from its variable's value now. NULL does nothing. */
void tc_ema_update(tc_ema *ema);

/* Exchanges the shadows and the variables' values (a second call undoes it). NULL does
 * nothing. */
void tc_ema_swap(tc_ema *ema);

/* The shadows, for checkpoints (saved as "ema/<variable>"): i < count; name is the
 * variable's name ("dec1/kernel"). */
int tc_ema_count(const tc_ema *ema);
tc_tensor *tc_ema_at(const tc_ema *ema, int i, const char **name);

#endif
