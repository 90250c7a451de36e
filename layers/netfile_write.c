/* netfile_write.c — a description back to text: one line per node in file order, then the
 * outputs and the loss; variables appear substituted. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/netfile_internal.h"

typedef struct tc_buf {
  char *s;
  size_t len, cap;
  int failed;
} tc_buf;

static void tc_put(tc_buf *b, const char *fmt, ...) {
  if (b->failed)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < b->cap - b->len) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = b->cap * 2 + (size_t)(n > 0 ? n : 0) + 64;
    char *s = realloc(b->s, cap);
    if (s == NULL || n < 0) {
      b->failed = 1;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
}

static void tc_put_attrs(tc_buf *b, const tc_net_node *nd) {
  for (int k = 0; k < nd->n_attr; k++)
    tc_put(b, " %s=%s", nd->attr[k].key, nd->attr[k].value);
  tc_put(b, "\n");
}

/* Every key of the node's kind, in the kind's order: its value, else Keras' default. */
static void tc_put_config(tc_buf *b, const tc_net_node *nd) {
  for (const tc_net_key *k = tc_net_kinds[nd->kind].keys; k->key; k++) {
    const char *v = NULL;
    for (int a = 0; a < nd->n_attr && v == NULL; a++)
      if (strcmp(nd->attr[a].key, k->key) == 0)
        v = nd->attr[a].value;
    if (v != NULL || k->dflt != NULL)
      tc_put(b, " %s=%s", k->key, v ? v : k->dflt);
  }
  tc_put(b, "\n");
}

static tc_status tc_write(const tc_netdesc *d, int full, char **text) {
  tc_buf b = {malloc(256), 0, 256, 0};
  b.failed = b.s == NULL;
  tc_put(&b, full ? "# network description, every key with its value or default "
                    "(docs/networks.md)\n"
                  : "# network description (docs/networks.md)\n");
  for (int i = 0; i < d->n_nodes; i++) {
    const tc_net_node *nd = &d->nodes[i];
    tc_put(&b, "%s %s", tc_net_kind_name(nd->kind), nd->name);
    for (int k = 0; k < nd->n_in; k++)
      tc_put(&b, " %s", d->nodes[nd->in[k]].name);
    if (full)
      tc_put_config(&b, nd);
    else
      tc_put_attrs(&b, nd);
  }
  tc_put(&b, "output");
  for (int k = 0; k < d->n_outputs; k++)
    tc_put(&b, " %s", d->nodes[d->outputs[k]].name);
  tc_put(&b, "\n");
  if (d->loss.line > 0) {
    tc_put(&b, "loss %s", d->loss.name);
    tc_put_attrs(&b, &d->loss);
  }
  if (b.failed) {
    free(b.s);
    *text = NULL;
    return tc_set_error(TC_ERR_NOMEM, "network description: out of memory while writing");
  }
  *text = b.s;
  return TC_OK;
}

tc_status tc_netdesc_write(const tc_netdesc *d, char **text) { return tc_write(d, 0, text); }

tc_status tc_netdesc_write_config(const tc_netdesc *d, char **text) {
  return tc_write(d, 1, text);
}
