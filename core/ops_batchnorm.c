/* ops_batchnorm.c — batch normalization with its exact backward through the batch
 * statistics.
 *
 * x is seen as (outer, C, inner) around the channel axis; a channel's m = outer*inner
 * elements share one mean and variance. Statistics are sums in double, each channel's in
 * a fixed order (pixel order; deterministic for any thread count): serially, or with
 * channels last (inner = 1) in blocks of channels, one block per thread. The elementwise
 * passes are parallel over `outer`, which owns its slice of the output.
 *
 * With xhat = (x - mean) * inv, inv = 1/sqrt(var + eps), y = gamma*xhat + beta:
 *   training:  dx = gamma*inv/m * (m*dy - Σdy - xhat*Σ(dy*xhat))   (mean and var depend
 *              on x; the biased var's derivative is what makes the last term)
 *   inference: dx = gamma*inv*dy
 *   both:      dgamma = Σ dy*xhat,  dbeta = Σ dy. */
#include <math.h>
#include <string.h>

#include "core/ops_extra.h"
#include "core/ops_util.h"

typedef struct bn_ctx {
  int64_t outer, len, inner;
  int training;
  double *mean, *inv; /* per channel, as used by the forward */
} bn_ctx;

tc_batch_norm_args tc_batch_norm_args_default(void) {
  tc_batch_norm_args a = {-1, 1e-3f, 0.99f, 1, 1, 0};
  return a;
}

/* Channels last (inner = 1, the usual NHWC case): a block of channels per thread, each
 * summed over every pixel in pixel order as the general loop does (its per-row partial
 * sum is then a single term, 0.0 + v, which adds to the channel's sum as v does: the sum
 * starts at +0 and never becomes -0). The block's channels are contiguous, so the loop
 * over them vectorizes. */
#define TC_BN_BLOCK 64

static void channel_sums_last(const bn_ctx *c, const float *x, const double *mean, double *s) {
  int64_t blocks = (c->len + TC_BN_BLOCK - 1) / TC_BN_BLOCK;
#pragma omp parallel for if (c->outer * c->len > 65536) schedule(static)
  for (int64_t b = 0; b < blocks; b++) {
    int64_t k0 = b * TC_BN_BLOCK, k1 = k0 + TC_BN_BLOCK < c->len ? k0 + TC_BN_BLOCK : c->len;
    for (int64_t k = k0; k < k1; k++)
      s[k] = 0.0;
    for (int64_t o = 0; o < c->outer; o++) {
      const float *row = x + o * c->len;
      if (mean)
        for (int64_t k = k0; k < k1; k++)
          s[k] += ((double)row[k] - mean[k]) * ((double)row[k] - mean[k]);
      else
        for (int64_t k = k0; k < k1; k++)
          s[k] += (double)row[k];
    }
  }
}

/* s1[c] = Σ x, and when mean is given s2[c] = Σ (x - mean[c])² (two passes: exact for
 * data far from zero). */
static void channel_sums(const bn_ctx *c, const float *x, const double *mean, double *s) {
  if (c->inner == 1) {
    channel_sums_last(c, x, mean, s);
    return;
  }
  memset(s, 0, (size_t)c->len * sizeof(double));
  for (int64_t o = 0; o < c->outer; o++)
    for (int64_t k = 0; k < c->len; k++) {
      const float *row = x + (o * c->len + k) * c->inner;
      double acc = 0.0, mu = mean ? mean[k] : 0.0;
      for (int64_t i = 0; i < c->inner; i++)
        acc += mean ? ((double)row[i] - mu) * ((double)row[i] - mu) : (double)row[i];
      s[k] += acc;
    }
}

/* grad_sums for channels last, by blocks of channels as channel_sums_last. */
static void grad_sums_last(const bn_ctx *c, const float *x, const float *dy, double *sdy,
                           double *sdyx) {
  int64_t blocks = (c->len + TC_BN_BLOCK - 1) / TC_BN_BLOCK;
#pragma omp parallel for if (c->outer * c->len > 65536) schedule(static)
  for (int64_t b = 0; b < blocks; b++) {
    int64_t k0 = b * TC_BN_BLOCK, k1 = k0 + TC_BN_BLOCK < c->len ? k0 + TC_BN_BLOCK : c->len;
    for (int64_t k = k0; k < k1; k++)
      sdy[k] = sdyx[k] = 0.0;
    for (int64_t o = 0; o < c->outer; o++) {
      const float *xo = x + o * c->len, *dyo = dy + o * c->len;
      for (int64_t k = k0; k < k1; k++) {
        sdy[k] += dyo[k];
        sdyx[k] += dyo[k] * (((double)xo[k] - c->mean[k]) * c->inv[k]);
      }
    }
  }
}

/* Σ dy and Σ dy*xhat per channel. */
static void grad_sums(const bn_ctx *c, const float *x, const float *dy, double *sdy,
                      double *sdyx) {
  if (c->inner == 1) {
    grad_sums_last(c, x, dy, sdy, sdyx);
    return;
  }
  memset(sdy, 0, (size_t)c->len * sizeof(double));
  memset(sdyx, 0, (size_t)c->len * sizeof(double));
  for (int64_t o = 0; o < c->outer; o++)
    for (int64_t k = 0; k < c->len; k++) {
      int64_t base = (o * c->len + k) * c->inner;
      double a = 0.0, b = 0.0;
      for (int64_t i = 0; i < c->inner; i++) {
        a += dy[base + i];
        b += dy[base + i] * (((double)x[base + i] - c->mean[k]) * c->inv[k]);
      }
      sdy[k] += a;
      sdyx[k] += b;
    }
}

/* dx of bn_backward for channels last: the same expressions per element, the channel's
 * factor gi computed once per channel (the same double each time) and the loop over the
 * contiguous channels free of branches, so it vectorizes. */
static tc_status bn_backward_last(const bn_ctx *c, tc_tensor *x, const tc_tensor *gamma,
                                  const float *dy, const double *sdy, const double *sdyx,
                                  tc_arena *arena) {
  double *gi = tc_arena_alloc(arena, (size_t)c->len * sizeof(double));
  if (gi == NULL)
    return tc_set_error(TC_ERR_NOMEM, "batch_norm: out of memory");
  for (int64_t k = 0; k < c->len; k++)
    gi[k] = (gamma ? gamma->data[k] : 1.0) * c->inv[k];
  double m = (double)c->outer;
#pragma omp parallel for if (x->size > 65536) schedule(static)
  for (int64_t o = 0; o < c->outer; o++) {
    const float *dyo = dy + o * c->len, *xo = x->data + o * c->len;
    float *dxo = x->grad + o * c->len;
    if (c->training)
      for (int64_t k = 0; k < c->len; k++) {
        double xhat = ((double)xo[k] - c->mean[k]) * c->inv[k];
        double d = (m * (double)dyo[k] - sdy[k] - xhat * sdyx[k]) / m;
        dxo[k] += (float)(gi[k] * d);
      }
    else
      for (int64_t k = 0; k < c->len; k++)
        dxo[k] += (float)(gi[k] * (double)dyo[k]);
  }
  return TC_OK;
}

static tc_status bn_backward(tc_node *node) {
  const bn_ctx *c = node->ctx;
  tc_tensor *x = node->in[0], *gamma = node->in[1], *beta = node->in[2];
  const float *dy = node->out->grad;
  double *sdy = tc_arena_alloc(tc_graph_arena(node->graph), 2 * (size_t)c->len * sizeof(double));
  if (sdy == NULL)
    return tc_set_error(TC_ERR_NOMEM, "batch_norm: out of memory");
  double *sdyx = sdy + c->len, m = (double)(c->outer * c->inner);
  grad_sums(c, x->data, dy, sdy, sdyx);
  for (int64_t k = 0; k < c->len; k++) {
    if (gamma != NULL && gamma->requires_grad)
      gamma->grad[k] += (float)sdyx[k];
    if (beta != NULL && beta->requires_grad)
      beta->grad[k] += (float)sdy[k];
  }
  if (!x->requires_grad)
    return TC_OK;
  if (c->inner == 1)
    return bn_backward_last(c, x, gamma, dy, sdy, sdyx, tc_graph_arena(node->graph));
#pragma omp parallel for if (x->size > 65536) schedule(static)
  for (int64_t o = 0; o < c->outer; o++)
    for (int64_t k = 0; k < c->len; k++) {
      int64_t base = (o * c->len + k) * c->inner;
      double gi = (gamma ? gamma->data[k] : 1.0) * c->inv[k];
      for (int64_t i = 0; i < c->inner; i++) {
        double d = dy[base + i];
        if (c->training) {
          double xhat = ((double)x->data[base + i] - c->mean[k]) * c->inv[k];
          d = (m * d - sdy[k] - xhat * sdyx[k]) / m;
        }
        x->grad[base + i] += (float)(gi * d);
      }
    }
  return TC_OK;
}

static tc_status check_vec(const char *what, const tc_tensor *t, int64_t len, int axis,
                           int required) {
  if (t == NULL)
    return required ? tc_set_error(TC_ERR_INVALID_ARG, "batch_norm: %s is NULL", what) : TC_OK;
  if (t->size != len) {
    char s[96];
    return tc_set_error(TC_ERR_SHAPE, "batch_norm: %s is %s with %lld elements, channel axis %d "
                        "of x has %lld", what, tc_shape_str(t, s, sizeof s),
                        (long long)t->size, axis, (long long)len);
  }
  return TC_OK;
}

static tc_status check_args(const tc_batch_norm_args *a) {
  if (a == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "batch_norm: args is NULL");
  if (!(a->epsilon >= 0.0f) || isinf(a->epsilon))
    return tc_set_error(TC_ERR_INVALID_ARG, "batch_norm: epsilon must be finite and >= 0, got %g",
                        (double)a->epsilon);
  if (!(a->momentum >= 0.0f && a->momentum <= 1.0f))
    return tc_set_error(TC_ERR_INVALID_ARG, "batch_norm: momentum must be in [0, 1], got %g",
                        (double)a->momentum);
  return TC_OK;
}

/* Batch statistics (training) or the moving ones (inference) into c->mean, c->inv;
 * the biased batch variance goes to *var for the moving update. */
static void bn_stats(bn_ctx *c, const tc_tensor *x, const tc_tensor *mm, const tc_tensor *mv,
                     float eps, double *var) {
  double m = (double)(c->outer * c->inner);
  if (c->training) {
    channel_sums(c, x->data, NULL, c->mean);
    for (int64_t k = 0; k < c->len; k++)
      c->mean[k] /= m;
    channel_sums(c, x->data, c->mean, var);
    for (int64_t k = 0; k < c->len; k++)
      var[k] /= m;
  } else {
    for (int64_t k = 0; k < c->len; k++) {
      c->mean[k] = mm->data[k];
      var[k] = mv->data[k];
    }
  }
  for (int64_t k = 0; k < c->len; k++)
    c->inv[k] = 1.0 / sqrt(var[k] + (double)eps);
}

/* TF's assign_moving_average: v -= (v - value) * (1 - momentum). */
static void bn_update_moving(const bn_ctx *c, const tc_batch_norm_args *a, const double *var,
                             tc_tensor *mm, tc_tensor *mv) {
  double m = (double)(c->outer * c->inner);
  double bessel = a->unbiased_moving_variance && m > 1.0 ? m / (m - 1.0) : 1.0;
  float decay = 1.0f - a->momentum;
  for (int64_t k = 0; k < c->len; k++) {
    mm->data[k] -= (mm->data[k] - (float)c->mean[k]) * decay;
    mv->data[k] -= (mv->data[k] - (float)(var[k] * bessel)) * decay;
  }
}

static void bn_apply(const bn_ctx *c, const tc_tensor *x, const tc_tensor *gamma,
                     const tc_tensor *beta, float *y, double *scale) {
  if (c->inner == 1) { /* channels last: per channel factors (scale, shift: 2 x C), then flat */
    double *shift = scale + c->len;
    for (int64_t k = 0; k < c->len; k++) {
      scale[k] = (gamma ? gamma->data[k] : 1.0) * c->inv[k];
      shift[k] = beta ? beta->data[k] : 0.0;
    }
#pragma omp parallel for if (x->size > 65536) schedule(static)
    for (int64_t o = 0; o < c->outer; o++) {
      const float *xo = x->data + o * c->len;
      float *yo = y + o * c->len;
      for (int64_t k = 0; k < c->len; k++)
        yo[k] = (float)(((double)xo[k] - c->mean[k]) * scale[k] + shift[k]);
    }
    return;
  }
#pragma omp parallel for if (x->size > 65536) schedule(static)
  for (int64_t o = 0; o < c->outer; o++)
    for (int64_t k = 0; k < c->len; k++) {
      int64_t base = (o * c->len + k) * c->inner;
      double s = (gamma ? gamma->data[k] : 1.0) * c->inv[k];
      double b = beta ? beta->data[k] : 0.0;
      for (int64_t i = 0; i < c->inner; i++)
        y[base + i] = (float)(((double)x->data[base + i] - c->mean[k]) * s + b);
    }
}

tc_status tc_op_batch_norm(tc_graph *g, tc_tensor *x, tc_tensor *gamma, tc_tensor *beta,
                           tc_tensor *moving_mean, tc_tensor *moving_variance,
                           const tc_batch_norm_args *args, tc_tensor **out) {
  TC_TRY(tc_op_check_args("batch_norm", g, out, x, x));
  TC_TRY(check_args(args));
  tc_arena *arena = tc_graph_arena(g);
  bn_ctx *c = tc_arena_alloc(arena, sizeof *c);
  if (c == NULL)
    return tc_set_error(TC_ERR_NOMEM, "batch_norm: out of memory");
  TC_TRY(tc_op_axis_split("batch_norm", x, args->axis, &c->outer, &c->len, &c->inner));
  TC_TRY(check_vec("gamma", gamma, c->len, args->axis, 0));
  TC_TRY(check_vec("beta", beta, c->len, args->axis, 0));
  TC_TRY(check_vec("moving_mean", moving_mean, c->len, args->axis, 1));
  TC_TRY(check_vec("moving_variance", moving_variance, c->len, args->axis, 1));
  c->training = args->training != 0;
  /* mean, inv, the batch variance, and bn_apply's per-channel scale and shift */
  c->mean = tc_arena_alloc(arena, 5 * (size_t)c->len * sizeof(double));
  if (c->mean == NULL)
    return tc_set_error(TC_ERR_NOMEM, "batch_norm: out of memory");
  c->inv = c->mean + c->len;
  double *var = c->inv + c->len;
  tc_tensor *in[3] = {x, gamma, beta}, *y;
  TC_TRY(tc_graph_new_output(g, &y, x->rank, x->shape, in, 3));
  bn_stats(c, x, moving_mean, moving_variance, args->epsilon, var);
  bn_apply(c, x, gamma, beta, y->data, var + c->len);
  if (c->training && args->update_moving)
    bn_update_moving(c, args, var, moving_mean, moving_variance);
  TC_TRY(tc_graph_record(g, "batch_norm", bn_backward, y, in, 3, c));
  *out = y;
  return TC_OK;
}
