#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/output.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/signals.h"
#include "pkg/util/xalloc.h"

void
cove_ctr_flags_init (struct cove_ctr_flags *f)
{
  *f = (struct cove_ctr_flags) { .time = -1, .signal = SIGKILL,
                                 .sig_proxy = true, .interval_ms = 250 };
}

void
cove_ctr_flags_free (struct cove_ctr_flags *f)
{
  cove_strv_free (f->conditions);
  f->conditions = NULL;
}

static int
parse_time (const char *v, int *out, struct cove_error **err)
{
  char *end;
  errno = 0;
  long t = strtol (v, &end, 10);
  if (v[0] == '\0' || *end || errno || t < -1 || t > 1000000000)
    return cove_error_set (err, EINVAL, "invalid argument \"%s\" for "
                           "\"-t, --time\" flag", v);
  *out = (int) t;
  return 0;
}

/* Go durations as podman's --interval takes them: "250ms", "1s", "2m",
   or a plain number of milliseconds.  */
static int
parse_interval (const char *v, long *out, struct cove_error **err)
{
  char *end;
  errno = 0;
  double d = strtod (v, &end);
  double mult = 1;
  if (strcmp (end, "s") == 0)
    mult = 1000;
  else if (strcmp (end, "m") == 0)
    mult = 60000;
  else if (strcmp (end, "ms") != 0 && *end != '\0')
    d = -1;
  if (end == v || errno || d < 0 || d * mult > 3600000)
    return cove_error_set (err, EINVAL, "invalid interval `%s`", v);
  *out = (long) (d * mult) > 0 ? (long) (d * mult) : 1;
  return 0;
}

static int
parse_condition (struct cove_ctr_flags *f, const char *v,
                 struct cove_error **err)
{
  enum cove_state_status s;
  if (strcmp (v, "stopped") != 0 && cove_state_status_parse (v, &s, err) < 0)
    return -1;
  cove_strv_append (&f->conditions, v);
  return 0;
}

const struct cove_opt cove_ctr_prune_opts[] = {
  { "force", 'f', COVE_OPT_BOOL, CTR_OPT_FORCE, NULL, "Do not prompt for confirmation.  The default is false" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for prune" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_ctr_flags_opt (int id, const char *v, void *ctx, struct cove_error **err)
{
  struct cove_ctr_flags *f = ctx;
  bool on = strcmp (v, "true") == 0;
  bool *flag = NULL;
  switch (id)
    {
    case CTR_OPT_ALL: flag = &f->all; break;
    case CTR_OPT_LATEST: flag = &f->latest; break;
    case CTR_OPT_IGNORE: flag = &f->ignore; break;
    case CTR_OPT_FORCE: flag = &f->force; break;
    case CTR_OPT_VOLUMES: flag = &f->volumes; break;
    case CTR_OPT_ATTACH: flag = &f->attach; break;
    case CTR_OPT_INTERACTIVE: flag = &f->interactive; break;
    case CTR_OPT_SIG_PROXY: flag = &f->sig_proxy; break;
    case CTR_OPT_NO_STDIN: flag = &f->no_stdin; break;
    case CTR_OPT_REPAIR: flag = &f->repair; break;
    case CTR_OPT_QUIET: flag = &f->quiet; break;
    case CTR_OPT_TIME: return parse_time (v, &f->time, err);
    case CTR_OPT_SIGNAL: return cove_signal_parse (v, &f->signal, err);
    case CTR_OPT_DETACH_KEYS: f->detach_keys = v; return 0;
    case CTR_OPT_CONDITION: return parse_condition (f, v, err);
    case CTR_OPT_INTERVAL: return parse_interval (v, &f->interval_ms, err);
    case CTR_OPT_ACCEPTED: return 0;
    default: return cove_error_set (err, EINVAL, "unhandled option %d", id);
    }
  *flag = on;
  return 0;
}

char **
cove_ctr_parse (int argc, char **argv, const struct cove_opt *table,
                const char *usage, const char *desc, cove_ctr_opt_fn on_opt,
                void *ctx, int *out_n, int *out_status)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, table, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == CTR_OPT_HELP)
        {
          cove_opts_print_help (stdout, usage, desc, table);
          cove_opts_free (&p);
          *out_status = 0;
          return NULL;
        }
      if (on_opt (id, v, ctx, &err) < 0)
        {
          id = -1;
          break;
        }
    }
  char **rest = cove_opts_rest (&p, out_n);
  cove_opts_free (&p);
  if (id < 0)
    {
      free (rest);
      *out_status = cove_cmd_fail (&err, 125);
      return NULL;
    }
  return rest;
}

int
cove_ctr_cmd_open (struct cove_ctr_cmd *c, bool userns, struct cove_error **err)
{
  if (userns && cove_cmd_enter_userns (err) < 0)
    return -1;
  return cove_ctr_store_open (&c->paths, &c->st, err);
}

void
cove_ctr_cmd_close (struct cove_ctr_cmd *c)
{
  cove_ctr_store_close (&c->paths, &c->st);
}

char *
cove_ctr_latest (struct cove_state_store *st, struct cove_error **err)
{
  struct cove_state_container *all = NULL;
  size_t n = 0;
  char **warnings = NULL;
  if (cove_state_list (st, &all, &n, &warnings, err) < 0)
    return NULL;
  cove_strv_free (warnings);
  char *id = n ? xstrdup (all[n - 1].id) : NULL;
  cove_state_container_list_free (all, n);
  if (id == NULL)
    cove_error_set_plain (err, ENOENT, "no containers to act on: no such "
                          "container");
  return id;
}
