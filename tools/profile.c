/* profile.c — the tool-side half of `tconv train --profile`: categories, the graphs' rows
 * summed, the table and the JSON file. */
#include "tools/profile.h"

#include <string.h>
#include <time.h>

#define TC_PROF_GRAPHS 16
#define TC_PROF_ROWS 256
#define TC_PROF_TAG 64

typedef struct tc_prof_row {
  char section[TC_PROF_TAG]; /* the layer's name; "-" for untagged ops */
  const char *op;            /* static */
  double forward_s, backward_s;
  int64_t calls;
} tc_prof_row;

static struct {
  int on;
  double t0;
  FILE *json;
  char json_path[4096];
  tc_graph *graphs[TC_PROF_GRAPHS];
  int n_graphs;
  tc_prof_row rows[TC_PROF_ROWS];
  int n_rows, dropped;
  double cat[TC_PROF_N];
  int64_t images;
} prof;

static const char *const tc_prof_cat_names[TC_PROF_N] = {"data", "optimizer", "checkpoint",
                                                         "png", "evaluation"};

static double tc_prof_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

tc_status tc_prof_start(const char *json_path) {
  memset(&prof, 0, sizeof prof);
  if (json_path != NULL && (prof.json = fopen(json_path, "w")) == NULL)
    return tc_set_error(TC_ERR_IO, "--profile: cannot create '%s' for the profile", json_path);
  if (json_path != NULL)
    snprintf(prof.json_path, sizeof prof.json_path, "%s", json_path);
  prof.on = 1;
  prof.t0 = tc_prof_now();
  return TC_OK;
}

int tc_prof_on(void) { return prof.on; }

void tc_prof_graph(tc_graph *g) {
  if (!prof.on || g == NULL || prof.n_graphs == TC_PROF_GRAPHS)
    return;
  tc_graph_timing_clear(g);
  tc_graph_set_profiling(g, 1);
  prof.graphs[prof.n_graphs++] = g;
}

static void tc_prof_add(const tc_graph_timing *t) {
  const char *sec = t->tag ? t->tag : "-";
  int i = 0;
  while (i < prof.n_rows && !(strcmp(prof.rows[i].section, sec) == 0 &&
                              strcmp(prof.rows[i].op, t->op) == 0))
    i++;
  if (i == TC_PROF_ROWS) {
    prof.dropped++; /* counted under "other" */
    return;
  }
  tc_prof_row *r = &prof.rows[i];
  if (i == prof.n_rows) {
    memset(r, 0, sizeof *r);
    snprintf(r->section, sizeof r->section, "%s", sec);
    r->op = t->op;
    prof.n_rows++;
  }
  r->forward_s += t->forward_s;
  r->backward_s += t->backward_s;
  r->calls += t->forward_calls > t->backward_calls ? t->forward_calls : t->backward_calls;
}

void tc_prof_graph_done(tc_graph *g) {
  for (int k = 0; k < prof.n_graphs; k++) {
    if (prof.graphs[k] != g)
      continue;
    tc_graph_timing t;
    for (int i = 0; tc_graph_timing_at(g, i, &t); i++)
      tc_prof_add(&t);
    tc_graph_set_profiling(g, 0);
    prof.graphs[k] = prof.graphs[--prof.n_graphs];
    return;
  }
}

static void tc_prof_pause(int paused) {
  for (int k = 0; k < prof.n_graphs; k++)
    tc_graph_set_profiling(prof.graphs[k], !paused);
}

double tc_prof_begin(void) {
  if (!prof.on)
    return 0.0;
  tc_prof_pause(1);
  return tc_prof_now();
}

void tc_prof_end(tc_prof_cat cat, double t0) {
  if (!prof.on || cat < 0 || cat >= TC_PROF_N)
    return;
  prof.cat[cat] += tc_prof_now() - t0;
  tc_prof_pause(0);
}

void tc_prof_images(int64_t n) {
  if (prof.on)
    prof.images += n;
}

/* The share of the ops named conv2d / conv2d_transpose (the kernels' target, issue 17). */
static double tc_prof_conv_seconds(void) {
  double s = 0.0;
  for (int i = 0; i < prof.n_rows; i++)
    if (strcmp(prof.rows[i].op, "conv2d") == 0 || strcmp(prof.rows[i].op, "conv2d_transpose") == 0)
      s += prof.rows[i].forward_s + prof.rows[i].backward_s;
  return s;
}

static double tc_prof_claimed(void) {
  double s = 0.0;
  for (int i = 0; i < prof.n_rows; i++)
    s += prof.rows[i].forward_s + prof.rows[i].backward_s;
  for (int c = 0; c < TC_PROF_N; c++)
    s += prof.cat[c];
  return s;
}

static void tc_prof_table(FILE *out, double wall) {
  double pct = wall > 0.0 ? 100.0 / wall : 0.0, other = wall - tc_prof_claimed();
  fprintf(out, "profile: %.3f s wall, %lld training images, %.1f images/s\n", wall,
          (long long)prof.images, wall > 0.0 ? (double)prof.images / wall : 0.0);
  fprintf(out, "  %-24s %-20s %10s %10s %10s %6s %9s\n", "section", "op", "forward s",
          "backward s", "total s", "%", "calls");
  for (int i = 0; i < prof.n_rows; i++) {
    const tc_prof_row *r = &prof.rows[i];
    double t = r->forward_s + r->backward_s;
    fprintf(out, "  %-24s %-20s %10.4f %10.4f %10.4f %6.2f %9lld\n", r->section, r->op,
            r->forward_s, r->backward_s, t, t * pct, (long long)r->calls);
  }
  for (int c = 0; c < TC_PROF_N; c++)
    fprintf(out, "  %-45s %10s %10.4f %6.2f\n", tc_prof_cat_names[c], "", prof.cat[c],
            prof.cat[c] * pct);
  fprintf(out, "  %-45s %10s %10.4f %6.2f\n", "other", "", other, other * pct);
  fprintf(out, "  %-45s %10s %10.4f %6.2f\n", "total (wall)", "", wall, 100.0);
  fprintf(out, "  conv2d + conv2d_transpose ops: %.2f %% of the wall time\n",
          tc_prof_conv_seconds() * pct);
}

/* A JSON string: layer names come from network files, so quote what needs it. */
static void tc_prof_json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

static void tc_prof_json(FILE *f, double wall) {
  fprintf(f, "{\n  \"version\": 1,\n  \"wall_s\": %.9g,\n  \"images\": %lld,\n"
             "  \"images_per_s\": %.9g,\n  \"conv_fraction\": %.9g,\n  \"ops\": [",
          wall, (long long)prof.images, wall > 0.0 ? (double)prof.images / wall : 0.0,
          wall > 0.0 ? tc_prof_conv_seconds() / wall : 0.0);
  for (int i = 0; i < prof.n_rows; i++) {
    const tc_prof_row *r = &prof.rows[i];
    fprintf(f, "%s\n    {\"section\": ", i ? "," : "");
    tc_prof_json_str(f, r->section);
    fprintf(f, ", \"op\": ");
    tc_prof_json_str(f, r->op);
    fprintf(f, ", \"forward_s\": %.9g, \"backward_s\": %.9g, \"calls\": %lld}", r->forward_s,
            r->backward_s, (long long)r->calls);
  }
  fprintf(f, "\n  ],\n  \"categories\": {");
  for (int c = 0; c < TC_PROF_N; c++)
    fprintf(f, "\"%s\": %.9g, ", tc_prof_cat_names[c], prof.cat[c]);
  fprintf(f, "\"other\": %.9g}\n}\n", wall - tc_prof_claimed());
}

tc_status tc_prof_finish(FILE *out) {
  if (!prof.on)
    return TC_OK;
  double wall = tc_prof_now() - prof.t0;
  while (prof.n_graphs > 0)
    tc_prof_graph_done(prof.graphs[0]);
  prof.on = 0;
  if (out != NULL)
    tc_prof_table(out, wall);
  if (prof.json == NULL)
    return TC_OK;
  tc_prof_json(prof.json, wall);
  int bad = ferror(prof.json);
  bad |= fclose(prof.json) != 0;
  prof.json = NULL;
  return bad ? tc_set_error(TC_ERR_IO, "--profile: could not write the profile to '%s'",
                                  prof.json_path) : TC_OK;
}
