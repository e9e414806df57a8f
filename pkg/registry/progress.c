/* Pull progress as podman shows it: on a terminal one bar per blob, redrawn
   in place; elsewhere one plain line per finished blob.  */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pkg/registry/registry.h"
#include "pkg/util/xalloc.h"

#define BAR_WIDTH 30

struct slot
{
  char *digest;
  int64_t total, done;
  bool skipped, finished;
};

struct cove_registry_progress
{
  FILE *out;
  enum cove_registry_progress_mode mode;
  struct slot *slots;
  size_t n;
  size_t block_start;   /* first slot of the block of bars being redrawn */
  size_t drawn;         /* lines of that block on screen */
  int64_t last_ms;
};

struct cove_registry_progress *
cove_registry_progress_new (FILE *out, enum cove_registry_progress_mode mode)
{
  struct cove_registry_progress *p = xmalloc0 (sizeof *p);
  p->out = out ? out : stderr;
  p->mode = mode;
  return p;
}

void
cove_registry_progress_free (struct cove_registry_progress *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n; i++)
    free (p->slots[i].digest);
  free (p->slots);
  free (p);
}

static void
human (char *buf, size_t len, int64_t bytes)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  double v = (double) (bytes < 0 ? 0 : bytes);
  size_t u = 0;
  while (v >= 1024 && u + 1 < sizeof units / sizeof *units)
    {
      v /= 1024;
      u++;
    }
  if (u == 0)
    snprintf (buf, len, "%.0f%s", v, units[u]);
  else
    snprintf (buf, len, "%.1f%s", v, units[u]);
}

/* "1a2b3c4d5e6f" of "sha256:1a2b3c4d5e6f...".  */
static const char *
short_id (const char *digest)
{
  const char *colon = strchr (digest, ':');
  return colon ? colon + 1 : digest;
}

static void
draw_slot (struct cove_registry_progress *p, const struct slot *s)
{
  fprintf (p->out, "\r\033[KCopying blob %.12s ", short_id (s->digest));
  if (s->skipped)
    fputs ("skipped: already exists\n", p->out);
  else if (s->finished)
    fputs ("done\n", p->out);
  else
    {
      char bar[BAR_WIDTH + 1], done[32], total[32];
      int64_t filled = s->total > 0 ? s->done * BAR_WIDTH / s->total : 0;
      if (filled > BAR_WIDTH)
        filled = BAR_WIDTH;
      for (int64_t i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '=' : i == filled ? '>' : '-';
      bar[BAR_WIDTH] = '\0';
      human (done, sizeof done, s->done);
      human (total, sizeof total, s->total);
      fprintf (p->out, "[%s] %s / %s\n", bar, done, total);
    }
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cove_registry_progress_draw (struct cove_registry_progress *p, bool force)
{
  if (p->mode != COVE_REGISTRY_PROGRESS_TTY)
    return;
  int64_t now = now_ms ();
  if (!force && now - p->last_ms < 100)
    return;
  p->last_ms = now;
  if (p->drawn > 0)
    fprintf (p->out, "\033[%zuA", p->drawn);
  for (size_t i = p->block_start; i < p->n; i++)
    draw_slot (p, &p->slots[i]);
  p->drawn = p->n - p->block_start;
  fflush (p->out);
}

void
cove_registry_progress_line (struct cove_registry_progress *p, const char *line)
{
  if (p->mode == COVE_REGISTRY_PROGRESS_QUIET)
    return;
  if (p->mode == COVE_REGISTRY_PROGRESS_TTY && p->n > p->block_start)
    {
      cove_registry_progress_draw (p, true);
      p->block_start = p->n;    /* those bars stay as they are */
      p->drawn = 0;
    }
  fprintf (p->out, "%s\n", line);
  fflush (p->out);
}

size_t
cove_registry_progress_add (struct cove_registry_progress *p,
                            const char *digest, int64_t total, bool skipped)
{
  p->slots = xrealloc (p->slots, (p->n + 1) * sizeof *p->slots);
  p->slots[p->n] = (struct slot) { .digest = xstrdup (digest), .total = total,
                                   .skipped = skipped, .finished = skipped };
  if (skipped && p->mode == COVE_REGISTRY_PROGRESS_PLAIN)
    fprintf (p->out, "Copying blob %s skipped: already exists\n", digest);
  return p->n++;
}

void
cove_registry_progress_update (struct cove_registry_progress *p, size_t i,
                               int64_t done)
{
  if (i < p->n)
    p->slots[i].done = done;
}

void
cove_registry_progress_done (struct cove_registry_progress *p, size_t i)
{
  if (i >= p->n || p->slots[i].finished)
    return;
  p->slots[i].finished = true;
  p->slots[i].done = p->slots[i].total;
  if (p->mode == COVE_REGISTRY_PROGRESS_PLAIN)
    {
      fprintf (p->out, "Copying blob %s done\n", p->slots[i].digest);
      fflush (p->out);
    }
}
