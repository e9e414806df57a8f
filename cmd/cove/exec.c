/* cove exec: run a process in a running container (pkg/runtime joins its
   namespaces through a pidfd of its init and applies its confinement).  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/ctrops.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "pkg/runtime/runtime.h"
#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

enum
{
  OPT_HELP = 1, OPT_DETACH, OPT_DETACH_KEYS, OPT_ENV, OPT_ENV_FILE,
  OPT_INTERACTIVE, OPT_LATEST, OPT_PRIVILEGED, OPT_TTY, OPT_USER, OPT_WORKDIR,
};

static const struct cove_opt exec_opts[] = {
  { "detach", 'd', COVE_OPT_BOOL, OPT_DETACH, NULL, "Run the exec session in detached mode (backgrounded)" },
  { "detach-keys", 0, COVE_OPT_VALUE, OPT_DETACH_KEYS, "string", "Select the key sequence for detaching a container (accepted, not used)" },
  { "env", 'e', COVE_OPT_VALUE, OPT_ENV, "stringArray", "Set environment variables" },
  { "env-file", 0, COVE_OPT_VALUE, OPT_ENV_FILE, "strings", "Read in a file of environment variables" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for exec" },
  { "interactive", 'i', COVE_OPT_BOOL, OPT_INTERACTIVE, NULL, "Keep STDIN open even if not attached" },
  { "latest", 'l', COVE_OPT_BOOL, OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { "privileged", 0, COVE_OPT_BOOL, OPT_PRIVILEGED, NULL, "Give the process extended Linux capabilities inside the container.  The default is false" },
  { "tty", 't', COVE_OPT_BOOL, OPT_TTY, NULL, "Allocate a pseudo-TTY. The default is false" },
  { "user", 'u', COVE_OPT_VALUE, OPT_USER, "string", "Sets the username or UID used and optionally the groupname or GID for the specified command" },
  { "workdir", 'w', COVE_OPT_VALUE, OPT_WORKDIR, "string", "Working directory inside the container" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static const char exec_usage[] = "cove exec [options] CONTAINER [COMMAND [ARG...]]";
static const char exec_desc[] = "Execute the specified command inside a running container.";

struct exec_cmd
{
  bool detach, interactive, latest, privileged, tty;
  const char *user;
  const char *workdir;
  char **env;          /* KEY=VALUE, resolved; owned */
  char **env_args;     /* -e as given; owned */
  char **env_files;    /* owned */
};

/* --env-file first, then -e: a later entry wins (the runtime replaces
   same keys in order).  */
static int
build_env (struct exec_cmd *x, struct cove_error **err)
{
  x->env = cove_spec_env_collect (x->env_files, x->env_args, err);
  return x->env ? 0 : -1;
}

static void
on_opt (struct exec_cmd *x, int id, const char *v)
{
  bool on = strcmp (v, "true") == 0;
  switch (id)
    {
    case OPT_DETACH: x->detach = on; break;
    case OPT_ENV: cove_strv_append (&x->env_args, v); break;
    case OPT_ENV_FILE: cove_strv_append (&x->env_files, v); break;
    case OPT_INTERACTIVE: x->interactive = on; break;
    case OPT_LATEST: x->latest = on; break;
    case OPT_PRIVILEGED: x->privileged = on; break;
    case OPT_TTY: x->tty = on; break;
    case OPT_USER: x->user = v; break;
    case OPT_WORKDIR: x->workdir = v; break;
    default: break;  /* --detach-keys: there is no attached session to leave */
    }
}

/* Options stop at CONTAINER (or, with -l, at the command), so that the
   command's own options are its.  Returns the positionals, or NULL with
   *OUT_STATUS (0 after --help).  */
static char **
parse (int argc, char **argv, struct exec_cmd *x, int *out_status)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, exec_opts, argc, argv, false);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, exec_usage, exec_desc, exec_opts);
          cove_opts_free (&p);
          *out_status = 0;
          return NULL;
        }
      on_opt (x, id, v);
    }
  char **rest = cove_opts_rest (&p, NULL);
  cove_opts_free (&p);
  if (id < 0)
    {
      free (rest);
      *out_status = cove_cmd_fail (&err, 125);
      return NULL;
    }
  return rest;
}

/* Without -i the process reads nothing: stdin is /dev/null, as podman.  */
static int
null_stdin (struct cove_error **err)
{
  cleanup_close int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open `/dev/null`");
  if (dup2 (fd, STDIN_FILENO) < 0)
    return cove_error_set (err, errno, "dup2 stdin");
  return 0;
}

static int
not_running (struct cove_error **err)
{
  return cove_error_set_plain (err, EINVAL, "can only create exec sessions on "
                               "running containers: container state improper");
}

/* Start ARGS in the container C and follow it.  */
static int
exec_in (struct exec_cmd *x, struct cove_ctr_cmd *cc,
         const struct cove_state_container *c, char **args,
         struct cove_error **err)
{
  if (c->state != COVE_STATE_RUNNING)
    return not_running (err);
  if (args[0] == NULL || args[0][0] == '\0')
    return cove_error_set_plain (err, EINVAL, "must provide a non-empty command "
                                 "to start an exec session: invalid argument");
  cleanup_error struct cove_error *gone = NULL;
  cleanup_close int pidfd = cove_ctr_pidfd (c, &gone);
  if (pidfd < 0)
    return not_running (err);
  if (!x->interactive && !x->detach && null_stdin (err) < 0)
    return -1;
  struct cove_runtime_exec_options o = {
    .init_pidfd = pidfd, .init_pid = c->pid, .args = args, .env = x->env,
    .user = x->user, .workdir = x->workdir, .terminal = x->tty,
    .privileged = x->privileged, .detach = x->detach,
  };
  cleanup_free char *bundle = cove_ctr_dir (&cc->paths, c->id);
  struct cove_runtime_process proc;
  int status = 125;
  if (cove_runtime_exec (bundle, cc->paths.runtime_dir, &o, &proc, &status,
                         err) < 0)
    {
      if ((*err)->errnum == ESRCH && status == 125)
        {
          cove_error_release (err);
          return not_running (err);
        }
      return -status;
    }
  if (x->detach)
    {
      /* Our child until we exit: then the subreaper or init reaps it.  */
      close (proc.pidfd);
      if (proc.console_fd >= 0)
        close (proc.console_fd);
      return 0;
    }
  if (cove_runtime_wait (&proc, true, &status, err) < 0)
    return -1;
  return status;
}

/* Returns the exit code (>= 0), or -1/-STATUS with *ERR set.  */
static int
run_exec (struct exec_cmd *x, char **rest, struct cove_error **err)
{
  if (!x->latest && rest[0] == NULL)
    return cove_error_set_plain (err, EINVAL, "exec requires the name or ID of "
                                 "a container or the --latest flag");
  if (build_env (x, err) < 0)
    return -1;
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, true, err) < 0)
    return -1;
  cleanup_free char *latest = x->latest ? cove_ctr_latest (&cc.st, err) : NULL;
  struct cove_state_container c = { 0 };
  int r = -1;
  if ((latest || !x->latest)
      && cove_ctr_load (&cc.st, latest ? latest : rest[0], &c, err) == 0)
    {
      r = exec_in (x, &cc, &c, x->latest ? rest : rest + 1, err);
      cove_state_container_free (&c);
    }
  cove_ctr_cmd_close (&cc);
  return r;
}

int
cove_cmd_exec (int argc, char **argv)
{
  struct exec_cmd x = { 0 };
  int status = 125;
  cleanup_free char **rest = parse (argc, argv, &x, &status);
  if (rest)
    {
      cleanup_error struct cove_error *err = NULL;
      int r = run_exec (&x, rest, &err);
      if (r >= 0)
        status = r;
      else
        status = cove_cmd_fail (&err, r < -1 ? -r : 125);
    }
  cove_strv_free (x.env);
  cove_strv_free (x.env_args);
  cove_strv_free (x.env_files);
  return status;
}
