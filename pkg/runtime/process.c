/* The container's process: hostname, rlimits, sysctls, terminal, and the
   final exec.  All of it runs in the child, inside the container's
   namespaces.  */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int
runtime_process_hostname (const struct runtime_config *cfg,
                          struct cove_error **err)
{
  if (cfg->hostname == NULL)
    return 0;
  if (sethostname (cfg->hostname, strlen (cfg->hostname)) < 0)
    return cove_error_set (err, errno, "sethostname `%s`", cfg->hostname);
  return 0;
}

int
runtime_process_rlimits (const struct runtime_config *cfg,
                         struct cove_error **err)
{
  for (size_t i = 0; i < cfg->n_rlimits; i++)
    {
      struct rlimit rl = { .rlim_cur = cfg->rlimits[i].soft,
                           .rlim_max = cfg->rlimits[i].hard };
      if (setrlimit (cfg->rlimits[i].resource, &rl) < 0)
        return cove_error_set (err, errno, "setrlimit %d to %llu:%llu",
                               cfg->rlimits[i].resource,
                               (unsigned long long) rl.rlim_cur,
                               (unsigned long long) rl.rlim_max);
    }
  return 0;
}

int
runtime_process_sysctl (const struct runtime_config *cfg, int rootfd,
                        struct cove_error **err)
{
  for (size_t i = 0; cfg->sysctl_keys[i]; i++)
    {
      cleanup_free char *path = xasprintf ("/proc/sys/%s", cfg->sysctl_keys[i]);
      for (char *c = path + strlen ("/proc/sys/"); *c; c++)
        if (*c == '.')
          *c = '/';
      cleanup_close int fd = runtime_open_in_root (rootfd, path, O_WRONLY | O_TRUNC,
                                                   err);
      if (fd < 0
          || cove_write_all (fd, cfg->sysctl_values[i],
                             strlen (cfg->sysctl_values[i]), err) < 0)
        return cove_error_wrap (err, "sysctl `%s`", cfg->sysctl_keys[i]);
    }
  return 0;
}

int
runtime_process_terminal (int sync, struct cove_error **err)
{
  /* /dev/ptmx is the container's devpts's, so the pty belongs to it.  */
  cleanup_close int master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return cove_error_set (err, errno, "open `/dev/ptmx`");
  int unlock = 0;
  if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
    return cove_error_set (err, errno, "unlockpt");
  /* The peer ioctl opens the slave without a path lookup through /dev/pts.  */
  cleanup_close int slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return cove_error_set (err, errno, "open pty slave");
  if (setsid () < 0)
    return cove_error_set (err, errno, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return cove_error_set (err, errno, "set controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (slave, fd) < 0)
      return cove_error_set (err, errno, "dup2 pty to %d", fd);
  if (cove_send_fd (sync, master, err) < 0)
    return cove_error_wrap (err, "send pty master");
  return 0;
}

static const char *
env_path (char **env)
{
  for (char **e = env; *e; e++)
    if (strncmp (*e, "PATH=", 5) == 0)
      return *e + 5;
  return DEFAULT_PATH;
}

/* Look NAME up in the PATH of the container's environment, inside the
   container (after pivot_root).  Returns the path to exec, or NULL with
   *OUT_STATUS 127 (nothing found) or 126 (found, not executable).  */
static char *
find_executable (const char *name, char **env, int *out_status,
                 struct cove_error **err)
{
  struct stat st;
  if (strchr (name, '/') != NULL)
    {
      if (stat (name, &st) == 0)
        return xstrdup (name);
      *out_status = errno == ENOENT || errno == ENOTDIR ? 127 : 126;
      cove_error_set (err, errno, "executable file `%s` not found", name);
      return NULL;
    }
  bool denied = false;
  cleanup_free char *dirs = xstrdup (env_path (env));
  for (char *dir = dirs, *next; dir != NULL; dir = next)
    {
      next = strchr (dir, ':');
      if (next)
        *next++ = '\0';
      cleanup_free char *cand = xasprintf ("%s/%s", *dir ? dir : ".", name);
      if (stat (cand, &st) < 0 || S_ISDIR (st.st_mode))
        continue;
      if (S_ISREG (st.st_mode) && (st.st_mode & 0111))
        return steal_pointer (&cand);
      denied = true;
    }
  *out_status = denied ? 126 : 127;
  if (denied)
    cove_error_set (err, EACCES, "exec `%s`", name);
  else
    cove_error_set (err, ENOENT, "executable file `%s` not found in $PATH", name);
  return NULL;
}

/* The signals the process ignores, from /proc/self/status (one read instead
   of a sigaction per signal); all of them when that cannot be read.  */
static uint64_t
ignored_signals (void)
{
  cleanup_free char *status = cove_file_read_at (AT_FDCWD, "/proc/self/status",
                                                 1 << 16, NULL, NULL);
  const char *line = status ? strstr (status, "\nSigIgn:\t") : NULL;
  if (line == NULL)
    return UINT64_MAX;
  return strtoull (line + strlen ("\nSigIgn:\t"), NULL, 16);
}

/* The caller's blocked signals and ignored ones (SIGPIPE...) would be
   inherited through exec (handled ones are reset by exec itself): the
   container starts with a clean slate.  */
static void
reset_signals (void)
{
  uint64_t ignored = ignored_signals ();
  struct sigaction sa = { .sa_handler = SIG_DFL };
  for (int sig = 1; sig < NSIG && sig <= 64; sig++)
    if (ignored & (UINT64_C (1) << (sig - 1)))
      (void) sigaction (sig, &sa, NULL);
  sigset_t all;
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
}

static int
confine (const struct runtime_config *cfg, struct cove_error **err)
{
  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
     config's capabilities usually drop: load it first, while still root.
     The filter must then allow setresuid, capset, prctl and execve.  */
  if (cfg->has_filter && !cfg->no_new_privs
      && cove_runtime_seccomp_apply (&cfg->filter, false, err) < 0)
    return cove_error_wrap (err, "load seccomp filter");
  if (runtime_process_identity (cfg, err) < 0)
    return -1;
  if (cfg->no_new_privs && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return cove_error_set (err, errno, "prctl PR_SET_NO_NEW_PRIVS");
  /* With no_new_privs, as late as possible: only execve follows.  */
  if (cfg->has_filter && cfg->no_new_privs
      && cove_runtime_seccomp_apply (&cfg->filter, true, err) < 0)
    return cove_error_wrap (err, "load seccomp filter");
  return 0;
}

int
runtime_process_exec (const struct runtime_config *cfg, int *out_status,
                      struct cove_error **err)
{
  *out_status = 125;
  if (chdir (cfg->cwd) < 0)
    return cove_error_set (err, errno, "chdir `%s`", cfg->cwd);
  cleanup_free char *path = find_executable (cfg->args[0], cfg->env, out_status, err);
  if (path == NULL)
    return -1;
  *out_status = 125;
  /* No fd of the caller's leaks into the container; the sync socket is
     already close-on-exec and tells the parent that exec happened.  */
  if (syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return cove_error_set (err, errno, "close_range");
  reset_signals ();
  if (confine (cfg, err) < 0)
    return -1;
  execve (path, cfg->args, cfg->env);
  *out_status = errno == ENOENT ? 127 : 126;
  return cove_error_set (err, errno, "exec `%s`", cfg->args[0]);
}
