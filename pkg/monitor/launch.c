/* Launching a container's monitor: a double fork, so that the monitor is
   nobody's child but init's (or the nearest subreaper's) and lives in a
   session of its own without leading it (it can never get a controlling
   terminal), then an exec of cove itself as cove-monitor so that it keeps
   none of the launching command's memory.  Both forks share the
   command's memory (vfork, then posix_spawn's vfork-and-exec): a fork
   that copied the command's page tables for the short-lived middle
   process cost ~2 ms here, where page faults are dear.  */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/monitor/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"

/* In the middle process, a session leader now: start the monitor with
   fds 0-2 on /dev/null, the status pipe on fd 3, the attach socket (if
   any) on fd 4, nothing else, default signal state, in /.  Returns 0, or
   an errno.  */
static int
spawn_monitor (const struct cove_monitor_launch *l, int status_w)
{
  /* Above the target numbers first, so that no dup2 clobbers the other.  */
  cleanup_close int hi_status = fcntl (status_w, F_DUPFD_CLOEXEC, 100);
  cleanup_close int hi_attach = l->attach_fd >= 0
    ? fcntl (l->attach_fd, F_DUPFD_CLOEXEC, 100) : -1;
  if (hi_status < 0 || (l->attach_fd >= 0 && hi_attach < 0))
    return errno;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, all;
  sigemptyset (&none);
  sigfillset (&all);
  if (posix_spawn_file_actions_init (&fa) != 0 || posix_spawnattr_init (&at) != 0)
    return ENOMEM;
  int e = posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDWR, 0);
  e = e ?: posix_spawn_file_actions_adddup2 (&fa, 0, 1);
  e = e ?: posix_spawn_file_actions_adddup2 (&fa, 0, 2);
  e = e ?: posix_spawn_file_actions_adddup2 (&fa, hi_status, MONITOR_STATUS_FD);
  if (hi_attach >= 0)
    e = e ?: posix_spawn_file_actions_adddup2 (&fa, hi_attach, MONITOR_ATTACH_FD);
  e = e ?: posix_spawn_file_actions_addclosefrom_np (&fa, hi_attach >= 0
                                                     ? MONITOR_ATTACH_FD + 1
                                                     : MONITOR_STATUS_FD + 1);
  e = e ?: posix_spawn_file_actions_addchdir_np (&fa, "/");
  e = e ?: posix_spawnattr_setsigmask (&at, &none);
  e = e ?: posix_spawnattr_setsigdefault (&at, &all);
  e = e ?: posix_spawnattr_setflags (&at, POSIX_SPAWN_SETSIGMASK
                                     | POSIX_SPAWN_SETSIGDEF);
  char *argv[] = { (char *) COVE_MONITOR_NAME, (char *) l->id,
                   (char *) l->data_dir, (char *) l->runtime_dir,
                   (char *) (hi_attach >= 0 ? "4" : "-1"), NULL };
  pid_t pid;
  extern char **environ;
  e = e ?: posix_spawn (&pid, "/proc/self/exe", &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  posix_spawnattr_destroy (&at);
  return e;
}

/* Read the monitor's report from the status pipe.  */
static int
read_report (int fd, pid_t *out_pid, int *out_status, struct cove_error **err)
{
  int32_t head[2];
  size_t got = 0;
  while (got < sizeof head)
    {
      ssize_t n = read (fd, (char *) head + got, sizeof head - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return cove_error_set (err, n == 0 ? EPIPE : errno,
                               "the container's monitor exited before "
                               "starting it");
      got += (size_t) n;
    }
  if (head[0] == 0)
    {
      *out_pid = head[1];
      *out_status = 0;
      return 0;
    }
  *out_status = head[0];
  struct cove_error *child = NULL;
  if (cove_error_recv (fd, &child, err) < 0)
    return -1;
  if (child == NULL)
    return cove_error_set (err, EPROTO, "the container's monitor failed "
                           "without a reason");
  *err = child;
  return -1;
}

int
cove_monitor_launch (const struct cove_monitor_launch *l, pid_t *out_pid,
                     int *out_status, struct cove_error **err)
{
  *out_status = 125;
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return cove_error_set (err, errno, "pipe");
  cleanup_close int status_r = p[0];
  cleanup_close int status_w = p[1];
  /* vfork: the child runs in our memory, we wait until it exits; it
     only calls setsid and posix_spawn (which makes the monitor with a
     vfork of its own) and leaves with _exit.  */
  pid_t child = vfork ();
  if (child < 0)
    return cove_error_set (err, errno, "fork the monitor");
  if (child == 0)
    _exit (setsid () < 0 || spawn_monitor (l, status_w) != 0 ? 125 : 0);
  close (steal_fd (&status_w));
  int ws;
  while (waitpid (child, &ws, 0) < 0)
    if (errno != EINTR)
      return cove_error_set (err, errno, "wait for the monitor's launcher");
  if (!WIFEXITED (ws) || WEXITSTATUS (ws) != 0)
    return cove_error_set (err, ECHILD, "could not start the container's "
                           "monitor");
  return read_report (status_r, out_pid, out_status, err);
}
