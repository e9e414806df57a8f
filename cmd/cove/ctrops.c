#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrops.h"
#include "cmd/cove/runvolumes.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static int
open_checked (pid_t pid, uint64_t start, struct cove_error **err)
{
  if (pid <= 0)
    return cove_error_set (err, ESRCH, "no process");
  int fd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (fd < 0)
    return cove_error_set (err, errno, "pidfd_open %d", (int) pid);
  /* Checked after opening: the fd pins the process, so a match now means
     the fd is the process the record knows, not a later one of the same
     number.  */
  if (!cove_state_proc_alive (pid, start))
    {
      close (fd);
      return cove_error_set (err, ESRCH, "process %d is gone", (int) pid);
    }
  return fd;
}

int
cove_ctr_pidfd (const struct cove_state_container *c, struct cove_error **err)
{
  return open_checked (c->pid, c->pid_start, err);
}

int
cove_ctr_kill (const struct cove_state_container *c, int sig,
               struct cove_error **err)
{
  cleanup_close int fd = cove_ctr_pidfd (c, err);
  if (fd < 0)
    return -1;
  if (pidfd_send_signal (fd, sig, NULL, 0) < 0)
    return cove_error_set (err, errno, "signal container %.12s", c->id);
  return 0;
}

static int
set_stop_requested (struct cove_state_container *c, void *ctx,
                    struct cove_error **err)
{
  (void) ctx;
  (void) err;
  json_object_set_new (c->extra, "stop_requested", json_true ());
  return 0;
}

int
cove_ctr_request_stop (struct cove_state_store *st, const char *id,
                       struct cove_error **err)
{
  return cove_state_update (st, id, set_stop_requested, NULL, NULL, err);
}

/* Wait up to TIMEOUT_MS for the process of FD to end; true when it did.  */
static bool
wait_fd (int fd, int timeout_ms)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  for (;;)
    {
      int r = poll (&p, 1, timeout_ms);
      if (r < 0 && errno == EINTR)
        continue;
      return r > 0;
    }
}

void
cove_ctr_wait_monitor (struct cove_state_store *st,
                       const struct cove_state_container *c, int timeout_ms)
{
  cleanup_close int fd = open_checked (c->monitor_pid, c->monitor_start, NULL);
  if (fd >= 0 && !wait_fd (fd, timeout_ms))
    {
      /* A monitor that does not finish in time is not doing its job: the
         record is corrected below, as for a monitor killed by someone.  */
      (void) pidfd_send_signal (fd, SIGKILL, NULL, 0);
      (void) wait_fd (fd, 1000);
    }
  struct cove_state_container now;
  if (cove_ctr_load (st, c->id, &now, NULL) == 0)
    cove_state_container_free (&now);
}

int
cove_ctr_stop (struct cove_state_store *st,
               const struct cove_state_container *c, int timeout,
               struct cove_error **err)
{
  bool monitor_alive;
  enum cove_state_status s = cove_state_effective (c, &monitor_alive);
  if (s != COVE_STATE_RUNNING && s != COVE_STATE_PAUSED)
    {
      if (monitor_alive)
        {
          /* Between two runs of a restart policy: end it.  */
          (void) cove_ctr_request_stop (st, c->id, NULL);
          cove_ctr_wait_monitor (st, c, 15000);
        }
      return 0;
    }
  if (cove_ctr_request_stop (st, c->id, err) < 0)
    return -1;
  cove_ctr_test_point ("stop:requested");
  cleanup_error struct cove_error *local = NULL;
  cleanup_close int fd = cove_ctr_pidfd (c, &local);
  if (fd >= 0)
    {
      if (timeout < 0)
        timeout = (int) cove_ctr_extra_int (c, "stop_timeout", 10);
      int sig = (int) cove_ctr_extra_int (c, "stop_signal", SIGTERM);
      if (timeout > 0)
        {
          (void) pidfd_send_signal (fd, sig, NULL, 0);
          if (s == COVE_STATE_PAUSED)
            (void) cove_ctr_kill_all (c, SIGCONT, NULL);
        }
      if (timeout == 0 || !wait_fd (fd, timeout * 1000))
        {
          (void) pidfd_send_signal (fd, SIGKILL, NULL, 0);
          (void) wait_fd (fd, 10000);
        }
    }
  cove_ctr_wait_monitor (st, c, 15000);
  return 0;
}

int
cove_ctr_remove (const struct cove_storage_paths *paths,
                 struct cove_state_store *st,
                 const struct cove_state_container *c, bool force,
                 bool volumes, struct cove_error **err)
{
  bool monitor_alive;
  enum cove_state_status s = cove_state_effective (c, &monitor_alive);
  if ((s == COVE_STATE_RUNNING || s == COVE_STATE_PAUSED) && !force)
    return cove_error_set_plain (err, EBUSY, "cannot remove container %s as "
                                 "it is %s - running or paused containers "
                                 "cannot be removed without force: container "
                                 "state improper", c->id,
                                 cove_state_status_string (s));
  if (s == COVE_STATE_RUNNING || s == COVE_STATE_PAUSED || monitor_alive)
    {
      /* As docker's rm -f: killed at once.  */
      if (cove_ctr_request_stop (st, c->id, NULL) == 0)
        (void) cove_ctr_kill (c, SIGKILL, NULL);
      cove_ctr_test_point ("rm:killed");
      cove_ctr_wait_monitor (st, c, 15000);
    }
  cleanup_error struct cove_error *local = NULL;
  if (cove_state_remove (st, c->id, &local) < 0)
    {
      if (local->errnum == ENOENT)
        return cove_error_set_plain (err, ENOENT, "no container with name or "
                                     "ID \"%s\" found: no such container",
                                     c->name ? c->name : c->id);
      *err = steal_pointer (&local);
      return -1;
    }
  if (volumes && cove_volumes_remove_anonymous (paths, c, err) < 0)
    return -1;
  return 0;
}

/* The pid namespace of PID, as the inode of /proc/PID/ns/pid.  */
static int
pidns_of (pid_t pid, ino_t *out)
{
  char path[64];
  struct stat sb;
  snprintf (path, sizeof path, "/proc/%d/ns/pid", (int) pid);
  if (stat (path, &sb) < 0)
    return -1;
  *out = sb.st_ino;
  return 0;
}

/* One pass over /proc: SIG to every process in NS.  Returns how many
   were signalled.  */
static int
signal_pass (ino_t ns, int sig, struct cove_error **err)
{
  cleanup_dir DIR *d = opendir ("/proc");
  if (d == NULL)
    return cove_error_set (err, errno, "open /proc");
  int n = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      char *end;
      long pid = strtol (de->d_name, &end, 10);
      ino_t other;
      if (*end || pid <= 0 || pidns_of ((pid_t) pid, &other) < 0 || other != ns)
        continue;
      if (kill ((pid_t) pid, sig) == 0)
        n++;
    }
  return n;
}

int
cove_ctr_kill_all (const struct cove_state_container *c, int sig,
                   struct cove_error **err)
{
  cleanup_close int fd = cove_ctr_pidfd (c, err);
  if (fd < 0)
    return -1;
  ino_t ns, self;
  if (pidns_of (c->pid, &ns) < 0)
    return cove_error_set (err, errno, "the pid namespace of %.12s", c->id);
  if (pidns_of (getpid (), &self) == 0 && self == ns)
    return cove_error_set (err, EINVAL, "container %.12s shares the host's "
                           "pid namespace: its processes cannot be told "
                           "apart", c->id);
  /* A process forked during a pass may be missed by it: passes repeat
     until one finds no more than the one before.  */
  int before = -1;
  for (int pass = 0; pass < 5; pass++)
    {
      int n = signal_pass (ns, sig, err);
      if (n < 0)
        return -1;
      if (n == before)
        break;
      before = n;
    }
  return 0;
}
