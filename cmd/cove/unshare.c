/* cove unshare: run a command inside the user's user namespace, where the
   files of rootless containers (owned by subordinate ids) can be read,
   changed and removed.  */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/output.h"
#include "pkg/util/xalloc.h"
#include "rootless/rootless.h"

static const char unshare_usage[] =
  "Run a command in a modified user namespace\n"
  "\n"
  "Description:\n"
  "  Runs a command in the user namespace of cove's rootless containers: the\n"
  "  user is root (uid 0) there, and the ids of /etc/subuid and /etc/subgid\n"
  "  are mapped from uid 1 on.  Without COMMAND it runs $SHELL, else /bin/sh.\n"
  "\n"
  "Usage:\n"
  "  cove unshare [options] [COMMAND [ARG...]]\n"
  "\n"
  "Examples:\n"
  "  cove unshare id\n"
  "  cove unshare cat /proc/self/uid_map\n"
  "  cove unshare rm -rf ~/.local/share/cove/volumes/old\n"
  "\n"
  "Options:\n"
  "  -h, --help   help for unshare\n";

/* Index of the first word of COMMAND in ARGV, or -1 after printing help
   (*OUT_STATUS 0) or an unknown flag (*OUT_STATUS 125).  Options stop at the
   first non-option, as in podman, so `cove unshare ls -l` needs no `--`.  */
static int
parse_options (int argc, char **argv, int *out_status)
{
  int i = 1;
  for (; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--") == 0)
        return i + 1;
      if (a[0] != '-' || a[1] == '\0')
        break;
      if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
        {
          fputs (unshare_usage, stdout);
          *out_status = 0;
          return -1;
        }
      if (a[1] == '-')
        *out_status = cove_cmd_usage_error ("unknown flag: %.*s",
                                            (int) strcspn (a, "="), a);
      else
        *out_status = cove_cmd_usage_error ("unknown shorthand flag: '%c' "
                                            "in %s", a[1], a);
      return -1;
    }
  return i;
}

/* Whether NAME exists in a directory of $PATH.  execvp reports EACCES when
   any directory of $PATH is unreadable, which must not turn "not found"
   (127) into "cannot run" (126).  */
static bool
exists_in_path (const char *name)
{
  const char *path = getenv ("PATH");
  if (path == NULL)
    path = "/bin:/usr/bin";
  for (const char *p = path; *p;)
    {
      size_t len = strcspn (p, ":");
      char *cand = xasprintf ("%.*s%s%s", (int) len, p, len ? "/" : "", name);
      bool found = access (cand, F_OK) == 0;
      free (cand);
      if (found)
        return true;
      p += len;
      if (*p == ':')
        p++;
    }
  return false;
}

/* exec COMMAND; returns only on failure, with 127 (not found) or 126.  */
static int
exec_command (char **command)
{
  /* Dispositions set to ignore and blocked signals survive exec; the
     command must start with the defaults whatever main() set up.  */
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  signal (SIGPIPE, SIG_DFL);
  fflush (NULL);
  execvp (command[0], command);
  int saved = errno;
  /* cove_cmd_fail frees it.  */
  struct cove_error *err = NULL;
  if (strchr (command[0], '/') == NULL && !exists_in_path (command[0]))
    {
      cove_error_set (&err, 0, "exec: \"%s\": executable file not found in "
                      "$PATH", command[0]);
      return cove_cmd_fail (&err, 127);
    }
  cove_error_set (&err, saved, "exec: \"%s\"", command[0]);
  return cove_cmd_fail (&err, saved == ENOENT ? 127 : 126);
}

int
cove_cmd_unshare (int argc, char **argv)
{
  int status = 0;
  int first = parse_options (argc, argv, &status);
  if (first < 0)
    return status;
  struct cove_error *err = NULL;      /* cove_cmd_fail frees it */
  if (cove_cmd_enter_userns (&err) < 0)
    {
      cove_error_wrap (&err, "enter the user namespace");
      return cove_cmd_fail (&err, 0);
    }
  if (first < argc)
    return exec_command (argv + first);
  const char *shell = getenv ("SHELL");
  char *shell_argv[] = { (char *) (shell && *shell ? shell : "/bin/sh"),
                         NULL };
  return exec_command (shell_argv);
}
