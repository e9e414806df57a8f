/* Launching a container's monitor: a double fork, so that the monitor is
   nobody's child but init's (or the nearest subreaper's) and leads a
   session of its own, then an exec of cove itself as cove-monitor so that
   it keeps none of the launching command's memory.  */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/monitor/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"

/* In the grandchild: fds 0-2 on /dev/null, the status pipe on fd 3, the
   attach socket (if any) on fd 4, nothing else, default signal state.  */
static void
exec_monitor (const struct cove_monitor_launch *l, int status_w)
{
  int hi_status = fcntl (status_w, F_DUPFD_CLOEXEC, 100);
  int hi_attach = l->attach_fd >= 0 ? fcntl (l->attach_fd, F_DUPFD_CLOEXEC, 100) : -1;
  int nul = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (hi_status < 0 || nul < 0 || (l->attach_fd >= 0 && hi_attach < 0))
    _exit (125);
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (nul, fd) < 0)
      _exit (125);
  if (dup2 (hi_status, MONITOR_STATUS_FD) < 0
      || (hi_attach >= 0 && dup2 (hi_attach, MONITOR_ATTACH_FD) < 0))
    _exit (125);
  close_range (hi_attach >= 0 ? MONITOR_ATTACH_FD + 1 : MONITOR_STATUS_FD + 1,
               ~0U, 0);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal (s, SIG_DFL);
  if (chdir ("/") < 0)
    _exit (125);
  execl ("/proc/self/exe", COVE_MONITOR_NAME, l->id, l->data_dir,
         l->runtime_dir, hi_attach >= 0 ? "4" : "-1", (char *) NULL);
  _exit (125);
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
  pid_t child = fork ();
  if (child < 0)
    return cove_error_set (err, errno, "fork the monitor");
  if (child == 0)
    {
      close (status_r);
      if (setsid () < 0)
        _exit (125);
      pid_t g = fork ();
      if (g < 0)
        _exit (125);
      if (g == 0)
        exec_monitor (l, status_w);
      _exit (0);
    }
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
