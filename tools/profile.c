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
  double step_t0, step_s; /* the current step's start; all steps' time */
  double side_in_steps;   /* checkpoint, PNG, evaluation inside steps: not step time */
  int in_step;
} prof;

static const char *const tc_prof_cat_names[TC_PROF_N] = {"data load", "data", "optimizer",
                                                         "checkpoint", "png", "evaluation"};
static const char *const tc_prof_json_names[TC_PROF_N] = {"data_load", "data", "optimizer",
                                                          "checkpoint", "png", "evaluation"};

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
  double dt = tc_prof_now() - t0;
  prof.cat[cat] += dt;
  if (prof.in_step && cat >= TC_PROF_CHECKPOINT)
    prof.side_in_steps += dt;
  tc_prof_pause(0);
}

void tc_prof_step_begin(void) {
  if (prof.on) {
    prof.in_step = 1;
    prof.step_t0 = tc_prof_now();
  }
}

void tc_prof_step_end(void) {
  if (prof.on && prof.in_step) {
    prof.step_s += tc_prof_now() - prof.step_t0;
    prof.in_step = 0;
  }
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

static double tc_prof_ops(void) {
  double s = 0.0;
  for (int i = 0; i < prof.n_rows; i++)
    s += prof.rows[i].forward_s + prof.rows[i].backward_s;
  return s;
}

static double tc_prof_claimed(void) {
  double s = tc_prof_ops();
  for (int c = 0; c < TC_PROF_N; c++)
    s += prof.cat[c];
  return s;
}

/* The steps' time less what they spent on side outputs; their "other" is what remains
 * after the ops, the batches and the optimizer (the shard sums, the glue between ops). */
static double tc_prof_steps(void) { return prof.step_s - prof.side_in_steps; }
static double tc_prof_step_other(void) {
  return tc_prof_steps() - tc_prof_ops() - prof.cat[TC_PROF_DATA] - prof.cat[TC_PROF_OPTIMIZER];
}

/* A category line: name, seconds, % of the wall, and % of the steps for those in them. */
static void tc_prof_line(FILE *out, const char *name, double s, double pct, double spct,
                         int in_steps) {
  fprintf(out, "  %-45s %10s %10.4f %6.2f", name, "", s, s * pct);
  if (in_steps)
    fprintf(out, " %6.2f", s * spct);
  fputc('\n', out);
}

static void tc_prof_table(FILE *out, double wall) {
  double steps = tc_prof_steps();
  double pct = wall > 0.0 ? 100.0 / wall : 0.0, spct = steps > 0.0 ? 100.0 / steps : 0.0;
  fprintf(out, "profile: %.3f s wall, %lld training images, %.1f images/s; steps %.3f s, "
               "%.1f images/s\n", wall, (long long)prof.images,
          wall > 0.0 ? (double)prof.images / wall : 0.0, steps,
          steps > 0.0 ? (double)prof.images / steps : 0.0);
  fprintf(out, "  %-24s %-20s %10s %10s %10s %6s %6s %9s\n", "section", "op", "forward s",
          "backward s", "total s", "%", "% step", "calls");
  for (int i = 0; i < prof.n_rows; i++) {
    const tc_prof_row *r = &prof.rows[i];
    double t = r->forward_s + r->backward_s;
    fprintf(out, "  %-24s %-20s %10.4f %10.4f %10.4f %6.2f %6.2f %9lld\n", r->section, r->op,
            r->forward_s, r->backward_s, t, t * pct, t * spct, (long long)r->calls);
  }
  for (int c = 0; c < TC_PROF_N; c++)
    tc_prof_line(out, tc_prof_cat_names[c], prof.cat[c], pct, spct,
                 c == TC_PROF_DATA || c == TC_PROF_OPTIMIZER);
  tc_prof_line(out, "other in steps (shard sums, glue)", tc_prof_step_other(), pct, spct, 1);
  tc_prof_line(out, "other (setup, progress, ...)", wall - tc_prof_claimed() -
               tc_prof_step_other(), pct, spct, 0);
  tc_prof_line(out, "total (wall)", wall, pct, spct, 0);
  fprintf(out, "  conv2d + conv2d_transpose ops: %.2f %% of the wall time, %.2f %% of the "
               "steps\n", tc_prof_conv_seconds() * pct, tc_prof_conv_seconds() * spct);
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
  double steps = tc_prof_steps();
  fprintf(f, "{\n  \"version\": 1,\n  \"wall_s\": %.9g,\n  \"steps_s\": %.9g,\n"
             "  \"images\": %lld,\n  \"images_per_s\": %.9g,\n  \"conv_fraction\": %.9g,\n"
             "  \"conv_fraction_of_steps\": %.9g,\n  \"ops\": [",
          wall, steps, (long long)prof.images, wall > 0.0 ? (double)prof.images / wall : 0.0,
          wall > 0.0 ? tc_prof_conv_seconds() / wall : 0.0,
          steps > 0.0 ? tc_prof_conv_seconds() / steps : 0.0);
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
    fprintf(f, "\"%s\": %.9g, ", tc_prof_json_names[c], prof.cat[c]);
  double step_other = tc_prof_step_other();
  fprintf(f, "\"other_in_steps\": %.9g, \"other\": %.9g}\n}\n", step_other,
          wall - tc_prof_claimed() - step_other);
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
