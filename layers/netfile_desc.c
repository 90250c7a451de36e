/* netfile_desc.c — a network description as data: load from a file, look up, compare, free. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/netfile_internal.h"

void tc_netdesc_free(tc_netdesc *d) {
  if (d == NULL)
    return;
  free(d->nodes);
  free(d);
}

int tc_netdesc_find(const tc_netdesc *d, const char *name) {
  for (int i = 0; i < d->n_nodes; i++)
    if (strcmp(d->nodes[i].name, name) == 0)
      return i;
  return -1;
}

static const char *tc_attr_of(const tc_net_node *nd, const char *key) {
  for (int k = 0; k < nd->n_attr; k++)
    if (strcmp(nd->attr[k].key, key) == 0)
      return nd->attr[k].value;
  return NULL;
}

const char *tc_netdesc_attr(const tc_netdesc *d, int i, const char *key) {
  if (i == -1)
    return tc_attr_of(&d->loss, key);
  return i >= 0 && i < d->n_nodes ? tc_attr_of(&d->nodes[i], key) : NULL;
}

/* Marks node i and everything it depends on (inputs are always earlier nodes). */
void tc_netdesc_mark(const tc_netdesc *d, int i, unsigned char *need) {
  need[i] = 1;
  for (int j = i; j >= 0; j--)
    if (need[j])
      for (int k = 0; k < d->nodes[j].n_in; k++)
        need[d->nodes[j].in[k]] = 1;
}

int tc_netdesc_input_of(const tc_netdesc *d, int i, int *count) {
  unsigned char need[TC_NET_MAX_NODES] = {0};
  int found = -1, n = 0;
  tc_netdesc_mark(d, i, need);
  for (int j = 0; j <= i; j++)
    if (need[j] && d->nodes[j].kind == TC_NK_INPUT)
      found = j, n++;
  if (count)
    *count = n;
  return n == 1 ? found : -1;
}

static int tc_node_equal(const tc_net_node *a, const tc_net_node *b) {
  if (a->kind != b->kind || strcmp(a->name, b->name) != 0 || a->n_in != b->n_in ||
      a->n_attr != b->n_attr)
    return 0;
  for (int k = 0; k < a->n_in; k++)
    if (a->in[k] != b->in[k])
      return 0;
  for (int k = 0; k < a->n_attr; k++)
    if (strcmp(a->attr[k].key, b->attr[k].key) != 0 ||
        strcmp(a->attr[k].value, b->attr[k].value) != 0)
      return 0;
  return 1;
}

int tc_netdesc_equal(const tc_netdesc *a, const tc_netdesc *b) {
  if (a->n_nodes != b->n_nodes || a->n_outputs != b->n_outputs ||
      (a->loss.line > 0) != (b->loss.line > 0) || !tc_node_equal(&a->loss, &b->loss))
    return 0;
  for (int i = 0; i < a->n_nodes; i++)
    if (!tc_node_equal(&a->nodes[i], &b->nodes[i]))
      return 0;
  return memcmp(a->outputs, b->outputs, (size_t)a->n_outputs * sizeof a->outputs[0]) == 0;
}
