/* progress.c — the progress reporter; the only toolkit module allowed to print. */
#include "tools/progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 24
#define BAR_REDRAW_SECONDS 0.1

struct tc_progress {
  tc_progress_config cfg;
  int epoch;              /* epoch being reported; 0 before the first step */
  int64_t step;           /* last step reported in it */
  double loss_sum;        /* over the epoch so far */
  double epoch_start;     /* clock when the epoch's first step began */
  double last_print;      /* clock of the last line or bar drawn */
  double last_step_time;  /* clock of the last tc_progress_step */
  int64_t last_line_step; /* LINES: step of the last periodic line */
  int pending;            /* BAR: a bar is on screen without its newline */
  int shown;              /* BAR: characters of the bar on screen */
};

static double monotonic_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

tc_status tc_progress_create(tc_progress **out, const tc_progress_config *cfg) {
  if (out == NULL || cfg == NULL)
    return tc_set_error(TC_ERR_INVALID_ARG, "progress: out or config is NULL");
  *out = NULL;
  if (cfg->epochs < 1 || cfg->steps < 1 || cfg->batch < 1 || (int)cfg->mode < 0 ||
      cfg->mode > TC_PROGRESS_QUIET)
    return tc_set_error(TC_ERR_INVALID_ARG, "progress: needs epochs, steps and batch >= 1 and "
                        "a known mode, got %d, %lld, %lld, mode %d", cfg->epochs,
                        (long long)cfg->steps, (long long)cfg->batch, (int)cfg->mode);
  tc_progress *p = calloc(1, sizeof *p);
  if (p == NULL)
    return tc_set_error(TC_ERR_NOMEM, "progress: out of memory");
  p->cfg = *cfg;
  if (p->cfg.stream == NULL)
    p->cfg.stream = stderr;
  if (p->cfg.now == NULL)
    p->cfg.now = monotonic_now;
  if (p->cfg.mode == TC_PROGRESS_AUTO)
    p->cfg.mode = isatty(fileno(p->cfg.stream)) ? TC_PROGRESS_BAR : TC_PROGRESS_LINES;
  if (p->cfg.line_every == 0)
    p->cfg.line_every = p->cfg.steps >= 10 ? p->cfg.steps / 10 : 1;
  if (p->cfg.line_seconds == 0)
    p->cfg.line_seconds = 10.0;
  p->epoch_start = p->last_print = p->cfg.now();
  *out = p;
  return TC_OK;
}

/* "4:02" or "1:02:03"; negative or absurd values show as "?". */
static void fmt_duration(char *buf, size_t cap, double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) {
    snprintf(buf, cap, "?");
    return;
  }
  long s = (long)(seconds + 0.5);
  if (s >= 3600)
    snprintf(buf, cap, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf(buf, cap, "%ld:%02ld", s / 60, s % 60);
}

/* The statistics part of a line: loss, throughput and ETA (or the epoch's time at its end). */
static void fmt_stats(const tc_progress *p, double now, char *buf, size_t cap) {
  double elapsed = now - p->epoch_start;
  double per_step = elapsed / (double)p->step;
  double rate = elapsed > 0 ? (double)(p->step * p->cfg.batch) / elapsed : 0.0;
  int64_t left = (int64_t)(p->cfg.epochs - p->epoch) * p->cfg.steps + (p->cfg.steps - p->step);
  char when[32];
  if (p->step >= p->cfg.steps) {
    fmt_duration(when, sizeof when, elapsed);
    snprintf(buf, cap, "loss %.5g %.0f img/s took %s", p->loss_sum / (double)p->step, rate,
             when);
  } else {
    fmt_duration(when, sizeof when, per_step * (double)(left > 0 ? left : 0));
    snprintf(buf, cap, "loss %.5g %.0f img/s ETA %s", p->loss_sum / (double)p->step, rate,
             when);
  }
}

static void draw_bar(tc_progress *p, double now) {
  char stats[128], bar[BAR_WIDTH + 1];
  int fill = (int)((double)BAR_WIDTH * (double)p->step / (double)p->cfg.steps);
  for (int i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
  bar[BAR_WIDTH] = '\0';
  fmt_stats(p, now, stats, sizeof stats);
  int n = fprintf(p->cfg.stream, "\repoch %d/%d [%s] %lld/%lld %s", p->epoch, p->cfg.epochs,
                  bar, (long long)p->step, (long long)p->cfg.steps, stats);
  /* Blank out what is left of a longer previous bar. */
  if (n > 0 && n < p->shown)
    fprintf(p->cfg.stream, "%*s", p->shown - n, "");
  p->shown = n > p->shown ? n : p->shown;
  p->pending = 1;
  if (p->step >= p->cfg.steps) {
    fputc('\n', p->cfg.stream);
    p->pending = 0;
    p->shown = 0;
  }
  fflush(p->cfg.stream);
  p->last_print = now;
}

static void print_line(tc_progress *p, double now) {
  char stats[128];
  fmt_stats(p, now, stats, sizeof stats);
  fprintf(p->cfg.stream, "epoch %d/%d step %lld/%lld %s\n", p->epoch, p->cfg.epochs,
          (long long)p->step, (long long)p->cfg.steps, stats);
  fflush(p->cfg.stream);
  p->last_print = now;
  p->last_line_step = p->step;
}

/* Starts a new epoch's statistics when the epoch number changes. */
static void enter_epoch(tc_progress *p, int epoch) {
  if (epoch == p->epoch)
    return;
  /* The epoch began when the previous one's last step ended (or at create). */
  if (p->epoch != 0)
    p->epoch_start = p->last_step_time;
  p->epoch = epoch;
  p->step = 0;
  p->loss_sum = 0;
  p->last_line_step = 0;
}

void tc_progress_step(tc_progress *p, int epoch, int64_t step, double loss) {
  if (p == NULL || step < 1)
    return;
  double now = p->cfg.now();
  enter_epoch(p, epoch);
  p->loss_sum += loss;
  p->step = step;
  p->last_step_time = now;
  int last = step >= p->cfg.steps;
  double since = now - p->last_print;
  if (p->cfg.mode == TC_PROGRESS_BAR) {
    if (last || step == 1 || since >= BAR_REDRAW_SECONDS)
      draw_bar(p, now);
  } else if (p->cfg.mode == TC_PROGRESS_LINES) {
    int by_steps = p->cfg.line_every > 0 && step - p->last_line_step >= p->cfg.line_every;
    int by_time = p->cfg.line_seconds > 0 && since >= p->cfg.line_seconds;
    if (last || by_steps || by_time)
      print_line(p, now);
  }
}

/* Wipes the bar so that a note can take its line. */
static void clear_bar(tc_progress *p) {
  if (p->pending && p->shown > 0)
    fprintf(p->cfg.stream, "\r%*s\r", p->shown, "");
}

void tc_progress_note(tc_progress *p, const char *fmt, ...) {
  if (p == NULL || p->cfg.mode == TC_PROGRESS_QUIET)
    return;
  clear_bar(p);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(p->cfg.stream, fmt, ap);
  va_end(ap);
  fputc('\n', p->cfg.stream);
  if (p->pending) {
    p->shown = 0;
    draw_bar(p, p->cfg.now());
  }
  fflush(p->cfg.stream);
}

void tc_progress_finish(tc_progress *p) {
  if (p == NULL)
    return;
  if (p->pending)
    fputc('\n', p->cfg.stream);
  p->pending = 0;
  p->shown = 0;
  fflush(p->cfg.stream);
}

tc_progress_mode tc_progress_mode_used(const tc_progress *p) {
  return p ? p->cfg.mode : TC_PROGRESS_QUIET;
}

void tc_progress_free(tc_progress *p) { free(p); }
