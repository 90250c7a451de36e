/* gradcheck.c — central differences against tc_graph_backward, with kinks handled by
 * shrinking the step and, at a slope jump, the subgradient rule (gradcheck.h). */
#include "core/gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "core/rng.h"

typedef struct tc_gc {
  tc_gradcheck_fn f;
  void *ctx;
  tc_tensor *const *in;
  tc_graph *g;
  float *w; /* the weights of L, y's size */
  int64_t w_size;
  const tc_gradcheck_opts *o;
} tc_gc;

tc_gradcheck_opts tc_gradcheck_opts_default(void) {
  tc_gradcheck_opts o = {1e-2, 2e-3, 1e-2, 48, 1};
  return o;
}

/* L = Σ y·w in double, from a fresh forward with recording off. */
static tc_status tc_gc_eval(tc_gc *c, double *loss) {
  tc_graph_reset(c->g);
  tc_graph_set_recording(c->g, 0);
  tc_tensor *y;
  tc_status s = c->f(c->ctx, c->g, c->in, &y);
  tc_graph_set_recording(c->g, 1);
  TC_TRY(s);
  if (y == NULL || y->size != c->w_size)
    return tc_set_error(TC_ERR_STATE, "gradcheck: the function's output changed size");
  double acc = 0.0;
  for (int64_t i = 0; i < y->size; i++)
    acc += (double)y->data[i] * c->w[i];
  *loss = acc;
  return TC_OK;
}

/* The recorded pass: draws w, runs backward of Σ y·w, leaves dL/dinput in each grad. */
static tc_status tc_gc_analytic(tc_gc *c, tc_rng *r) {
  tc_tensor *y, *wt, *prod, *loss;
  TC_TRY(c->f(c->ctx, c->g, c->in, &y));
  if (y == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "gradcheck: the function returned no output");
  c->w_size = y->size;
  c->w = malloc((size_t)y->size * sizeof(float));
  if (c->w == NULL)
    return tc_set_error(TC_ERR_NOMEM, "gradcheck: out of memory");
  for (int64_t i = 0; i < y->size; i++)
    c->w[i] = 2.0f * tc_rng_uniform(r) - 1.0f;
  TC_TRY(tc_tensor_arena(&wt, tc_graph_arena(c->g), y->rank, y->shape));
  memcpy(wt->data, c->w, (size_t)y->size * sizeof(float));
  wt->requires_grad = 0;
  wt->node = -1;
  wt->grad = NULL;
  TC_TRY(tc_op_mul(c->g, y, wt, &prod));
  TC_TRY(tc_op_sum(c->g, prod, &loss));
  return tc_graph_backward(c->g, loss);
}

static double tc_gc_excess(const tc_gradcheck_opts *o, double a, double n) {
  return fabs(a - n) / (o->atol + o->rtol * fmax(fabs(a), fabs(n)));
}

/* L at v + d for coordinate i of t (restored afterwards). */
static tc_status tc_gc_at(tc_gc *c, tc_tensor *t, int64_t i, double d, double *loss) {
  float saved = t->data[i];
  t->data[i] = (float)((double)saved + d);
  tc_status s = tc_gc_eval(c, loss);
  t->data[i] = saved;
  return s;
}

/* Checks one coordinate; fills *excess (0 for a kink) and *kink. */
static tc_status tc_gc_coord(tc_gc *c, tc_tensor *t, int64_t i, double analytic, double *numeric,
                             double *excess, int *kink) {
  double h = c->o->step, lp = 0, lm = 0;
  *kink = 0;
  for (int k = 0; k < 3; k++, h /= 4.0) {
    TC_TRY(tc_gc_at(c, t, i, h, &lp));
    TC_TRY(tc_gc_at(c, t, i, -h, &lm));
    double hh = (double)(float)((double)t->data[i] + h) - (double)(float)((double)t->data[i] - h);
    *numeric = (lp - lm) / hh;
    double e = tc_gc_excess(c->o, analytic, *numeric);
    if (k == 0 || e < *excess)
      *excess = e;
    if (e <= 1.0)
      return TC_OK;
  }
  h *= 4.0;
  double l0;
  TC_TRY(tc_gc_eval(c, &l0));
  double left = (l0 - lm) / h, right = (lp - l0) / h;
  double lo = fmin(left, right), hi = fmax(left, right);
  double tol = c->o->atol + c->o->rtol * fmax(fabs(lo), fabs(hi));
  if (hi - lo > tol && analytic >= lo - tol && analytic <= hi + tol) {
    *kink = 1;
    *excess = 0.0;
  }
  return TC_OK;
}

static tc_status tc_gc_input(tc_gc *c, tc_tensor *t, const char *name, tc_rng *r,
                             tc_gradcheck_report *rep) {
  int64_t count = t->size < c->o->max_coords ? t->size : c->o->max_coords;
  for (int64_t j = 0; j < count; j++) {
    int64_t i = t->size <= c->o->max_coords ? j : (int64_t)tc_rng_below(r, (uint64_t)t->size);
    double analytic = t->grad[i], numeric = 0.0, excess = 0.0;
    int kink;
    TC_TRY(tc_gc_coord(c, t, i, analytic, &numeric, &excess, &kink));
    rep->kinks += kink;
    rep->checked += !kink;
    if (!kink && excess >= rep->worst_excess) {
      rep->worst_excess = excess;
      snprintf(rep->worst, sizeof rep->worst, "d%s[%lld]: analytic %.7g, numeric %.7g", name,
               (long long)i, analytic, numeric);
    }
  }
  return TC_OK;
}

static tc_status tc_gc_args(tc_gradcheck_fn f, tc_tensor *const *inputs, int n,
                            const tc_gradcheck_opts *o, tc_gradcheck_report *rep) {
  if (f == NULL || inputs == NULL || rep == NULL || n < 1)
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "tc_gradcheck: need a function, a report and at least 1 input (got %d)", n);
  if (o != NULL && (!(o->step > 0.0) || !(o->atol >= 0.0) || !(o->rtol >= 0.0) ||
                    o->max_coords < 1))
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "tc_gradcheck: step %g must be > 0, atol %g and rtol %g >= 0, "
                        "max_coords %d >= 1",
                        o->step, o->atol, o->rtol, o->max_coords);
  for (int k = 0; k < n; k++)
    if (inputs[k] == NULL || !inputs[k]->requires_grad || !inputs[k]->owns_data ||
        inputs[k]->grad == NULL)
      return tc_set_error(TC_ERR_INVALID_ARG,
                          "tc_gradcheck: input %d must be an owned tensor with requires_grad "
                          "(tc_tensor_require_grad)", k);
  return TC_OK;
}

tc_status tc_gradcheck(tc_gradcheck_fn f, void *ctx, tc_tensor *const *inputs,
                       const char *const *names, int n, const tc_gradcheck_opts *opts,
                       tc_gradcheck_report *report) {
  TC_TRY(tc_gc_args(f, inputs, n, opts, report));
  tc_gradcheck_opts def = tc_gradcheck_opts_default();
  tc_gc c = {f, ctx, inputs, NULL, NULL, 0, opts ? opts : &def};
  memset(report, 0, sizeof *report);
  TC_TRY(tc_graph_create(&c.g));
  tc_rng r;
  tc_rng_init(&r, c.o->seed, 0);
  tc_status s = tc_gc_analytic(&c, &r);
  for (int k = 0; k < n && s == TC_OK; k++) {
    char fallback[16];
    snprintf(fallback, sizeof fallback, "in%d", k);
    s = tc_gc_input(&c, inputs[k], names ? names[k] : fallback, &r, report);
  }
  report->passed = s == TC_OK && report->checked > 0 && report->worst_excess <= 1.0;
  free(c.w);
  tc_graph_free(c.g);
  return s;
}
