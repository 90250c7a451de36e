/* netfile_internal.h — the kind table of network descriptions and what the parser, writer
 * and builder share (docs/networks.md lists the same). */
#ifndef TC_NETFILE_INTERNAL_H
#define TC_NETFILE_INTERNAL_H

#include "layers/netfile.h"

typedef enum tc_net_vtype {
  TC_NV_INT,   /* one integer in [lo, hi] */
  TC_NV_INT2,  /* one integer or a pair "a,b", each in [lo, hi] */
  TC_NV_INTS,  /* 1..4 integers "a,b,...", each in [lo, hi] (count checked by the kind) */
  TC_NV_FLOAT, /* the float32 rule (core/spec.h), >= lo; <= hi when hi > lo */
  TC_NV_BOOL,  /* true | false */
  TC_NV_WORD,  /* one of the words in `words` ("a|b|c") */
  TC_NV_ACT,   /* activation spec (docs/strings.md) */
  TC_NV_INIT,  /* initializer spec */
  TC_NV_REG,   /* regularizer spec */
  TC_NV_CONS   /* constraint spec */
} tc_net_vtype;

typedef struct tc_net_key {
  const char *key;
  tc_net_vtype type;
  double lo, hi;
  const char *words;
  int required;
  const char *dflt; /* Keras' default as a value (the full config); NULL: none */
} tc_net_key;

enum {
  TC_NK_INPUT = 0,
  TC_NK_CONV2D_TRANSPOSE,
  TC_NK_CONV2D,
  TC_NK_DENSE,
  TC_NK_BATCH_NORM,
  TC_NK_LAYER_NORM,
  TC_NK_GROUP_NORM,
  TC_NK_INSTANCE_NORM,
  TC_NK_ACTIVATION,
  TC_NK_CONCAT,
  TC_NK_ADD,
  TC_NK_UPSAMPLE,
  TC_NK_RESIZE,
  TC_NK_PAD,
  TC_NK_CROP,
  TC_NK_DROPOUT,
  TC_NK_FLATTEN,
  TC_NK_RESHAPE,
  TC_NK_COUNT
};

typedef struct tc_net_kind {
  const char *name;
  int min_in, max_in;    /* inputs */
  const tc_net_key *keys; /* NULL-terminated */
} tc_net_kind;

extern const tc_net_kind tc_net_kinds[TC_NK_COUNT];
/* The loss kinds of a `loss` line and their keys. */
extern const char *const tc_net_loss_names[];
extern const tc_net_key tc_net_loss_keys[];

int tc_net_kind_find(const char *word);
const tc_net_key *tc_net_key_find(const tc_net_key *keys, const char *key);

/* Checks value against k; errors are "SOURCE:LINE:COL: KEY: expected ..., got ...". */
tc_status tc_net_value_check(const tc_netdesc *d, const tc_net_attr *a, const tc_net_key *k);
/* Reads up to max integers of a checked value; returns how many. */
int tc_net_ints(const char *value, int64_t *out, int max);
/* Sets a message "SOURCE:LINE:COL: ..." and returns TC_ERR_INVALID_ARG. */
tc_status tc_net_error(const tc_netdesc *d, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Marks need[i] and every node that node i depends on. */
void tc_netdesc_mark(const tc_netdesc *d, int i, unsigned char *need);

#endif
