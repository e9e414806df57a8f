/* cove wait and cove attach: following a container someone else started.  */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/ctrops.h"
#include "cmd/cove/output.h"
#include "pkg/monitor/monitor.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static bool
condition_met (const struct cove_ctr_flags *f, enum cove_state_status s)
{
  if (f->conditions == NULL)
    return s == COVE_STATE_EXITED || s == COVE_STATE_STOPPED;
  for (char **c = f->conditions; *c; c++)
    {
      if (strcmp (*c, "stopped") == 0)
        {
          if (s == COVE_STATE_EXITED || s == COVE_STATE_STOPPED)
            return true;
        }
      else if (strcmp (*c, cove_state_status_string (s)) == 0)
        return true;
    }
  return false;
}

/* Wait for NAME's condition; prints its exit code.  */
static int
wait_one (struct cove_state_store *st, const char *name,
          const struct cove_ctr_flags *f, struct cove_error **err)
{
  for (;;)
    {
      struct cove_state_container c;
      if (cove_ctr_load (st, name, &c, err) < 0)
        return -1;
      bool monitor_alive;
      enum cove_state_status s = cove_state_effective (&c, &monitor_alive);
      if (s != c.state && monitor_alive)
        {
          /* Ended a moment ago: its monitor is writing the exit status.  */
          cove_state_container_free (&c);
          nanosleep (&(struct timespec) { .tv_nsec = 2000000 }, NULL);
          continue;
        }
      if (condition_met (f, s))
        {
          printf ("%d\n", c.exit_code);
          fflush (stdout);
          cove_state_container_free (&c);
          return 0;
        }
      /* Running: sleep on its pidfd rather than polling the record.  */
      int fd = s == COVE_STATE_RUNNING ? cove_ctr_pidfd (&c, NULL) : -1;
      cove_state_container_free (&c);
      struct pollfd p = { .fd = fd, .events = POLLIN };
      (void) poll (&p, 1, fd >= 0 && f->conditions == NULL ? -1 : (int) f->interval_ms);
      if (fd >= 0)
        {
          close (fd);
          /* Its monitor records the exit a moment later.  */
          nanosleep (&(struct timespec) { .tv_nsec = 2000000 }, NULL);
        }
    }
}

static const struct cove_opt wait_opts[] = {
  { "condition", 0, COVE_OPT_VALUE, CTR_OPT_CONDITION, "strings", "Condition to wait on (default [stopped])" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for wait" },
  { "ignore", 0, COVE_OPT_BOOL, CTR_OPT_IGNORE, NULL, "Ignore if a container does not exist" },
  { "interval", 'i', COVE_OPT_VALUE, CTR_OPT_INTERVAL, "string", "Time Interval to wait before polling for completion (default \"250ms\")" },
  { "latest", 'l', COVE_OPT_BOOL, CTR_OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_wait (int argc, char **argv)
{
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, wait_opts,
                                             "cove wait [options] CONTAINER [CONTAINER...]",
                                             "Block on one or more containers",
                                             cove_ctr_flags_opt, &f, &n, &status);
  if (rest == NULL)
    {
      cove_ctr_flags_free (&f);
      return status;
    }
  if (n == 0 && !f.latest)
    return cove_cmd_usage_error ("you must provide at least one container name or ID");
  cleanup_error struct cove_error *err = NULL;
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, false, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_free char *latest = f.latest ? cove_ctr_latest (&cc.st, &err) : NULL;
  int ret = 0;
  if (f.latest && latest == NULL)
    ret = cove_cmd_fail (&err, 125);
  else if (f.latest)
    ret = wait_one (&cc.st, latest, &f, &err) < 0 ? cove_cmd_fail (&err, 125) : 0;
  for (int i = 0; !f.latest && i < n; i++)
    if (wait_one (&cc.st, rest[i], &f, &err) < 0)
      {
        if (!(f.ignore && err->errnum == ENOENT))
          ret = cove_cmd_fail (&err, 125);
        cove_error_release (&err);
      }
  cove_ctr_cmd_close (&cc);
  return ret;
}

/* ---- attach ---- */

static const struct cove_opt attach_opts[] = {
  { "detach-keys", 0, COVE_OPT_VALUE, CTR_OPT_DETACH_KEYS, "string", "Select the key sequence for detaching a container" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for attach" },
  { "latest", 'l', COVE_OPT_BOOL, CTR_OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { "no-stdin", 0, COVE_OPT_BOOL, CTR_OPT_NO_STDIN, NULL, "Do not attach STDIN. The default is false" },
  { "sig-proxy", 0, COVE_OPT_BOOL, CTR_OPT_SIG_PROXY, NULL, "Proxy received signals to the process (default true)" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static int
attach_to (struct cove_ctr_cmd *cc, const char *name,
           const struct cove_ctr_flags *f, int *out_status,
           struct cove_error **err)
{
  struct cove_state_container c;
  if (cove_ctr_load (&cc->st, name, &c, err) < 0)
    return -1;
  int r = 0;
  if (cove_state_effective (&c, NULL) != COVE_STATE_RUNNING)
    r = cove_error_set_plain (err, EINVAL, "you can only attach to running "
                              "containers");
  int sock = r == 0 ? cove_monitor_connect (cc->paths.runtime_dir, c.id, err) : -1;
  if (sock >= 0)
    {
      struct cove_attach_options a = {
        .stdin = !f->no_stdin && cove_ctr_extra_bool (&c, "interactive"),
        .tty = cove_ctr_extra_bool (&c, "tty"), .sig_proxy = f->sig_proxy,
        .detach_keys = f->detach_keys,
      };
      r = cove_monitor_attach (sock, &a, out_status, err);
      if (r == 0 && *out_status < 0)
        *out_status = 0;
    }
  else
    r = -1;
  cove_state_container_free (&c);
  return r;
}

int
cove_cmd_attach (int argc, char **argv)
{
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, attach_opts,
                                             "cove attach [options] CONTAINER",
                                             "Attach to a running container",
                                             cove_ctr_flags_opt, &f, &n, &status);
  cove_ctr_flags_free (&f);
  if (rest == NULL)
    return status;
  if ((n != 1 && !f.latest) || (n > 0 && f.latest))
    return cove_cmd_usage_error ("attach requires the name or id of one "
                                 "running container or the latest flag");
  cleanup_error struct cove_error *err = NULL;
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, false, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_free char *latest = f.latest ? cove_ctr_latest (&cc.st, &err) : NULL;
  status = 125;
  int r = (f.latest && latest == NULL) ? -1
          : attach_to (&cc, latest ? latest : rest[0], &f, &status, &err);
  cove_ctr_cmd_close (&cc);
  return r < 0 ? cove_cmd_fail (&err, 125) : status;
}
