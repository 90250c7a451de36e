/* optimizer.h — the TF1 training step: regularize, update, constrain.
 *
 *   tc_optim_config oc = tc_optim_config_default(TC_OPTIM_ADAM);
 *   oc.lr = 1e-3f;
 *   tc_optim *opt;
 *   tc_optim_create(&opt, &oc, model, NULL);        // all of the model's weights
 *   for (step...) {
 *     ... forward, data loss, tc_graph_backward ...
 *     double reg;
 *     tc_optim_step(opt, &reg);                     // total loss = data + extra + reg
 *   }
 *   tc_optim_free(opt);
 *
 * One step, for every weight variable in creation order (docs/semantics.md, "The training step"):
 *   penalty += regularizer(v) (every weight, frozen ones too, as a constant)
 *   if trainable: g = v->grad + dregularizer/dv; clip; v <- update(v, g); v <- constraint(v)
 * Clipping by global norm looks at the gradients of all trainable variables at once.
 * Only the variables the last backward pass reached are updated (the newest grad_gen among
 * the trainable ones); the others keep value and slots (docs/semantics.md). A step that
 * fails changes no variable, slot or step count.
 * Slots (momentum, Adam m/v, ...) are created on the first step a variable is trainable,
 * live with the optimizer, and are named "<param>/<slot>" for checkpoints. */
#ifndef TC_OPTIMIZER_H
#define TC_OPTIMIZER_H

#include <stdint.h>

#include "layers/model.h"
#include "optim/schedule.h"

typedef enum tc_optim_kind {
  TC_OPTIM_SGD = 0,  /* lr, momentum (0 = plain), nesterov */
  TC_OPTIM_ADAM,     /* lr, beta1, beta2, epsilon, epsilon_mode, amsgrad */
  TC_OPTIM_RMSPROP,  /* lr, rho, epsilon, momentum, centered, initial_ms */
  TC_OPTIM_ADAGRAD,  /* lr, initial_accumulator, epsilon */
  TC_OPTIM_ADAMW,    /* adam's keys and weight_decay (Keras AdamW, docs/strings.md) */
  TC_OPTIM_COUNT
} tc_optim_kind;

/* docs/semantics.md: HAT is TF1's tf.train.AdamOptimizer (epsilon added to sqrt(v), with the
 * bias correction folded into the learning rate); CORRECTED is the paper's form. */
typedef enum tc_adam_epsilon { TC_ADAM_EPSILON_HAT = 0, TC_ADAM_EPSILON_CORRECTED } tc_adam_epsilon;

typedef struct tc_optim_config {
  tc_optim_kind kind;
  float lr;
  float momentum;          /* sgd, rmsprop */
  int nesterov;            /* sgd */
  float beta1, beta2;      /* adam */
  float epsilon;           /* adam, rmsprop (inside the sqrt), adagrad */
  tc_adam_epsilon epsilon_mode;
  int amsgrad;
  float rho;               /* rmsprop */
  int centered;            /* rmsprop */
  float initial_ms;        /* rmsprop: 0 = Keras, 1 = TF1 */
  float initial_accumulator; /* adagrad, TF1 default 0.1 */
  float weight_decay;      /* adamw: v <- v - lr * weight_decay * v before the adam update */
  float clip_value;        /* > 0: clip each element to [-v, v] */
  float clip_norm;         /* > 0: rescale each variable's gradient to this L2 norm */
  float clip_global_norm;  /* > 0: rescale all gradients together */
} tc_optim_config;

typedef struct tc_optim tc_optim;

/* TF1 defaults for the kind (sgd lr 0.01; adam 0.001, 0.9, 0.999, 1e-8 hat; rmsprop 0.001,
 * rho 0.9, eps 1e-10, initial_ms 1; adagrad 0.001, initial_accumulator 0.1, eps 1e-7;
 * adamw: Keras 3's AdamW, lr 0.001, weight_decay 0.004, 0.9, 0.999, eps 1e-7 hat). */
tc_optim_config tc_optim_config_default(tc_optim_kind kind);

/* Parses "sgd", "momentum" (sgd with momentum 0.9), "adam", "adamw", "rmsprop", "adagrad" with
 * optional ":key=value" pairs, each key one that the named optimizer reads
 * ("momentum:momentum=0.5", "adam:lr=2e-4:beta1=0.5"; a bare "momentum:0.9" is refused:
 * every value is named). Numbers follow the float32 rule of docs/strings.md. Errors:
 * TC_ERR_INVALID_ARG quoting the string and naming the key ("sgd:beta1=0.5": beta1 does
 * not apply to sgd); *out is then unchanged. */
tc_status tc_optim_config_parse(const char *s, tc_optim_config *out);

/* Works on the model's weight variables whose names start with `prefix` (NULL: all), so
 * that a GAN's generator and discriminator get optimizers of their own. */
tc_status tc_optim_create(tc_optim **out, const tc_optim_config *cfg, tc_model *model,
                          const char *prefix);
void tc_optim_free(tc_optim *opt);

/* One step with the gradients now in each variable's grad. reg_total (may be NULL)
 * receives the regularization penalty of the weights before the update. All or nothing:
 * an error (an invalid constraint or regularizer, a failing callback constraint, slots
 * that no longer fit their variable) leaves every variable, slot and tc_optim_steps as
 * they were. */
tc_status tc_optim_step(tc_optim *opt, double *reg_total);

/* The penalty alone, without an update (for logging and for evaluating a loss). */
tc_status tc_optim_regularization(const tc_optim *opt, double *reg_total);

/* For a NULL optimizer the setters do nothing and the getters answer 0 (or NULL). */
void tc_optim_set_lr(tc_optim *opt, float lr);
float tc_optim_lr(const tc_optim *opt);
int64_t tc_optim_steps(const tc_optim *opt);   /* steps taken (the t of Adam) */
void tc_optim_set_steps(tc_optim *opt, int64_t t);

/* The learning-rate schedule (schedule.h): the step at t = tc_optim_steps uses
 * lr * factor(t), in the update and in adamw's decay; lr itself is never changed. NULL
 * sets the constant schedule; the schedule is copied. tc_optim_step_lr: the lr the next
 * step will use (float32, as the update reads it). */
tc_status tc_optim_set_schedule(tc_optim *opt, const tc_lr_schedule *sched);
const tc_lr_schedule *tc_optim_schedule(const tc_optim *opt);
float tc_optim_step_lr(const tc_optim *opt);

/* Slots, for checkpoints: iterate i < count; name is "<param>/<slot>" (e.g.
 * "dec1/kernel/m"). A slot can also be made ahead of time (for loading). A step gives a
 * slot tensor a new data buffer (the staged one): keep the tensor, not its data pointer. */
int tc_optim_slot_count(const tc_optim *opt);
tc_tensor *tc_optim_slot_at(const tc_optim *opt, int i, const char **name);
tc_tensor *tc_optim_find_slot(const tc_optim *opt, const char *param, const char *slot);
/* Creates every slot the optimizer's variables would get, so that a checkpoint can be
 * loaded into them before the first step. */
tc_status tc_optim_ensure_slots(tc_optim *opt);

#endif
