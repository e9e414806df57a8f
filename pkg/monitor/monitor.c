/* The monitor process: start the container, serve it, record its end.  */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pkg/ctrlog/ctrlog.h"
#include "pkg/monitor/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool
extra_bool (const struct cove_state_container *c, const char *key)
{
  return json_is_true (json_object_get (c->extra, key));
}

static void
read_settings (struct monitor *m, const struct cove_state_container *c)
{
  m->tty = extra_bool (c, "tty");
  m->interactive = extra_bool (c, "interactive");
  m->rm = extra_bool (c, "rm");
  const char *r = json_string_value (json_object_get (c->extra, "restart"));
  m->restart = MONITOR_RESTART_NO;
  if (r && strcmp (r, "on-failure") == 0)
    m->restart = MONITOR_RESTART_ON_FAILURE;
  else if (r && strcmp (r, "always") == 0)
    m->restart = MONITOR_RESTART_ALWAYS;
  else if (r && strcmp (r, "unless-stopped") == 0)
    m->restart = MONITOR_RESTART_UNLESS_STOPPED;
  json_t *max = json_object_get (c->extra, "restart_max");
  m->restart_max = json_is_integer (max) && json_integer_value (max) > 0
                   ? (unsigned) json_integer_value (max) : 0;
}

static int
open_log (struct monitor *m, const struct cove_state_container *c,
          struct cove_error **err)
{
  const char *driver = json_string_value (json_object_get (c->extra, "log_driver"));
  if (driver && strcmp (driver, "none") == 0)
    return 0;
  json_t *max = json_object_get (c->extra, "log_max_size");
  int64_t max_size = json_is_integer (max) ? json_integer_value (max) : 0;
  cleanup_free char *path = xasprintf ("%s/ctr.log", m->bundle);
  m->log = cove_ctrlog_open (path, max_size, err);
  return m->log ? 0 : -1;
}

static int
setup (struct monitor *m, struct cove_error **err)
{
  m->bundle = xasprintf ("%s/containers/%s", m->data_dir, m->id);
  m->run_dir = xasprintf ("%s/%s", m->runtime_dir, m->id);
  if (cove_state_proc_start_time (getpid (), &m->self_start, err) < 0)
    return -1;
  if (cove_state_store_open (&m->st, m->data_dir, err) < 0)
    return -1;
  struct cove_state_container c;
  if (cove_state_load (&m->st, m->id, &c, err) < 0)
    return -1;
  read_settings (m, &c);
  m->ports_spec = json_deep_copy (json_object_get (c.extra, "ports"));
  int r = open_log (m, &c, err);
  cove_state_container_free (&c);
  if (r < 0)
    return -1;
  return monitor_listen (m, err);
}

/* ---- starting the container ---- */

static int
make_pipe (int p[2], struct cove_error **err)
{
  if (pipe2 (p, O_CLOEXEC) < 0)
    return cove_error_set (err, errno, "pipe");
  return 0;
}

/* The container's stdio: pipes to us (or its own pty, made by the
   runtime), stdin a pipe with -i, else /dev/null.  The runtime gives the
   child our fds 0-2, so the child's ends go there for the clone.  */
static int
start_container (struct monitor *m, int *out_status, struct cove_error **err)
{
  int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, in[2] = { -1, -1 };
  int r = 0;
  if (!m->tty)
    r = make_pipe (out, err) < 0 || make_pipe (errp, err) < 0 ? -1 : 0;
  if (r == 0 && m->interactive && !m->tty)
    r = make_pipe (in, err);
  if (r == 0)
    {
      (void) dup2 (in[0], 0);
      (void) dup2 (out[1], 1);
      (void) dup2 (errp[1], 2);
      r = cove_runtime_create (m->bundle, m->runtime_dir, &m->proc,
                               out_status, err);
      int nul = open ("/dev/null", O_RDWR | O_CLOEXEC);
      for (int fd = 0; fd < 3 && nul >= 0; fd++)
        (void) dup2 (nul, fd);
      if (nul >= 0)
        close (nul);
    }
  int *child_ends[] = { &in[0], &out[1], &errp[1] };
  for (size_t i = 0; i < 3; i++)
    if (*child_ends[i] >= 0)
      close (*child_ends[i]);
  if (r < 0)
    {
      for (int *fd = (int[]) { in[1], out[0], errp[0], -2 }; *fd != -2; fd++)
        if (*fd >= 0)
          close (*fd);
      return -1;
    }
  m->running = true;
  if (m->tty)
    {
      m->out_fd = m->proc.console_fd;
      m->err_fd = -1;
      m->in_fd = m->interactive ? fcntl (m->out_fd, F_DUPFD_CLOEXEC, 0) : -1;
    }
  else
    {
      m->out_fd = out[0];
      m->err_fd = errp[0];
      m->in_fd = in[1];
    }
  for (int *fd = (int[]) { m->out_fd, m->err_fd, m->in_fd, -2 }; *fd != -2; fd++)
    if (*fd >= 0)
      (void) fcntl (*fd, F_SETFL, fcntl (*fd, F_GETFL) | O_NONBLOCK);
  return 0;
}

struct started
{
  struct monitor *m;
  pid_t pid;
  uint64_t pid_start;
  bool restarted;
};

static int
mark_running (struct cove_state_container *c, void *ctx,
              struct cove_error **err)
{
  (void) err;
  struct started *s = ctx;
  c->state = COVE_STATE_RUNNING;
  c->pid = s->pid;
  c->pid_start = s->pid_start;
  c->monitor_pid = getpid ();
  c->monitor_start = s->m->self_start;
  c->started_at = now_ns ();
  c->finished_at = 0;
  c->exit_code = 0;
  if (s->restarted)
    c->restart_count++;
  json_object_del (c->extra, "stop_requested");
  json_object_del (c->extra, "error");
  return 0;
}

/* --network slirp: a new libslirp for each run of the container, serving
   the tap device the runtime made in its network namespace.  */
static int
start_network (struct monitor *m, struct cove_error **err)
{
  if (m->proc.tap_fd < 0)
    return 0;
  m->slirp = cove_net_slirp_new (steal_fd (&m->proc.tap_fd), &m->proc.net, err);
  if (m->slirp == NULL)
    return cove_error_wrap (err, "slirp network");
  return 0;
}

/* Start the container and record it running.  */
static int
start_and_record (struct monitor *m, bool restarted, int *out_status,
                  struct cove_error **err)
{
  /* Before the container: a port in use fails the start, cleanly.  */
  if (monitor_ports_open (m, err) < 0)
    {
      *out_status = 125;
      return -1;
    }
  if (start_container (m, out_status, err) < 0)
    return -1;
  /* libslirp is needed now only when it forwards the ports; else the
     network starts after the report (late_network).  */
  bool early = m->proc.net.port_handler == COVE_NET_PORT_HANDLER_SLIRP;
  if ((early && start_network (m, err) < 0) || monitor_ports_start (m, err) < 0)
    {
      (void) pidfd_send_signal (m->proc.pidfd, SIGKILL, NULL, 0);
      *out_status = 125;
      return -1;
    }
  struct started s = { .m = m, .pid = m->proc.pid, .restarted = restarted };
  if (cove_state_proc_start_time (m->proc.pid, &s.pid_start, NULL) < 0)
    s.pid_start = 0;
  if (cove_state_update (&m->st, m->id, mark_running, &s, NULL, err) < 0)
    {
      /* Removed under our feet (rm -f raced us): nobody wants it.  */
      (void) pidfd_send_signal (m->proc.pidfd, SIGKILL, NULL, 0);
      *out_status = 125;
      return -1;
    }
  return 0;
}

/* Tell the launcher how the start went, once.  */
static void
report (struct monitor *m, int status, const struct cove_error *e)
{
  if (m->status_fd < 0)
    return;
  int32_t head[2] = { status, status == 0 ? (int32_t) m->proc.pid : 0 };
  (void) cove_write_all (m->status_fd, head, sizeof head, NULL);
  if (status != 0)
    {
      struct cove_error fallback = { .errnum = 0, .msg = (char *) "failed" };
      cove_error_send (m->status_fd, e ? e : &fallback);
    }
  close (m->status_fd);
  m->status_fd = -1;
}

/* ---- the end of a run ---- */

struct exited
{
  int status;
  bool stop_requested;     /* out */
  unsigned restart_count;  /* out */
  const char *error;       /* a start failure to record, or NULL */
};

static int
mark_exited (struct cove_state_container *c, void *ctx,
             struct cove_error **err)
{
  (void) err;
  struct exited *x = ctx;
  x->stop_requested = json_is_true (json_object_get (c->extra, "stop_requested"));
  x->restart_count = c->restart_count;
  c->state = x->error && c->started_at == 0 ? COVE_STATE_CREATED : COVE_STATE_EXITED;
  c->exit_code = x->status;
  c->pid = 0;
  c->pid_start = 0;
  c->monitor_pid = 0;
  c->monitor_start = 0;
  c->finished_at = now_ns ();
  if (x->error)
    json_object_set_new (c->extra, "error", json_string (x->error));
  return 0;
}

static bool
wants_restart (const struct monitor *m, const struct exited *x)
{
  if (x->stop_requested)
    return false;
  switch (m->restart)
    {
    case MONITOR_RESTART_ALWAYS:
    case MONITOR_RESTART_UNLESS_STOPPED:
      return true;
    case MONITOR_RESTART_ON_FAILURE:
      return x->status != 0
             && (m->restart_max == 0 || x->restart_count < m->restart_max);
    default:
      return false;
    }
}

/* Whether a stop was asked for (read fresh: `cove stop` may come while we
   back off).  */
static bool
stop_requested (struct monitor *m)
{
  struct cove_state_container c;
  if (cove_state_load (&m->st, m->id, &c, NULL) < 0)
    return true;  /* removed: nothing to restart */
  bool r = json_is_true (json_object_get (c.extra, "stop_requested"));
  cove_state_container_free (&c);
  return r;
}

/* Docker's back-off: 100 ms, doubling, at most a minute; slept in slices
   so that a stop ends it at once.  */
static bool
back_off (struct monitor *m, unsigned attempt)
{
  long ms = 100L << (attempt < 10 ? attempt : 10);
  if (ms > 60000)
    ms = 60000;
  for (long slept = 0; slept < ms; slept += 100)
    {
      if (stop_requested (m))
        return false;
      nanosleep (&(struct timespec) { .tv_nsec = 100 * 1000000L }, NULL);
    }
  return !stop_requested (m);
}

static void
close_stdio (struct monitor *m)
{
  int *fds[] = { &m->out_fd, &m->err_fd, &m->in_fd };
  for (size_t i = 0; i < 3; i++)
    {
      if (*fds[i] >= 0 && *fds[i] != m->proc.console_fd)
        close (*fds[i]);
      *fds[i] = -1;
    }
  if (m->proc.console_fd >= 0)
    close (m->proc.console_fd);
  m->proc.console_fd = -1;
  if (m->proc.pidfd >= 0)
    close (m->proc.pidfd);
  m->proc.pidfd = -1;
  /* The network goes with the run: slirp's sockets, host ports, memory.  */
  if (m->proc.tap_fd >= 0)
    close (m->proc.tap_fd);
  m->proc.tap_fd = -1;
  cove_net_slirp_free (m->slirp);
  m->slirp = NULL;
  monitor_ports_stop (m);
  cove_net_pollset_free (&m->ps);
  m->in_len = m->in_off = 0;
  m->running = false;
}

/* Unmount the root filesystem (when storage mounted one) and forget the
   attach socket.  With --rm, remove the container.  */
static void
finish (struct monitor *m)
{
  cleanup_free char *merged = xasprintf ("%s/merged", m->bundle);
  /* EINVAL: not mounted (vfs, --rootfs).  The mount namespace dies with
     us anyway; fuse-overlayfs needs the unmount to end.  */
  monitor_ports_close (m);
  (void) umount2 (merged, MNT_DETACH);
  if (m->listen_fd >= 0)
    close (m->listen_fd);
  m->listen_fd = -1;
  cleanup_free char *sock = xasprintf ("%s/attach", m->run_dir);
  (void) unlink (sock);
  (void) rmdir (m->run_dir);
  if (!m->rm)
    return;
  struct cove_state_container last;
  bool have_last = cove_state_load (&m->st, m->id, &last, NULL) == 0;
  if (cove_state_remove (&m->st, m->id, NULL) == 0 && have_last
      && m->hooks && m->hooks->removed)
    m->hooks->removed (m->data_dir, m->runtime_dir, &last);
  if (have_last)
    cove_state_container_free (&last);
}

static void
announce_exit (struct monitor *m, int status)
{
  char text[16];
  int n = snprintf (text, sizeof text, "%d", status);
  monitor_broadcast (m, COVE_ATTACH_EXIT, text, (size_t) n);
}

/* The network of a container whose ports do not go through libslirp,
   after the start was reported: loading libslirp and glib (~2 ms, more
   on a busy machine) is then not in the path of `run -d`, and the
   container's first frames wait in tap0's queue meanwhile.  (Loading it
   while the container sets itself up gained nothing: the two do not
   overlap enough on 2 CPUs, and `run -d` got slower.)  A failure
   ends the run as a failed start would, told to the attached clients.  */
static int
late_network (struct monitor *m, struct exited *x, struct cove_error **err)
{
  if (m->slirp != NULL || m->proc.tap_fd < 0 || start_network (m, err) == 0)
    return 0;
  (void) pidfd_send_signal (m->proc.pidfd, SIGKILL, NULL, 0);
  siginfo_t si;
  (void) waitid (P_PIDFD, (id_t) m->proc.pidfd, &si, WEXITED);
  cleanup_free char *text = xasprintf ("Error: %s\n", (*err)->msg);
  monitor_broadcast (m, COVE_ATTACH_STDERR, text, strlen (text));
  x->status = 125;
  x->error = (*err)->msg;
  return -1;
}

/* Run the container, again as its restart policy says.  */
static int
supervise (struct monitor *m)
{
  unsigned attempt = 0;
  bool restarted = false;
  for (;;)
    {
      cleanup_error struct cove_error *err = NULL;
      struct exited x = { .status = 125 };
      if (start_and_record (m, restarted, &x.status, &err) < 0)
        {
          report (m, x.status, err);
          x.error = err ? err->msg : "failed to start";
        }
      else
        {
          report (m, 0, NULL);
          cove_error_release (&err);
          monitor_ports_helper (m);
          if (late_network (m, &x, &err) == 0
              && monitor_loop (m, &x.status, &err) < 0)
            x.status = 125;
        }
      close_stdio (m);
      if (cove_state_update (&m->st, m->id, mark_exited, &x, NULL, NULL) < 0)
        x.stop_requested = true;
      if (!wants_restart (m, &x) || !back_off (m, attempt++))
        {
          finish (m);
          announce_exit (m, x.status);
          return x.status;
        }
      /* Attached clients follow one run, as `docker run` does.  */
      announce_exit (m, x.status);
      monitor_clients_close (m);
      restarted = true;
    }
}

void
cove_monitor_main (int argc, char **argv,
                   const struct cove_monitor_hooks *hooks)
{
  (void) prctl (PR_SET_NAME, COVE_MONITOR_NAME, 0, 0, 0);
  (void) signal (SIGPIPE, SIG_IGN);
  (void) signal (SIGHUP, SIG_IGN);
  struct monitor m = { .status_fd = MONITOR_STATUS_FD, .listen_fd = -1,
                       .out_fd = -1, .err_fd = -1, .in_fd = -1,
                       .proc = { .pidfd = -1, .console_fd = -1, .tap_fd = -1 },
                       .st = { .dirfd = -1 } };
  if (argc != 5)
    _exit (125);
  m.id = argv[1];
  m.data_dir = argv[2];
  m.runtime_dir = argv[3];
  m.hooks = hooks;
  cleanup_error struct cove_error *err = NULL;
  if (setup (&m, &err) < 0)
    {
      report (&m, 125, err);
      _exit (125);
    }
  if (strcmp (argv[4], "-1") != 0)
    monitor_client_add (&m, MONITOR_ATTACH_FD);
  int status = supervise (&m);
  monitor_clients_close (&m);
  if (m.log)
    cove_ctrlog_close (m.log);
  _exit (status);
}
