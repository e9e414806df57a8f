/* cove start, stop, restart, kill: a container's process begun and
   ended, through its monitor and its pidfd.  */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/ctrcreate.h"
#include "cmd/cove/ctrops.h"
#include "cmd/cove/output.h"
#include "cmd/cove/pod.h"
#include "pkg/monitor/monitor.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/signals.h"
#include "pkg/util/xalloc.h"

static bool
is_running (const struct cove_state_container *c, bool *monitor_alive)
{
  enum cove_state_status s = cove_state_effective (c, monitor_alive);
  return s == COVE_STATE_RUNNING || s == COVE_STATE_PAUSED;
}

typedef int (*ctr_action) (struct cove_ctr_cmd *cc, const char *arg,
                           struct cove_state_container *c,
                           const struct cove_ctr_flags *f, struct cove_error **err);

/* The containers ARGS names (or -a, -l): ACTION on each, its error printed
   and the next one tried; podman's exit status 125 when any failed.  */
static int
for_each (char **args, int n, const struct cove_ctr_flags *f, ctr_action action)
{
  cleanup_error struct cove_error *err = NULL;
  if (n == 0 && !f->all && !f->latest)
    return cove_cmd_usage_error ("you must provide at least one container "
                                 "name or ID");
  if (n > 0 && (f->all || f->latest))
    return cove_cmd_usage_error ("--all and --latest cannot be used with "
                                 "container names or IDs");
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, true, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_strv char **names = NULL;
  if (f->all || f->latest)
    {
      struct cove_state_container *all = NULL;
      size_t total = 0;
      char **warnings = NULL;
      if (cove_state_list (&cc.st, &all, &total, &warnings, &err) < 0)
        {
          cove_ctr_cmd_close (&cc);
          return cove_cmd_fail (&err, 125);
        }
      cove_strv_free (warnings);
      for (size_t i = f->latest && total ? total - 1 : 0; i < total; i++)
        if (!f->all_running || is_running (&all[i], NULL))
          cove_strv_append (&names, all[i].id);
      cove_state_container_list_free (all, total);
    }
  else
    for (int i = 0; i < n; i++)
      cove_strv_append (&names, args[i]);
  int ret = 0;
  for (size_t i = 0; names && names[i]; i++)
    {
      struct cove_state_container c;
      if (cove_ctr_load (&cc.st, names[i], &c, &err) < 0)
        {
          if (!(f->ignore && err->errnum == ENOENT))
            ret = cove_cmd_fail (&err, 125);
          cove_error_release (&err);
          continue;
        }
      int r = action (&cc, names[i], &c, f, &err);
      cove_state_container_free (&c);
      if (r < 0)
        ret = cove_cmd_fail (&err, 125);
      else if (r > 0)
        ret = r;
    }
  cove_ctr_cmd_close (&cc);
  return ret;
}

/* The whole of a command: parse TABLE's options, then ACTION on each
   container named (ALL_RUNNING: -a means the running ones).  */
static int
run_command (int argc, char **argv, const struct cove_opt *table,
             const char *usage, const char *desc, bool all_running,
             ctr_action action)
{
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  f.all_running = all_running;
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, table, usage, desc,
                                             cove_ctr_flags_opt, &f, &n,
                                             &status);
  if (rest == NULL)
    return status;
  if (f.attach && n > 1)
    return cove_cmd_usage_error ("you cannot start and attach multiple "
                                 "containers at once");
  return for_each (rest, n, &f, action);
}

/* ---- start ---- */

/* Start C and follow it (start -a): returns its exit status.  */
static int
start_attached (struct cove_ctr_cmd *cc, struct cove_state_container *c,
                const struct cove_ctr_flags *f, struct cove_error **err)
{
  int sp[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return cove_error_set (err, errno, "socketpair");
  int status = 125;
  int r = cove_ctr_launch (&cc->paths, c, sp[1], &status, err);
  close (sp[1]);
  if (r < 0)
    {
      close (sp[0]);
      return -1;
    }
  struct cove_attach_options a = {
    .stdin = f->interactive && cove_ctr_extra_bool (c, "interactive"),
    .tty = cove_ctr_extra_bool (c, "tty"), .sig_proxy = f->sig_proxy,
    .detach_keys = f->detach_keys,
  };
  if (cove_monitor_attach (sp[0], &a, &status, err) < 0)
    return -1;
  return status < 0 ? 0 : status;
}

static int
start_one (struct cove_ctr_cmd *cc, const char *arg,
           struct cove_state_container *c, const struct cove_ctr_flags *f,
           struct cove_error **err)
{
  bool monitor_alive;
  if (is_running (c, &monitor_alive) || monitor_alive)
    {
      /* Running already (or between two runs of its restart policy).  */
      if (!f->attach)
        printf ("%s\n", arg);
      return 0;
    }
  if (cove_pod_prestart (&cc->paths, &cc->st, c, err) < 0
      || cove_ctr_mount (&cc->paths, c, err) < 0)
    return -1;
  if (f->attach)
    {
      int status = start_attached (cc, c, f, err);
      /* The container's own status: 0 is not a failure of start.  */
      return status < 0 ? -1 : status;
    }
  int status;
  if (cove_ctr_launch (&cc->paths, c, -1, &status, err) < 0)
    return -1;
  printf ("%s\n", arg);
  fflush (stdout);
  return 0;
}

static const struct cove_opt start_opts[] = {
  { "all", 0, COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Start all containers regardless of their state or configuration" },
  { "attach", 'a', COVE_OPT_BOOL, CTR_OPT_ATTACH, NULL, "Attach container's STDOUT and STDERR" },
  { "detach-keys", 0, COVE_OPT_VALUE, CTR_OPT_DETACH_KEYS, "string", "Select the key sequence for detaching a container" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for start" },
  { "interactive", 'i', COVE_OPT_BOOL, CTR_OPT_INTERACTIVE, NULL, "Make STDIN available to the contained process" },
  { "latest", 'l', COVE_OPT_BOOL, CTR_OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { "sig-proxy", 0, COVE_OPT_BOOL, CTR_OPT_SIG_PROXY, NULL, "Proxy received signals to the process (default true if attaching, false otherwise)" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_start (int argc, char **argv)
{
  return run_command (argc, argv, start_opts, "cove start [options] CONTAINER [CONTAINER...]",
                      "Start one or more containers", false, start_one);
}

/* ---- stop, restart ---- */

static int
stop_one (struct cove_ctr_cmd *cc, const char *arg,
          struct cove_state_container *c, const struct cove_ctr_flags *f,
          struct cove_error **err)
{
  if (cove_ctr_stop (&cc->st, c, f->time, err) < 0)
    return -1;
  printf ("%s\n", arg);
  fflush (stdout);
  return 0;
}

static int
restart_one (struct cove_ctr_cmd *cc, const char *arg,
             struct cove_state_container *c, const struct cove_ctr_flags *f,
             struct cove_error **err)
{
  if (cove_ctr_stop (&cc->st, c, f->time, err) < 0)
    return -1;
  struct cove_state_container now;
  if (cove_ctr_load (&cc->st, c->id, &now, err) < 0)
    return -1;
  struct cove_ctr_flags start;
  cove_ctr_flags_init (&start);
  int r = start_one (cc, arg, &now, &start, err);
  cove_state_container_free (&now);
  return r;
}

static const struct cove_opt stop_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Stop all running containers" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for stop" },
  { "ignore", 'i', COVE_OPT_BOOL, CTR_OPT_IGNORE, NULL, "Ignore errors when a specified container is missing" },
  { "latest", 'l', COVE_OPT_BOOL, CTR_OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { "time", 't', COVE_OPT_VALUE, CTR_OPT_TIME, "uint", "Seconds to wait for stop before killing the container (default 10)" },
  { "timeout", 0, COVE_OPT_VALUE, CTR_OPT_TIME, "uint", "Alias of --time" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_stop (int argc, char **argv)
{
  return run_command (argc, argv, stop_opts, "cove stop [options] CONTAINER [CONTAINER...]",
                      "Stop one or more containers", true, stop_one);
}

int
cove_cmd_restart (int argc, char **argv)
{
  return run_command (argc, argv, stop_opts, "cove restart [options] CONTAINER [CONTAINER...]",
                      "Restart one or more containers", false, restart_one);
}

/* ---- kill ---- */

static int
kill_one (struct cove_ctr_cmd *cc, const char *arg,
          struct cove_state_container *c, const struct cove_ctr_flags *f,
          struct cove_error **err)
{
  if (!is_running (c, NULL))
    return cove_error_set_plain (err, EINVAL, "can only kill running "
                                 "containers. %s is in state %s: container "
                                 "state improper", c->id,
                                 cove_state_status_string (cove_state_effective (c, NULL)));
  /* Signals that end a process end its restart policy too, as docker's
     kill does; a reload signal (HUP, USR1...) does not.  */
  int sig = f->signal;
  if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
    (void) cove_ctr_request_stop (&cc->st, c->id, NULL);
  if (cove_ctr_kill (c, sig, err) < 0)
    return -1;
  printf ("%s\n", arg);
  fflush (stdout);
  return 0;
}

static const struct cove_opt kill_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Signal all running containers" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for kill" },
  { "latest", 'l', COVE_OPT_BOOL, CTR_OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { "signal", 's', COVE_OPT_VALUE, CTR_OPT_SIGNAL, "string", "Signal to send to the container (default \"KILL\")" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_kill (int argc, char **argv)
{
  return run_command (argc, argv, kill_opts, "cove kill [options] CONTAINER [CONTAINER...]",
                      "Kill one or more running containers with a specific signal", true, kill_one);
}

/* ---- pause, unpause ---- */

/* There is no cgroup freezer to use here (cgroup v1 hierarchy, nothing
   delegated): every process of the container's pid namespace is stopped
   with SIGSTOP and continued with SIGCONT; `cove info` says so.  */
static int
set_paused (struct cove_state_container *c, void *ctx, struct cove_error **err)
{
  (void) err;
  bool *paused = ctx;
  if (c->state == COVE_STATE_RUNNING || c->state == COVE_STATE_PAUSED)
    c->state = *paused ? COVE_STATE_PAUSED : COVE_STATE_RUNNING;
  return 0;
}

static int
pause_one (struct cove_ctr_cmd *cc, const char *arg,
           struct cove_state_container *c, const struct cove_ctr_flags *f,
           struct cove_error **err)
{
  (void) f;
  bool paused = true;
  if (cove_state_effective (c, NULL) != COVE_STATE_RUNNING)
    return cove_error_set_plain (err, EINVAL, "\"%s\" is not running, can't "
                                 "pause: container state improper", c->id);
  if (cove_ctr_kill_all (c, SIGSTOP, err) < 0
      || cove_state_update (&cc->st, c->id, set_paused, &paused, NULL, err) < 0)
    return -1;
  printf ("%s\n", arg);
  return 0;
}

static int
unpause_one (struct cove_ctr_cmd *cc, const char *arg,
             struct cove_state_container *c, const struct cove_ctr_flags *f,
             struct cove_error **err)
{
  (void) f;
  bool paused = false;
  if (cove_state_effective (c, NULL) != COVE_STATE_PAUSED)
    return cove_error_set_plain (err, EINVAL, "\"%s\" is not paused, can't "
                                 "unpause: container state improper", c->id);
  if (cove_state_update (&cc->st, c->id, set_paused, &paused, NULL, err) < 0
      || cove_ctr_kill_all (c, SIGCONT, err) < 0)
    return -1;
  printf ("%s\n", arg);
  return 0;
}

static const struct cove_opt pause_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Act on all running containers" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for the command" },
  { "latest", 'l', COVE_OPT_BOOL, CTR_OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_pause (int argc, char **argv)
{
  return run_command (argc, argv, pause_opts, "cove pause [options] CONTAINER [CONTAINER...]",
                      "Pause all the processes in one or more containers", true, pause_one);
}

int
cove_cmd_unpause (int argc, char **argv)
{
  return run_command (argc, argv, pause_opts, "cove unpause [options] CONTAINER [CONTAINER...]",
                      "Unpause the processes in one or more containers", true, unpause_one);
}
