/* casefile.c — line-oriented parser for the conformance case format. */
#include "tools/casefile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct tc_casefile {
  FILE *fp;
  char *path;           /* a copy: any length, never cut */
  int line;
  char *buf;            /* current line */
  size_t cap;
  char *tok_save;       /* strtok_r state inside buf */
  tc_case cur;
  char *attr_text[TC_CASE_MAX_ITEMS]; /* owned copies of attr lines */
};

static tc_status tc_fmt_error(tc_casefile *f, const char *what, const char *detail) {
  return tc_set_error(TC_ERR_FORMAT, "%s:%d: %s%s%s", f->path, f->line, what,
                      detail ? ": " : "", detail ? detail : "");
}

tc_status tc_casefile_open(tc_casefile **out, const char *path) {
  if (out == NULL || path == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_casefile_open: NULL argument");
  *out = NULL;
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    return tc_set_error(TC_ERR_IO, "%s: %s, not a case file", path,
                        S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
  tc_casefile *f = calloc(1, sizeof *f);
  if (f == NULL)
    return tc_set_error(TC_ERR_NOMEM, "tc_casefile_open: out of memory");
  f->fp = fopen(path, "r");
  if (f->fp == NULL) {
    free(f);
    return tc_set_error(TC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  }
  f->path = strdup(path);
  if (f->path == NULL) {
    fclose(f->fp);
    free(f);
    return tc_set_error(TC_ERR_NOMEM, "tc_casefile_open: out of memory");
  }
  *out = f;
  return TC_OK;
}

static void tc_case_clear(tc_casefile *f) {
  for (int i = 0; i < f->cur.n_tensors; i++)
    tc_aligned_free(f->cur.tensors[i].data);
  for (int i = 0; i < f->cur.n_attrs; i++) {
    free(f->attr_text[i]);
    f->attr_text[i] = NULL;
  }
  memset(&f->cur, 0, sizeof f->cur);
}

void tc_casefile_close(tc_casefile *f) {
  if (f == NULL)
    return;
  tc_case_clear(f);
  fclose(f->fp);
  free(f->buf);
  free(f->path);
  free(f);
}

const char *tc_casefile_path(const tc_casefile *f) { return f->path; }

/* Next line into f->buf; 0 at end of file. */
static int tc_read_line(tc_casefile *f) {
  ssize_t n = getline(&f->buf, &f->cap, f->fp);
  if (n < 0)
    return 0; /* end of file, or a read error that tc_casefile_next reports */
  f->line++;
  return 1;
}

/* Next whitespace token, continuing onto following lines (used inside value blocks). */
static char *tc_next_number_token(tc_casefile *f) {
  for (;;) {
    char *t = strtok_r(NULL, " \t\r\n", &f->tok_save);
    if (t != NULL)
      return t;
    if (!tc_read_line(f))
      return NULL;
    t = strtok_r(f->buf, " \t\r\n", &f->tok_save);
    if (t != NULL)
      return t;
  }
}

static tc_status tc_parse_dims(tc_casefile *f, tc_case_tensor *t) {
  char *tok = strtok_r(NULL, " \t\r\n", &f->tok_save);
  char *end;
  long rank = tok ? strtol(tok, &end, 10) : -1;
  if (tok == NULL || *end != '\0' || rank < 0 || rank > TC_MAX_RANK)
    return tc_fmt_error(f, "tensor header needs a rank 0..8", t->name);
  t->rank = (int)rank;
  t->size = 1;
  for (int i = 0; i < t->rank; i++) {
    tok = strtok_r(NULL, " \t\r\n", &f->tok_save);
    long long d = tok ? strtoll(tok, &end, 10) : 0;
    if (tok == NULL || *end != '\0' || d <= 0 || d > (1LL << 31))
      return tc_fmt_error(f, "tensor dimension missing or not a positive integer", t->name);
    if (t->size > (1LL << 34) / d)
      return tc_fmt_error(f, "tensor is too large", t->name);
    t->shape[i] = d;
    t->size *= d;
  }
  if (strtok_r(NULL, " \t\r\n", &f->tok_save) != NULL)
    return tc_fmt_error(f, "extra tokens after the tensor dimensions", t->name);
  return TC_OK;
}

static tc_status tc_parse_tensor(tc_casefile *f) {
  if (f->cur.n_tensors == TC_CASE_MAX_ITEMS)
    return tc_fmt_error(f, "too many tensors in one case", NULL);
  tc_case_tensor *t = &f->cur.tensors[f->cur.n_tensors];
  memset(t, 0, sizeof *t);
  char *name = strtok_r(NULL, " \t\r\n", &f->tok_save);
  if (name == NULL)
    return tc_fmt_error(f, "tensor header without a name", NULL);
  for (int i = 0; i < f->cur.n_tensors; i++)
    if (strcmp(f->cur.tensors[i].name, name) == 0)
      return tc_set_error(TC_ERR_FORMAT, "%s:%d: tensor '%s' given twice in case '%s' (first "
                          "at line %d)", f->path, f->line, name, f->cur.name,
                          f->cur.tensors[i].line);
  t->line = f->line;
  snprintf(t->name, sizeof t->name, "%s", name);
  TC_TRY(tc_parse_dims(f, t));
  t->data = tc_aligned_alloc((size_t)t->size * sizeof(float));
  if (t->data == NULL)
    return tc_set_error(TC_ERR_NOMEM, "%s:%d: no memory for tensor '%s'", f->path, f->line, name);
  f->cur.n_tensors++;
  for (int64_t i = 0; i < t->size; i++) {
    char *tok = tc_next_number_token(f);
    if (tok == NULL)
      return tc_fmt_error(f, "file ends inside the values of tensor", t->name);
    char *end;
    errno = 0;
    t->data[i] = strtof(tok, &end);
    if (*end != '\0')
      return tc_fmt_error(f, "not a number in the values of tensor", t->name);
  }
  if (strtok_r(NULL, " \t\r\n", &f->tok_save) != NULL)
    return tc_fmt_error(f, "more values than the shape holds in tensor", t->name);
  return TC_OK;
}

static tc_status tc_parse_attr(tc_casefile *f) {
  if (f->cur.n_attrs == TC_CASE_MAX_ITEMS)
    return tc_fmt_error(f, "too many attrs in one case", NULL);
  char *key = strtok_r(NULL, " \t\r\n", &f->tok_save);
  if (key == NULL)
    return tc_fmt_error(f, "attr without a key", NULL);
  char *rest = strtok_r(NULL, "\r\n", &f->tok_save);
  if (rest == NULL)
    return tc_fmt_error(f, "attr without a value", key);
  const tc_case_attr *first = tc_case_attr_find(&f->cur, key);
  if (first != NULL) /* first-wins would silently run another case than the file says */
    return tc_set_error(TC_ERR_FORMAT, "%s:%d: attr '%s' given twice in case '%s' (first at "
                        "line %d)", f->path, f->line, key, f->cur.name, first->line);
  int i = f->cur.n_attrs;
  tc_case_attr *a = &f->cur.attrs[i];
  snprintf(a->key, sizeof a->key, "%s", key);
  a->line = f->line;
  f->attr_text[i] = strdup(rest);
  if (f->attr_text[i] == NULL)
    return tc_set_error(TC_ERR_NOMEM, "%s:%d: out of memory", f->path, f->line);
  f->cur.n_attrs++;
  char *save = NULL;
  for (char *v = strtok_r(f->attr_text[i], " \t", &save); v; v = strtok_r(NULL, " \t", &save)) {
    if (a->n_values == 16)
      return tc_fmt_error(f, "attr has more than 16 values", key);
    a->values[a->n_values++] = v;
  }
  if (a->n_values == 0)
    return tc_fmt_error(f, "attr without a value", key);
  return TC_OK;
}

/* Parses one line inside a case; *done is set by `end`. */
static tc_status tc_parse_case_line(tc_casefile *f, int *done) {
  char *word = strtok_r(f->buf, " \t\r\n", &f->tok_save);
  if (word == NULL || word[0] == '#')
    return TC_OK;
  if (strcmp(word, "attr") == 0)
    return tc_parse_attr(f);
  if (strcmp(word, "tensor") == 0)
    return tc_parse_tensor(f);
  if (strcmp(word, "end") == 0) {
    *done = 1;
    return TC_OK;
  }
  if (strcmp(word, "case") == 0)
    return tc_fmt_error(f, "'case' before the previous case's 'end'", NULL);
  return tc_fmt_error(f, "unknown keyword", word);
}

tc_status tc_casefile_next(tc_casefile *f, tc_case **out) {
  if (f == NULL || out == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "tc_casefile_next: NULL argument");
  *out = NULL;
  tc_case_clear(f);
  char *word = NULL;
  while (word == NULL) {
    if (!tc_read_line(f))
      return ferror(f->fp) ? tc_set_error(TC_ERR_IO, "%s:%d: read failed: %s", f->path,
                                          f->line, strerror(errno))
                           : TC_OK;
    word = strtok_r(f->buf, " \t\r\n", &f->tok_save);
    if (word != NULL && word[0] == '#')
      word = NULL;
  }
  if (strcmp(word, "case") != 0)
    return tc_fmt_error(f, "expected 'case NAME'", word);
  char *name = strtok_r(NULL, " \t\r\n", &f->tok_save);
  if (name == NULL)
    return tc_fmt_error(f, "'case' without a name", NULL);
  snprintf(f->cur.name, sizeof f->cur.name, "%s", name);
  f->cur.line = f->line;
  for (int done = 0; !done;) {
    if (!tc_read_line(f))
      return tc_fmt_error(f, "file ends inside case (missing 'end')", f->cur.name);
    TC_TRY(tc_parse_case_line(f, &done));
  }
  *out = &f->cur;
  return TC_OK;
}

const tc_case_attr *tc_case_attr_find(const tc_case *c, const char *key) {
  for (int i = 0; i < c->n_attrs; i++)
    if (strcmp(c->attrs[i].key, key) == 0)
      return &c->attrs[i];
  return NULL;
}

const tc_case_tensor *tc_case_tensor_find(const tc_case *c, const char *name) {
  for (int i = 0; i < c->n_tensors; i++)
    if (strcmp(c->tensors[i].name, name) == 0)
      return &c->tensors[i];
  return NULL;
}

void tc_case_attr_join(const tc_case_attr *a, char sep, char *buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < a->n_values && used + 1 < cap; i++) {
    int n = i ? snprintf(buf + used, cap - used, "%c%s", sep, a->values[i])
              : snprintf(buf + used, cap - used, "%s", a->values[i]);
    if (n < 0)
      break;
    used += (size_t)n;
  }
}

tc_status tc_case_int(const tc_case *c, const char *key, int index, int *out) {
  const tc_case_attr *a = tc_case_attr_find(c, key);
  if (a == NULL || index >= a->n_values)
    return tc_set_error(TC_ERR_FORMAT, "case '%s': attr '%s' is missing or has too few values",
                        c->name, key);
  char *end;
  long v = strtol(a->values[index], &end, 10);
  if (*end != '\0' || v < INT_MIN || v > INT_MAX)
    return tc_set_error(TC_ERR_FORMAT, "case '%s': attr '%s' value '%s' is not an integer",
                        c->name, key, a->values[index]);
  *out = (int)v;
  return TC_OK;
}

tc_status tc_case_str(const tc_case *c, const char *key, const char **out) {
  const tc_case_attr *a = tc_case_attr_find(c, key);
  if (a == NULL)
    return tc_set_error(TC_ERR_FORMAT, "case '%s': attr '%s' is missing", c->name, key);
  *out = a->values[0];
  return TC_OK;
}
