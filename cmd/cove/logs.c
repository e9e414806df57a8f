/* cove logs (and container logs): print containers' k8s-file logs as
   podman does.  stdout entries go to stdout, stderr entries to stderr; a
   partial piece (P) is printed without its newline, so that a line the
   container wrote in several pieces comes out whole, with one prefix.
   With several containers each line starts with the short id (or the
   name, -n); with -t, with its timestamp as Go's RFC3339Nano.  -f follows
   until the container has exited and its monitor is gone; several
   containers are followed at once, one process each.

   No user namespace is needed: the records and logs belong to the user.
   The log's content is the container's output (untrusted): it is copied
   out verbatim and never interpreted; malformed lines are skipped, as
   podman does.  */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/output.h"
#include "pkg/ctrlog/ctrlog.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

enum
{
  OPT_HELP = CTR_OPT_HELP, OPT_COLOR, OPT_FOLLOW, OPT_LATEST, OPT_NAMES,
  OPT_SINCE, OPT_TAIL, OPT_TIMESTAMPS, OPT_UNTIL,
};

static const struct cove_opt logs_opts[] = {
  { "color", 0, COVE_OPT_BOOL, OPT_COLOR, NULL, "Output the containers with different colors in the log." },
  { "follow", 'f', COVE_OPT_BOOL, OPT_FOLLOW, NULL, "Follow log output.  The default is false" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for logs" },
  { "latest", 'l', COVE_OPT_BOOL, OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { "names", 'n', COVE_OPT_BOOL, OPT_NAMES, NULL, "Output the container name in the log" },
  { "since", 0, COVE_OPT_VALUE, OPT_SINCE, "string", "Show logs since TIMESTAMP" },
  { "tail", 0, COVE_OPT_VALUE, OPT_TAIL, "int", "Output the specified number of LINES at the end of the logs.  Defaults to -1, which prints all lines (default -1)" },
  { "timestamps", 't', COVE_OPT_BOOL, OPT_TIMESTAMPS, NULL, "Output the timestamps in the log" },
  { "until", 0, COVE_OPT_VALUE, OPT_UNTIL, "string", "Show logs until TIMESTAMP" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct logs_flags
{
  struct cove_ctrlog_filter filter;
  bool latest, names, timestamps;
  struct timespec now;
};

/* One container being printed.  */
struct printer
{
  const struct logs_flags *f;
  struct cove_state_store *st;
  const char *id;
  char prefix[COVE_STATE_NAME_MAX + 2];  /* "name " or "0123456789ab " */
  bool mid_line[3];   /* the last piece printed on that stream was P */
  int last_stream;    /* of the last entry printed */
};

static int
parse_time_opt (const char *name, const char *v, bool since,
                const struct timespec *now, struct timespec *out,
                struct cove_error **err)
{
  if (cove_ctrlog_parse_time (v, since, now, out, err) < 0)
    return cove_error_wrap (err, "parsing --%s \"%s\"", name, v);
  return 0;
}

static int
on_opt (int id, const char *v, void *ctx, struct cove_error **err)
{
  struct logs_flags *f = ctx;
  bool on = strcmp (v, "true") == 0;
  char *end;
  switch (id)
    {
    case OPT_FOLLOW: f->filter.follow = on; return 0;
    case OPT_LATEST: f->latest = on; return 0;
    case OPT_NAMES: f->names = on; return 0;
    case OPT_TIMESTAMPS: f->timestamps = on; return 0;
    case OPT_COLOR: return 0;  /* no colors: accepted for scripts */
    case OPT_SINCE:
      f->filter.has_since = true;
      return parse_time_opt ("since", v, true, &f->now, &f->filter.since, err);
    case OPT_UNTIL:
      f->filter.has_until = true;
      return parse_time_opt ("until", v, false, &f->now, &f->filter.until, err);
    case OPT_TAIL:
      errno = 0;
      f->filter.tail = strtoll (v, &end, 10);
      if (errno != 0 || end == v || *end != '\0')
        return cove_error_set_plain (err, EINVAL, "invalid argument \"%s\" for "
                                     "\"--tail\" flag: strconv.ParseInt: parsing "
                                     "\"%s\": %s", v, v, errno ? "value out of range"
                                     : "invalid syntax");
      if (f->filter.tail < 0)
        f->filter.tail = -1;
      return 0;
    }
  return 0;
}

static int
print_entry (const struct cove_ctrlog_entry *e, void *data)
{
  struct printer *p = data;
  if (e->stream == 0)
    return 0;  /* a malformed line: skipped, as podman */
  FILE *out = e->stream == COVE_CTRLOG_STDOUT ? stdout : stderr;
  /* Both streams are buffered (a line is one write); the other one is
     flushed when the stream changes, so that `cove logs 2>&1` keeps the
     container's order.  */
  if (p->last_stream != 0 && p->last_stream != e->stream)
    fflush (out == stdout ? stderr : stdout);
  p->last_stream = e->stream;
  if (!p->mid_line[e->stream])
    {
      fputs (p->prefix, out);
      char stamp[64];
      if (p->f->timestamps
          && cove_ctrlog_format_stamp (e->stamp, e->stamp_len, stamp, sizeof stamp) > 0)
        fprintf (out, "%s ", stamp);
    }
  fwrite (e->data, 1, e->len, out);
  if (!e->partial)
    fputc ('\n', out);
  p->mid_line[e->stream] = e->partial;
  if (p->f->filter.follow)
    fflush (out);
  return ferror (out) ? 1 : 0;
}

/* -f: stop once the container has exited and its monitor is gone (the
   monitor drains the container's output into the log before it exits;
   with a restart policy it stays, and so does this).  */
static bool
writer_gone (void *data)
{
  struct printer *p = data;
  struct cove_state_container c = { 0 };
  cleanup_error struct cove_error *err = NULL;
  if (cove_state_load (p->st, p->id, &c, &err) < 0)
    return true;  /* removed */
  bool monitor_alive = false;
  enum cove_state_status s = cove_state_effective (&c, &monitor_alive);
  cove_state_container_free (&c);
  return !monitor_alive && s != COVE_STATE_RUNNING && s != COVE_STATE_PAUSED;
}

/* Print the log of C.  */
static int
print_log (struct cove_ctr_cmd *cc, const struct cove_state_container *c,
           const struct logs_flags *f, bool multi, struct cove_error **err)
{
  struct printer p = { .f = f, .st = &cc->st, .id = c->id };
  if (multi && f->names && c->name)
    snprintf (p.prefix, sizeof p.prefix, "%s ", c->name);
  else if (multi)
    snprintf (p.prefix, sizeof p.prefix, "%.12s ", c->id);
  cleanup_free char *path = cove_ctr_file (&cc->paths, c->id, "ctr.log");
  int r = cove_ctrlog_read (path, &f->filter, print_entry, writer_gone, &p, err);
  if ((fflush (stdout) != 0 || fflush (stderr) != 0 || r > 0) && r >= 0)
    return cove_error_set (err, errno ? errno : EIO, "write logs");
  if (r < 0 && (*err)->errnum != ENOENT)
    return -1;
  if (r < 0)
    cove_error_release (err);  /* created, never started: no log yet */
  return 0;
}

/* podman's refusal for a container that keeps no log.  */
static int
check_driver (const struct cove_state_container *c, struct cove_error **err)
{
  const char *driver = cove_ctr_extra_str (c, "log_driver");
  if (driver == NULL || strcmp (driver, "k8s-file") == 0 || *driver == '\0')
    return 0;
  return cove_error_set_plain (err, ENOTSUP, "this container is using the '%s' "
                               "log driver, cannot read logs: this container "
                               "is not logging output", driver);
}

/* Follow N containers at once: a child each (the library has no threads
   and needs none), so that one quiet container does not hold back the
   others.  Output is flushed per line, so lines do not mix.  */
static int
follow_all (struct cove_ctr_cmd *cc, struct cove_state_container *v, size_t n,
            const struct logs_flags *f)
{
  cleanup_free pid_t *pids = xmalloc0 (n * sizeof *pids);
  int ret = 0;
  fflush (stdout);
  fflush (stderr);
  for (size_t i = 0; i < n; i++)
    {
      pids[i] = fork ();
      if (pids[i] < 0)
        {
          struct cove_error *err = NULL;
          cove_error_set (&err, errno, "fork");
          ret = cove_cmd_fail (&err, 125);
          break;
        }
      if (pids[i] == 0)
        {
          struct cove_error *err = NULL;
          int r = print_log (cc, &v[i], f, true, &err);
          r = r < 0 ? cove_cmd_fail (&err, 125) : 0;
          fflush (stderr);
          _exit (r);
        }
    }
  for (size_t i = 0; i < n; i++)
    {
      int status = 0;
      if (pids[i] > 0 && waitpid (pids[i], &status, 0) == pids[i]
          && (!WIFEXITED (status) || WEXITSTATUS (status) != 0))
        ret = 125;
    }
  return ret;
}

/* Load every container named (or the latest) first: podman prints
   nothing when one of them is missing.  */
static struct cove_state_container *
load_all (struct cove_ctr_cmd *cc, char **names, int n, bool latest,
          size_t *out_n, struct cove_error **err)
{
  cleanup_free char *last = latest ? cove_ctr_latest (&cc->st, err) : NULL;
  if (latest && last == NULL)
    return NULL;
  size_t count = latest ? 1 : (size_t) n;
  struct cove_state_container *v = xmalloc0 (count * sizeof *v);
  for (size_t i = 0; i < count; i++)
    if (cove_ctr_load (&cc->st, latest ? last : names[i], &v[i], err) < 0
        || check_driver (&v[i], err) < 0)
      {
        cove_state_container_list_free (v, i + 1);
        return NULL;
      }
  *out_n = count;
  return v;
}

int
cove_cmd_logs (int argc, char **argv)
{
  struct logs_flags f = { .filter = { .tail = -1 } };
  int n, status;
  clock_gettime (CLOCK_REALTIME, &f.now);
  static char errbuf[BUFSIZ];
  setvbuf (stderr, errbuf, _IOFBF, sizeof errbuf);
  cleanup_free char **rest = cove_ctr_parse (argc, argv, logs_opts,
                                             "cove logs [options] CONTAINER [CONTAINER...]",
                                             "Fetch the logs of one or more containers",
                                             on_opt, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (f.latest && n > 0)
    return cove_cmd_usage_error ("--latest and containers cannot be used together");
  if (!f.latest && n == 0)
    return cove_cmd_usage_error ("specify at least one container name or ID to log");
  cleanup_error struct cove_error *err = NULL;
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, false, &err) < 0)
    return cove_cmd_fail (&err, 125);
  size_t count = 0;
  struct cove_state_container *v = load_all (&cc, rest, n, f.latest, &count, &err);
  int ret = v == NULL ? cove_cmd_fail (&err, 125) : 0;
  if (v && f.filter.follow && count > 1)
    ret = follow_all (&cc, v, count, &f);
  for (size_t i = 0; v && ret == 0 && !(f.filter.follow && count > 1) && i < count; i++)
    if (print_log (&cc, &v[i], &f, count > 1, &err) < 0)
      ret = cove_cmd_fail (&err, 125);
  if (v)
    cove_state_container_list_free (v, count);
  cove_ctr_cmd_close (&cc);
  return ret;
}
