/* cove state: is a recorded process still the one we started?  A pid alone
   cannot tell: after the process died the number may belong to another.
   Its start time (ticks since boot) is the second half of the key.  */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pkg/state/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"

/* Fields of /proc/PID/stat after the ")" that ends comm (comm may hold
   spaces and parentheses, so the last ")" is the one): state is field 3,
   starttime field 22.  */
static int
parse_stat (const char *buf, char *out_state, uint64_t *out_start)
{
  const char *p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    return -1;
  p += 2;
  *out_state = *p;
  for (int field = 3; field < 22; field++)
    {
      p = strchr (p, ' ');
      if (p == NULL)
        return -1;
      p++;
    }
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull (p, &end, 10);
  if (errno || end == p)
    return -1;
  *out_start = v;
  return 0;
}

static int
read_stat (pid_t pid, char *out_state, uint64_t *out_start,
           struct cove_error **err)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno == ENOENT ? ENOENT : errno,
                           "open `%s`", path);
  char buf[1024];
  ssize_t n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return cove_error_set (err, n < 0 ? errno : ENOENT, "read `%s`", path);
  buf[n] = '\0';
  if (parse_stat (buf, out_state, out_start) < 0)
    return cove_error_set (err, EINVAL, "parse `%s`", path);
  return 0;
}

int
cove_state_proc_start_time (pid_t pid, uint64_t *out, struct cove_error **err)
{
  char st;
  if (pid <= 0)
    return cove_error_set (err, ENOENT, "no process %d", (int) pid);
  return read_stat (pid, &st, out, err);
}

bool
cove_state_proc_alive (pid_t pid, uint64_t start)
{
  char st = 0;
  uint64_t now = 0;
  cleanup_error struct cove_error *err = NULL;
  if (pid <= 0 || read_stat (pid, &st, &now, &err) < 0)
    return false;
  return now == start && st != 'Z' && st != 'X';
}

enum cove_state_status
cove_state_effective (const struct cove_state_container *c,
                      bool *out_monitor_alive)
{
  if (out_monitor_alive)
    *out_monitor_alive = c->monitor_pid > 0
                         && cove_state_proc_alive (c->monitor_pid, c->monitor_start);
  if (c->state != COVE_STATE_RUNNING && c->state != COVE_STATE_PAUSED)
    return c->state;
  return cove_state_proc_alive (c->pid, c->pid_start) ? c->state
                                                      : COVE_STATE_EXITED;
}
