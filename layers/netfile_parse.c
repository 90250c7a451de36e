/* netfile_parse.c — reads a network description: lines of `KIND NAME INPUTS... KEY=VALUE...`,
 * `var`, `output` and `loss` (docs/networks.md). Everything is checked here, with the line
 * and column of what is wrong; the builder then only converts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/netfile_internal.h"

#define TC_MAX_TOKENS (2 + TC_NET_MAX_INPUTS + TC_NET_MAX_ATTRS)

typedef struct tc_tok {
  const char *s;
  int len, col;
} tc_tok;

typedef struct tc_var {
  char name[TC_NET_NAME_MAX], value[TC_NET_VALUE_MAX];
} tc_var;

/* The parse in progress: the description, the variables, and names waiting for pass 2. */
typedef struct tc_parser {
  tc_netdesc *d;
  const tc_net_var *set;
  int n_set, n_vars, cap;
  tc_var vars[TC_NET_MAX_VARS];
  char (*in_names)[TC_NET_MAX_INPUTS][TC_NET_NAME_MAX]; /* per node */
  int in_cols[TC_NET_MAX_NODES][TC_NET_MAX_INPUTS];
  char out_names[TC_NET_MAX_OUTPUTS][TC_NET_NAME_MAX];
  int out_line, out_cols[TC_NET_MAX_OUTPUTS], n_out_lines;
  int line;
} tc_parser;

static int tc_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-';
}

/* A node or variable name: 1..TC_NET_NAME_MAX-1 of [A-Za-z0-9_.-], and for a node '/'
 * between scopes. */
static tc_status tc_take_name(tc_parser *p, const tc_tok *t, const char *what, char *out) {
  if (t->len >= TC_NET_NAME_MAX)
    return tc_net_error(p->d, p->line, t->col, "%s: expected a name of at most %d bytes, got "
                        "%d bytes", what, TC_NET_NAME_MAX - 1, t->len);
  int scopes = strcmp(what, "var") != 0 && strcmp(what, "variable") != 0;
  for (int i = 0; i < t->len; i++)
    if (!tc_name_char(t->s[i]) &&
        !(scopes && t->s[i] == '/' && i > 0 && i + 1 < t->len && t->s[i + 1] != '/'))
      return tc_net_error(p->d, p->line, t->col + i,
                          "%s: expected a name of [A-Za-z0-9_.-]%s, got '%c' in \"%.*s\"", what,
                          scopes ? " ('/' between scopes)" : "", t->s[i], t->len, t->s);
  memcpy(out, t->s, (size_t)t->len);
  out[t->len] = '\0';
  return TC_OK;
}

static int tc_tok_is(const tc_tok *t, const char *w) {
  return (size_t)t->len == strlen(w) && strncmp(t->s, w, (size_t)t->len) == 0;
}

/* Splits a line (no newline, comment cut) at blanks. */
static tc_status tc_tokenize(tc_parser *p, const char *s, int len, tc_tok *toks, int *n) {
  *n = 0;
  for (int i = 0; i < len;) {
    if (s[i] == ' ' || s[i] == '\t') {
      i++;
      continue;
    }
    if (*n == TC_MAX_TOKENS)
      return tc_net_error(p->d, p->line, i + 1, "expected at most %d words on a line (a name, "
                          "%d inputs and %d KEY=VALUE)", TC_MAX_TOKENS, TC_NET_MAX_INPUTS,
                          TC_NET_MAX_ATTRS);
    int start = i;
    while (i < len && s[i] != ' ' && s[i] != '\t')
      i++;
    toks[(*n)++] = (tc_tok){s + start, i - start, start + 1};
  }
  return TC_OK;
}

static const tc_var *tc_var_find(const tc_parser *p, const char *name) {
  for (int i = 0; i < p->n_vars; i++)
    if (strcmp(p->vars[i].name, name) == 0)
      return &p->vars[i];
  return NULL;
}

/* `var NAME=VALUE`; a value set from outside replaces the file's. */
static tc_status tc_parse_var(tc_parser *p, const tc_tok *t, int n) {
  if (n != 2)
    return tc_net_error(p->d, p->line, n < 2 ? t[0].col + t[0].len : t[2].col,
                        "var: expected one NAME=VALUE after var");
  const char *eq = memchr(t[1].s, '=', (size_t)t[1].len);
  if (eq == NULL || eq == t[1].s || eq == t[1].s + t[1].len - 1)
    return tc_net_error(p->d, p->line, t[1].col, "var: expected NAME=VALUE, got \"%.*s\"",
                        t[1].len, t[1].s);
  if (p->n_vars == TC_NET_MAX_VARS)
    return tc_net_error(p->d, p->line, t[1].col, "var: expected at most %d variables",
                        TC_NET_MAX_VARS);
  tc_var *v = &p->vars[p->n_vars];
  tc_tok name = {t[1].s, (int)(eq - t[1].s), t[1].col};
  TC_TRY(tc_take_name(p, &name, "var", v->name));
  if (tc_var_find(p, v->name) != NULL)
    return tc_net_error(p->d, p->line, t[1].col, "var: '%s' is declared twice", v->name);
  const char *val = eq + 1;
  int vlen = t[1].len - (int)(eq + 1 - t[1].s);
  for (int i = 0; i < p->n_set; i++)
    if (strcmp(p->set[i].name, v->name) == 0)
      val = p->set[i].value, vlen = (int)strlen(val);
  if (vlen >= TC_NET_VALUE_MAX)
    return tc_net_error(p->d, p->line, t[1].col, "var %s: expected a value of at most %d bytes",
                        v->name, TC_NET_VALUE_MAX - 1);
  memcpy(v->value, val, (size_t)vlen);
  v->value[vlen] = '\0';
  p->n_vars++;
  return TC_OK;
}

/* KEY=VALUE of a node or of the loss; $NAME takes a variable's value. */
static tc_status tc_parse_attr(tc_parser *p, tc_net_node *nd, const tc_net_key *keys,
                               const tc_tok *t) {
  const char *eq = memchr(t->s, '=', (size_t)t->len);
  if (eq == NULL)
    return tc_net_error(p->d, p->line, t->col, "expected KEY=VALUE (inputs come before the "
                        "first KEY=VALUE), got \"%.*s\"", t->len, t->s);
  int klen = (int)(eq - t->s), vlen = t->len - klen - 1;
  tc_net_attr *a = &nd->attr[nd->n_attr];
  if (klen == 0 || klen >= (int)sizeof a->key)
    return tc_net_error(p->d, p->line, t->col, "expected a KEY before '='");
  memcpy(a->key, t->s, (size_t)klen);
  a->key[klen] = '\0';
  const tc_net_key *k = tc_net_key_find(keys, a->key);
  if (k == NULL)
    return tc_net_error(p->d, p->line, t->col, "%s has no key '%s'",
                        nd->kind >= 0 ? tc_net_kind_name(nd->kind) : "loss", a->key);
  for (int i = 0; i < nd->n_attr; i++)
    if (strcmp(nd->attr[i].key, a->key) == 0)
      return tc_net_error(p->d, p->line, t->col, "%s: given twice (first at column %d)", a->key,
                          nd->attr[i].col - klen - 1);
  a->line = p->line;
  a->col = t->col + klen + 1;
  if (vlen == 0)
    return tc_net_error(p->d, p->line, a->col, "%s: expected a value after '='", a->key);
  const char *val = eq + 1;
  if (val[0] == '$') {
    char vname[TC_NET_NAME_MAX];
    tc_tok vt = {val + 1, vlen - 1, a->col + 1};
    TC_TRY(tc_take_name(p, &vt, "variable", vname));
    const tc_var *v = tc_var_find(p, vname);
    if (v == NULL)
      return tc_net_error(p->d, p->line, a->col, "%s: expected a declared variable, got $%s "
                          "(declare it above with var %s=VALUE)", a->key, vname, vname);
    val = v->value;
    vlen = (int)strlen(val);
  }
  if (vlen >= TC_NET_VALUE_MAX)
    return tc_net_error(p->d, p->line, a->col, "%s: expected a value of at most %d bytes, got "
                        "%d", a->key, TC_NET_VALUE_MAX - 1, vlen);
  memcpy(a->value, val, (size_t)vlen);
  a->value[vlen] = '\0';
  TC_TRY(tc_net_value_check(p->d, a, k));
  nd->n_attr++;
  return TC_OK;
}

static tc_status tc_required(tc_parser *p, const tc_net_node *nd, const tc_net_key *keys,
                             int col) {
  for (; keys->key; keys++) {
    int found = 0;
    for (int i = 0; i < nd->n_attr; i++)
      found |= strcmp(nd->attr[i].key, keys->key) == 0;
    if (keys->required && !found)
      return tc_net_error(p->d, p->line, col, "%s '%s': expected %s=... (required)",
                          tc_net_kind_name(nd->kind), nd->name, keys->key);
  }
  return TC_OK;
}

static tc_status tc_grow(tc_parser *p) {
  if (p->d->n_nodes < p->cap)
    return TC_OK;
  int cap = p->cap ? p->cap * 2 : 16;
  tc_net_node *nodes = realloc(p->d->nodes, (size_t)cap * sizeof *nodes);
  if (nodes == NULL)
    return tc_set_error(TC_ERR_NOMEM, "%s: out of memory", p->d->source);
  p->d->nodes = nodes;
  void *names = realloc(p->in_names, (size_t)cap * sizeof *p->in_names);
  if (names == NULL)
    return tc_set_error(TC_ERR_NOMEM, "%s: out of memory", p->d->source);
  p->in_names = names;
  p->cap = cap;
  return TC_OK;
}

/* KIND NAME INPUTS... KEY=VALUE... */
static tc_status tc_parse_node(tc_parser *p, int kind, const tc_tok *t, int n) {
  tc_netdesc *d = p->d;
  if (d->n_nodes == TC_NET_MAX_NODES)
    return tc_net_error(d, p->line, t[0].col, "expected at most %d nodes", TC_NET_MAX_NODES);
  TC_TRY(tc_grow(p));
  tc_net_node *nd = &d->nodes[d->n_nodes];
  memset(nd, 0, sizeof *nd);
  nd->kind = kind;
  nd->line = p->line;
  nd->col = t[0].col;
  if (n < 2 || memchr(t[1].s, '=', (size_t)t[1].len))
    return tc_net_error(d, p->line, n < 2 ? t[0].col + t[0].len : t[1].col,
                        "%s: expected a node name after the kind", tc_net_kind_name(kind));
  TC_TRY(tc_take_name(p, &t[1], tc_net_kind_name(kind), nd->name));
  int j = tc_netdesc_find(d, nd->name);
  if (j >= 0)
    return tc_net_error(d, p->line, t[1].col, "node '%s' is already defined on line %d",
                        nd->name, d->nodes[j].line);
  int i = 2;
  for (; i < n && !memchr(t[i].s, '=', (size_t)t[i].len); i++) {
    if (nd->n_in == TC_NET_MAX_INPUTS)
      return tc_net_error(d, p->line, t[i].col, "expected at most %d inputs", TC_NET_MAX_INPUTS);
    p->in_cols[d->n_nodes][nd->n_in] = t[i].col;
    TC_TRY(tc_take_name(p, &t[i], "input", p->in_names[d->n_nodes][nd->n_in++]));
  }
  const tc_net_kind *k = &tc_net_kinds[kind];
  int first_attr = i;
  for (; i < n; i++) {
    if (nd->n_attr == TC_NET_MAX_ATTRS)
      return tc_net_error(d, p->line, t[i].col, "expected at most %d KEY=VALUE", TC_NET_MAX_ATTRS);
    TC_TRY(tc_parse_attr(p, nd, k->keys, &t[i]));
  }
  if (nd->n_in < k->min_in || nd->n_in > k->max_in)
    return tc_net_error(d, p->line,
                        first_attr < n ? t[first_attr].col : t[n - 1].col + t[n - 1].len,
                        "%s '%s': expected %d%s input%s, got %d", k->name, nd->name, k->min_in,
                        k->max_in > k->min_in ? " or more" : "", k->min_in == 1 ? "" : "s",
                        nd->n_in);
  TC_TRY(tc_required(p, nd, k->keys, t[1].col));
  d->n_nodes++;
  return TC_OK;
}

static tc_status tc_parse_output(tc_parser *p, const tc_tok *t, int n) {
  if (n < 2)
    return tc_net_error(p->d, p->line, t[0].col + t[0].len, "output: expected a node name");
  for (int i = 1; i < n; i++) {
    if (p->d->n_outputs == TC_NET_MAX_OUTPUTS)
      return tc_net_error(p->d, p->line, t[i].col, "expected at most %d outputs",
                          TC_NET_MAX_OUTPUTS);
    p->out_cols[p->d->n_outputs] = t[i].col;
    TC_TRY(tc_take_name(p, &t[i], "output", p->out_names[p->d->n_outputs++]));
  }
  p->out_line = p->line;
  p->n_out_lines++;
  return TC_OK;
}

static tc_status tc_parse_loss(tc_parser *p, const tc_tok *t, int n) {
  tc_net_node *l = &p->d->loss;
  if (l->line > 0)
    return tc_net_error(p->d, p->line, t[0].col, "loss: given twice (first on line %d)", l->line);
  if (n < 2)
    return tc_net_error(p->d, p->line, t[0].col + t[0].len, "loss: expected a loss kind");
  int k = 0;
  while (tc_net_loss_names[k] && !tc_tok_is(&t[1], tc_net_loss_names[k]))
    k++;
  if (tc_net_loss_names[k] == NULL)
    return tc_net_error(p->d, p->line, t[1].col, "loss: expected mse, mae, huber or gan, got "
                        "\"%.*s\"", t[1].len, t[1].s);
  snprintf(l->name, sizeof l->name, "%s", tc_net_loss_names[k]);
  l->line = p->line;
  l->col = t[0].col;
  for (int i = 2; i < n; i++) {
    if (l->n_attr == TC_NET_MAX_ATTRS)
      return tc_net_error(p->d, p->line, t[i].col, "expected at most %d KEY=VALUE",
                          TC_NET_MAX_ATTRS);
    TC_TRY(tc_parse_attr(p, l, tc_net_loss_keys, &t[i]));
  }
  return TC_OK;
}

/* One line, without its newline. */
static tc_status tc_parse_line(tc_parser *p, const char *s, int len) {
  if (len > TC_NET_MAX_LINE)
    return tc_net_error(p->d, p->line, TC_NET_MAX_LINE + 1, "expected a line of at most %d "
                        "bytes, got %d", TC_NET_MAX_LINE, len);
  if (len > 0 && s[len - 1] == '\r')
    len--;
  for (int i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '#') {
      len = i;
      break;
    }
    if ((c < 0x20 && c != '\t') || c >= 0x7f)
      return tc_net_error(p->d, p->line, i + 1, "expected printable ASCII, got byte 0x%02x", c);
  }
  tc_tok t[TC_MAX_TOKENS];
  int n;
  TC_TRY(tc_tokenize(p, s, len, t, &n));
  if (n == 0)
    return TC_OK;
  if (tc_tok_is(&t[0], "var"))
    return tc_parse_var(p, t, n);
  if (tc_tok_is(&t[0], "output"))
    return tc_parse_output(p, t, n);
  if (tc_tok_is(&t[0], "loss"))
    return tc_parse_loss(p, t, n);
  char word[40];
  snprintf(word, sizeof word, "%.*s", t[0].len < 39 ? t[0].len : 39, t[0].s);
  int kind = tc_net_kind_find(word);
  if (kind < 0 || t[0].len > 39)
    return tc_net_error(p->d, p->line, t[0].col, "expected var, output, loss or a node kind "
                        "(input, conv2d_transpose, conv2d, dense, batch_norm, ...; "
                        "docs/networks.md), got \"%s\"", word);
  return tc_parse_node(p, kind, t, n);
}

/* Pass 2: names to node indices. Inputs must be defined above their use, which is what
 * keeps a description free of cycles; a later or self reference says so. */
static tc_status tc_resolve_ref(tc_parser *p, const char *name, int line, int col, int self,
                                int *out) {
  tc_netdesc *d = p->d;
  int j = tc_netdesc_find(d, name);
  if (j < 0)
    return tc_net_error(d, line, col, "expected a node defined above, got unknown node '%s'",
                        name);
  if (self >= 0 && j == self)
    return tc_net_error(d, line, col, "node '%s' takes itself as input (a cycle)", name);
  if (self >= 0 && j > self)
    return tc_net_error(d, line, col, "node '%s' is defined below, on line %d: inputs must be "
                        "defined above their use (no cycles)", name, d->nodes[j].line);
  *out = j;
  return TC_OK;
}

static tc_status tc_resolve(tc_parser *p) {
  tc_netdesc *d = p->d;
  for (int i = 0; i < d->n_nodes; i++)
    for (int k = 0; k < d->nodes[i].n_in; k++)
      TC_TRY(tc_resolve_ref(p, p->in_names[i][k], d->nodes[i].line, p->in_cols[i][k], i,
                            &d->nodes[i].in[k]));
  if (d->n_nodes == 0 || d->nodes[0].kind != TC_NK_INPUT)
    return tc_net_error(d, d->n_nodes ? d->nodes[0].line : p->line, 1,
                        "expected an input node first (input NAME shape=...)");
  if (p->n_out_lines == 0)
    return tc_net_error(d, p->line, 1, "expected an output line (output NAME) in the file");
  for (int k = 0; k < d->n_outputs; k++) {
    TC_TRY(tc_resolve_ref(p, p->out_names[k], p->out_line, p->out_cols[k], -1, &d->outputs[k]));
    for (int m = 0; m < k; m++)
      if (d->outputs[m] == d->outputs[k])
        return tc_net_error(d, p->out_line, p->out_cols[k], "output '%s' is listed twice",
                            p->out_names[k]);
  }
  for (int k = 0; k < d->loss.n_attr; k++) {
    tc_net_attr *a = &d->loss.attr[k];
    int j;
    if (strcmp(a->key, "delta") != 0)
      TC_TRY(tc_resolve_ref(p, a->value, a->line, a->col, -1, &j));
  }
  return TC_OK;
}

tc_status tc_netdesc_parse(tc_netdesc **out, const char *text, size_t len, const char *source,
                           const tc_net_var *set, int n_set) {
  *out = NULL;
  const char *src = source ? source : "<string>";
  if (text == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s: no text", src);
  if (len > TC_NET_MAX_BYTES)
    return tc_set_error(TC_ERR_INVALID_ARG, "%s:1:1: expected at most %d bytes, got %zu", src,
                        TC_NET_MAX_BYTES, len);
  tc_netdesc *d = calloc(1, sizeof *d);
  tc_parser *p = calloc(1, sizeof *p);
  if (d == NULL || p == NULL) {
    free(d), free(p);
    return tc_set_error(TC_ERR_NOMEM, "%s: out of memory", src);
  }
  snprintf(d->source, sizeof d->source, "%s", src);
  d->loss.kind = -1;
  *p = (tc_parser){.d = d, .set = set, .n_set = n_set};
  tc_status s = TC_OK;
  size_t start = 0;
  for (p->line = 1; s == TC_OK && start < len; p->line++) {
    const char *nl = memchr(text + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - text) : len;
    const char *nul = memchr(text + start, '\0', end - start);
    if (nul != NULL)
      s = tc_net_error(d, p->line, (int)(nul - text - start) + 1, "expected text, got a NUL byte");
    else
      s = tc_parse_line(p, text + start, (int)(end - start > INT32_MAX ? INT32_MAX : end - start));
    start = end + 1;
  }
  p->line--;
  for (int i = 0; s == TC_OK && i < n_set; i++)
    if (tc_var_find(p, set[i].name) == NULL)
      s = tc_set_error(TC_ERR_INVALID_ARG, "%s: variable '%s' is set, but the description "
                       "declares no var %s=...", src, set[i].name, set[i].name);
  if (s == TC_OK)
    s = tc_resolve(p);
  free(p->in_names);
  free(p);
  if (s != TC_OK) {
    tc_netdesc_free(d);
    return s;
  }
  *out = d;
  return TC_OK;
}
