/* cove run and cove create: make a container from the options, then (run)
   start it through its monitor and follow it, or print its id (-d).  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcreate.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/runopts.h"
#include "pkg/monitor/monitor.h"
#include "pkg/util/cleanup.h"

static const char run_usage[]
    = "cove run [options] IMAGE [COMMAND [ARG...]]\n"
      "  cove run [options] --rootfs DIR [--] COMMAND [ARG...]";
static const char create_usage[]
    = "cove create [options] IMAGE [COMMAND [ARG...]]\n"
      "  cove create [options] --rootfs DIR [--] COMMAND [ARG...]";
static const char create_description[]
    = "Create but do not start a container";
static const char run_description[]
    = "Run a command in a new container, from an image or a root filesystem "
      "directory";

/* The container exists: start it through its monitor, and either print
   its id (-d) or follow it to its end.  */
static int
start_run (struct cove_run_options *o, const struct cove_storage_paths *paths,
           const struct cove_state_container *c, int *out_status,
           struct cove_error **err)
{
  if (o->detach)
    {
      if (cove_ctr_launch (paths, c, -1, out_status, err) < 0)
        return -1;
      printf ("%s\n", c->id);
      return 0;
    }
  int sp[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return cove_error_set (err, errno, "socketpair");
  int r = cove_ctr_launch (paths, c, sp[1], out_status, err);
  close (sp[1]);
  if (r < 0)
    {
      close (sp[0]);
      return -1;
    }
  struct cove_attach_options a = {
    .stdin = o->interactive, .tty = o->req.terminal,
    .sig_proxy = o->sig_proxy, .detach_keys = o->detach_keys,
  };
  int status;
  if (cove_monitor_attach (sp[0], &a, &status, err) < 0)
    return -1;
  /* Detached with the keys: the container runs on.  */
  *out_status = status < 0 ? 0 : status;
  return 0;
}

/* Create the container (and for run, start it); *OUT_ID its id.  */
static int
create_container (struct cove_run_options *o, bool start, char **out_id,
                  int *out_status, struct cove_error **err)
{
  struct cove_storage_paths paths;
  struct cove_state_store st;
  if (cove_ctr_store_open (&paths, &st, err) < 0)
    return -1;
  int r = cove_ctr_create (o, &paths, &st, start, out_id, out_status, err);
  cove_ctr_test_point ("run:created");
  struct cove_state_container c;
  if (r == 0 && start && (r = cove_state_load (&st, *out_id, &c, err)) == 0)
    {
      r = start_run (o, &paths, &c, out_status, err);
      cove_state_container_free (&c);
    }
  cove_ctr_store_close (&paths, &st);
  return r;
}

/* run and create: parse, make (and start), report.  */
static int
run_or_create (int argc, char **argv, bool start, const char *usage,
               const char *desc)
{
  struct cove_run_options o;
  cleanup_error struct cove_error *err = NULL;
  int r = cove_run_options_parse (&o, argc, argv, &err);
  int status = r < 0 ? 125 : 0;
  cleanup_free char *id = NULL;
  if (r == COVE_RUN_OPTIONS_HELP)
    cove_opts_print_help (stdout, usage, desc, cove_run_option_table);
  else if (r == 0)
    {
      status = 125;
      r = create_container (&o, start, &id, &status, &err);
      if (r == 0 && !start)
        {
          printf ("%s\n", id);
          status = 0;
        }
    }
  cove_run_options_free (&o);
  /* A failed pull printed its own error.  */
  if (r < 0 && err)
    return cove_cmd_fail (&err, status);
  return status;
}

int
cove_cmd_run (int argc, char **argv)
{
  return run_or_create (argc, argv, true, run_usage, run_description);
}

int
cove_cmd_create (int argc, char **argv)
{
  return run_or_create (argc, argv, false, create_usage, create_description);
}
