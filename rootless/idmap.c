/* cove rootless: newuidmap/newgidmap, the setuid helpers of the uidmap
   package that write maps with the ranges of /etc/subuid and /etc/subgid,
   which an unprivileged process cannot write itself.  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "rootless/internal.h"

/* Enough for any message of newuidmap; more is cut off.  */
#define TOOL_STDERR_MAX (64u * 1024)
#define TOOL_STDERR_SHOWN 1024

static char *
search_path (const char *prog)
{
  const char *path = getenv ("PATH");
  for (const char *p = path; p && *p;)
    {
      size_t len = strcspn (p, ":");
      /* An empty entry means the current directory; never look there for a
         program that runs with privileges.  */
      if (len > 0 && p[0] == '/')
        {
          cleanup_free char *cand = xasprintf ("%.*s/%s", (int) len, p, prog);
          if (access (cand, X_OK) == 0)
            return steal_pointer (&cand);
        }
      p += len;
      if (*p == ':')
        p++;
    }
  cleanup_free char *fallback = xasprintf ("/usr/bin/%s", prog);
  if (access (fallback, X_OK) == 0)
    return steal_pointer (&fallback);
  return NULL;
}

char *
cove_rootless_find_idmap_tool (const char *prog, struct cove_error **err)
{
  cleanup_free char *tool = search_path (prog);
  if (tool == NULL)
    {
      cove_error_set (err, ENOENT, "%s not found in $PATH or /usr/bin: "
                      "install the uidmap package", prog);
      return NULL;
    }
  struct stat st;
  if (stat (tool, &st) < 0)
    {
      cove_error_set (err, errno, "stat `%s`", tool);
      return NULL;
    }
  /* Debian installs it setuid root, Fedora with file capabilities
     (security.capability); without either it cannot write the maps.  */
  bool suid = (st.st_mode & S_ISUID) && st.st_uid == 0;
  if (!suid && getxattr (tool, "security.capability", NULL, 0) <= 0)
    {
      cove_error_set (err, EPERM, "`%s` is neither setuid root nor has file "
                      "capabilities: reinstall the uidmap package or run "
                      "`chmod u+s %s` as root", tool, tool);
      return NULL;
    }
  return steal_pointer (&tool);
}

/* argv of `TOOL PID C1 H1 S1 C2 H2 S2 ...`; caller frees.  */
static char **
tool_argv (const char *tool, pid_t pid, const struct cove_idmap *map)
{
  char **argv = NULL;
  const char *base = strrchr (tool, '/');
  cove_strv_append (&argv, base ? base + 1 : tool);
  cleanup_free char *p = xasprintf ("%d", (int) pid);
  cove_strv_append (&argv, p);
  for (size_t i = 0; i < map->n; i++)
    {
      const uint32_t v[3] = { map->ranges[i].container, map->ranges[i].host,
                              map->ranges[i].size };
      for (int j = 0; j < 3; j++)
        {
          cleanup_free char *s = xasprintf ("%u", v[j]);
          cove_strv_append (&argv, s);
        }
    }
  return argv;
}

/* Runs in the forked child: never returns.  */
static void __attribute__ ((noreturn))
exec_tool (const char *tool, char **argv, int out_fd)
{
  /* dup2 clears O_CLOEXEC on the copies, so the tool writes into the pipe.  */
  if (dup2 (out_fd, STDOUT_FILENO) < 0 || dup2 (out_fd, STDERR_FILENO) < 0)
    _exit (127);
  execv (tool, argv);
  static const char msg[] = "exec failed\n";
  (void) !write (STDERR_FILENO, msg, sizeof msg - 1);
  _exit (127);
}

/* Turn the tool's stderr into one line fit for an error message.  */
static char *
one_line (char *text)
{
  size_t len = strlen (text);
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
    text[--len] = '\0';
  if (len > TOOL_STDERR_SHOWN)
    text[TOOL_STDERR_SHOWN] = '\0';
  for (char *c = text; *c; c++)
    if (*c == '\n' || *c == '\r' || *c == '\t')
      *c = ' ';
  return text;
}

static int
wait_child (pid_t pid, int *out_status, struct cove_error **err)
{
  while (waitpid (pid, out_status, 0) < 0)
    if (errno != EINTR)
      return cove_error_set (err, errno, "waitpid %d", (int) pid);
  return 0;
}

/* "newuidmap 123 0 1000 1 ..." for the error message; caller frees.  */
static char *
join_argv (char **argv)
{
  size_t len = 1;
  for (char **a = argv; *a; a++)
    len += strlen (*a) + 1;
  char *s = xmalloc (len), *p = s;
  for (char **a = argv; *a; a++)
    {
      size_t n = strlen (*a);
      memcpy (p, *a, n);
      p += n;
      *p++ = ' ';
    }
  p[p > s ? -1 : 0] = '\0';
  return s;
}

int
cove_rootless_idmap_start (const char *tool, pid_t pid,
                           const struct cove_idmap *map,
                           struct cove_rootless_idmap_job *job,
                           struct cove_error **err)
{
  cleanup_strv char **argv = tool_argv (tool, pid, map);
  int fds[2];
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return cove_error_set (err, errno, "pipe");
  cleanup_close int rd = fds[0];
  cleanup_close int wr = fds[1];
  pid_t child = fork ();
  if (child < 0)
    return cove_error_set (err, errno, "fork %s", argv[0]);
  if (child == 0)
    exec_tool (tool, argv, wr);
  job->pid = child;
  job->out_fd = steal_fd (&rd);
  job->cmd = join_argv (argv);
  return 0;
}

int
cove_rootless_idmap_finish (struct cove_rootless_idmap_job *job,
                            struct cove_error **err)
{
  cleanup_free char *cmd = steal_pointer (&job->cmd);
  cleanup_close int rd = steal_fd (&job->out_fd);
  cleanup_error struct cove_error *read_err = NULL;
  /* EOF once the tool exited (it holds the only write end).  */
  cleanup_free char *output = cove_fd_read_all (rd, TOOL_STDERR_MAX, NULL,
                                                &read_err);
  int status = 0;
  if (wait_child (job->pid, &status, err) < 0)
    return -1;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  const char *why = output ? one_line (output) : "";
  if (WIFSIGNALED (status))
    return cove_error_set (err, 0, "`%s` killed by signal %d%s%s", cmd,
                           WTERMSIG (status), *why ? ": " : "", why);
  return cove_error_set (err, 0, "`%s` failed with status %d%s%s", cmd,
                         WEXITSTATUS (status), *why ? ": " : "", why);
}
