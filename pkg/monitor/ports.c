/* Published ports: a userland relay in the monitor.  The host sockets are
   bound before the container starts (a port in use fails the start) and
   live as long as the monitor; each accepted TCP connection gets a socket
   made inside the container's network namespace, connected to
   127.0.0.1:PORT there, and the poll loop moves the bytes both ways.  UDP
   is in ports-udp.c.  With `--network slirp:port_handler=slirp` libslirp
   forwards instead (its hostfwd, to the container's address on the tap):
   the host sockets only check and pick the ports, then make room for
   slirp's.

   setns into the container's namespace is allowed (we are uid 0 of the
   user namespace that owns it), but not back into the host's, which the
   initial user namespace owns.  So a forked helper lives in the
   container's namespace while it runs and hands us sockets made there
   (SCM_RIGHTS); a socket keeps the namespace it was made in.  */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/monitor/internal.h"
#include "pkg/monitor/ports-internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define RELAY_CHUNK 65536  /* a pipe's default capacity */
/* A direction that fills its pipe grows it to this, once: fewer splices
   and poll rounds for a bulk transfer, while a connection of small
   requests keeps the default (the pipe pages count against the user's
   fs.pipe-user-pages-soft).  */
#define RELAY_PIPE_MAX (1024 * 1024)
#define RELAY_MAX 1024

struct listener
{
  int fd;
  uint16_t cport;
};

/* One connection.  The bytes go through a pipe per direction with
   splice: no copy through our memory, and no buffer of ours.  */
struct relay
{
  int fd[2];              /* 0: the host's client, 1: the container's side */
  int pipe[2][2];         /* direction d: from fd[d] to fd[!d] */
  bool connecting;
  bool eof[2];            /* read end of fd[d] saw EOF (direction d) */
  size_t len[2];          /* bytes in pipe[d] */
  size_t cap[2];          /* capacity of pipe[d] */
};

struct monitor_ports
{
  struct listener *ls;
  size_t n_ls;
  struct relay **rs;
  size_t n_rs;
  struct ports_udp *udp;
  int pidfd;              /* the container's (borrowed while it runs), or
                             -1: sockets are made here (same namespace) */
  int helper_sock;        /* -1: no helper (yet) */
  pid_t helper_pid;
  bool helper_ready;      /* it said its setns went well */
  bool helper_failed;     /* no helper this run: connections fail */
  size_t base;            /* first index in the poll set */
  size_t n_polled;        /* relays in the poll set, after the listeners */
  bool slirp;             /* libslirp forwards this run's ports */
};

static int
unprivileged_start (void)
{
  char buf[16] = "";
  cleanup_close int fd = open ("/proc/sys/net/ipv4/ip_unprivileged_port_start",
                               O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read (fd, buf, sizeof buf - 1) <= 0)
    return 1024;
  return (int) strtol (buf, NULL, 10);
}

static int
bind_failed (int e, int type, long port, struct cove_error **err)
{
  const char *proto = type == SOCK_DGRAM ? "UDP" : "TCP";
  /* errnum 0: the message says it all, and the status pipe does not
     carry the plain flag (it would append strerror again).  */
  if (e == EACCES && port < unprivileged_start ())
    return cove_error_set_plain (err, 0, "cannot listen on the %s port %ld: "
                                 "permission denied (ports below %d are "
                                 "privileged: "
                                 "net.ipv4.ip_unprivileged_port_start)",
                                 proto, port, unprivileged_start ());
  if (e == EADDRINUSE)
    return cove_error_set_plain (err, 0, "cannot listen on the %s port %ld: "
                                 "address already in use", proto, port);
  return cove_error_set (err, e, "cannot listen on the %s port %ld", proto,
                         port);
}

/* IP (from the record, checked by run) and PORT into SS.  */
static int
host_addr (const char *ip, long port, struct sockaddr_storage *ss,
           socklen_t *out_len, struct cove_error **err)
{
  memset (ss, 0, sizeof *ss);
  if (strchr (ip, ':') != NULL)
    {
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ss;
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons ((uint16_t) port);
      *out_len = sizeof *s6;
      if (inet_pton (AF_INET6, ip, &s6->sin6_addr) != 1)
        return cove_error_set_plain (err, EINVAL, "bad host IP address %s", ip);
      return 0;
    }
  struct sockaddr_in *s4 = (struct sockaddr_in *) ss;
  s4->sin_family = AF_INET;
  s4->sin_port = htons ((uint16_t) port);
  *out_len = sizeof *s4;
  if (ip[0] && inet_pton (AF_INET, ip, &s4->sin_addr) != 1)
    return cove_error_set_plain (err, EINVAL, "bad host IP address %s", ip);
  return 0;
}

/* Bind IP:PORT (IP "" = every IPv4 address) with TYPE (SOCK_STREAM: also
   listen, SOCK_DGRAM); *OUT_PORT the port bound (the kernel's choice for
   0).  A port in use or privileged fails with the reason.  */
static int
ports_bind (const char *ip, long port, int type, int *out_fd, long *out_port,
            struct cove_error **err)
{
  struct sockaddr_storage ss;
  socklen_t sl;
  if (host_addr (ip, port, &ss, &sl, err) < 0)
    return -1;
  int fd = socket (ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return cove_error_set (err, errno, "socket");
  int one = 1;
  if (type == SOCK_STREAM)
    (void) setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &ss, sl) < 0
      || (type == SOCK_STREAM && listen (fd, 128) < 0))
    {
      int e = errno;
      close (fd);
      return bind_failed (e, type, port, err);
    }
  if (getsockname (fd, (struct sockaddr *) &ss, &sl) == 0)
    port = ntohs (ss.ss_family == AF_INET6
                  ? ((struct sockaddr_in6 *) &ss)->sin6_port
                  : ((struct sockaddr_in *) &ss)->sin_port);
  *out_fd = fd;
  *out_port = port;
  return 0;
}

static int
write_ports (struct cove_state_container *c, void *ctx, struct cove_error **err)
{
  (void) err;
  json_object_set (c->extra, "ports", ctx);
  return 0;
}

static int open_all (struct monitor *m, struct cove_error **err);

int
monitor_ports_open (struct monitor *m, struct cove_error **err)
{
  if (m->ports || json_array_size (m->ports_spec) == 0)
    return 0;
  if (open_all (m, err) == 0)
    return 0;
  monitor_ports_close (m);
  return -1;
}

static int
open_all (struct monitor *m, struct cove_error **err)
{
  if (m->ports || json_array_size (m->ports_spec) == 0)
    return 0;
  struct monitor_ports *p = xmalloc (sizeof *p);
  *p = (struct monitor_ports) { .pidfd = -1, .helper_sock = -1,
                                .udp = ports_udp_new () };
  p->ls = xmalloc (json_array_size (m->ports_spec) * sizeof *p->ls);
  m->ports = p;
  bool chosen = false;
  size_t i;
  json_t *e;
  json_array_foreach (m->ports_spec, i, e)
    {
      const char *ip = json_string_value (json_object_get (e, "host_ip"));
      json_t *hp = json_object_get (e, "host_port");
      long port = (long) json_integer_value (hp);
      long cport = (long) json_integer_value (json_object_get (e, "container_port"));
      if (port < 0 || port > 65535 || cport < 1 || cport > 65535)
        return cove_error_set_plain (err, EINVAL, "bad published port");
      const char *proto = json_string_value (json_object_get (e, "protocol"));
      bool udp = proto && strcmp (proto, "udp") == 0;
      long bound = 0;
      int fd = -1;
      if (ports_bind (ip ? ip : "", port, udp ? SOCK_DGRAM : SOCK_STREAM,
                      &fd, &bound, err) < 0)
        return -1;
      if (udp)
        ports_udp_add (p->udp, fd, (uint16_t) cport);
      else
        p->ls[p->n_ls++] = (struct listener) { .fd = fd, .cport = (uint16_t) cport };
      if (bound != port)
        {
          json_object_set_new (e, "host_port", json_integer (bound));
          chosen = true;
        }
    }
  if (chosen)
    return cove_state_update (&m->st, m->id, write_ports, m->ports_spec, NULL, err);
  return 0;
}

static void
relay_free (struct relay *r)
{
  for (int d = 0; d < 2; d++)
    for (int i = 0; i < 3; i++)
      {
        int fd = i == 2 ? r->fd[d] : r->pipe[d][i];
        if (fd >= 0)
          close (fd);
      }
  free (r);
}

/* ---- the helper in the container's namespace ---- */

static void __attribute__ ((noreturn))
helper_main (int pidfd, int sock)
{
  (void) prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  int e = setns (pidfd, CLONE_NEWNET) < 0 ? errno : 0;
  if (write (sock, &e, sizeof e) != sizeof e || e != 0)
    _exit (1);
  /* Hold nothing of the monitor's: not the host ports, not the status
     pipe, not the attach socket.  */
  if (sock > 3)
    (void) close_range (3, (unsigned) sock - 1, 0);
  (void) close_range ((unsigned) sock + 1, ~0U, 0);
  char c;
  while (read (sock, &c, 1) == 1)
    {
      int type = c == 'u' ? SOCK_DGRAM : SOCK_STREAM;
      int fd = socket (AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0 || cove_send_fd (sock, fd, NULL) < 0)
        _exit (1);
      close (fd);
    }
  _exit (0);
}

static bool
same_netns (pid_t pid)
{
  char path[64];
  struct stat a, b;
  snprintf (path, sizeof path, "/proc/%d/ns/net", (int) pid);
  return stat (path, &a) == 0 && stat ("/proc/self/ns/net", &b) == 0
         && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* Fork the helper into the container's namespace.  Not on the start's
   path: right after the start was reported, before libslirp is loaded
   (a smaller monitor to fork, and the helper's setns runs meanwhile), so
   that neither `run -d` nor the first connection waits for the fork; its
   setns is waited for at the first connection.
   On failure the run's connections fail (their clients see them closed).  */
static void
start_helper (struct monitor_ports *p)
{
  int sp[2];
  p->helper_failed = true;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return;
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (sp[0]);
      close (sp[1]);
      return;
    }
  if (pid == 0)
    {
      close (sp[0]);
      helper_main (p->pidfd, sp[1]);
    }
  close (sp[1]);
  p->helper_sock = sp[0];
  p->helper_pid = pid;
  p->helper_ready = false;
  p->helper_failed = false;
}

/* The helper's word on its setns, read once.  */
static bool
helper_ready (struct monitor_ports *p)
{
  if (p->helper_ready)
    return true;
  int e = EIO;
  if (read (p->helper_sock, &e, sizeof e) != sizeof e || e != 0)
    return false;
  p->helper_ready = true;
  return true;
}

/* port_handler=slirp: libslirp forwards to the container's address on
   its tap.  Our host sockets made sure, before the container started,
   that the ports are free (and chose those asked as 0); now they make
   room for slirp's, which it binds at once.  */
static int
start_slirp (struct monitor *m, struct cove_error **err)
{
  struct monitor_ports *p = m->ports;
  for (size_t i = 0; i < p->n_ls; i++)
    close (p->ls[i].fd);
  p->n_ls = 0;
  ports_udp_close_hosts (p->udp);
  p->slirp = true;
  size_t i;
  json_t *e;
  json_array_foreach (m->ports_spec, i, e)
    {
      const char *ip = json_string_value (json_object_get (e, "host_ip"));
      const char *proto = json_string_value (json_object_get (e, "protocol"));
      json_int_t hport = json_integer_value (json_object_get (e, "host_port"));
      json_int_t cport = json_integer_value (json_object_get (e, "container_port"));
      if (cove_net_slirp_forward (m->slirp, proto && strcmp (proto, "udp") == 0,
                                  ip ? ip : "", (uint16_t) hport,
                                  (uint16_t) cport, err) < 0)
        return -1;
    }
  return 0;
}

int
monitor_ports_start (struct monitor *m, struct cove_error **err)
{
  struct monitor_ports *p = m->ports;
  if (p == NULL)
    return 0;
  if (m->slirp && m->proc.net.port_handler == COVE_NET_PORT_HANDLER_SLIRP)
    return start_slirp (m, err);
  /* Six fds a connection: the soft limit of 1024 would not go far.  Now,
     not before the container is made, which keeps its own limits.  */
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      (void) setrlimit (RLIMIT_NOFILE, &rl);
    }
  p->pidfd = same_netns (m->proc.pid) ? -1 : m->proc.pidfd;
  return 0;
}

static void
stop_relays (struct monitor_ports *p)
{
  while (p->n_rs > 0)
    relay_free (p->rs[--p->n_rs]);
  ports_udp_stop (p->udp);
  if (p->helper_sock >= 0)
    {
      close (p->helper_sock);
      p->helper_sock = -1;
      (void) kill (p->helper_pid, SIGKILL);
      (void) waitpid (p->helper_pid, NULL, 0);
    }
  p->pidfd = -1;
  p->helper_failed = false;
}

/* The container exited: its connections and the helper go.  The host
   ports stay for a restart, except those slirp held, which went with it:
   the next start binds them again.  */
void
monitor_ports_stop (struct monitor *m)
{
  struct monitor_ports *p = m->ports;
  if (p == NULL)
    return;
  if (p->slirp)
    monitor_ports_close (m);
  else
    stop_relays (p);
}

/* The monitor ends: the host ports are free.  */
void
monitor_ports_close (struct monitor *m)
{
  struct monitor_ports *p = m->ports;
  if (p == NULL)
    return;
  stop_relays (p);
  for (size_t i = 0; i < p->n_ls; i++)
    close (p->ls[i].fd);
  ports_udp_free (p->udp);
  free (p->ls);
  free (p->rs);
  free (p);
  m->ports = NULL;
}

/* ---- relaying ---- */

int
ports_container_socket (struct monitor_ports *p, int type)
{
  if (p->pidfd < 0)
    return socket (AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->helper_sock < 0 && !p->helper_failed)
    start_helper (p);
  const char *ask = type == SOCK_DGRAM ? "u" : "t";
  if (p->helper_sock < 0 || !helper_ready (p)
      || write (p->helper_sock, ask, 1) != 1)
    return -1;
  int fd = cove_recv_fd (p->helper_sock, NULL);
  return fd;  /* O_NONBLOCK from the helper: SCM_RIGHTS keeps the file */
}

static void
accept_one (struct monitor_ports *p, const struct listener *l)
{
  int fd = accept4 (l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return;
  int cfd = p->n_rs < RELAY_MAX ? ports_container_socket (p, SOCK_STREAM) : -1;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (l->cport),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  if (cfd < 0 || (connect (cfd, (struct sockaddr *) &sa, sizeof sa) < 0
                  && errno != EINPROGRESS))
    {
      close (fd);
      if (cfd >= 0)
        close (cfd);
      return;
    }
  struct relay *r = xmalloc (sizeof *r);
  *r = (struct relay) { .fd = { fd, cfd }, .connecting = true,
                        .pipe = { { -1, -1 }, { -1, -1 } },
                        .cap = { RELAY_CHUNK, RELAY_CHUNK } };
  if (pipe2 (r->pipe[0], O_CLOEXEC | O_NONBLOCK) < 0
      || pipe2 (r->pipe[1], O_CLOEXEC | O_NONBLOCK) < 0)
    {
      relay_free (r);
      return;
    }
  p->rs = xrealloc (p->rs, (p->n_rs + 1) * sizeof *p->rs);
  p->rs[p->n_rs++] = r;
}

/* Fill pipe D from its source while it has room; true when bytes came.
   *DEAD: the relay failed.  A pipe that fills grows once to
   RELAY_PIPE_MAX.  */
static bool
pump_in (struct relay *r, int d, bool *dead)
{
  if (r->eof[d] || r->len[d] >= r->cap[d])
    return false;
  ssize_t n = splice (r->fd[d], NULL, r->pipe[d][1], NULL,
                      r->cap[d] - r->len[d], SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n < 0)
    {
      *dead = errno != EAGAIN && errno != EINTR;
      return false;
    }
  if (n == 0)
    {
      r->eof[d] = true;
      if (r->len[d] == 0)
        (void) shutdown (r->fd[!d], SHUT_WR);
      return false;
    }
  r->len[d] += (size_t) n;
  if (r->len[d] == r->cap[d] && r->cap[d] < RELAY_PIPE_MAX)
    {
      int c = fcntl (r->pipe[d][1], F_SETPIPE_SZ, RELAY_PIPE_MAX);
      if (c > 0)
        r->cap[d] = (size_t) c;
    }
  return true;
}

/* Move what can be moved in direction D; false when the relay is dead.
   The pipe is read from the source while it has room, not only once it
   is empty: the two sides of a bulk transfer then run at once.  */
static bool
pump (struct relay *r, int d)
{
  for (;;)
    {
      bool dead = false;
      bool moved = pump_in (r, d, &dead);
      if (dead)
        return false;
      if (r->len[d] > 0)
        {
          ssize_t w = splice (r->pipe[d][0], NULL, r->fd[!d], NULL, r->len[d],
                              SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
          if (w < 0 && errno != EAGAIN && errno != EINTR)
            return false;
          if (w > 0)
            {
              r->len[d] -= (size_t) w;
              moved = true;
              if (r->len[d] == 0 && r->eof[d])
                (void) shutdown (r->fd[!d], SHUT_WR);
            }
        }
      if (!moved)
        return true;
    }
}

static bool
relay_step (struct relay *r)
{
  if (r->connecting)
    {
      int e = 0;
      socklen_t el = sizeof e;
      if (getsockopt (r->fd[1], SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e != 0)
        return false;
      r->connecting = false;
    }
  if (!pump (r, 0) || !pump (r, 1))
    return false;
  return !(r->eof[0] && r->eof[1] && r->len[0] == 0 && r->len[1] == 0);
}

void
monitor_ports_helper (struct monitor *m)
{
  struct monitor_ports *p = m->ports;
  if (p != NULL && m->running && p->pidfd >= 0 && p->helper_sock < 0
      && !p->helper_failed)
    start_helper (p);
}

void
monitor_ports_fill (struct monitor *m, struct cove_net_pollset *ps,
                    int *timeout_ms)
{
  struct monitor_ports *p = m->ports;
  if (p == NULL || !m->running)
    return;
  monitor_ports_helper (m);
  p->base = ps->n;
  for (size_t i = 0; i < p->n_ls; i++)
    cove_net_pollset_add (ps, p->ls[i].fd, POLLIN);
  for (size_t i = 0; i < p->n_rs; i++)
    {
      struct relay *r = p->rs[i];
      short e0 = 0, e1 = 0;
      if (r->connecting)
        e1 = POLLOUT;
      else
        {
          e0 = (short) ((r->len[0] < r->cap[0] && !r->eof[0] ? POLLIN : 0)
                        | (r->len[1] ? POLLOUT : 0));
          e1 = (short) ((r->len[1] < r->cap[1] && !r->eof[1] ? POLLIN : 0)
                        | (r->len[0] ? POLLOUT : 0));
        }
      cove_net_pollset_add (ps, r->fd[0], e0);
      cove_net_pollset_add (ps, r->fd[1], e1);
    }
  p->n_polled = p->n_rs;
  ports_udp_fill (p->udp, ps, timeout_ms);
}

void
monitor_ports_handle (struct monitor *m, const struct cove_net_pollset *ps)
{
  struct monitor_ports *p = m->ports;
  if (p == NULL || !m->running || ps->n < p->base + p->n_ls + 2 * p->n_polled)
    return;
  const struct pollfd *f = ps->fds + p->base;
  ports_udp_handle (p->udp, p, ps);
  for (size_t i = p->n_polled; i-- > 0;)
    {
      const struct pollfd *a = f + p->n_ls + 2 * i;
      if (i >= p->n_rs || (!a[0].revents && !a[1].revents)
          || p->rs[i]->fd[0] != a[0].fd)
        continue;
      if (((a[0].revents | a[1].revents) & POLLERR) || !relay_step (p->rs[i]))
        {
          relay_free (p->rs[i]);
          p->rs[i] = p->rs[--p->n_rs];
        }
    }
  for (size_t i = 0; i < p->n_ls; i++)
    if (f[i].revents & POLLIN)
      accept_one (p, &p->ls[i]);
}
