/* cove rootless: the pause process that keeps the user's namespace.

   Creating the namespace costs two setuid execs (newuidmap, newgidmap),
   several milliseconds, on every command.  As podman does, the first
   command leaves behind an idle "pause" process that does nothing but keep
   the namespace alive; later commands setns() into it, which costs
   microseconds.  Its pid and start time are recorded in
   RUNTIME_DIR/pause.pid (written atomically); the start time guards against
   a reused pid.  Killing the pause process is always safe: the next command
   makes a new one.  */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "rootless/internal.h"

/* Field 22 of /proc/PID/stat: the start time in clock ticks since boot.
   0 when the process is gone.  */
static unsigned long long
start_time (pid_t pid)
{
  cleanup_error struct cove_error *ignored = NULL;
  cleanup_free char *path = xasprintf ("/proc/%d/stat", (int) pid);
  cleanup_free char *text = cove_file_read_at (AT_FDCWD, path, 4096, NULL,
                                               &ignored);
  /* The command name may hold spaces and ')': fields follow the last ')'.  */
  char *p = text ? strrchr (text, ')') : NULL;
  if (p == NULL)
    return 0;
  unsigned long long t = 0;
  int field = 2;
  for (; *p && field < 22; p++)
    if (*p == ' ')
      field++;
  if (field == 22)
    t = strtoull (p, NULL, 10);
  return t;
}

int
cove_rootless_pause_open_ns (const char *dir)
{
  cleanup_error struct cove_error *ignored = NULL;
  cleanup_free char *path = xasprintf ("%s/pause.pid", dir);
  cleanup_free char *text = cove_file_read_at (AT_FDCWD, path, 128, NULL,
                                               &ignored);
  int pid;
  unsigned long long recorded;
  if (text == NULL || sscanf (text, "%d %llu", &pid, &recorded) != 2 || pid <= 1)
    return -1;
  cleanup_free char *ns = xasprintf ("/proc/%d/ns/user", pid);
  cleanup_close int fd = open (ns, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  /* Checked after the open: if the recorded process still runs now, the fd
     is its namespace; had it died and its pid been reused, the start time
     would differ.  */
  if (start_time (pid) != recorded)
    return -1;
  return steal_fd (&fd);
}

int
cove_rootless_pause_lock (const char *dir, struct cove_error **err)
{
  if (cove_mkdir_p (dir, 0700, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf ("%s/pause.lock", dir);
  cleanup_close int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s`", path);
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return cove_error_set (err, errno, "lock `%s`", path);
  return steal_fd (&fd);
}

int
cove_rootless_pause_record (const char *dir, pid_t pid, struct cove_error **err)
{
  unsigned long long t = start_time (pid);
  if (t == 0)
    return cove_error_set (err, ESRCH, "pause process %d is gone", (int) pid);
  cleanup_free char *path = xasprintf ("%s/pause.pid", dir);
  cleanup_free char *text = xasprintf ("%d %llu\n", (int) pid, t);
  /* No fsync: after a reboot the process is gone anyway.  */
  return cove_file_write_atomic (path, text, strlen (text), 0600, 0, err);
}

void
cove_rootless_pause_main (void)
{
  /* Runs in the pause process, inside the namespace, detached from the
     terminal and from every fd of the command that made it (a pipe kept
     open here would hang a reader of cove's output).  */
  (void) prctl (PR_SET_NAME, "cove-pause", 0, 0, 0);
  if (setsid () < 0)
    {
      /* already a session leader: nothing to do */
    }
  if (chdir ("/") < 0)
    _exit (1);
  close_range (0, ~0U, 0);
  int fd = open ("/dev/null", O_RDWR);
  if (fd == 0)
    {
      (void) dup2 (0, 1);
      (void) dup2 (0, 2);
    }
  /* Re-exec as "cove-pause" (cmd/cove/main.c sleeps when called so): the
     process then shows what it is in ps, and keeps none of the memory of
     the command that forked it.  */
  execl ("/proc/self/exe", COVE_ROOTLESS_PAUSE_NAME, (char *) NULL);
  for (;;)
    pause ();
}
