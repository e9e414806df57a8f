/* cove pod top and pod logs: the processes and the output of every
   container of a pod.  logs is cove logs over the pod's containers; top
   lists the processes of each running container in one table.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/format.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/pod.h"
#include "cmd/cove/top.h"
#include "pkg/runtime/runtime.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

enum
{
  OPT_HELP = 1, OPT_CONTAINER, OPT_FOLLOW, OPT_TAIL, OPT_TIMESTAMPS,
  OPT_NAMES, OPT_SINCE, OPT_UNTIL,
};

static const struct cove_opt logs_opts[] = {
  { "container", 'c', COVE_OPT_VALUE, OPT_CONTAINER, "string", "Filter logs by container name or id which belongs to pod" },
  { "follow", 'f', COVE_OPT_BOOL, OPT_FOLLOW, NULL, "Follow log output.  The default is false" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for logs" },
  { "names", 'n', COVE_OPT_BOOL, OPT_NAMES, NULL, "Output container names instead of container IDs in the log" },
  { "since", 0, COVE_OPT_VALUE, OPT_SINCE, "string", "Show logs since TIMESTAMP" },
  { "tail", 0, COVE_OPT_VALUE, OPT_TAIL, "int", "Output the specified number of LINES at the end of the logs.  Defaults to -1, which prints all lines (default -1)" },
  { "timestamps", 't', COVE_OPT_BOOL, OPT_TIMESTAMPS, NULL, "Output the timestamps in the log" },
  { "until", 0, COVE_OPT_VALUE, OPT_UNTIL, "string", "Show logs until TIMESTAMP" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* The ids of POD's containers for logs: -c's (checked to be one of
   them), else all but the infra container (it prints nothing).  */
static char **
log_ids (const char *pod, const char *only, struct cove_error **err)
{
  struct cove_pod_cmd pc;
  if (cove_pod_cmd_open (&pc, false, err) < 0)
    return NULL;
  struct cove_state_container p;
  struct cove_state_container *v = NULL;
  size_t n = 0;
  char **ids = NULL;
  if (cove_pod_load (&pc.pods, pod, &p, err) == 0)
    {
      if (cove_pod_members (&pc.st, p.id, &v, &n, err) == 0)
        {
          ids = xmalloc0 (sizeof *ids);
          for (size_t i = 0; i < n; i++)
            if (only ? (strcmp (v[i].id, only) == 0 || strncmp (v[i].id, only, strlen (only)) == 0
                        || (v[i].name && strcmp (v[i].name, only) == 0))
                     : !cove_ctr_extra_bool (&v[i], "pod_infra"))
              cove_strv_append (&ids, v[i].id);
          cove_state_container_list_free (v, n);
          if (only && ids[0] == NULL)
            {
              cove_strv_free (ids);
              ids = NULL;
              cove_error_set_plain (err, ENOENT, "container %s is not in pod "
                                    "%s: no such container", only, pod);
            }
        }
      cove_state_container_free (&p);
    }
  cove_pod_cmd_close (&pc);
  return ids;
}

int
cove_cmd_pod_logs (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, logs_opts, argc, argv, true);
  cleanup_strv char **args = NULL;
  cove_strv_append (&args, "logs");
  const char *v, *only = NULL;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      const struct cove_opt *o = logs_opts;
      while (o->id != id)
        o++;
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove pod logs [options] POD",
                                "Fetch logs for pod with one or more containers",
                                logs_opts);
          cove_opts_free (&p);
          return 0;
        }
      if (id == OPT_CONTAINER)
        only = v;
      else
        {
          /* Passed on to cove logs as --NAME=VALUE.  */
          cleanup_free char *flag = xasprintf ("--%s=%s", o->name, v);
          cove_strv_append (&args, flag);
        }
    }
  int n = 0;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  if (n != 1)
    return cove_cmd_usage_error ("requires exactly 1 arg(s), only received %d", n);
  cleanup_strv char **ids = log_ids (rest[0], only, &err);
  if (ids == NULL)
    return cove_cmd_fail (&err, 125);
  if (ids[0] == NULL)
    return 0;
  for (size_t i = 0; ids[i]; i++)
    cove_strv_append (&args, ids[i]);
  return cove_cmd_logs ((int) cove_strv_len (args), args);
}

/* ---- top ---- */

static const struct cove_opt top_opts[] = {
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for top" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* The rows of C's processes, tab-separated, appended to *TEXT.  */
static int
top_rows (const struct cove_state_container *c, char **text,
          struct cove_error **err)
{
  cleanup_free char *passwd = cove_top_iddb (c->pid, false, err);
  if (passwd == NULL)
    return -1;
  struct cove_top_proc *v = NULL;
  size_t n = 0;
  if (cove_top_list (c->pid, &v, &n, err) < 0)
    return -1;
  long hz = sysconf (_SC_CLK_TCK);
  if (hz <= 0)
    hz = 100;
  struct timespec ts;
  clock_gettime (CLOCK_BOOTTIME, &ts);
  long long now = (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
  long long tick = 1000000000LL / hz;
  for (size_t i = 0; i < n; i++)
    {
      long long elapsed = now - (long long) v[i].start * tick;
      long long cpu = (long long) (v[i].utime + v[i].stime) * tick;
      cleanup_free char *e = cove_top_duration (elapsed);
      cleanup_free char *t = cove_top_duration (cpu / 1000000000LL * 1000000000LL);
      cleanup_free char *user = cove_runtime_iddb_name (passwd, v[i].euid);
      char *line = xasprintf ("%s%s\t%d\t%d\t%.3f\t%s\t?\t%s\t%s\n", *text,
                              user, (int) v[i].pid, (int) v[i].ppid,
                              elapsed > 0 ? 100.0 * (double) cpu / (double) elapsed : 0.0,
                              e, t, v[i].args && v[i].args[0] ? v[i].args : v[i].comm);
      free (*text);
      *text = line;
    }
  cove_top_list_free (v, n);
  return 0;
}

static int
pod_top (const char *name, struct cove_error **err)
{
  struct cove_pod_cmd pc;
  if (cove_pod_cmd_open (&pc, true, err) < 0)
    return -1;
  struct cove_state_container pod;
  struct cove_state_container *v = NULL;
  size_t n = 0;
  int r = cove_pod_load (&pc.pods, name, &pod, err);
  if (r == 0)
    {
      r = cove_pod_members (&pc.st, pod.id, &v, &n, err);
      cove_state_container_free (&pod);
    }
  cleanup_free char *text = xstrdup ("USER\tPID\tPPID\t%CPU\tELAPSED\tTTY\tTIME\tCOMMAND\n");
  size_t running = 0;
  for (size_t i = 0; r == 0 && i < n; i++)
    if (cove_pod_ctr_running (&v[i]) && v[i].pid > 0)
      {
        running++;
        r = top_rows (&v[i], &text, err);
      }
  /* Nothing running: nothing printed, as podman.  */
  if (r == 0 && running > 0)
    {
      cleanup_free char *table = cove_format_tabwrite (text);
      fputs (table, stdout);
    }
  cove_state_container_list_free (v, n);
  cove_pod_cmd_close (&pc);
  return r;
}

int
cove_cmd_pod_top (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, top_opts, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      cove_opts_print_help (stdout, "cove pod top [options] POD",
                            "Display the running processes of containers in a pod",
                            top_opts);
      cove_opts_free (&p);
      return 0;
    }
  int n = 0;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  if (n != 1)
    return cove_cmd_usage_error ("you must provide the name or id of a running pod");
  return pod_top (rest[0], &err) < 0 ? cove_cmd_fail (&err, 125) : 0;
}
